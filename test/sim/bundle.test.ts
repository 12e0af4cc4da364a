import { bundleEnv, requireBundleMs } from './bundle';
import { ENV } from '../../src/session-manager/config';

// `npx projen bench` times require() of the bundle; these keep that measurement runnable.
test('the bundled handler loads with the configuration a deployment passes', () => {
  expect(requireBundleMs()).toBeGreaterThan(0);
});

test('the bundled handler refuses to start without its configuration', () => {
  const env = bundleEnv();
  delete env[ENV.ACCOUNT];
  expect(() => requireBundleMs(env)).toThrow(/MIRROR_ACCOUNT is not set/);
});
