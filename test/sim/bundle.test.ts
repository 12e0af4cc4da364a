import { invokeBundle, requireBundleMs } from './bundle';

// `npx projen bench` times require() of the bundle; these keep that measurement runnable.
test('the bundled handler loads with no service configuration: every trigger carries its own', () => {
  expect(requireBundleMs()).toBeGreaterThan(0);
});

test('the bundled handler refuses a custom resource event without a configuration, naming what is missing', () => {
  expect(invokeBundle({ RequestType: 'Create', ResourceProperties: { ServiceToken: 'arn' } }))
    .toMatch(/^error: fargate-traffic-mirror custom resource: .*MIRROR_OWNER_ID is not set/);
});

test('the bundled handler acknowledges a queue message without a configuration, with no AWS call', () => {
  expect(JSON.parse(invokeBundle({ Records: [{ messageId: 'm1', body: '{"detail":{}}' }] }))).toEqual({ batchItemFailures: [] });
});
