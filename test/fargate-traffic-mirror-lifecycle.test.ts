import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FargateTrafficMirror, MirrorTarget } from '../src';
import { serviceStack } from './support/service-stack';
import { RECONCILER_MAX_EVENT_AGE_SEC, SCHEDULED_SWEEP_BUDGET_MS, SETTLE_MS } from '../src/contract/timing';
import { SINGLETON_ID as SHARED } from '../src/fleet/shared-session-manager';
import { enrollmentReport } from '../src/runtime/operations/enrollment-report';
import { SweepResult } from '../src/runtime/operations/operation-deps';

/** A dependency cycle among `resources` (as logical ids), or undefined when there is none. */
function findCycle(resources: Record<string, any>): string[] | undefined {
  const edges = (id: string): string[] => {
    const r = resources[id];
    const refs = [...JSON.stringify(r.Properties ?? {}).matchAll(/"(?:Ref|Fn::GetAtt)":(?:\["|")([A-Za-z0-9]+)/g)].map(m => m[1]);
    return [...new Set([...[].concat(r.DependsOn ?? []), ...refs])].filter(d => d in resources);
  };
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    for (const next of edges(id)) {
      const cycle = visit(next, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of Object.keys(resources)) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
}

function mirrorStack(props: Partial<ConstructorParameters<typeof FargateTrafficMirror>[2]> = {}) {
  const s = serviceStack();
  const mirror = new FargateTrafficMirror(s.stack, 'Mirror', { service: s.service, target: MirrorTarget.networkLoadBalancer(s.nlb), ...props });
  return { ...s, mirror, template: Template.fromStack(s.stack) };
}

describe('durable event processing', () => {
  test('the rule feeds an encrypted queue with a dead-letter queue', () => {
    const { template, mirror, stack } = mirrorStack();
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${SHARED}DeadLetterQueue`), 'Arn'] }, maxReceiveCount: 5 },
    });
    // Both queues refuse unencrypted transport.
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).map((p: any) => JSON.stringify(p.Properties.PolicyDocument));
    expect(policies.filter(p => p.includes('"aws:SecureTransport":"false"')).length).toBe(2);
    expect(stack.resolve(mirror.deadLetterQueue.queueArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${SHARED}DeadLetterQueue`)), 'Arn'] });
  });

  test('the queue\'s visibility timeout is six times the session manager\'s timeout (AWS guidance for SQS event sources)', () => {
    const { template } = mirrorStack();
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    const queues = template.findResources('AWS::SQS::Queue');
    const queue = queues[mapping.Properties.EventSourceArn['Fn::GetAtt'][0]];
    const fn = template.findResources('AWS::Lambda::Function')[mapping.Properties.FunctionName.Ref];
    expect(fn.Properties.Timeout).toBe(60);
    expect(queue.Properties.VisibilityTimeout).toBe(6 * fn.Properties.Timeout);
  });

  test('the session manager reads the queue with partial batch responses and bounded concurrency', () => {
    const { template } = mirrorStack();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp(`^${SHARED}SessionManager`) },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${SHARED}TaskStateQueue`), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  test('events the rule cannot deliver go to the dead-letter queue', () => {
    mirrorStack().template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${SHARED}DeadLetterQueue`), 'Arn'] } } })],
    });
  });
});

describe('periodic reconciliation', () => {
  test('runs every minute by default on the reconciler, through EventBridge Scheduler with the shared role', () => {
    mirrorStack().template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${SHARED}Reconciler`), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${SHARED}SchedulerRole`), 'Arn'] },
        // Not retried, and dropped after a minute: the settle time counts on it.
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: RECONCILER_MAX_EVENT_AGE_SEC },
      }),
    });
  });

  test('interval is configurable and the schedule can be turned off', () => {
    mirrorStack({ reconcileInterval: Duration.minutes(15) }).template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(15 minutes)' });
    mirrorStack({ periodicReconcile: false }).template.resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  test.each([
    [Duration.seconds(30), /reconcileInterval must be a whole number of minutes, at least 1, got 30 seconds/],
    [Duration.seconds(90), /reconcileInterval must be a whole number of minutes, at least 1, got 1 minute 30 seconds/],
  ])('interval %s fails at synth', (reconcileInterval, message) => {
    expect(() => mirrorStack({ reconcileInterval })).toThrow(message);
  });

  test('the reconciler has room for a large sweep', () => {
    const functions = mirrorStack().template.findResources('AWS::Lambda::Function');
    const timeouts = Object.fromEntries(Object.entries(functions).map(([id, f]: [string, any]) => [id.replace(/[0-9A-F]{8}$/, ''), f.Properties.Timeout]));
    expect(timeouts).toMatchObject({ [`${SHARED}Reconciler`]: 900, [`${SHARED}SessionManager`]: 60 });
  });
});

describe('enrollment custom resource', () => {
  test('runs the reconciler through a provider, after the rule exists and before the queue is drained and the schedule starts', () => {
    const { template } = mirrorStack({ sessionNumber: 3 });
    const resources = template.findResources('Custom::FargateTrafficMirrorEnrollment');
    const [id, enrollment] = Object.entries(resources)[0] as [string, any];
    expect(id).toMatch(/^MirrorEnrollment/);
    expect(enrollment.Properties.MIRROR_SESSION_NUMBER).toBe('3');
    expect(enrollment.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^MirrorTriggersTaskStateChange/)]));
    // CloudFormation deletes in reverse order: the mapping and the schedule go before the
    // enrollment's Delete removes the sessions, so nothing re-creates one afterwards.
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    expect(mappings).toHaveLength(1);
    expect(mappings[0].DependsOn).toContain(id);
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')) as any[];
    expect(schedules).toHaveLength(1);
    expect(schedules[0].DependsOn).toContain(id);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${SHARED}Reconciler`), 'Arn'] } } },
    });
  });

  test('Update runs after the rule carries the new configuration, with no dependency cycle', () => {
    const { template } = mirrorStack();
    const json = template.toJSON();
    const [id, enrollment] = Object.entries(template.findResources('Custom::FargateTrafficMirrorEnrollment'))[0] as [string, any];
    const [ruleId] = Object.keys(template.findResources('AWS::Events::Rule'));
    expect(enrollment.DependsOn).toContain(ruleId);
    const [mappingId, mapping] = Object.entries(template.findResources('AWS::Lambda::EventSourceMapping'))[0] as [string, any];
    expect(enrollment.DependsOn).not.toContain(mappingId);
    expect(mapping.DependsOn).toContain(id);
    // The reconciler is ordered through the provider: enrollment -> onEvent function -> reconciler.
    const onEvent = enrollment.Properties.ServiceToken['Fn::GetAtt'][0];
    expect(JSON.stringify(json.Resources[onEvent].Properties.Environment)).toMatch(new RegExp(`"Fn::GetAtt":\\["${SHARED}Reconciler[0-9A-F]{8}","Arn"\\]`));
    // No cycle anywhere in the template (DependsOn, Ref, GetAtt, Sub).
    expect(findCycle(json.Resources)).toBeUndefined();
  });

  test('the provider is asynchronous: the reconciler answers onEvent and isComplete, polled every 10 s for up to 55 minutes', () => {
    const { template } = mirrorStack();
    const functions = template.findResources('AWS::Lambda::Function');
    const reconcilerArn = { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${SHARED}Reconciler[0-9A-F]{8}$`)), 'Arn'] };
    const framework = Object.entries(functions).filter(([fid]) => fid.includes('EnrollmentProviderframework')) as Array<[string, any]>;
    expect(framework.map(([fid]) => fid.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      `${SHARED}EnrollmentProviderframeworkisComplete`, `${SHARED}EnrollmentProviderframeworkonEvent`, `${SHARED}EnrollmentProviderframeworkonTimeout`,
    ]);
    for (const [, fn] of framework) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        USER_ON_EVENT_FUNCTION_ARN: reconcilerArn,
        USER_IS_COMPLETE_FUNCTION_ARN: reconcilerArn,
      });
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
    }
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
    expect(machines).toHaveLength(1);
    // The waiter retries isComplete every 10 s, 330 times: 55 minutes of waiting.
    const definition = (machines[0].Properties.DefinitionString['Fn::Join'][1] as unknown[]).filter(p => typeof p === 'string').join('');
    expect(definition).toContain('"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":330,"BackoffRate":1}]');
    // Every call, onEvent or isComplete, runs within the reconciler's own timeout.
    expect(Object.entries(functions).find(([fid]) => new RegExp(`^${SHARED}Reconciler[0-9A-F]{8}$`).test(fid))![1].Properties.Timeout).toBe(900);
  });

  test('CloudFormation waits for the enrollment up to its maximum, ServiceTimeout 3600 seconds (an integer, as in the schema)', () => {
    const { template } = mirrorStack();
    const [enrollment] = Object.values(template.findResources('Custom::FargateTrafficMirrorEnrollment')) as any[];
    expect(enrollment.Properties.ServiceTimeout).toBe(3600);
  });

  // Lambda's asynchronous invocation: a throttled event is retried for up to MaximumEventAgeInSeconds
  // (six hours by default) whatever MaximumRetryAttempts says; the settle time counts on 60 s.
  test('Lambda neither retries a failed sweep nor keeps a throttled one waiting beyond the settle time', () => {
    const { template } = mirrorStack();
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp(`^${SHARED}Reconciler`) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: RECONCILER_MAX_EVENT_AGE_SEC,
    });
    expect(SETTLE_MS).toBeGreaterThanOrEqual((RECONCILER_MAX_EVENT_AGE_SEC * 1000) + SCHEDULED_SWEEP_BUDGET_MS);
  });

  test('passes pickFreeSessionNumber and sampling with the configuration', () => {
    mirrorStack({ pickFreeSessionNumber: true, sampling: 0.25 }).template.hasResourceProperties('Custom::FargateTrafficMirrorEnrollment', {
      MIRROR_PICK_FREE_SESSION_NUMBER: 'true', MIRROR_SAMPLING: '0.25',
    });
  });
});

describe('enrollment report', () => {
  /** The attributes the handler answers a completed Create or Update with, for any sweep. */
  const handlerAttributes = () => {
    const counts = ['runningTasks', 'mirroredTasks', 'created', 'modified', 'deleted', 'conflicts', 'failures', 'createFailures',
      'modifyFailures', 'deleteFailures', 'transientFailures', 'unfinished'];
    const result = {
      ...Object.fromEntries(counts.map(c => [c, 0])),
      failuresByReason: {},
      unmirroredByReason: {},
      unmirroredErrors: [],
    } as unknown as SweepResult;
    return Object.keys(enrollmentReport(result)).sort();
  };

  test('enrollmentReport holds Fn::GetAtt tokens of attributes the handler always returns, as strings', () => {
    const { mirror, stack, template } = mirrorStack();
    const [id] = Object.keys(template.findResources('Custom::FargateTrafficMirrorEnrollment'));
    const resolved = stack.resolve(mirror.enrollmentReport) as Record<string, { 'Fn::GetAtt': [string, string] }>;
    for (const value of Object.values(resolved)) expect(value['Fn::GetAtt'][0]).toBe(id);
    expect(Object.values(resolved).map(v => v['Fn::GetAtt'][1]).sort()).toEqual(handlerAttributes());
    for (const value of Object.values(mirror.enrollmentReport)) expect(typeof value).toBe('string');
  });

  test('no outputs unless asked; enrollmentReportOutputs adds one per attribute, with a literal description', () => {
    expect(mirrorStack().template.toJSON().Outputs).toBeUndefined();
    const { template } = mirrorStack({ enrollmentReportOutputs: true });
    const outputs = Object.entries(template.toJSON().Outputs) as Array<[string, any]>;
    expect(outputs.map(([, o]) => o.Value['Fn::GetAtt'][1]).sort()).toEqual(handlerAttributes());
    expect(outputs.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'MirrorEnrollmentFailures', 'MirrorEnrollmentFailuresByReason', 'MirrorEnrollmentMirroredTasks', 'MirrorEnrollmentRunningTasks',
      'MirrorEnrollmentSessionsCreated', 'MirrorEnrollmentSessionsModified', 'MirrorEnrollmentSummary', 'MirrorEnrollmentUnmirroredTasks',
    ]);
    for (const [, output] of outputs) expect(typeof output.Description).toBe('string');
  });

  test('failDeploymentOnUnmirroredTasks reaches the enrollment as a property, which is absent by default', () => {
    const property = (props = {}) => (Object.values(mirrorStack(props).template.findResources('Custom::FargateTrafficMirrorEnrollment'))[0] as any)
      .Properties.FailOnUnmirroredTasks;
    expect(property()).toBeUndefined();
    expect(property({ failDeploymentOnUnmirroredTasks: false })).toBeUndefined();
    expect(property({ failDeploymentOnUnmirroredTasks: true })).toBe('true');
  });
});

describe('metrics and alarms', () => {
  test('metric methods point at the published namespace and dimensions', () => {
    const { mirror, stack } = mirrorStack();
    const dims = { service: 'fargate-traffic-mirror', Owner: mirror.ownerId };
    for (const [metric, name, statistic] of [
      [mirror.metricSessionsCreated(), 'SessionsCreated', 'Sum'],
      [mirror.metricSessionsDeleted(), 'SessionsDeleted', 'Sum'],
      [mirror.metricSessionsModified(), 'SessionsModified', 'Sum'],
      [mirror.metricSessionFailures(), 'SessionFailures', 'Sum'],
      [mirror.metricUnmirroredTasks(), 'UnmirroredTasks', 'Maximum'],
      [mirror.metricRunningTasks(), 'RunningTasks', 'Maximum'],
    ] as const) {
      expect(metric.namespace).toBe('FargateTrafficMirror');
      expect(metric.metricName).toBe(name);
      expect(metric.statistic).toBe(statistic);
      expect(stack.resolve(metric.dimensions)).toEqual(dims);
    }
    expect(mirror.metricSessionFailures({ dimensionsMap: { Reason: 'TargetSourcesLimit' } }).dimensions).toEqual({ ...dims, Reason: 'TargetSourcesLimit' });
  });

  test('no alarms unless asked', () => {
    const { template, mirror } = mirrorStack();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(mirror.alarms).toEqual([]);
  });

  test('createAlarms: unmirrored tasks in every sweep for 15 minutes, a non-empty dead-letter queue, and ignored triggers', () => {
    const { template, mirror } = mirrorStack({ createAlarms: true });
    expect(mirror.alarms).toHaveLength(3);
    // The stack's one alarm on triggers its functions ignored, on the dimensions the functions publish.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'FargateTrafficMirror',
      MetricName: 'IgnoredTriggers',
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: Match.arrayWith([{ Name: 'Stack', Value: Match.stringLikeRegexp('^ftms-[0-9a-f]{24}$') }, { Name: 'service', Value: 'fargate-traffic-mirror' }]),
    });
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment?.Variables?.MIRROR_STACK_TAG) as any;
    expect(mirror.metricIgnoredTriggers().dimensions).toEqual({ service: 'fargate-traffic-mirror', Stack: fn.Properties.Environment.Variables.MIRROR_STACK_TAG });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'FargateTrafficMirror',
      MetricName: 'UnmirroredTasks',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 15,
      TreatMissingData: 'notBreaching',
      Dimensions: Match.arrayWith([{ Name: 'Owner', Value: mirror.ownerId }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${SHARED}DeadLetterQueue`), 'QueueName'] } }],
    });
    // A longer interval keeps three sweeps as the least evidence.
    mirrorStack({ createAlarms: true, reconcileInterval: Duration.minutes(10) }).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'UnmirroredTasks', Period: 600, EvaluationPeriods: 3,
    });
  });
});
