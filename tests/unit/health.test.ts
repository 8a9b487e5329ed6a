import assert from "node:assert/strict";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { healthResult, parseHealthUrl } from "../../gates/health";
import { Clock, judge, poll, PollSpec } from "../../gates/health/poll";
import type { Probe } from "../../gates/health/probe";
import { UsageError } from "../../gates/result";
import { runGate } from "./helpers/scriptedDocker";

/** A real HTTP server on 127.0.0.1, ephemeral port; `close()` also drops hanging connections. */
interface TestServer {
  port: number;
  url(path?: string): string;
  requests: number;
  close(): Promise<void>;
}

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
  port = 0,
): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests += 1;
    handler(req, res, state.requests);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: (path = "/health") => `http://127.0.0.1:${actual}${path}`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = await serve(() => undefined);
  await s.close();
  return s.port;
}

const FAST = { intervalMs: 50, requestTimeoutMs: 300, timeoutMs: 1500 };

describe("health poller against real local servers", () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const track = (s: TestServer): TestServer => {
    servers.push(s);
    return s;
  };

  it("waits for a server that starts listening late", async () => {
    const port = await closedPort();
    const timer = setTimeout(() => {
      void serve((_req, res) => res.end("ok"), port).then(track);
    }, 250);
    try {
      const outcome = await poll({ url: `http://127.0.0.1:${port}/health`, ...FAST });
      assert.equal(outcome.ok, true);
      assert.ok(outcome.attempts > 1, `attempts: ${outcome.attempts}`);
      assert.match(outcome.seen[0]?.problem ?? "", /connection refused \(ECONNREFUSED\)/);
      assert.ok(outcome.elapsedMs >= 200);
    } finally {
      clearTimeout(timer);
    }
  });

  it("passes on the first 200 after 503s", async () => {
    const server = track(
      await serve((_req, res, n) => {
        res.statusCode = n < 3 ? 503 : 200;
        res.end(n < 3 ? "starting" : "ok");
      }),
    );
    const outcome = await poll({ url: server.url(), ...FAST });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.attempts, 3);
    assert.deepEqual(outcome.seen, [
      { problem: "503 Service Unavailable (expected 200)", count: 2 },
    ]);
  });

  it("gives up within the budget on a server that always answers 500", async () => {
    const server = track(
      await serve((_req, res) => {
        res.statusCode = 500;
        res.end("boom");
      }),
    );
    const spec = { url: server.url(), ...FAST, timeoutMs: 400 };
    const outcome = await poll(spec);
    assert.equal(outcome.ok, false);
    // It stops when less than a useful request (250 ms) is left, never after the budget.
    assert.ok(outcome.elapsedMs >= 150 && outcome.elapsedMs < 600, `elapsed ${outcome.elapsedMs}`);
    assert.equal(outcome.last?.problem, "500 Internal Server Error (expected 200)");
    const result = healthResult(spec, outcome);
    assert.equal(result.code, "HEALTH_CHECK_FAIL");
    assert.match(
      result.summary,
      /did not answer 200 within 400 ms: last 500 Internal Server Error/,
    );
    assert.equal(result.figures.lastStatus, 500);
    assert.equal(result.figures.attempts, outcome.attempts);
  });

  it("reports connection refused on a closed port", async () => {
    const port = await closedPort();
    const outcome = await poll({ url: `http://127.0.0.1:${port}/`, ...FAST, timeoutMs: 200 });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.last?.problem, "connection refused (ECONNREFUSED)");
  });

  it("fires the request timeout on a server that accepts and never answers, within the budget", async () => {
    const server = track(await serve(() => undefined));
    const started = performance.now();
    const outcome = await poll({
      url: server.url(),
      intervalMs: 50,
      requestTimeoutMs: 200,
      timeoutMs: 600,
    });
    const took = performance.now() - started;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.seen[0]?.problem, "no answer within 200 ms (request timeout)");
    assert.match(outcome.last?.problem ?? "", /^no answer within \d+ ms \(request timeout\)$/);
    assert.ok(outcome.attempts >= 2, `attempts: ${outcome.attempts}`);
    assert.ok(took < 900, `took ${took} ms`);
  });

  it("cuts the last request's timeout to what is left of the budget", async () => {
    const server = track(await serve(() => undefined));
    const started = performance.now();
    const outcome = await poll({
      url: server.url(),
      intervalMs: 10,
      requestTimeoutMs: 5000,
      timeoutMs: 300,
    });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.attempts, 1);
    assert.ok(performance.now() - started < 600);
  });

  it("does not follow a redirect and says where it points", async () => {
    const server = track(
      await serve((_req, res) => {
        res.writeHead(302, { location: "/web/login" });
        res.end();
      }),
    );
    const outcome = await poll({ url: server.url(), ...FAST, timeoutMs: 150 });
    assert.equal(outcome.ok, false);
    assert.equal(
      outcome.last?.problem,
      "302 Found, redirect to /web/login (redirects are not followed; expected 200)",
    );
  });

  it("accepts a redirect when that is the expected status", async () => {
    const server = track(
      await serve((_req, res) => {
        res.writeHead(301, { location: "/x" });
        res.end();
      }),
    );
    const outcome = await poll({ url: server.url(), ...FAST, expectStatus: 301 });
    assert.equal(outcome.ok, true);
  });

  it("requires the expected body text and shows what came instead", async () => {
    const server = track(await serve((_req, res) => res.end('{"status": "degraded"}')));
    const outcome = await poll({
      url: server.url(),
      ...FAST,
      timeoutMs: 150,
      expectBody: '"pass"',
    });
    assert.equal(outcome.ok, false);
    assert.equal(
      outcome.last?.problem,
      '200 OK but the body does not contain ""pass"" (body starts: "{"status": "degraded"}")',
    );
    const ok = await poll({ url: server.url(), ...FAST, expectBody: "degraded" });
    assert.equal(ok.ok, true);
  });

  it("reports the status of a server that sends headers and then stalls the body", async () => {
    const server = track(
      await serve((_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("partial");
      }),
    );
    const outcome = await poll({
      url: server.url(),
      intervalMs: 50,
      requestTimeoutMs: 150,
      timeoutMs: 200,
      expectBody: "complete",
    });
    assert.equal(outcome.ok, false);
    assert.match(
      outcome.last?.problem ?? "",
      /^200 OK but the body does not contain "complete" \(body starts: "partial"\)/,
    );
  });
});

/** A clock where sleeping advances time at once, and requests take a scripted time. */
function fakeClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

describe("health poller logic (injected clock)", () => {
  const spec: PollSpec = {
    url: "http://app/health",
    timeoutMs: 10_000,
    intervalMs: 2000,
    requestTimeoutMs: 5000,
  };

  it("spaces attempts by the interval and counts them", async () => {
    const clock = fakeClock();
    const starts: number[] = [];
    const answers: Probe[] = [
      { error: "connection refused", ms: 0 },
      { status: 503, ms: 0 },
      { status: 200, ms: 0 },
    ];
    const outcome = await poll(spec, {
      clock,
      probe: async () => {
        starts.push(clock.t);
        clock.t += 100;
        return answers.shift() ?? { status: 200, ms: 0 };
      },
    });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.attempts, 3);
    assert.deepEqual(starts, [0, 2100, 4200]);
    assert.equal(outcome.elapsedMs, 4300);
  });

  it("stops at the deadline and never asks a request to outlive the budget", async () => {
    const clock = fakeClock();
    const timeouts: number[] = [];
    const outcome = await poll(spec, {
      clock,
      probe: async (_url, timeoutMs) => {
        timeouts.push(timeoutMs);
        clock.t += timeoutMs; // a server that never answers
        return { error: `no answer within ${timeoutMs} ms`, ms: timeoutMs };
      },
    });
    assert.equal(outcome.ok, false);
    // 0-5000 request, sleep 2000, 7000-10000 request cut to 3000; deadline reached.
    assert.deepEqual(timeouts, [5000, 3000]);
    assert.equal(outcome.elapsedMs, 10_000);
    assert.equal(outcome.attempts, 2);
  });

  it("ends early when stopWhen gives a reason", async () => {
    const clock = fakeClock();
    let asked = 0;
    const outcome = await poll(spec, {
      clock,
      probe: async () => ({ error: "connection refused", ms: 0 }),
      stopWhen: async () => (++asked === 2 ? "the container exited with code 3" : undefined),
    });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.attempts, 2);
    assert.equal(outcome.stopped, "the container exited with code 3");
  });

  it("reports each attempt to onAttempt, the last one fitted into the budget", async () => {
    const clock = fakeClock();
    const seen: string[] = [];
    await poll(
      { ...spec, timeoutMs: 3000 },
      {
        clock,
        probe: async () => ({ status: 502, statusText: "Bad Gateway", ms: 0 }),
        onAttempt: (a) => seen.push(`${a.n}@${a.atMs}:${a.problem ?? "ok"}`),
      },
    );
    // 0, +2000 (interval), then a last try with 250 ms left (the pause shortened to fit the budget).
    assert.deepEqual(seen, [
      "1@0:502 Bad Gateway (expected 200)",
      "2@2000:502 Bad Gateway (expected 200)",
      "3@2750:502 Bad Gateway (expected 200)",
    ]);
  });

  it("judges status, redirect, body and errors", () => {
    assert.equal(judge({ status: 200, body: "ok", ms: 0 }, 200), undefined);
    assert.equal(judge({ status: 204, ms: 0 }, 204), undefined);
    assert.equal(
      judge({ error: "connection refused (ECONNREFUSED)", ms: 0 }, 200),
      "connection refused (ECONNREFUSED)",
    );
    assert.equal(
      judge({ status: 307, statusText: "Temporary Redirect", ms: 0 }, 200),
      "307 Temporary Redirect, redirect to (no Location header) (redirects are not followed; expected 200)",
    );
    assert.match(
      judge({ status: 200, body: "x", ms: 0 }, 200, "ok") ?? "",
      /does not contain "ok"/,
    );
  });
});

describe("health gate CLI", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("passes and writes figures when the URL answers 200", async () => {
    server = await serve((_req, res) => res.end("ok"));
    const r = await runGate(
      ["health", "--url", server.url(), "--timeout", "1", "--interval", "0.05"],
      {},
    );
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /^PASS health: GET http:\/\/127\.0\.0\.1:\d+\/health answered 200 after 1 attempt in/,
    );
    assert.equal((r.json?.figures as Record<string, unknown>).attempts, 1);
    assert.match(r.stderr, /health: attempt 1 \(\d+ ms\): 200 ok/);
  });

  it("blocks with HEALTH_CHECK_FAIL, the last error, attempts and time waited", async () => {
    const port = await closedPort();
    const r = await runGate(
      [
        "health",
        "--url",
        `http://127.0.0.1:${port}/web/health`,
        "--timeout",
        "0.3",
        "--interval",
        "0.05",
      ],
      {},
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^HEALTH_CHECK_FAIL: GET http:\/\/127\.0\.0\.1:\d+\/web\/health did not answer 200 within 300 ms: last connection refused \(ECONNREFUSED\)/,
    );
    assert.match(r.stdout, /waited \d+ ms over \d+ attempts/);
    assert.match(r.stdout, /what to do: .*release\.pin/);
  });

  it("checks --expect-status and --expect-body", async () => {
    server = await serve((_req, res) => {
      res.statusCode = 202;
      res.end("accepted: ready");
    });
    const ok = await runGate(
      [
        "health",
        "--url",
        server.url(),
        "--expect-status",
        "202",
        "--expect-body",
        "ready",
        "--timeout",
        "1",
      ],
      {},
    );
    assert.equal(ok.code, 0);
  });

  for (const [why, argv] of [
    ["--url is missing", []],
    ["--url is not a URL", ["--url", "not a url"]],
    ["--url is not http(s)", ["--url", "ftp://host/x"]],
    ["--timeout is negative", ["--url", "http://127.0.0.1/", "--timeout", "-1"]],
    ["--expect-status is not a status", ["--url", "http://127.0.0.1/", "--expect-status", "99"]],
  ] as const) {
    it(`exits 2 (usage) when ${why}`, async () => {
      const r = await runGate(["health", ...argv], {});
      assert.equal(r.code, 2);
    });
  }

  it("reads http and https URLs", () => {
    assert.equal(parseHealthUrl("https://app.example.com/health").protocol, "https:");
    assert.throws(() => parseHealthUrl("/health"), UsageError);
  });
});
