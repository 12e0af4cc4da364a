/**
 * `npx projen bench`: runs every simulator scenario with this library's session manager and
 * with the naive baseline, measures the handler bundle and the templates of stacks of 1, 10
 * and 50 mirrored services, prints tables, writes bench/results.json and rewrites the README's
 * table of figures from it. Figures are counts and simulated seconds, so they do not depend on
 * how busy the machine is; only `requireMsMedian` is wall-clock time.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { BUNDLE, requireBundleMs } from './bundle';
import { FleetTemplateFigures, MANAGED_POLICY_LIMIT, QUEUE_POLICY_LIMITS, STACK_RESOURCE_LIMIT, fleetTemplateFigures } from './fleet-stack';
import { Figures } from './measure';
import { SCENARIOS } from './scenarios';

const RESULTS = join(__dirname, '..', '..', 'bench', 'results.json');
const README = join(__dirname, '..', '..', 'README.md');
/** The README's figures table lies between these lines; `npx projen bench` rewrites it. */
const TABLE_START = '<!-- bench table: written by npx projen bench from bench/results.json -->';
const TABLE_END = '<!-- end of bench table -->';
const REQUIRE_RUNS = 7;
/**
 * Scenarios whose faults land at random moments (crashes, losses, throttling, reordering): one
 * seed's blind-window p99 is the third-worst of 200 or 300 tasks and jumps between about 1 s and
 * 50 s as one more crash lands before a write, so these also run with seeds 1..SEEDS and report
 * the median and range of that figure. A change is visible only against those.
 */
const SEEDED_SCENARIOS = ['throttling-storm', 'lost-events-10pct', 'duplicated-reordered', 'function-failures'];
const SEEDS = 10;

/** Median, least and greatest of some figures. */
function spread(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { median: round(median), min: round(sorted[0]), max: round(sorted[sorted.length - 1]) };
}

/** Ours over seeds 1..SEEDS (seed 1 is the row's own run). */
async function overSeeds(scenario: (typeof SCENARIOS)[number], first: Figures) {
  const runs = [first];
  for (let seed = 2; seed <= SEEDS; seed++) runs.push(await scenario.run('ours', seed));
  return {
    seeds: SEEDS,
    invariantViolations: runs.reduce((n, f) => n + f.invariantViolations, 0),
    blindWindowP99Sec: spread(runs.map(f => f.blindWindowSec?.p99 ?? 0)),
    unmirroredTaskSeconds: spread(runs.map(f => f.unmirroredTaskSeconds ?? 0)),
    ec2ReadsPerTaskStart: spread(runs.map(f => f.ec2ReadsPerTaskStart ?? 0)),
  };
}

/** The figures bench/results.json carries for one strategy: all of them, times rounded. */
function published(f: Figures) {
  return {
    ...f,
    timeToFullCoverageSec: f.timeToFullCoverageSec === null ? null : Math.round(f.timeToFullCoverageSec),
    tokenBucketBoundSec: f.tokenBucketBoundSec === null ? null : Math.round(f.tokenBucketBoundSec * 10) / 10,
    ...(f.timeToZeroSessionsSec !== undefined ? { timeToZeroSessionsSec: roundOrNull(f.timeToZeroSessionsSec) } : {}),
  };
}

function roundOrNull(n: number | null): number | null {
  return n === null ? null : Math.round(n);
}

/** Stacks of this many mirrored services are synthesized and measured. */
const FLEET_SIZES = [1, 10, 50];

/**
 * What a stack of 1, 10 and 50 mirrored services synthesizes to (imported services sharing one
 * existing target and filter), and the largest managed policy when each service has a target
 * and filter of its own.
 */
function resourcesPerService() {
  const fleets = FLEET_SIZES.map(n => fleetTemplateFigures(n));
  const one = fleets[0];
  const rows = fleets.map(({ byType: _, ...f }) => ({
    ...f,
    perAdditionalService: f.services > 1 ? Math.round(((f.total - one.total) / (f.services - 1)) * 100) / 100 : null,
    underStackResourceLimit: f.total <= STACK_RESOURCE_LIMIT,
    underManagedPolicyLimit: f.largestManagedPolicyChars <= MANAGED_POLICY_LIMIT,
    underQueuePolicyLimits: f.largestQueuePolicy.statements <= QUEUE_POLICY_LIMITS.statements
      && f.largestQueuePolicy.bytes <= QUEUE_POLICY_LIMITS.bytes,
  }));
  const distinct: FleetTemplateFigures = fleetTemplateFigures(FLEET_SIZES[FLEET_SIZES.length - 1], true);
  return { rows, distinctTargetsLargestManagedPolicyChars: distinct.largestManagedPolicyChars };
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
    'blind window p50 / p99, s (baseline)', `blind window p99, s (ours): median [range] of seeds 1-${SEEDS}`, 'unmirrored task-seconds',
    'cross-zone session fraction'];
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
      r.overSeeds ? `${fmt(r.overSeeds.blindWindowP99Sec.median, 1)} [${fmt(r.overSeeds.blindWindowP99Sec.min, 1)}-${fmt(r.overSeeds.blindWindowP99Sec.max, 1)}]` : '-',
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
    const seeded = SEEDED_SCENARIOS.includes(scenario.name) ? { overSeeds: await overSeeds(scenario, ours) } : {};
    rows.push({ name: scenario.name, description: scenario.description, ...published(ours), ...seeded, baseline });
  }
  const bundle = { bytes: statSync(BUNDLE).size, requireMsMedian: requireMsMedian(), requireRuns: REQUIRE_RUNS };
  const fleet = resourcesPerService();
  const results = {
    command: 'npx projen bench',
    seed: 1,
    node: process.version,
    note: 'Counts and simulated seconds from test/sim (deterministic); requireMsMedian is wall-clock on the machine that ran it.',
    scenarios: rows,
    bundle,
    resourcesPerService: fleet.rows,
    resourcesNote: 'Imported services of one cluster sharing one existing target and filter. Policy sizes: JSON without whitespace, '
      + 'intrinsics resolved to stand-ins of realistic length (template figure: intrinsics left as they are). '
      + `Largest managed policy with a target and filter per service (${FLEET_SIZES[FLEET_SIZES.length - 1]} services): ${fleet.distinctTargetsLargestManagedPolicyChars} characters.`,
  };
  mkdirSync(join(RESULTS, '..'), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  updateReadme(readmeTable(rows));

  const header = ['scenario', 'tasks', 'viol', 'base viol', 'writes/start', 'base', 'throttled/start', 'base', 'reads/start', 'base', 'invoc/task', 'base',
    'coverage s', 'base', 'bound s', 'ratio', 'ours/base time', 'unmirrored task-s', 'base', 'blind p50/p99/max s', 'base', 'sweep write attempts',
    'cross-zone', 'base', 'off→0 s'];
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
      r.timeToZeroSessionsSec === undefined ? '' : fmt(r.timeToZeroSessionsSec, 0),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map(row => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  console.log('coverage "-" = never reached (see violations); base = naive baseline; off→0 s: switch-off-on, from switching off to no owned session (bound: the same 1000 writes)');
  for (const r of rows) printSwitchAndFleet(r);
  for (const r of rows.filter(row => row.overSeeds)) {
    const o = r.overSeeds!;
    const range = (x: { median: number; min: number; max: number }) => `${x.median} [${x.min}-${x.max}]`;
    console.log(`${r.name}, seeds 1-${o.seeds}: blind window p99 ${range(o.blindWindowP99Sec)} s; unmirrored task-seconds `
      + `${range(o.unmirroredTaskSeconds)}; EC2 reads per task start ${range(o.ec2ReadsPerTaskStart)}; violations ${o.invariantViolations}`);
  }
  printResources(fleet);
  console.log(`\nhandler bundle: ${bundle.bytes} bytes; require() median of ${REQUIRE_RUNS}: ${bundle.requireMsMedian} ms (${process.version})`);
  console.log('wrote bench/results.json and the README\'s table of figures');
}

/** The figures of the fleet and switch scenarios the main table has no column for. */
function printSwitchAndFleet(r: Figures & { name: string }): void {
  const bound = r.tokenBucketBoundSec;
  if (r.timeToZeroSessionsSec !== undefined) {
    console.log(`${r.name}: off -> no owned session in ${fmt(r.timeToZeroSessionsSec, 0)} s (bound ${fmt(r.zeroSessionsBoundSec ?? null, 0)} s, `
      + `${ratio(r.timeToZeroSessionsSec, r.zeroSessionsBoundSec ?? null)}x); on -> full coverage in ${fmt(r.timeToFullCoverageSec, 0)} s `
      + `(bound ${fmt(bound, 0)} s, ${ratio(r.timeToFullCoverageSec, bound)}x); immediate sweeps started ${r.immediateSweeps ?? 0}`);
  }
  if (r.services !== undefined) {
    const reads = r.switchReads;
    console.log(`${r.name}: ${r.services} services; per task start ${fmt(r.ec2WritesPerTaskStart)} writes, ${fmt(r.ec2ReadsPerTaskStart)} reads; `
      + `sweeps' EC2 reads per minute ${fmt(r.sweepEc2ReadsPerMinute ?? null, 1)}`
      + (reads ? `; switch GetParameter calls: ${reads.event} event path, ${reads.sweep} sweeps, ${reads.throttled} throttled` : ''));
  }
  if (r.tasksAtEnd && r.services === undefined && r.timeToZeroSessionsSec === undefined) {
    const e = r.tasksAtEnd;
    console.log(`${r.name}: ${e.running} running, ${e.wanted} to mirror, ${e.mirrored} mirrored, ${e.mirroredUnwanted} mirrored that are not to be`);
  }
}

/** Resources and policy sizes of stacks of 1, 10 and 50 mirrored services. */
function printResources(fleet: ReturnType<typeof resourcesPerService>): void {
  console.log('\nmirrored services in one stack (imported services, one shared existing target and filter):');
  const header = ['services', 'resources', 'per added service', 'managed policies', 'largest managed policy chars', 'queue policy statements', 'queue policy bytes', 'template bytes'];
  const rows = fleet.rows.map(r => [String(r.services), String(r.total), fmt(r.perAdditionalService), String(r.managedPolicies),
    `${r.largestManagedPolicyChars} (${r.largestManagedPolicyTemplateChars} as template)`, String(r.largestQueuePolicy.statements),
    String(r.largestQueuePolicy.bytes), String(r.templateBytes)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(`limits: ${STACK_RESOURCE_LIMIT} resources per stack; ${MANAGED_POLICY_LIMIT} characters per managed policy `
    + `(${fleet.distinctTargetsLargestManagedPolicyChars} with a target and filter per service); SQS queue policy ${QUEUE_POLICY_LIMITS.statements} statements, ${QUEUE_POLICY_LIMITS.bytes} bytes`);
  for (const r of fleet.rows.filter(x => !x.underStackResourceLimit || !x.underManagedPolicyLimit || !x.underQueuePolicyLimits)) {
    console.log(`OVER A LIMIT at ${r.services} services:${r.underStackResourceLimit ? '' : ' resources'}${r.underManagedPolicyLimit ? '' : ' managed policy size'}`
      + `${r.underQueuePolicyLimits ? '' : ' SQS queue policy (statements or bytes)'}`);
  }
}

if (require.main === module) {
  main().catch(error => {
    console.error(error);
    process.exit(1);
  });
}
