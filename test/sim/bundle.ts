import { execFileSync } from 'child_process';
import { join } from 'path';
import { ENV } from '../../src/session-manager/config';

/** The handler bundle the `bundle` task builds and every package ships. */
export const BUNDLE = join(__dirname, '..', '..', 'assets', 'session-manager', 'session-manager.lambda', 'index.js');

/** The configuration a deployment passes; the bundle reads and checks it at cold start. */
export function bundleEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_REGION: 'us-east-1',
    [ENV.OWNER_ID]: 'ftm-bench',
    [ENV.ACCOUNT]: '123456789012',
    [ENV.CLUSTER_ARN]: 'arn:aws:ecs:us-east-1:123456789012:cluster/bench',
    [ENV.SERVICE_NAME]: 'bench',
    [ENV.TARGET_ID]: 'tmt-0123456789abcdef0',
    [ENV.FILTER_ID]: 'tmf-0123456789abcdef0',
  };
}

/** Wall-clock ms to require() the bundle in a fresh Node.js process; throws if it fails to load. */
export function requireBundleMs(env: NodeJS.ProcessEnv = bundleEnv()): number {
  const script = `const t=process.hrtime.bigint();const m=require(${JSON.stringify(BUNDLE)});`
    + 'if(typeof m.handler!=="function")throw new Error("no handler export");'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  return Number(execFileSync(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString());
}
