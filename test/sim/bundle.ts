import { execFileSync } from 'child_process';
import { join } from 'path';
import { CONFIG_ENV } from '../fixtures/config-env';

/** The handler bundle the `bundle` task builds and every package ships. */
export const BUNDLE = join(__dirname, '..', '..', 'assets', 'session-manager', 'session-manager.lambda', 'index.js');

/** The configuration a deployment passes; the bundle reads and checks it at cold start. */
export function bundleEnv(): NodeJS.ProcessEnv {
  return { ...process.env, AWS_REGION: 'us-east-1', ...CONFIG_ENV };
}

/** Wall-clock ms to require() the bundle in a fresh Node.js process; throws if it fails to load. */
export function requireBundleMs(env: NodeJS.ProcessEnv = bundleEnv()): number {
  const script = `const t=process.hrtime.bigint();const m=require(${JSON.stringify(BUNDLE)});`
    + 'if(typeof m.handler!=="function")throw new Error("no handler export");'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  return Number(execFileSync(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString());
}
