import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/*
 * Compares what a consumer app (Python, Java, Go) synthesized through a built package with what
 * the TypeScript example synthesizes from src/: the mirroring resources must be the same, up to
 * logical-id hash suffixes and asset hashes, and the staged Lambda code must be the bundle.
 *
 * Usage: ts-node compare-templates.ts <reference cdk.out> <name>=<consumer cdk.out>...
 */

const STACK = 'FargateTrafficMirrorExample';
const BUNDLE = path.join('assets', 'runtime', 'session-manager.lambda', 'index.js');
/** The resources the construct creates or configures, compared property by property. */
const COMPARED_TYPES = [
  'AWS::EC2::TrafficMirrorTarget',
  'AWS::EC2::TrafficMirrorFilter',
  'AWS::EC2::TrafficMirrorFilterRule',
  'AWS::Events::Rule',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::SQS::Queue',
  'Custom::FargateTrafficMirrorEnrollment',
];

type Template = { Resources: Record<string, { Type: string; Properties?: unknown }> };

/** `MirrorTarget6F1634E4` -> `MirrorTarget`: the suffix is a hash of the construct path. */
function stripHash(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

/** Logical ids lose their hash suffix; asset object keys lose their content hash. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === 'Ref') return { Ref: stripHash(String(entries[0][1])) };
    if (entries.length === 1 && entries[0][0] === 'Fn::GetAtt') {
      const [id, attribute] = entries[0][1] as [string, string];
      return { 'Fn::GetAtt': [stripHash(id), attribute] };
    }
    return Object.fromEntries(entries.map(([key, inner]) => [key, normalize(inner)]));
  }
  if (typeof value === 'string') return value.replace(/^[0-9a-f]{64}\.zip$/, '<asset hash>.zip');
  return value;
}

/** The compared resources of a template, keyed by type and hash-free logical id. */
function keyResources(template: Template): Map<string, string> {
  const result = new Map<string, string>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (COMPARED_TYPES.includes(resource.Type)) {
      result.set(`${resource.Type} ${stripHash(id)}`, JSON.stringify(normalize(resource.Properties ?? {}), null, 1));
    }
  }
  return result;
}

function typeCounts(template: Template): string {
  const counts = new Map<string, number>();
  for (const { Type } of Object.values(template.Resources)) counts.set(Type, (counts.get(Type) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `${n} ${type}`).join(', ');
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The session manager's staged code directory, found through its Lambda handler's asset. */
function stagedBundles(outdir: string): string[] {
  return fs.readdirSync(outdir)
    .filter(entry => entry.startsWith('asset.'))
    .map(entry => path.join(outdir, entry, 'index.js'))
    .filter(file => fs.existsSync(file));
}

function compare(reference: string, name: string, outdir: string): string[] {
  const problems: string[] = [];
  const read = (dir: string): Template => JSON.parse(fs.readFileSync(path.join(dir, `${STACK}.template.json`), 'utf8'));
  const expected = read(reference);
  const actual = read(outdir);

  if (typeCounts(expected) !== typeCounts(actual)) {
    problems.push(`resource types differ:\n  TypeScript: ${typeCounts(expected)}\n  ${name}: ${typeCounts(actual)}`);
  }
  const want = keyResources(expected);
  const got = keyResources(actual);
  for (const [key, properties] of want) {
    if (!got.has(key)) problems.push(`missing ${key}`);
    else if (got.get(key) !== properties) problems.push(`${key} differs:\n--- TypeScript\n${properties}\n--- ${name}\n${got.get(key)}`);
  }
  for (const key of got.keys()) if (!want.has(key)) problems.push(`unexpected ${key}`);

  const bundle = sha256(BUNDLE);
  if (!stagedBundles(outdir).some(file => sha256(file) === bundle)) {
    problems.push(`no staged asset in ${outdir} holds the session-manager bundle ${BUNDLE}`);
  }
  if (problems.length === 0) {
    console.log(`ok  ${name}: ${want.size} mirroring resources match the TypeScript example; `
      + `${Object.keys(actual.Resources).length} resources in all; Lambda code is the bundle`);
  }
  return problems;
}

function main(args: string[]): number {
  const [reference, ...consumers] = args;
  if (!reference || consumers.length === 0) {
    console.error('usage: compare-templates.ts <reference cdk.out> <name>=<consumer cdk.out>...');
    return 2;
  }
  // A reference without the resources would make every comparison vacuous.
  const referenceTemplate = JSON.parse(fs.readFileSync(path.join(reference, `${STACK}.template.json`), 'utf8'));
  for (const type of COMPARED_TYPES) {
    if (!Object.values(referenceTemplate.Resources as Template['Resources']).some(r => r.Type === type)) {
      console.error(`the TypeScript example has no ${type}`);
      return 1;
    }
  }
  let failed = 0;
  for (const consumer of consumers) {
    const [name, outdir] = consumer.split('=');
    const problems = compare(reference, name, outdir);
    for (const problem of problems) console.error(`BAD ${name}: ${problem}`);
    failed += problems.length > 0 ? 1 : 0;
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
