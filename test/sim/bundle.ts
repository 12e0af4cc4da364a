import { execFileSync } from 'child_process';
import { join } from 'path';

/** The handler bundle the `bundle` task builds and every package ships. */
export const BUNDLE = join(__dirname, '..', '..', 'assets', 'runtime', 'session-manager.lambda', 'index.js');

/**
 * The environment a deployment gives the functions: the region only (and the shared queue and
 * reconciler names). No service's configuration: every trigger carries its own.
 */
export function bundleEnv(): NodeJS.ProcessEnv {
  return { ...process.env, AWS_REGION: 'us-east-1' };
}

/** Wall-clock ms to require() the bundle in a fresh Node.js process; throws if it fails to load. */
export function requireBundleMs(env: NodeJS.ProcessEnv = bundleEnv()): number {
  const script = `const t=process.hrtime.bigint();const m=require(${JSON.stringify(BUNDLE)});`
    + 'if(typeof m.handler!=="function")throw new Error("no handler export");'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  return Number(execFileSync(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString());
}

/** What the bundle's handler answers `event` with, in a fresh Node.js process (its error message if it throws). */
export function invokeBundle(event: unknown, env: NodeJS.ProcessEnv = bundleEnv()): string {
  const script = `require(${JSON.stringify(BUNDLE)}).handler(${JSON.stringify(event)})`
    + '.then(r=>process.stdout.write(JSON.stringify(r)),e=>process.stdout.write("error: "+e.message))';
  return execFileSync(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}
