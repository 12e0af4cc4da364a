import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateTrafficMirrorSessionCommand, DeleteTrafficMirrorSessionCommand, DescribeTrafficMirrorSessionsCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { OWNER_TAG_KEY, REQUEST_TAG_KEY, TASK_TAG_KEY, clientTokenFor } from '../../../src/contract/ownership';
import { SessionManagerConfig } from '../../../src/contract/session-manager-config';
import { handleTaskEvent } from '../../../src/runtime/operations/handle-task-event';
import { CLUSTER_ARN, SERVICE_NAME, taskArnOf, taskEvent } from '../../fixtures/task-events';
import { mockedDeps } from '../../support/mocked-deps';
import { RecordingMetrics } from '../../support/recording-metrics';

const config: SessionManagerConfig = {
  ownerId: 'ftm-0123456789abcdef01234567',
  clusterArn: CLUSTER_ARN,
  serviceName: SERVICE_NAME,
  targetId: 'tmt-0123456789abcdef0',
  filterId: 'tmf-0123456789abcdef0',
  sessionNumber: 2,
  packetLength: 8500,
  virtualNetworkId: 77,
  description: 'ids feed',
};
const ENI = 'eni-0a1b2c3d4e5f60718';
const TASK = taskArnOf('0d2a4b8c3e1f4a5b9c7d6e5f4a3b2c1d');

const ec2Mock = mockClient(EC2Client);
/** The task's first event with its attached ENI (Fargate platform 1.4 attaches it at PENDING). */
const pending = (options = {}) => taskEvent({ lastStatus: 'PENDING', ...options });
let logger: Logger;
let metrics: RecordingMetrics;
let deps: Parameters<typeof handleTaskEvent>[1];

function awsError(name: string, status: number) {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

beforeEach(() => {
  ec2Mock.reset();
  ({ deps, logger, metrics } = mockedDeps(config));
});

describe('task start', () => {
  test('PENDING with the attached ENI creates one tagged session with a deterministic ClientToken, and reads nothing', async () => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand).resolves({ TrafficMirrorSession: { TrafficMirrorSessionId: 'tms-1' } });
    const outcome = await handleTaskEvent(pending(), deps);

    expect(outcome).toEqual({ action: 'start', outcome: 'created', taskArn: TASK, networkInterfaceId: ENI, sessionIds: ['tms-1'] });
    const calls = ec2Mock.commandCalls(CreateTrafficMirrorSessionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      NetworkInterfaceId: ENI,
      TrafficMirrorTargetId: 'tmt-0123456789abcdef0',
      TrafficMirrorFilterId: 'tmf-0123456789abcdef0',
      SessionNumber: 2,
      PacketLength: 8500,
      VirtualNetworkId: 77,
      Description: 'ids feed',
      ClientToken: clientTokenFor({ ...config, networkInterfaceId: ENI, sessionNumber: 2 }),
      TagSpecifications: [{
        ResourceType: 'traffic-mirror-session',
        Tags: [
          { Key: OWNER_TAG_KEY, Value: config.ownerId },
          { Key: 'fargate-traffic-mirror:cluster', Value: CLUSTER_ARN },
          { Key: 'fargate-traffic-mirror:service', Value: SERVICE_NAME },
          { Key: TASK_TAG_KEY, Value: TASK },
          { Key: REQUEST_TAG_KEY, Value: expect.stringMatching(/^[0-9a-f-]{36}$/) },
        ],
      }],
    });
    expect(calls[0].args[0].input.ClientToken!.length).toBeLessThanOrEqual(64);
    expect(metrics.created).toBe(1);
    expect(ec2Mock.commandCalls(DescribeTrafficMirrorSessionsCommand)).toHaveLength(0);
  });

  test('a duplicate event sends the same ClientToken, so EC2 returns the same session', async () => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand).resolves({ TrafficMirrorSession: { TrafficMirrorSessionId: 'tms-1' } });
    await handleTaskEvent(pending(), deps);
    await handleTaskEvent(pending(), deps);
    const tokens = ec2Mock.commandCalls(CreateTrafficMirrorSessionCommand).map(c => c.args[0].input.ClientToken);
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(1);
  });

  // EC2 answers IdempotentParameterMismatch to a token reused with other parameters ("Ensuring
  // idempotency in Amazon EC2 API requests"), so the token covers every parameter.
  test('the ClientToken changes with every session parameter and the salt, and fits EC2\'s 64 characters', () => {
    const base = { ownerId: 'o', networkInterfaceId: 'eni-1', targetId: 'tmt-1', filterId: 'tmf-1', sessionNumber: 1 };
    const token = clientTokenFor(base);
    expect(token.length).toBeLessThanOrEqual(64);
    expect(clientTokenFor({ ...base })).toBe(token);
    const variants = [
      { ownerId: 'p' }, { networkInterfaceId: 'eni-2' }, { targetId: 'tmt-2' }, { filterId: 'tmf-2' }, { sessionNumber: 2 },
      { packetLength: 100 }, { virtualNetworkId: 5 }, { description: 'd' },
    ];
    const tokens = variants.map(v => clientTokenFor({ ...base, ...v }));
    expect(new Set([token, ...tokens, clientTokenFor(base, 'sweep-1'), clientTokenFor(base, 'sweep-2')]).size).toBe(variants.length + 3);
  });

  test('a create EC2 answers with an earlier request\'s result is "ensured", without a read', async () => {
    // A repeated token returns the original result, whose request tag is not ours: a redelivered
    // or duplicated PENDING event. Were the session deleted since, the sweep, which lists rather
    // than trusts, would make a new one (lifecycle.test.ts: a session deleted by hand).
    ec2Mock.on(CreateTrafficMirrorSessionCommand).resolves({
      TrafficMirrorSession: { TrafficMirrorSessionId: 'tms-1', Tags: [{ Key: REQUEST_TAG_KEY, Value: 'an-earlier-request' }] },
    });
    const outcome = await handleTaskEvent(pending(), deps);
    expect(outcome).toEqual({ action: 'start', outcome: 'ensured', taskArn: TASK, networkInterfaceId: ENI, sessionIds: ['tms-1'] });
    expect(metrics.created).toBe(0);
    expect(ec2Mock.commandCalls(CreateTrafficMirrorSessionCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(DescribeTrafficMirrorSessionsCommand)).toHaveLength(0);
  });

  test('IdempotentParameterMismatch is a conflict to look at, never the task\'s permanent failure', async () => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand)
      .rejectsOnce(awsError('IdempotentParameterMismatch', 400))
      .resolvesOnce({ TrafficMirrorSession: { TrafficMirrorSessionId: 'tms-2' } });
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({ TrafficMirrorSessions: [] });
    const outcome = await handleTaskEvent(pending(), deps);
    expect(outcome).toMatchObject({ outcome: 'created', sessionIds: ['tms-2'] });
    const tokens = ec2Mock.commandCalls(CreateTrafficMirrorSessionCommand).map(c => c.args[0].input.ClientToken);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(metrics.failures).toEqual([]);
  });

  // EC2 documents no error code for a session number already used on the ENI: whatever it
  // answers, one read by ENI tells what the task needs.
  test('a refusal in words we do not recognize gets one look at the ENI, which names the taken number', async () => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand).rejects(Object.assign(awsError('InvalidParameterCombination', 400), { message: 'The request conflicts with an existing resource.' }));
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({
      TrafficMirrorSessions: [{ TrafficMirrorSessionId: 'tms-other', NetworkInterfaceId: ENI, SessionNumber: 2, Tags: [{ Key: OWNER_TAG_KEY, Value: 'another-tool' }] }],
    });
    const outcome = await handleTaskEvent(pending(), deps);
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'SessionNumberInUse' });
    expect(ec2Mock.commandCalls(CreateTrafficMirrorSessionCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(DescribeTrafficMirrorSessionsCommand)).toHaveLength(1);
  });

  test('the event path never modifies or deletes an owned session of another configuration', async () => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand).rejects(Object.assign(awsError('InvalidParameterValue', 400), { message: 'The session number 2 is already in use' }));
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({
      TrafficMirrorSessions: [{
        TrafficMirrorSessionId: 'tms-old',
        NetworkInterfaceId: ENI,
        SessionNumber: 2,
        TrafficMirrorTargetId: 'tmt-previous',
        PacketLength: 100,
        Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }],
      }],
    });
    const outcome = await handleTaskEvent(pending(), deps);
    expect(outcome).toMatchObject({ outcome: 'ensured', sessionIds: ['tms-old'] });
    expect(ec2Mock.commandCalls(DeleteTrafficMirrorSessionCommand)).toHaveLength(0);
    expect(ec2Mock.calls().map(c => (c.args[0] as any).constructor.name)).toEqual(['CreateTrafficMirrorSessionCommand', 'DescribeTrafficMirrorSessionsCommand']);
  });
});

describe('task stop', () => {
  test('STOPPED deletes an owned session EC2 left behind', async () => {
    const lastStatus = 'STOPPED';
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({
      TrafficMirrorSessions: [{
        TrafficMirrorSessionId: 'tms-1',
        NetworkInterfaceId: ENI,
        SessionNumber: 2,
        Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }, { Key: TASK_TAG_KEY, Value: TASK }],
      }],
    });
    ec2Mock.on(DeleteTrafficMirrorSessionCommand).resolves({ TrafficMirrorSessionId: 'tms-1' });

    const outcome = await handleTaskEvent(taskEvent({ lastStatus, desiredStatus: 'STOPPED' }), deps);

    expect(outcome).toEqual({ action: 'stop', outcome: 'deleted', taskArn: TASK, networkInterfaceId: ENI, sessionIds: ['tms-1'] });
    // DescribeTrafficMirrorSessions documents no tag filters: the ENI from the event, a documented filter.
    expect(ec2Mock.commandCalls(DescribeTrafficMirrorSessionsCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'network-interface-id', Values: [ENI] },
    ]);
    expect(ec2Mock.commandCalls(DeleteTrafficMirrorSessionCommand)[0].args[0].input).toEqual({ TrafficMirrorSessionId: 'tms-1' });
    expect(metrics.deleted).toBe(1);
  });

  test('never deletes a session without our owner tag, even if the API returns one', async () => {
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({
      TrafficMirrorSessions: [{
        TrafficMirrorSessionId: 'tms-foreign',
        NetworkInterfaceId: ENI,
        SessionNumber: 1,
        Tags: [{ Key: OWNER_TAG_KEY, Value: 'someone-else' }, { Key: TASK_TAG_KEY, Value: TASK }],
      }],
    });
    const outcome = await handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), deps);
    expect(outcome.outcome).toBe('already-gone');
    expect(ec2Mock.commandCalls(DeleteTrafficMirrorSessionCommand)).toHaveLength(0);
  });

  test('an EC2 that ignores the filter cannot make one stop delete other tasks\' sessions', async () => {
    // Whatever comes back is checked here: ENI, owner tag and task tag.
    const other = taskArnOf('1111111111114a5b9c7d6e5f4a3b2c1d');
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({
      TrafficMirrorSessions: [
        { TrafficMirrorSessionId: 'tms-mine', NetworkInterfaceId: ENI, SessionNumber: 2, Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }, { Key: TASK_TAG_KEY, Value: TASK }] },
        { TrafficMirrorSessionId: 'tms-sibling', NetworkInterfaceId: 'eni-0ffffffffffffffff', SessionNumber: 2, Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }, { Key: TASK_TAG_KEY, Value: other }] },
        { TrafficMirrorSessionId: 'tms-other-task-same-eni', NetworkInterfaceId: ENI, SessionNumber: 3, Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }, { Key: TASK_TAG_KEY, Value: other }] },
      ],
    });
    ec2Mock.on(DeleteTrafficMirrorSessionCommand).resolves({});
    const outcome = await handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), deps);
    expect(outcome.sessionIds).toEqual(['tms-mine']);
    expect(ec2Mock.commandCalls(DeleteTrafficMirrorSessionCommand).map(c => c.args[0].input.TrafficMirrorSessionId)).toEqual(['tms-mine']);
  });

  test('a STOPPED event without an ENI looks among the owned sessions and deletes only its task\'s', async () => {
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({
      TrafficMirrorSessions: [
        { TrafficMirrorSessionId: 'tms-mine', NetworkInterfaceId: ENI, SessionNumber: 2, Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }, { Key: TASK_TAG_KEY, Value: TASK }] },
        { TrafficMirrorSessionId: 'tms-sibling', NetworkInterfaceId: 'eni-0ffffffffffffffff', SessionNumber: 2, Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }, { Key: TASK_TAG_KEY, Value: taskArnOf('2222') }] },
      ],
    });
    ec2Mock.on(DeleteTrafficMirrorSessionCommand).resolves({});
    const outcome = await handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', eni: null }), deps);
    expect(outcome.sessionIds).toEqual(['tms-mine']);
    expect(ec2Mock.commandCalls(DescribeTrafficMirrorSessionsCommand)[0].args[0].input.Filters).toBeUndefined();
  });

  test('a session already deleted with its ENI is success', async () => {
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({ TrafficMirrorSessions: [] });
    const outcome = await handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), deps);
    expect(outcome).toMatchObject({ action: 'stop', outcome: 'already-gone', sessionIds: [] });
  });

  // EC2's error-code reference spells InvalidTrafficMirrorSessionNotFound; other sources the dotted form.
  test.each(['InvalidTrafficMirrorSessionNotFound', 'InvalidTrafficMirrorSessionId.NotFound'])('not-found on delete (%s, raced with ENI deletion) is success', async code => {
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({
      TrafficMirrorSessions: [{ TrafficMirrorSessionId: 'tms-1', NetworkInterfaceId: ENI, Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }, { Key: TASK_TAG_KEY, Value: TASK }] }],
    });
    ec2Mock.on(DeleteTrafficMirrorSessionCommand).rejects(awsError(code, 400));
    const outcome = await handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), deps);
    expect(outcome).toMatchObject({ outcome: 'already-gone' });
    expect(logger.error).not.toHaveBeenCalled();
  });
});

describe('events that are not ours', () => {
  test.each([
    // Foreign and malformed events are warnings; a task that simply has no ENI yet is not.
    ['another service', taskEvent({ group: 'service:api' }), 'warn'],
    ['another cluster', taskEvent({ clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/other' }), 'warn'],
    ['a task without an ENI', taskEvent({ lastStatus: 'RUNNING', eni: null }), 'info'],
    ['a PROVISIONING task (its ENI is not attached yet)', taskEvent({ lastStatus: 'PROVISIONING', attachmentStatus: 'PRECREATED' }), 'info'],
    ['a PENDING task without an ENI', taskEvent({ lastStatus: 'PENDING', eni: null }), 'info'],
    ['a malformed event', { 'source': 'aws.ecs', 'detail-type': 'ECS Task State Change', 'detail': [] }, 'warn'],
  ] as const)('%s is logged and skipped with no AWS call', async (_name, event, level) => {
    const outcome = await handleTaskEvent(event, deps);
    expect(outcome.outcome).toBe('skipped');
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(logger[level]).toHaveBeenCalledWith('event skipped', expect.objectContaining({ reason: outcome.reason }));
  });
});

describe('out-of-order events', () => {
  test('a late start after the stop re-creates only through the same token (no second session id)', async () => {
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({ TrafficMirrorSessions: [] });
    ec2Mock.on(CreateTrafficMirrorSessionCommand).rejects(awsError('InvalidNetworkInterfaceID.NotFound', 400));
    const stop = await handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 6 }), deps);
    const lateStart = await handleTaskEvent(taskEvent({ lastStatus: 'PENDING', version: 2 }), deps);
    expect(stop.outcome).toBe('already-gone');
    // The ENI is gone with the task, so EC2 refuses the late create: logged once, not retried.
    expect(lateStart).toMatchObject({ outcome: 'failed', reason: 'SourceNotFound', errorCode: 'InvalidNetworkInterfaceID.NotFound' });
  });
});

describe('AWS errors', () => {
  test.each([
    ['RequestLimitExceeded', 503],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
  ])('transient %s fails the invocation so it is retried', async (name, status) => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand).rejects(awsError(name, status));
    await expect(handleTaskEvent(pending(), deps)).rejects.toThrow(name);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/transient/), expect.objectContaining({ errorCode: name, taskArn: TASK, networkInterfaceId: ENI }));
    expect(logger.error).not.toHaveBeenCalled();
  });

  test('transient errors on the stop path fail the invocation too', async () => {
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).rejects(awsError('RequestLimitExceeded', 503));
    await expect(handleTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), deps)).rejects.toThrow();
  });

  test.each([
    ['NetworkInterfaceNotSupported', 'SourceUnsupported'],
    // A full or missing target: with one target there is no next to try (mirror-task.ts).
    ['TrafficMirrorSourcesPerTargetLimitExceeded', 'NoUsableTarget'],
    ['TrafficMirrorSessionsPerTargetLimitExceeded', 'NoUsableTarget'],
    ['TrafficMirrorSessionsPerInterfaceLimitExceeded', 'SourceSessionLimit'],
    ['TrafficMirrorSessionLimitExceeded', 'AccountSessionLimit'],
    // EC2's error-code reference spells the first of each pair; other sources the dotted form.
    ['InvalidTrafficMirrorTargetNoFound', 'NoUsableTarget'],
    ['InvalidTrafficMirrorTargetId.NotFound', 'NoUsableTarget'],
    ['InvalidTrafficMirrorFilterNotFound', 'FilterNotFound'],
    ['InvalidTrafficMirrorFilterId.NotFound', 'FilterNotFound'],
    ['UnauthorizedOperation', 'AccessDenied'],
  ])('permanent %s is logged once with code, ENI and task, and not retried', async (name, reason) => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand).rejects(awsError(name, 400));
    // Only consulted for the per-ENI limit: the ENI's three sessions belong to other tools.
    ec2Mock.on(DescribeTrafficMirrorSessionsCommand).resolves({
      TrafficMirrorSessions: [1, 2, 3].map(n => ({ TrafficMirrorSessionId: `tms-other-${n}`, NetworkInterfaceId: ENI, SessionNumber: n, Tags: [] })),
    });
    const outcome = await handleTaskEvent(pending(), deps);
    expect(outcome).toEqual({ action: 'start', outcome: 'failed', taskArn: TASK, networkInterfaceId: ENI, reason, errorCode: name });
    expect(ec2Mock.commandCalls(CreateTrafficMirrorSessionCommand)).toHaveLength(1);
    expect(metrics.failures).toEqual([reason]);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({
      errorCode: name, reason, networkInterfaceId: ENI, taskArn: TASK, transient: false,
    }));
    // The AWS message reaches the log under a key the logger does not reserve.
    if (reason === 'NoUsableTarget') {
      // Each target that refused the task is named with EC2's code.
      expect(logger.error).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({
        refusals: [{ targetId: 'tmt-0123456789abcdef0', code: name, reason: expect.stringMatching(/^Target(SourcesLimit|NotFound)$/), message: name }],
      }));
    } else if (reason !== 'SourceSessionLimit') {
      expect(logger.error).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ errorMessage: name }));
    }
  });
});
