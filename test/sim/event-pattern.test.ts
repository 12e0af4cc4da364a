import { instantiate, matchesPattern, withPlaceholders } from './event-pattern';

describe('the simulated rules\' event patterns', () => {
  const pattern = {
    source: ['aws.ecs'],
    $or: [{ detail: { lastStatus: ['RUNNING'] } }, { detail: { group: ['service:web'] } }],
  };

  test('fields beside $or must match too, and one $or alternative', () => {
    expect(matchesPattern(pattern, { source: 'aws.ecs', detail: { lastStatus: 'RUNNING' } })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.ecs', detail: { lastStatus: 'PENDING', group: 'service:web' } })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.ecs', detail: { lastStatus: 'PENDING' } })).toBe(false);
    expect(matchesPattern(pattern, { source: 'aws.ssm', detail: { lastStatus: 'RUNNING' } })).toBe(false);
  });

  test('an array in the event matches when one of its values does', () => {
    expect(matchesPattern({ resources: ['r2'] }, { resources: ['r1', 'r2'] })).toBe(true);
    expect(matchesPattern({ resources: ['r3'] }, { resources: ['r1', 'r2'] })).toBe(false);
    expect(matchesPattern({ detail: { name: ['x'] } }, { source: 'aws.ssm' })).toBe(false);
  });

  test('template tokens become placeholders each service fills in', () => {
    const template = {
      detail: {
        clusterArn: [{ 'Fn::GetAtt': ['Cluster1', 'Arn'] }],
        group: [{ 'Fn::Join': ['', ['service:', { 'Fn::GetAtt': ['Service1', 'Name'] }]] }],
        name: [{ Ref: 'Switch1' }],
      },
    };
    const placeholders = withPlaceholders(template, { 'Cluster1.Arn': 'clusterArn', 'Service1.Name': 'serviceName', 'Switch1': 'switchParameter' });
    expect(placeholders).toEqual({ detail: { clusterArn: ['{{clusterArn}}'], group: ['service:{{serviceName}}'], name: ['{{switchParameter}}'] } });
    expect(instantiate(placeholders, { clusterArn: 'arn:c', serviceName: 'web', switchParameter: '/s' }))
      .toEqual({ detail: { clusterArn: ['arn:c'], group: ['service:web'], name: ['/s'] } });
    expect(() => withPlaceholders({ x: [{ Ref: 'Other' }] }, {})).toThrow(/cannot resolve/);
  });

  test('content filters are refused rather than matched wrongly', () => {
    expect(() => matchesPattern({ detail: { n: [{ prefix: 'a' }] } }, { detail: { n: 'ab' } })).toThrow(/not modelled/);
  });
});
