import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { FargateTrafficMirror, MirrorTarget, MirrorTargetKind } from '../src';
import { serviceStack } from './support/service-stack';
import { parseTargets } from '../src/contract/target-layout';

const eni = (n: number) => MirrorTarget.networkInterface(`eni-0123456789abcde${n.toString(16).padStart(2, '0')}`);
const endpoint = (n: number) => MirrorTarget.gatewayLoadBalancerEndpoint(`vpce-0123456789abcde${n.toString(16).padStart(2, '0')}`);

/** The configuration the mirror's triggers carry: its enrollment's properties (Fn::Join with Refs kept as objects). */
function environmentOf(template: Template): Record<string, any> {
  const enrollments = Object.values(template.findResources('Custom::FargateTrafficMirrorEnrollment')) as any[];
  expect(enrollments).toHaveLength(1);
  return enrollments[0].Properties;
}

/** A joined environment value with each Ref replaced by the referenced logical id's prefix. */
function joined(value: any): string {
  if (typeof value === 'string') return value;
  return value['Fn::Join'][1].map((part: any) => (typeof part === 'string' ? part : `<${part.Ref.replace(/[0-9A-F]{8}$/, '')}>`)).join('');
}

describe('MirrorTarget.pool and MirrorTarget.perAvailabilityZone', () => {
  test('bindAll: one target is itself; a pool of one is that target under the same id', () => {
    const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'us-east-1' } });
    const [single] = eni(1).bindAll(stack);
    expect(single).toMatchObject({ kind: MirrorTargetKind.NETWORK_INTERFACE, maxSources: 10 });
    expect(single.availabilityZone).toBeUndefined();
    const other = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'us-east-1' } });
    MirrorTarget.pool([eni(1)]).bindAll(other);
    expect(Template.fromStack(other).toJSON()).toEqual(Template.fromStack(stack).toJSON());
    expect(() => MirrorTarget.pool([eni(1), eni(2)]).bind(stack)).toThrow(/bind it with bindAll\(\)/);
  });

  test('a pool of ENI targets: one target resource each, all in the environment with their limit, all in IAM', () => {
    const { stack, service } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', {
      service, target: MirrorTarget.pool([eni(1), MirrorTarget.networkInterface('eni-0123456789abcde02', { maxSources: 100 }), eni(3)]),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::TrafficMirrorTarget', 3);
    expect(Object.keys(template.findResources('AWS::EC2::TrafficMirrorTarget')).map(id => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'MirrorTarget1', 'MirrorTarget2', 'MirrorTarget3',
    ]);
    expect(mirror.trafficMirrorTargetIds).toHaveLength(3);
    expect(mirror.trafficMirrorTargetId).toBe(mirror.trafficMirrorTargetIds[0]);

    const env = environmentOf(template);
    expect(env.MIRROR_TARGET_ID).toBeUndefined();
    expect(env.MIRROR_ALLOW_CROSS_ZONE).toBeUndefined();
    expect(joined(env.MIRROR_TARGETS)).toBe('<MirrorTarget1>:10,<MirrorTarget2>:100,<MirrorTarget3>:10');

    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    for (const sid of ['CreateSessionFromTaskEniToTheseTargetsThroughTheseFilters', 'ModifySessionsOnlyToTheseTargetsAndFilters']) {
      const statements = policies.filter((s: any) => s.Sid === sid);
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) {
        const targets = JSON.stringify(s.Resource).match(/traffic-mirror-target\/",\{"Ref":"MirrorTarget\d/g);
        expect(targets).toHaveLength(3);
      }
    }
    // 3 x 10 + 100 sources in all.
    Annotations.fromStack(stack).hasWarning('/TestStack/Mirror', Match.stringLikeRegexp('These 3 network interface targets accept at most 120 sources in all'));
  });

  test('a target per zone, one zone a pool: each target carries its zone; allowCrossZone reaches the functions', () => {
    const { stack, service } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', {
      service,
      target: MirrorTarget.perAvailabilityZone({
        'us-east-1a': endpoint(1),
        'us-east-1b': MirrorTarget.pool([endpoint(2), MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef3', { maxSources: 10 })]),
      }),
      allowCrossZone: true,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::TrafficMirrorTarget', 2);
    const env = environmentOf(template);
    expect(joined(env.MIRROR_TARGETS)).toBe('us-east-1a=<MirrorTargetuseast1a>,us-east-1b=<MirrorTargetuseast1b1>,us-east-1b=tmt-0123456789abcdef3:10');
    expect(env.MIRROR_ALLOW_CROSS_ZONE).toBe('true');
    // What the handler reads back.
    expect(parseTargets(joined(env.MIRROR_TARGETS).replace(/<[^>]+>/g, 'tmt-0'))).toEqual([
      { targetId: 'tmt-0', availabilityZone: 'us-east-1a' },
      { targetId: 'tmt-0', availabilityZone: 'us-east-1b' },
      { targetId: 'tmt-0123456789abcdef3', availabilityZone: 'us-east-1b', maxSources: 10 },
    ]);
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Mirror', Match.anyValue());
  });

  test('zones are checked against the stack\'s region only when it is known', () => {
    const { stack, service } = serviceStack({ env: undefined });
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.perAvailabilityZone({ 'eu-west-1a': endpoint(1), 'us-west-2-lax-1a': endpoint(2) }) });
    expect(joined(environmentOf(Template.fromStack(stack)).MIRROR_TARGETS)).toMatch(/^eu-west-1a=<MirrorTargeteuwest1a>,us-west-2-lax-1a=/);
  });

  test('metricNoUsableTarget and metricCrossZoneSessions', () => {
    const { stack, service } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.pool([eni(1), eni(2)]) });
    const noTarget = mirror.metricNoUsableTarget();
    expect(noTarget.metricName).toBe('SessionFailures');
    expect(noTarget.dimensions).toEqual({ service: 'fargate-traffic-mirror', Owner: mirror.ownerId, Reason: 'NoUsableTarget' });
    expect(mirror.metricCrossZoneSessions().metricName).toBe('CrossZoneSessions');
    expect(mirror.metricCrossZoneSessions().statistic).toBe('Sum');
  });
});
