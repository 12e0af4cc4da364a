import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/*
 * Writes API.md with jsii-docgen against the assemblies this package compiled against, and only
 * those. Run bare, jsii-docgen loads every `.jsii` under the project directory and, for each
 * dependency, picks the newest one that fits the declared range: projen's own copy of
 * `constructs` (10.5 or later, nested under node_modules/projen) wins over our floor, 10.3.0, and
 * API.md then documents members such as `with(...mixins)` that a user on the floor does not have.
 *
 * So this script resolves each jsii dependency the way Node.js (and so jsii) does, from the
 * package that declares it, links that closure into a temporary directory and runs jsii-docgen
 * there. It fails unless each peer dependency resolves to the lowest version of its declared
 * range: the docs must describe the API a user on the floor gets.
 *
 * Usage: ts-node test/support/docgen.ts [output file, default API.md]
 */

const root = path.resolve(__dirname, '..', '..');
const output = path.resolve(root, process.argv[2] ?? 'API.md');

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
}

/**
 * The directory of `name` as Node.js finds it from `fromDir`: the nearest node_modules/NAME up
 * the tree. (require.resolve of NAME/package.json fails on packages whose `exports` hide it.)
 */
function resolvePackageDir(name: string, fromDir: string): string {
  for (let dir = fs.realpathSync(fromDir); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find ${name} from ${fromDir}`);
  }
}

/** name -> directory of every jsii assembly reachable from `dir` through its dependencies. */
function jsiiClosure(dir: string, found = new Map<string, string>()): Map<string, string> {
  const manifest = readManifest(dir);
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    const depDir = resolvePackageDir(name, dir);
    if (!fs.existsSync(path.join(depDir, '.jsii'))) continue; // not a jsii module: not in the type system
    const known = found.get(name);
    if (known && fs.realpathSync(known) !== fs.realpathSync(depDir)) {
      throw new Error(`${name} resolves to two copies (${known}, ${depDir}); cannot link one type system`);
    }
    if (known) continue;
    found.set(name, depDir);
    jsiiClosure(depDir, found);
  }
  return found;
}

/** The lowest version a caret, tilde or `>=` range allows, e.g. `^10.3.0` -> `10.3.0`. */
function floorOf(range: string): string {
  const match = /^(?:\^|~|>=\s*)?(\d+\.\d+\.\d+)(?:\s*<\s*\d+(?:\.\d+){0,2})?$/.exec(range.trim());
  if (!match) throw new Error(`cannot read the floor of the range "${range}"`);
  return match[1];
}

const self = readManifest(root);
const closure = jsiiClosure(root);
const problems: string[] = [];
for (const [name, range] of Object.entries(self.peerDependencies ?? {})) {
  const dir = closure.get(name);
  const installed = dir ? readManifest(dir).version : 'nothing';
  if (installed !== floorOf(range)) {
    problems.push(`${name}: peer range ${range}, but ${installed} is installed (run npm ci; the devDependency must be the floor)`);
  }
}
if (problems.length) {
  console.error(`API.md must be generated against the floor of each peer range:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'docgen-'));
try {
  for (const file of ['package.json', '.jsii']) fs.symlinkSync(path.join(root, file), path.join(staging, file));
  for (const [name, dir] of closure) {
    const link = path.join(staging, 'node_modules', name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(dir, link, 'dir');
  }
  console.log(`jsii-docgen against ${[...closure].map(([name, dir]) => `${name}@${readManifest(dir).version}`).join(', ')}`);
  const docgen = spawnSync('jsii-docgen', ['-o', output], { cwd: staging, stdio: 'inherit' });
  if (docgen.status !== 0) process.exit(docgen.status ?? 1);
} finally {
  fs.rmSync(staging, { recursive: true, force: true });
}
