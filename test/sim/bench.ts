/**
 * `npx projen bench`: runs every simulator scenario with this library's session manager and
 * with the naive baseline, measures the handler bundle, prints a table and writes
 * bench/results.json. Figures are counts and simulated seconds, so they do not depend on how
 * busy the machine is; only `requireMsMedian` is wall-clock time.
 */
import { mkdirSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { BUNDLE, requireBundleMs } from './bundle';
import { Figures } from './measure';
import { SCENARIOS } from './scenarios';

const RESULTS = join(__dirname, '..', '..', 'bench', 'results.json');
const REQUIRE_RUNS = 7;

/** The figures bench/results.json carries for one strategy: all of them, times rounded. */
function published(f: Figures) {
  return {
    ...f,
    timeToFullCoverageSec: f.timeToFullCoverageSec === null ? null : Math.round(f.timeToFullCoverageSec),
    tokenBucketBoundSec: f.tokenBucketBoundSec === null ? null : Math.round(f.tokenBucketBoundSec * 10) / 10,
  };
}

/** Median wall-clock ms to require() the bundle in a fresh Node.js process. */
function requireMsMedian(): number {
  const runs = Array.from({ length: REQUIRE_RUNS }, () => requireBundleMs());
  runs.sort((a, b) => a - b);
  return Math.round(runs[Math.floor(runs.length / 2)] * 10) / 10;
}

const fmt = (n: number | null, digits = 2) => (n === null ? '-' : Number.isInteger(n) ? String(n) : n.toFixed(digits));
const perStart = (n: number, starts: number) => (starts > 0 ? n / starts : null);
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '-' : (a / b).toFixed(2));

async function main() {
  const rows = [];
  for (const scenario of SCENARIOS) {
    const ours = await scenario.run('ours');
    const baseline = scenario.baselineComparable ? published(await scenario.run('baseline')) : null;
    rows.push({ name: scenario.name, description: scenario.description, ...published(ours), baseline });
  }
  const bundle = { bytes: statSync(BUNDLE).size, requireMsMedian: requireMsMedian(), requireRuns: REQUIRE_RUNS };
  const results = {
    command: 'npx projen bench',
    seed: 1,
    node: process.version,
    note: 'Counts and simulated seconds from test/sim (deterministic); requireMsMedian is wall-clock on the machine that ran it.',
    scenarios: rows,
    bundle,
  };
  mkdirSync(join(RESULTS, '..'), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');

  const header = ['scenario', 'tasks', 'viol', 'base viol', 'writes/start', 'base', 'throttled/start', 'base', 'reads/start', 'base', 'invoc/task', 'base',
    'coverage s', 'base', 'bound s', 'ratio', 'ours/base time', 'unmirrored task-s', 'base', 'sweep write attempts'];
  const none = {
    invariantViolations: null,
    ec2WritesPerTaskStart: null,
    throttledCalls: 0,
    taskStarts: 0,
    ec2ReadsPerTaskStart: null,
    lambdaInvocationsPerTask: null,
    timeToFullCoverageSec: null,
    unmirroredTaskSeconds: null,
  };
  const sweepWrites = (calls: Record<string, number>) => ['Create', 'Modify', 'Delete'].reduce((n, a) => n + (calls[`${a}TrafficMirrorSession`] ?? 0), 0);
  const table = rows.map(r => {
    const b = r.baseline ?? none;
    return [
      r.name, String(r.tasks), String(r.invariantViolations), b.invariantViolations === null ? '-' : String(b.invariantViolations),
      fmt(r.ec2WritesPerTaskStart), fmt(b.ec2WritesPerTaskStart),
      fmt(perStart(r.throttledCalls, r.taskStarts)), fmt(perStart(b.throttledCalls, b.taskStarts)),
      fmt(r.ec2ReadsPerTaskStart), fmt(b.ec2ReadsPerTaskStart),
      fmt(r.lambdaInvocationsPerTask), fmt(b.lambdaInvocationsPerTask),
      fmt(r.timeToFullCoverageSec, 0), fmt(b.timeToFullCoverageSec, 0),
      fmt(r.tokenBucketBoundSec, 1), fmt(r.ratioToBound), ratio(r.timeToFullCoverageSec, b.timeToFullCoverageSec),
      fmt(r.unmirroredTaskSeconds, 0), fmt(b.unmirroredTaskSeconds, 0), String(sweepWrites(r.sweepApiCalls)),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map(row => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  console.log(`\nhandler bundle: ${bundle.bytes} bytes; require() median of ${REQUIRE_RUNS}: ${bundle.requireMsMedian} ms (${process.version})`);
  console.log('coverage "-" = never reached (see violations); base = naive baseline; wrote bench/results.json');
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
