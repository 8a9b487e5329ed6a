/**
 * A small, tolerant XML reader: enough for JUnit reports (elements, attributes, text, CDATA, the five
 * named entities and numeric character references), without a dependency.
 *
 * Tolerant on purpose: a test run killed mid-write leaves a truncated file, and the failing test names
 * that were written are still worth showing. So it never throws; it returns the tree it could build and
 * says whether the document was complete and well nested.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (text and CDATA directly inside it, concatenated; entities decoded). */
  text: string;
}

export interface XmlDocument {
  /** The first top-level element, if any was opened. */
  root: XmlElement | undefined;
  /** True when every element opened was closed and nothing unreadable was met. */
  complete: boolean;
  /** What was wrong, when not complete. */
  problem?: string;
}

const NAMED_ENTITIES: Record<string, string> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

/** Decodes `&lt;`, `&#10;`, `&#x1F;`...; unknown entities are kept as written. */
export function decodeEntities(text: string): string {
  if (!text.includes("&")) {
    return text;
  }
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, body: string) => {
    if (body.startsWith("#x") || body.startsWith("#X")) {
      const code = parseInt(body.slice(2), 16);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    if (body.startsWith("#")) {
      const code = parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body] ?? whole;
  });
}

const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(ATTRIBUTE)) {
    const [, name, doubleQuoted, singleQuoted] = match as unknown as [
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    attributes[name] = decodeEntities(doubleQuoted ?? singleQuoted ?? "");
  }
  return attributes;
}

/** Index of the `>` closing a tag that starts at `from`, skipping `>` inside quoted attribute values. */
function tagEnd(text: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) {
        quote = undefined;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ">") {
      return i;
    }
  }
  return -1;
}

export function parseXml(text: string): XmlDocument {
  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];
  let problem: string | undefined;
  const note = (what: string): void => {
    problem ??= what;
  };
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const textEnd = lt === -1 ? text.length : lt;
    if (textEnd > i) {
      const top = stack[stack.length - 1];
      if (top !== undefined) {
        top.text += decodeEntities(text.slice(i, textEnd));
      }
    }
    if (lt === -1) {
      break;
    }
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt + 4);
      if (end === -1) {
        note("unterminated comment");
        break;
      }
      i = end + 3;
    } else if (text.startsWith("<![CDATA[", lt)) {
      const end = text.indexOf("]]>", lt + 9);
      const top = stack[stack.length - 1];
      if (top !== undefined) {
        top.text += text.slice(lt + 9, end === -1 ? text.length : end);
      }
      if (end === -1) {
        note("unterminated CDATA section");
        break;
      }
      i = end + 3;
    } else if (text.startsWith("<?", lt)) {
      const end = text.indexOf("?>", lt + 2);
      if (end === -1) {
        note("unterminated processing instruction");
        break;
      }
      i = end + 2;
    } else if (text.startsWith("<!", lt)) {
      // DOCTYPE and friends: skip, including a bracketed internal subset.
      const bracket = text.indexOf("[", lt);
      const close = text.indexOf(">", lt);
      const end =
        bracket !== -1 && close !== -1 && bracket < close ? text.indexOf("]>", bracket) + 1 : close;
      if (end <= 0) {
        note("unterminated declaration");
        break;
      }
      i = end + 1;
    } else if (text.startsWith("</", lt)) {
      const end = text.indexOf(">", lt);
      if (end === -1) {
        note("truncated end tag");
        break;
      }
      const name = text.slice(lt + 2, end).trim();
      const at = stack.map((e) => e.name).lastIndexOf(name);
      if (at === -1) {
        note(`unexpected </${name}>`);
      } else {
        if (at !== stack.length - 1) {
          note(`<${stack[stack.length - 1]?.name}> closed by </${name}>`);
        }
        stack.length = at;
      }
      i = end + 1;
    } else {
      const end = tagEnd(text, lt + 1);
      if (end === -1) {
        note("truncated start tag");
        break;
      }
      const body = text.slice(lt + 1, end);
      const selfClosing = body.endsWith("/");
      const inner = selfClosing ? body.slice(0, -1) : body;
      const nameMatch = /^[^\s/>]+/.exec(inner);
      if (nameMatch === null) {
        note(`unreadable tag at offset ${lt}`);
        i = end + 1;
        continue;
      }
      const element: XmlElement = {
        name: nameMatch[0],
        attributes: parseAttributes(inner.slice(nameMatch[0].length)),
        children: [],
        text: "",
      };
      const parent = stack[stack.length - 1];
      if (parent !== undefined) {
        parent.children.push(element);
      } else if (root === undefined) {
        root = element;
      } else {
        note("more than one top-level element");
      }
      if (!selfClosing) {
        stack.push(element);
      }
      i = end + 1;
    }
  }
  if (stack.length > 0) {
    note(`document ends inside <${stack[stack.length - 1]?.name}>`);
  }
  if (root === undefined) {
    note("no element found");
  }
  return { root, complete: problem === undefined, ...(problem === undefined ? {} : { problem }) };
}

/** Every element named `name` at or below `element`, in document order. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (e: XmlElement): void => {
    if (e.name === name) {
      found.push(e);
    }
    e.children.forEach(visit);
  };
  visit(element);
  return found;
}
