/**
 * `npm run bench`: every benchmark of the project, printed as figures (never asserted in tests).
 * Each scripts/bench/<topic>.ts exports `run(): Promise<string[]>`. `npm run bench -- scan coldstart`
 * runs only those; the pipeline benchmark needs the e2e environment up (scripts/e2e/run.sh starts it).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const dir = join(__dirname, "bench");
  const topics = readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.replace(/\.ts$/, ""))
    .filter((t) => wanted.length === 0 || wanted.includes(t));
  for (const topic of topics) {
    const bench = require(join(dir, topic)) as { run(): Promise<string[]> };
    process.stdout.write(`## ${topic}\n`);
    try {
      for (const line of await bench.run()) process.stdout.write(`${line}\n`);
    } catch (err) {
      process.stdout.write(`(not measured: ${(err as Error).message})\n`);
      process.exitCode = 1;
    }
  }
}

void main();
