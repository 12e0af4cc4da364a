/**
 * `npx projen bench`: runs every simulator scenario with this library's session manager and
 * with the naive baseline, measures the handler bundle, prints a table, writes
 * bench/results.json and rewrites the README's table of figures from it. Figures are counts and simulated seconds, so they do not depend on how
 * busy the machine is; only `requireMsMedian` is wall-clock time.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { BUNDLE, requireBundleMs } from './bundle';
import { Figures } from './measure';
import { SCENARIOS } from './scenarios';

const RESULTS = join(__dirname, '..', '..', 'bench', 'results.json');
const README = join(__dirname, '..', '..', 'README.md');
/** The README's figures table lies between these lines; `npx projen bench` rewrites it. */
const TABLE_START = '<!-- bench table: written by npx projen bench from bench/results.json -->';
const TABLE_END = '<!-- end of bench table -->';
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

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined ? '-' : Number.isInteger(n) ? String(n) : n.toFixed(digits));
const perStart = (n: number, starts: number) => (starts > 0 ? n / starts : null);
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '-' : (a / b).toFixed(2));

/** The README's "Scale and limits" table from the published rows (`ours / baseline` in most columns). */
export function readmeTable(rows: readonly any[]): string {
  const pair = (a: string, b: string) => `${a} / ${b}`;
  const never = (n: number | null) => (n === null ? 'never' : fmt(n, 0));
  const blindOf = (w: { p50: number; p99: number } | null | undefined) => (w ? pair(w.p50.toFixed(1), w.p99.toFixed(1)) : '-');
  const header = ['scenario', 'tasks', 'violations (ours / baseline)', 'EC2 writes per task start', 'throttled attempts per task start',
    'EC2 reads per task start', 'time to full coverage, s', 'token-bucket bound, s', 'ours / bound', 'blind window p50 / p99, s (ours)',
    'blind window p50 / p99, s (baseline)', 'unmirrored task-seconds', 'cross-zone session fraction'];
  const lines = rows.map(r => {
    const b = r.baseline;
    const cells = [
      r.name,
      String(r.tasks),
      pair(String(r.invariantViolations), b ? String(b.invariantViolations) : '-'),
      pair(fmt(r.ec2WritesPerTaskStart), b ? fmt(b.ec2WritesPerTaskStart) : '-'),
      pair(fmt(perStart(r.throttledCalls, r.taskStarts)), b ? fmt(perStart(b.throttledCalls, b.taskStarts)) : '-'),
      pair(fmt(r.ec2ReadsPerTaskStart), b ? fmt(b.ec2ReadsPerTaskStart) : '-'),
      pair(never(r.timeToFullCoverageSec), b ? never(b.timeToFullCoverageSec) : '-'),
      fmt(r.tokenBucketBoundSec, 1),
      fmt(r.ratioToBound),
      blindOf(r.blindWindowSec),
      blindOf(b?.blindWindowSec),
      pair(fmt(r.unmirroredTaskSeconds, 0), b ? fmt(b.unmirroredTaskSeconds, 0) : '-'),
      pair(fmt(r.crossZoneSessionFraction), b ? fmt(b.crossZoneSessionFraction) : '-'),
    ];
    return `| ${cells.join(' | ')} |`;
  });
  const align = header.map((_, i) => (i === 0 ? '---' : '--:'));
  return [`| ${header.join(' | ')} |`, `| --- | ${align.slice(1).join(' | ')} |`, ...lines].join('\n');
}

/** Replaces the table between the README's bench markers. */
function updateReadme(table: string): void {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${TABLE_START} ... ${TABLE_END} block`);
  writeFileSync(README, `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`);
}

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
  updateReadme(readmeTable(rows));

  const header = ['scenario', 'tasks', 'viol', 'base viol', 'writes/start', 'base', 'throttled/start', 'base', 'reads/start', 'base', 'invoc/task', 'base',
    'coverage s', 'base', 'bound s', 'ratio', 'ours/base time', 'unmirrored task-s', 'base', 'blind p50/p99/max s', 'base', 'sweep write attempts',
    'cross-zone', 'base'];
  const none = {
    invariantViolations: null,
    ec2WritesPerTaskStart: null,
    throttledCalls: 0,
    taskStarts: 0,
    ec2ReadsPerTaskStart: null,
    lambdaInvocationsPerTask: null,
    timeToFullCoverageSec: null,
    unmirroredTaskSeconds: null,
    blindWindowSec: null,
    crossZoneSessionFraction: null,
  };
  const blind = (w: { p50: number; p99: number; max: number } | null) => (w ? `${fmt(w.p50, 1)}/${fmt(w.p99, 1)}/${fmt(w.max, 1)}` : '-');
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
      fmt(r.unmirroredTaskSeconds, 0), fmt(b.unmirroredTaskSeconds, 0), blind(r.blindWindowSec), blind(b.blindWindowSec),
      String(sweepWrites(r.sweepApiCalls)),
      fmt(r.crossZoneSessionFraction), fmt(b.crossZoneSessionFraction),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map(row => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  console.log(`\nhandler bundle: ${bundle.bytes} bytes; require() median of ${REQUIRE_RUNS}: ${bundle.requireMsMedian} ms (${process.version})`);
  console.log('coverage "-" = never reached (see violations); base = naive baseline; wrote bench/results.json');
}

if (require.main === module) {
  main().catch(error => {
    console.error(error);
    process.exit(1);
  });
}
