import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SessionManagerConfig, configToEnv } from '../../src/contract/session-manager-config';
import { ENROLLMENT_WORK_LIMIT_MS, SETTLE_MS } from '../../src/contract/timing';
import { StackStatus } from '../../src/runtime/adapters/stack-status';
import { routeTrigger } from '../../src/runtime/route-trigger';
import { FakeCloudFormationEndpoint } from '../support/fake-cloudformation-endpoint';
import { TEST_CONFIG, harness } from '../support/harness';

// Anyone in the account with lambda:InvokeFunction on the reconciler can hand it a custom
// resource Delete. It removes a service's sessions only when CloudFormation, asked about the
// deployment's own stack, is deleting that resource under that service's physical id.

const CONFIG: SessionManagerConfig = { ...TEST_CONFIG, account: '123456789012', region: 'us-east-1' };
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/MirrorStack/0f0e0d0c-1111-2222-3333-444455556666';
const PHYSICAL = `fargate-traffic-mirror-${CONFIG.ownerId}`;
const eniOf = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;

async function setup() {
  const h = harness(CONFIG);
  for (let i = 0; i < 3; i++) {
    await h.deps.sessions.create(eniOf(i), `arn:aws:ecs:us-east-1:123456789012:task/prod/t${i}`);
  }
  const cfn = new FakeCloudFormationEndpoint(STACK_ID);
  cfn.resources.set('MirrorEnrollment', { physicalId: PHYSICAL, status: 'CREATE_COMPLETE', type: 'AWS::CloudFormation::CustomResource' });
  const client = new CloudFormationClient({
    region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, requestHandler: cfn.requestHandler as any, maxAttempts: 1,
  });
  const ignored: number[] = [];
  const logged: object[] = [];
  const options = (stack: StackStatus | undefined = new StackStatus(client, STACK_ID)) => ({
    log: (_m: string, details: object) => { logged.push(details); },
    configFor: async (ownerId: unknown) => (ownerId === CONFIG.ownerId ? CONFIG : undefined),
    ignored: (n: number) => { ignored.push(n); },
    stack,
  });
  /** A Delete poll as the provider framework passes it, begun long enough ago that an empty listing is final. */
  const poll = (extra: object = {}) => ({
    RequestType: 'Delete',
    StackId: STACK_ID,
    LogicalResourceId: 'MirrorEnrollment',
    PhysicalResourceId: PHYSICAL,
    ResourceProperties: { ServiceToken: 'arn', ...configToEnv(CONFIG) },
    Data: { StartedAt: String(Date.now() - SETTLE_MS - 1000) },
    ...extra,
  });
  return { h, cfn, options, poll, ignored, logged };
}

describe('a custom resource Delete removes sessions only when CloudFormation is deleting that resource', () => {
  test('CloudFormation deleting the enrollment: every owned session goes', async () => {
    const { h, cfn, options, poll } = await setup();
    cfn.resources.get('MirrorEnrollment')!.status = 'DELETE_IN_PROGRESS';
    expect(await routeTrigger(poll(), () => h.deps, options())).toMatchObject({ IsComplete: true, Data: { Deleted: '3' } });
    expect(h.ec2.sessions.size).toBe(0);
    expect(cfn.calls).toEqual(['DescribeStackResource MirrorEnrollment']);
  });

  test.each([
    ['the resource is not being deleted', {}, 'CREATE_COMPLETE'],
    ['another resource of the stack is being deleted', { LogicalResourceId: 'SomethingElse' }, 'DELETE_IN_PROGRESS'],
    ['the physical id is another service\'s', { PhysicalResourceId: 'fargate-traffic-mirror-ftm-bbbbbbbbbbbbbbbbbbbbbbbb' }, 'DELETE_IN_PROGRESS'],
    ['no logical id', { LogicalResourceId: undefined }, 'DELETE_IN_PROGRESS'],
  ])('a direct invoke where %s removes nothing, and is logged and counted', async (_what, extra, status) => {
    const { h, cfn, options, poll, ignored, logged } = await setup();
    cfn.resources.set('SomethingElse', { physicalId: 'x', status: 'DELETE_IN_PROGRESS', type: 'AWS::SQS::Queue' });
    cfn.resources.get('MirrorEnrollment')!.status = status;
    expect(await routeTrigger(poll(extra), () => h.deps, options())).toEqual({ IsComplete: false });
    expect(h.ec2.sessions.size).toBe(3);
    expect(h.ec2.count('DeleteTrafficMirrorSession')).toBe(0);
    expect(ignored).toEqual([1]);
    expect(logged).toEqual([expect.objectContaining({ reason: 'a custom resource Delete CloudFormation is not running', service: CONFIG.ownerId })]);
  });

  test('a function without its stack id (the event function) never acts on a Delete', async () => {
    const { h, options, poll } = await setup();
    expect(await routeTrigger(poll(), () => h.deps, options(undefined))).toEqual({ IsComplete: false });
    expect(h.ec2.sessions.size).toBe(3);
  });

  test('the first call, which only records the start, asks nothing and removes nothing', async () => {
    const { h, cfn, options, poll } = await setup();
    expect(await routeTrigger(poll({ Data: undefined }), () => h.deps, options())).toMatchObject({ PhysicalResourceId: PHYSICAL });
    expect(cfn.calls).toEqual([]);
    expect(h.ec2.sessions.size).toBe(3);
  });

  test('CloudFormation throttling is a poll to repeat; a denied question fails the Delete saying what the reconciler needs', async () => {
    const { h, cfn, options, poll, ignored } = await setup();
    cfn.resources.get('MirrorEnrollment')!.status = 'DELETE_IN_PROGRESS';
    cfn.failWith = 'Throttling';
    expect(await routeTrigger(poll(), () => h.deps, options())).toEqual({ IsComplete: false });
    // No answer is not a forged Delete: logged, not counted as an ignored trigger.
    expect(ignored).toEqual([]);
    cfn.failWith = 'AccessDenied';
    await expect(routeTrigger(poll(), () => h.deps, options())).rejects.toThrow(/cannot confirm with CloudFormation.*AccessDenied.*cloudformation:DescribeStackResource/);
    expect(h.ec2.sessions.size).toBe(3);
    cfn.failWith = undefined;
    expect(await routeTrigger(poll(), () => h.deps, options())).toMatchObject({ IsComplete: true });
    expect(h.ec2.sessions.size).toBe(0);
  });

  test('a Delete CloudFormation never confirms fails at the work limit with the reason, having removed nothing', async () => {
    const { h, options, poll } = await setup();
    await expect(routeTrigger(poll({ Data: { StartedAt: String(Date.now() - ENROLLMENT_WORK_LIMIT_MS - 1) } }), () => h.deps, options()))
      .rejects.toThrow(/did not confirm within 50 minutes.*no session was removed.*CREATE_COMPLETE/);
    expect(h.ec2.sessions.size).toBe(3);
  });
});
