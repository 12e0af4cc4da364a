import { invokeBundle, requireBundleMs } from './bundle';

// `npx projen bench` times require() of the bundle; these keep that measurement runnable.
test('the bundled handler loads with no service configuration: it reads each service\'s from its parameter', () => {
  expect(requireBundleMs()).toBeGreaterThan(0);
});

/** The handler's answer: the last line of its output (metrics go to the same stream before it). */
const answerOf = (output: string) => output.slice(output.lastIndexOf('\n') + 1);

test('the bundled handler refuses a custom resource event naming no service, naming what is missing', () => {
  expect(answerOf(invokeBundle({ RequestType: 'Create', ResourceProperties: { ServiceToken: 'arn' } })))
    .toMatch(/^error: fargate-traffic-mirror custom resource: no configuration parameter .*MIRROR_OWNER_ID/);
});

test('the bundled handler acknowledges a queue message naming no service, with no AWS call', () => {
  expect(JSON.parse(answerOf(invokeBundle({ Records: [{ messageId: 'm1', body: '{"detail":{}}' }] })))).toEqual({ batchItemFailures: [] });
});
