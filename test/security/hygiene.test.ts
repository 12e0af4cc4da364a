import { aws_logs as logs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ofType, resourcesOf, synthesized, text } from './template-helpers';
import { FargateTrafficMirror, MirrorFilter, MirrorTarget, TrafficDirection } from '../../src';
import { SINGLETON_ID } from '../../src/fleet/shared-session-manager';
import { serviceStack } from '../support/service-stack';
import { VARIANTS } from '../support/variants';

// Per stack: the shared session manager, and every mirror's own resources.
const cases = VARIANTS.map(v => {
  const { stack } = v.build();
  const { resources, mirrors } = synthesized(stack);
  const own = {
    ...Object.fromEntries(Object.entries(resources).filter(([id]) => id.startsWith(SINGLETON_ID))),
    ...Object.assign({}, ...mirrors.map(m => resourcesOf(m, resources))),
  };
  return [v.name, { resources, own, variant: v.name, mirrors: mirrors.length }] as const;
});

const SECRET_NAME = /secret|password|passwd|token|credential|private.?key|api.?key/i;
const SECRET_VALUE = /(AKIA|ASIA)[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|[A-Za-z0-9/+=]{40}/;

describe.each(cases)('hygiene of %s', (_name, { resources, own, variant, mirrors }) => {
  test('both queues are encrypted at rest and refuse requests without TLS', () => {
    const queues = ofType(own, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled === true || queue.Properties.KmsMasterKeyId !== undefined).toBe(true);
      const policy = ofType(own, 'AWS::SQS::QueuePolicy').find(([, p]) => text(p.Properties.Queues) === text([{ Ref: id }]));
      expect(policy).toBeDefined();
      expect(policy![1].Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
        Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }));
    }
    // The task-state queue dead-letters into the other one.
    const withDlq = queues.filter(([, q]) => q.Properties.RedrivePolicy);
    expect(withDlq).toHaveLength(1);
  });

  test('every function logs to a log group of its own with a retention, and runs on Node.js 22', () => {
    const expected = variant === 'all-options' ? 365 : 30;
    const functions = ofType(own, 'AWS::Lambda::Function');
    // session manager, reconciler, and the provider framework's onEvent, isComplete and onTimeout
    expect(functions).toHaveLength(5);
    const groups = functions.map(([, fn]) => fn.Properties.LoggingConfig?.LogGroup?.Ref);
    expect(new Set(groups).size).toBe(5);
    for (const [, fn] of functions) {
      expect(resources[fn.Properties.LoggingConfig.LogGroup.Ref].Properties.RetentionInDays).toBe(expected);
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
    }
    expect(ofType(own, 'Custom::LogRetention')).toHaveLength(0);
  });

  test('every log group has the retention: one per function, and the waiter state machine\'s', () => {
    const expected = variant === 'all-options' ? 365 : 30;
    const groups = ofType(own, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(6);
    for (const [, group] of groups) {
      expect(group.Properties.RetentionInDays).toBe(expected);
    }
  });

  test('the waiter state machine logs every transition, without execution data, to a vended-logs group of its own', () => {
    const machines = ofType(own, 'AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(1);
    const logging = machines[0][1].Properties.LoggingConfiguration;
    // The execution input carries the pre-signed URL of the CloudFormation response.
    expect(logging).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(logging.Destinations).toHaveLength(1);
    const groupId = logging.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(text(resources[groupId].Properties.LogGroupName)).toMatch(/^\{"Fn::Join":\["",\["\/aws\/vendedlogs\/states\/",\{"Ref":"[A-Za-z0-9]*Reconciler[0-9A-F]{8}"\},"-enrollment"\]\]\}$/);
    const functionGroups = ofType(own, 'AWS::Lambda::Function').map(([, fn]) => fn.Properties.LoggingConfig.LogGroup.Ref);
    expect(functionGroups).not.toContain(groupId);
  });

  test('no plaintext secrets in function environments or custom resource properties', () => {
    const blobs = [
      ...ofType(own, 'AWS::Lambda::Function').map(([, fn]) => fn.Properties.Environment?.Variables ?? {}),
      ...ofType(own, 'Custom::FargateTrafficMirrorEnrollment').map(([, cr]) => {
        // CloudFormation's own name for the provider's function ARN, not a credential.
        const { ServiceToken, ...properties } = cr.Properties;
        expect(ServiceToken).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/EnrollmentProviderframeworkonEvent/), 'Arn'] });
        return properties;
      }),
    ];
    // five function environments and each mirror's enrollment properties
    expect(blobs).toHaveLength(5 + mirrors);
    for (const blob of blobs) {
      for (const [name, value] of Object.entries<unknown>(blob)) {
        expect(name).not.toMatch(SECRET_NAME);
        if (typeof value === 'string') {
          expect(value).not.toMatch(SECRET_VALUE);
        }
      }
    }
  });

  test('concurrency is bounded: 2 queue pollers; reserved only when asked', () => {
    const [[, mapping]] = ofType(own, 'AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
    const ours = ofType(own, 'AWS::Lambda::Function').filter(([id]) => !id.includes('framework'));
    const reserved = ours.map(([, fn]) => fn.Properties.ReservedConcurrentExecutions);
    expect(reserved).toEqual(variant === 'all-options' ? [5, 5] : [undefined, undefined]);
  });
});

describe('logRetention', () => {
  test('defaults to one month and applies to the provider framework too', () => {
    const { stack, service, nlb } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
    const template = Template.fromStack(stack);
    // five functions and the waiter state machine
    template.resourceCountIs('AWS::Logs::LogGroup', 6);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('INFINITE keeps logs forever (no RetentionInDays)', () => {
    const { stack, service, nlb } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), logRetention: logs.RetentionDays.INFINITE });
    const groups = Template.fromStack(stack).findResources('AWS::Logs::LogGroup');
    expect(Object.values(groups).map((g: any) => g.Properties?.RetentionInDays)).toEqual(Array(6).fill(undefined));
  });
});

describe('cfn-lint suppressions', () => {
  test('E3002 is silenced only on filter rules with an IPv6 CIDR', () => {
    const { stack } = serviceStack();
    new MirrorFilter(stack, 'Filter', {
      rules: [
        { direction: TrafficDirection.INGRESS, sourceCidr: '10.0.0.0/8' },
        { direction: TrafficDirection.INGRESS, destinationCidr: '2001:db8::/32' },
        { direction: TrafficDirection.EGRESS },
      ],
    });
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::EC2::TrafficMirrorFilterRule')) as any[];
    expect(rules.map(r => [r.Properties.DestinationCidrBlock, r.Metadata?.['cfn-lint']])).toEqual([
      ['0.0.0.0/0', undefined],
      ['2001:db8::/32', { config: { ignore_checks: ['E3002'] } }],
      ['0.0.0.0/0', undefined],
    ]);
  });
});
