import { configParameterPrefix } from '../../src/contract/ownership';
import { SessionManagerConfig, configToEnv } from '../../src/contract/session-manager-config';
import { ACCOUNT, CLUSTER_ARN, REGION, taskArnOf, taskEvent } from '../fixtures/task-events';
import { TEST_CONFIG } from '../support/harness';
import { LOCAL_STACK_ID, LocalEndpoints } from '../support/local-endpoints';

// The shipped bundle, in a child process with its own SDK clients, against the fake EC2, ECS,
// SSM and SQS endpoints on 127.0.0.1: what a principal that may send to the queue or invoke the
// functions can make them do.

const STACK_TAG = 'ftms-0123456789abcdef01234567';
const PREFIX = configParameterPrefix(STACK_TAG);
const CONFIG: SessionManagerConfig = { ...TEST_CONFIG, account: ACCOUNT, region: REGION };
const FORGED = { ...configToEnv(CONFIG), MIRROR_TARGET_ID: 'tmt-0fedcba9876543210', MIRROR_SAMPLING: '0.000001' };
const eniOf = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;
const taskIdOf = (n: number) => `${n.toString(16).padStart(32, '0')}`;
const MUTATING = ['CreateTrafficMirrorSession', 'ModifyTrafficMirrorSession', 'DeleteTrafficMirrorSession'];

let endpoints: LocalEndpoints;
let functionEnv: Record<string, string>;
/** The sessions as they are: id, ENI and target, sorted. */
const sessions = () => [...endpoints.ec2.sessions.values()].map(s => `${s.id} ${s.networkInterfaceId} ${s.targetId}`).sort();
const mutations = () => endpoints.ec2.calls.filter(c => MUTATING.includes(c)).length;

beforeAll(async () => {
  endpoints = new LocalEndpoints(CLUSTER_ARN);
  await endpoints.start();
  // The deployment's configuration parameter: the one source the functions act on.
  endpoints.ssm.parameters.set(`${PREFIX}${CONFIG.ownerId}`, JSON.stringify(configToEnv(CONFIG)));
  for (let i = 0; i < 4; i++) {
    const taskArn = taskArnOf(taskIdOf(i));
    endpoints.ecs.tasks.set(taskArn, {
      taskArn, group: `service:${CONFIG.serviceName}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i), createdAt: Date.now() - 600_000,
    });
  }
  // The reconciler's environment (the event function's has no stack id).
  functionEnv = {
    MIRROR_CONFIG_PREFIX: PREFIX, MIRROR_STACK_TAG: STACK_TAG, MIRROR_EVENT_QUEUE_URL: endpoints.queueUrl(), MIRROR_STACK_ID: LOCAL_STACK_ID,
  };
  endpoints.cloudformation.resources.set('MirrorEnrollment', {
    physicalId: `fargate-traffic-mirror-${CONFIG.ownerId}`, status: 'CREATE_COMPLETE', type: 'AWS::CloudFormation::CustomResource',
  });
  // The schedule's own trigger: it names the service, and the sweep mirrors its 4 tasks.
  const { answer } = await endpoints.invoke({ service: CONFIG.ownerId, sweep: true }, functionEnv);
  expect(JSON.parse(answer)).toMatchObject({ runningTasks: 4, created: 4 });
}, 120_000);

afterAll(async () => endpoints?.stop());

describe('forged triggers change no session', () => {
  test('a direct invoke of the reconciler with the schedule\'s payload and a forged configuration (sampling 0.000001, another target)', async () => {
    const before = sessions();
    expect(before).toHaveLength(4);
    const calls = mutations();
    // The schedule's input as a release before the configuration parameter wrote it.
    const { answer } = await endpoints.invoke({ mirror: FORGED, sweep: true }, functionEnv);
    expect(JSON.parse(answer)).toMatchObject({ runningTasks: 4, mirroredTasks: 4, created: 0, modified: 0, deleted: 0 });
    expect(sessions()).toEqual(before);
    expect(mutations()).toBe(calls);
  }, 60_000);

  test('a sweep of a service the stack does not have is logged and ignored, with no AWS call but the lookup', async () => {
    const calls = endpoints.ec2.calls.length;
    const { answer, log } = await endpoints.invoke({ service: 'ftm-bbbbbbbbbbbbbbbbbbbbbbbb', sweep: true, mirror: FORGED }, functionEnv);
    expect(JSON.parse(answer)).toEqual({ skipped: 'unknown service' });
    expect(log).toMatch(/trigger ignored: it names no service of this stack/);
    expect(endpoints.ec2.calls.length).toBe(calls);
    // A name of another shape is not even looked up.
    const lookups = endpoints.ssm.calls.length;
    await endpoints.invoke({ service: '../../other/parameter', sweep: true }, functionEnv);
    expect(endpoints.ssm.calls.length).toBe(lookups);
  }, 60_000);

  test('a custom resource Update invoked directly with forged properties runs the parameter\'s configuration', async () => {
    const before = sessions();
    const { answer } = await endpoints.invoke({
      RequestType: 'Update',
      PhysicalResourceId: 'x',
      ResourceProperties: { ServiceToken: 'arn', ...FORGED },
      OldResourceProperties: { ...configToEnv(CONFIG), MIRROR_PACKET_LENGTH: '100' },
      Data: { StartedAt: String(Date.now() - 300_000) },
    }, functionEnv);
    expect(answer).not.toMatch(/^error/);
    expect(JSON.parse(answer)).toMatchObject({ IsComplete: true, Data: { MirroredTasks: '4', Modified: '0' } });
    expect(sessions()).toEqual(before);
  }, 60_000);

  test('an SQS record handed over by a direct invoke, naming a foreign ENI with a forged configuration, is ignored', async () => {
    const before = sessions();
    const calls = mutations();
    const forged = (messageId: string, extra: object) => ({
      messageId,
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:TaskStateQueue`,
      ...extra,
      body: JSON.stringify({ mirror: FORGED, event: taskEvent({ taskId: taskIdOf(9), eni: 'eni-0f0f0f0f0f0f0f0f0', lastStatus: 'PENDING', version: 1 }) }),
    });
    const { answer, log } = await endpoints.invoke({ Records: [forged('f1', { receiptHandle: 'made-up' }), forged('f2', {})] }, functionEnv);
    expect(JSON.parse(answer)).toEqual({ batchItemFailures: [] });
    expect(log).toMatch(/records that are not messages of the event queue/);
    expect(sessions()).toEqual(before);
    expect(mutations()).toBe(calls);
  }, 60_000);

  test('a message the queue did hand over is acted on with the parameter\'s configuration, not the one it carries', async () => {
    endpoints.sqs.inFlight.add('received-1');
    const event = taskEvent({ taskId: taskIdOf(5), eni: eniOf(5), lastStatus: 'PENDING', version: 1 });
    const { answer } = await endpoints.invoke({
      Records: [{ messageId: 'm1', receiptHandle: 'received-1', body: JSON.stringify({ mirror: FORGED, event }) }],
    }, functionEnv);
    expect(JSON.parse(answer)).toEqual({ batchItemFailures: [] });
    const created = [...endpoints.ec2.sessions.values()].find(s => s.networkInterfaceId === eniOf(5));
    expect(created?.targetId).toBe(CONFIG.targetId);
    expect(endpoints.sqs.calls).toContain('ChangeMessageVisibilityBatch');
  }, 60_000);

  // Last: the genuine Delete removes every session.
  test('a custom resource Delete invoked directly removes no session; the same Delete while CloudFormation deletes the resource removes them all', async () => {
    const before = sessions();
    expect(before.length).toBeGreaterThan(0);
    const calls = mutations();
    const del = {
      RequestType: 'Delete',
      StackId: LOCAL_STACK_ID,
      LogicalResourceId: 'MirrorEnrollment',
      PhysicalResourceId: `fargate-traffic-mirror-${CONFIG.ownerId}`,
      ResourceProperties: { ServiceToken: 'arn', ...configToEnv(CONFIG) },
      Data: { StartedAt: String(Date.now() - 300_000) },
    };
    const forged = await endpoints.invoke(del, functionEnv);
    expect(JSON.parse(forged.answer)).toEqual({ IsComplete: false });
    expect(forged.log).toMatch(/a custom resource Delete CloudFormation is not running/);
    expect(sessions()).toEqual(before);
    expect(mutations()).toBe(calls);
    // The event function (no stack id) does not even ask.
    const asked = endpoints.cloudformation.calls.length;
    const { MIRROR_STACK_ID: _, ...eventFunctionEnv } = functionEnv;
    expect(JSON.parse((await endpoints.invoke(del, eventFunctionEnv)).answer)).toEqual({ IsComplete: false });
    expect(endpoints.cloudformation.calls.length).toBe(asked);
    expect(sessions()).toEqual(before);

    endpoints.cloudformation.resources.get('MirrorEnrollment')!.status = 'DELETE_IN_PROGRESS';
    const genuine = await endpoints.invoke(del, functionEnv);
    expect(JSON.parse(genuine.answer)).toMatchObject({ IsComplete: true, Data: { Deleted: String(before.length) } });
    expect(sessions()).toEqual([]);
  }, 60_000);
});

describe('the template: only the stack\'s rules may send to the queues; triggers name only the service', () => {
  // Built lazily: the construct side needs the bundle asset, which the tests above also use.
  const build = () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { App, Stack, aws_ec2: ec2, aws_ecs: ecs } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const { Template } = require('aws-cdk-lib/assertions') as typeof import('aws-cdk-lib/assertions');
    const { FargateTrafficMirror, MirrorTarget } = require('../../src') as typeof import('../../src');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const stack = new Stack(new App(), 'Fleet', { env: { account: ACCOUNT, region: REGION } });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'] });
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
    const mirrors = ['web', 'api'].map(name => new FargateTrafficMirror(stack, `Mirror-${name}`, {
      service: ecs.FargateService.fromFargateServiceAttributes(stack, `Service-${name}`, { cluster, serviceName: name }),
      target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0'),
    }));
    return { template: Template.fromStack(stack).toJSON(), mirrors };
  };

  test('each queue policy denies sqs:SendMessage to every principal whose source is not one of the stack\'s rules', () => {
    const { template } = build();
    const resources: Record<string, any> = template.Resources;
    const rules = Object.keys(resources).filter(id => resources[id].Type === 'AWS::Events::Rule').sort();
    const policies = Object.values(resources).filter((r: any) => r.Type === 'AWS::SQS::QueuePolicy') as any[];
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      const statements = policy.Properties.PolicyDocument.Statement.map((s: any) => ({
        ...s, Condition: s.Condition && JSON.parse(JSON.stringify(s.Condition).replace(/\{"Fn::GetAtt":\["([^"]+)","Arn"\]\}/g, '"rule:$1"')),
      }));
      const send = (context: Record<string, string>) => {
        const matching = statements.filter((s: any) => [s.Action].flat().includes('sqs:SendMessage') && conditionHolds(s.Condition, context));
        return matching.some((s: any) => s.Effect === 'Deny') ? 'explicitDeny' : matching.some((s: any) => s.Effect === 'Allow') ? 'allow' : 'implicitDeny';
      };
      // A user or role of the account (an identity-based Allow would otherwise suffice): no source ARN.
      expect(send({})).toBe('explicitDeny');
      // Another rule of the account, or another account's.
      expect(send({ 'aws:SourceArn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/someone-elses`, 'aws:SourceAccount': ACCOUNT })).toBe('explicitDeny');
      // The stack's rules.
      for (const rule of rules) expect(send({ 'aws:SourceArn': `rule:${rule}`, 'aws:SourceAccount': ACCOUNT })).toBe('allow');
    }
  });

  test('the rule\'s and the schedule\'s inputs name the service; its configuration is a parameter under the stack\'s prefix', () => {
    const { template, mirrors } = build();
    const resources: Record<string, any> = template.Resources;
    const inputs = [
      ...Object.values(resources).filter((r: any) => r.Type === 'AWS::Events::Rule').map((r: any) => r.Properties.Targets[0].InputTransformer.InputTemplate),
      ...Object.values(resources).filter((r: any) => r.Type === 'AWS::Scheduler::Schedule').map((r: any) => r.Properties.Target.Input),
    ].map(i => JSON.stringify(i));
    expect(inputs).toHaveLength(4);
    for (const input of inputs) {
      expect(input).not.toMatch(/MIRROR_|tmt-|tmf-/);
      expect(mirrors.some(m => input.includes(m.ownerId))).toBe(true);
    }
    const parameters = Object.values(resources).filter((r: any) => r.Type === 'AWS::SSM::Parameter' && /\/config\//.test(r.Properties.Name)) as any[];
    expect(parameters).toHaveLength(2);
    for (const m of mirrors) {
      expect(parameters.filter(p => new RegExp(`^/fargate-traffic-mirror/ftms-[0-9a-f]{24}/config/${m.ownerId}$`).test(p.Properties.Name))).toHaveLength(1);
    }
  });
});

/** IAM's condition matching for the operators the queue policies use (IAM User Guide, "Condition operators"). */
function conditionHolds(condition: Record<string, Record<string, unknown>> | undefined, context: Record<string, string>): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) => Object.entries(keys).every(([key, values]) => {
    const actual = context[key];
    const wanted = [values].flat().map(String);
    if (operator === 'ArnNotEquals') return actual === undefined || !wanted.includes(actual);
    if (operator === 'StringEquals' || operator === 'ArnEquals') return actual !== undefined && wanted.includes(actual);
    throw new Error(`operator ${operator} not modelled`);
  }));
}
