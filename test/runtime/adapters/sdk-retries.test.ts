import { OWNER_TAG_KEY } from '../../../src/contract/ownership';
import { SessionManagerConfig } from '../../../src/contract/session-manager-config';
import { EC2_MAX_ATTEMPTS, newEc2Client, newEcsClient } from '../../../src/runtime/adapters/clients';
import { handleTaskEvent } from '../../../src/runtime/operations/handle-task-event';
import { OperationDeps } from '../../../src/runtime/operations/operation-deps';
import { taskEvent } from '../../fixtures/task-events';
import { FakeEc2Endpoint } from '../../support/fake-ec2-endpoint';
import { harness } from '../../support/harness';

/**
 * The real EC2 client (serializer, XML parser, retry middleware) against an in-process fake
 * endpoint. Only the backoff delay is set to zero so the suite does not sleep.
 */
let ec2: FakeEc2Endpoint;
let deps: OperationDeps;
let config: SessionManagerConfig;

beforeEach(() => {
  ({ ec2, deps, config } = harness());
});

test('the Lambda\'s EC2 client paces itself when throttled (adaptive mode), with the configured attempts', async () => {
  const ec2Strategy = await newEc2Client({ region: 'us-east-1' }).config.retryStrategy();
  expect((ec2Strategy as { mode?: string }).mode).toBe('adaptive');
  expect(await (ec2Strategy as any).maxAttemptsProvider()).toBe(EC2_MAX_ATTEMPTS);
  const ecsStrategy = await newEcsClient({ region: 'us-east-1' }).config.retryStrategy();
  expect(await (ecsStrategy as any).maxAttemptsProvider()).toBe(EC2_MAX_ATTEMPTS);
});

test('throttling then success: the SDK retries and one session exists', async () => {
  ec2.failNext('CreateTrafficMirrorSession', { code: 'RequestLimitExceeded', status: 503 }, 2);
  const outcome = await handleTaskEvent(taskEvent({ lastStatus: 'PENDING' }), deps);
  expect(outcome.outcome).toBe('created');
  expect(ec2.count('CreateTrafficMirrorSession')).toBe(3);
  expect(ec2.sessions.size).toBe(1);
});

test('persistent throttling fails the invocation after the configured attempts', async () => {
  ec2.failNext('CreateTrafficMirrorSession', { code: 'RequestLimitExceeded', status: 503 }, 100);
  await expect(handleTaskEvent(taskEvent({ lastStatus: 'PENDING' }), deps)).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
  expect(ec2.count('CreateTrafficMirrorSession')).toBe(EC2_MAX_ATTEMPTS);
  expect(ec2.sessions.size).toBe(0);
});

test('a 500 is retried like throttling', async () => {
  ec2.failNext('CreateTrafficMirrorSession', { code: 'InternalError', status: 500 });
  expect((await handleTaskEvent(taskEvent({ lastStatus: 'PENDING' }), deps)).outcome).toBe('created');
  expect(ec2.count('CreateTrafficMirrorSession')).toBe(2);
});

test('a permanent error is sent once and not retried', async () => {
  ec2.failNext('CreateTrafficMirrorSession', { code: 'TrafficMirrorSourcesPerTargetLimitExceeded', status: 400 });
  const outcome = await handleTaskEvent(taskEvent({ lastStatus: 'PENDING' }), deps);
  expect(outcome).toMatchObject({ outcome: 'failed', reason: 'NoUsableTarget', errorCode: 'TrafficMirrorSourcesPerTargetLimitExceeded' });
  expect(ec2.count('CreateTrafficMirrorSession')).toBe(1);
});

test('PENDING, ACTIVATING, RUNNING and a duplicate RUNNING leave exactly one session', async () => {
  for (const lastStatus of ['PENDING', 'ACTIVATING', 'RUNNING', 'RUNNING']) {
    await handleTaskEvent(taskEvent({ lastStatus }), deps);
  }
  expect(ec2.sessions.size).toBe(1);
  const [session] = ec2.sessions.values();
  expect(session.tags[OWNER_TAG_KEY]).toBe(config.ownerId);
});

test('start then stop leaves nothing, and a foreign session on the same ENI survives', async () => {
  ec2.sessions.set('tms-foreign', {
    id: 'tms-foreign',
    networkInterfaceId: 'eni-0a1b2c3d4e5f60718',
    targetId: 'tmt-0123456789abcdef0',
    filterId: 'tmf-x',
    sessionNumber: 2,
    tags: { [OWNER_TAG_KEY]: 'another-tool' },
  });
  await handleTaskEvent(taskEvent({ lastStatus: 'PENDING' }), deps);
  expect(ec2.sessions.size).toBe(2);
  const stop = await handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), deps);
  expect(stop.outcome).toBe('deleted');
  expect([...ec2.sessions.keys()]).toEqual(['tms-foreign']);
});

test('stop finds owned sessions across several Describe pages', async () => {
  ec2.describePageSize = 1;
  for (let i = 0; i < 3; i++) {
    ec2.sessions.set(`tms-${i}`, {
      id: `tms-${i}`,
      networkInterfaceId: 'eni-0a1b2c3d4e5f60718',
      targetId: config.targetId,
      filterId: config.filterId,
      sessionNumber: i + 1,
      tags: { [OWNER_TAG_KEY]: config.ownerId, 'fargate-traffic-mirror:task-arn': taskEvent().detail.taskArn },
    });
  }
  const stop = await handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), deps);
  expect(stop.sessionIds).toHaveLength(3);
  expect(ec2.count('DescribeTrafficMirrorSessions')).toBe(3);
  expect(ec2.sessions.size).toBe(0);
});
