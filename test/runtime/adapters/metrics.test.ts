import { EmfMirrorMetrics, ignoredTriggersPublisher } from '../../../src/runtime/adapters/metrics';

/** Captures the EMF documents Powertools writes to stdout. */
function captureEmf(run: () => void): any[] {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return lines.join('').split('\n').filter(l => l.includes('_aws')).map(l => JSON.parse(l));
}

test('publishes counts and coverage in the namespace and dimensions the construct reads', () => {
  const docs = captureEmf(() => {
    const metrics = new EmfMirrorMetrics('ftm-owner');
    metrics.sessionCreated();
    metrics.sessionCreated();
    metrics.sessionDeleted();
    metrics.sessionModified();
    metrics.failure('TargetSourcesLimit');
    metrics.coverage(10, 7);
    metrics.flush();
  });
  const main = docs.find(d => 'SessionsCreated' in d);
  expect(main._aws.CloudWatchMetrics[0].Namespace).toBe('FargateTrafficMirror');
  expect(main._aws.CloudWatchMetrics[0].Dimensions[0].sort()).toEqual(['Owner', 'service']);
  // EMF may carry several values for one metric; CloudWatch aggregates them.
  const sum = (v: number | number[]) => ([] as number[]).concat(v).reduce((a, b) => a + b, 0);
  expect(main).toMatchObject({ Owner: 'ftm-owner', service: 'fargate-traffic-mirror' });
  expect(Object.fromEntries(['SessionsCreated', 'SessionsDeleted', 'SessionsModified', 'SessionFailures', 'RunningTasks', 'MirroredTasks', 'UnmirroredTasks']
    .map(name => [name, sum(main[name])]))).toEqual({
    SessionsCreated: 2, SessionsDeleted: 1, SessionsModified: 1, SessionFailures: 1, RunningTasks: 10, MirroredTasks: 7, UnmirroredTasks: 3,
  });
  const byReason = docs.find(d => d.Reason === 'TargetSourcesLimit');
  expect(byReason).toMatchObject({ Owner: 'ftm-owner', SessionFailures: 1 });
  expect(byReason._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['Owner', 'Reason']));
});

test('ignored triggers are counted per stack (the dimensions metricIgnoredTriggers() reads), and nothing is written for none', () => {
  const docs = captureEmf(() => {
    const publish = ignoredTriggersPublisher('ftms-0123456789abcdef01234567');
    publish(0);
    publish(3);
  });
  expect(docs).toHaveLength(1);
  expect(docs[0]._aws.CloudWatchMetrics[0].Namespace).toBe('FargateTrafficMirror');
  expect(docs[0]._aws.CloudWatchMetrics[0].Dimensions[0].sort()).toEqual(['Stack', 'service']);
  expect(docs[0]).toMatchObject({ IgnoredTriggers: 3, Stack: 'ftms-0123456789abcdef01234567', service: 'fargate-traffic-mirror' });
});
