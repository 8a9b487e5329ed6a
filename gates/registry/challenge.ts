/** One challenge of a `WWW-Authenticate` header: the scheme and its parameters. */
export interface AuthChallenge {
  /** Lower case: `basic` or `bearer` (others are not supported). */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses `WWW-Authenticate` (RFC 7235): `Bearer realm="https://auth.docker.io/token",
 * service="registry.docker.io",scope="repository:library/python:pull"`, possibly several challenges
 * separated by commas. Quoted values may contain commas and escaped quotes.
 */
export function parseChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const skipSpaces = (): void => {
    while (i < header.length && /[\s,]/.test(header[i] ?? "")) i += 1;
  };
  const readToken = (): string => {
    const start = i;
    while (i < header.length && /[^\s,=]/.test(header[i] ?? "")) i += 1;
    return header.slice(start, i);
  };
  while (i < header.length) {
    skipSpaces();
    const scheme = readToken();
    if (scheme.length === 0) break;
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    // Parameters: name=value pairs until the next bare token (the next challenge's scheme).
    for (;;) {
      skipSpaces();
      const mark = i;
      const name = readToken();
      while (header[i] === " ") i += 1;
      if (name.length === 0 || header[i] !== "=") {
        i = mark;
        break;
      }
      i += 1;
      while (header[i] === " ") i += 1;
      let value = "";
      if (header[i] === '"') {
        i += 1;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < header.length) i += 1;
          value += header[i];
          i += 1;
        }
        i += 1;
      } else {
        value = readToken();
      }
      challenge.params[name.toLowerCase()] = value;
    }
  }
  return challenges;
}
