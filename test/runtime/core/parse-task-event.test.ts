import { networkInterfaceIdOf, parseTaskEvent } from '../../../src/runtime/core/parse-task-event';
import { CLUSTER_ARN, SERVICE_NAME, taskArnOf, taskEvent } from '../../fixtures/task-events';

const scope = { clusterArn: CLUSTER_ARN, serviceName: SERVICE_NAME };
const TASK = taskArnOf('0d2a4b8c3e1f4a5b9c7d6e5f4a3b2c1d');

describe('parseTaskEvent', () => {
  test('RUNNING with an ENI and desired RUNNING makes sure the task is mirrored (not its first event)', () => {
    expect(parseTaskEvent(taskEvent({ lastStatus: 'RUNNING', version: 2 }), scope)).toEqual({
      action: 'start', taskArn: TASK, networkInterfaceId: 'eni-0a1b2c3d4e5f60718', lastStatus: 'RUNNING', version: 2, availabilityZone: 'us-east-1a', early: false,
    });
  });

  // Fargate platform 1.4 attaches the task's ENI at PENDING, before the image pull.
  test('PENDING with an attached ENI starts mirroring early', () => {
    expect(parseTaskEvent(taskEvent({ lastStatus: 'PENDING', version: 1 }), scope)).toEqual({
      action: 'start', taskArn: TASK, networkInterfaceId: 'eni-0a1b2c3d4e5f60718', lastStatus: 'PENDING', version: 1, availabilityZone: 'us-east-1a', early: true,
    });
  });

  // The task state change event names the task's Availability Zone (detail.availabilityZone).
  test('the task\'s Availability Zone is read when it is a zone name, and left out otherwise', () => {
    const withZone = (availabilityZone: unknown) => {
      const event = taskEvent({ lastStatus: 'PENDING', version: 1 });
      return parseTaskEvent({ ...event, detail: { ...event.detail, availabilityZone } }, scope);
    };
    expect(withZone('eu-west-1b')).toMatchObject({ action: 'start', availabilityZone: 'eu-west-1b' });
    expect(withZone('us-west-2-lax-1a')).toMatchObject({ action: 'start', availabilityZone: 'us-west-2-lax-1a' });
    for (const bad of [undefined, 42, '', 'EU-WEST-1A', 'use1-az1 x', 'a'.repeat(65), { zone: 'a' }]) {
      expect(withZone(bad)).toMatchObject({ action: 'start' });
      expect(withZone(bad)).not.toHaveProperty('availabilityZone');
    }
  });

  test('PENDING without an ENI, or with one not attached yet, is skipped, awaiting the ENI (its RUNNING event acts)', () => {
    expect(parseTaskEvent(taskEvent({ lastStatus: 'PENDING', eni: null }), scope))
      .toEqual({ action: 'skip', reason: 'task has no network interface yet (state PENDING)', taskArn: TASK, awaitingEni: true });
    expect(parseTaskEvent(taskEvent({ lastStatus: 'PENDING', attachmentStatus: 'PRECREATED' }), scope))
      .toEqual({ action: 'skip', reason: 'task\'s network interface is not attached yet (state PENDING)', taskArn: TASK, awaitingEni: true });
    // A RUNNING event without one awaits nothing: no later event of the task starts it.
    expect(parseTaskEvent(taskEvent({ lastStatus: 'RUNNING', eni: null }), scope))
      .toEqual({ action: 'skip', reason: 'task has no network interface yet (state RUNNING)', taskArn: TASK });
  });

  test.each(['PROVISIONING', 'ACTIVATING'])('%s is skipped (the rule does not pass it; PENDING and RUNNING act)', lastStatus => {
    expect(parseTaskEvent(taskEvent({ lastStatus, version: 2 }), scope))
      .toMatchObject({ action: 'skip', reason: `nothing to do in state ${lastStatus} (desired RUNNING)`, taskArn: TASK });
  });

  test('STOPPED checks for leftover sessions', () => {
    expect(parseTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 5 }), scope)).toMatchObject({
      action: 'stop', taskArn: TASK, lastStatus: 'STOPPED', version: 5,
    });
  });

  // A draining task still carries traffic; EC2 removes the session with the ENI.
  test.each([['RUNNING'], ['DEACTIVATING'], ['STOPPING'], ['DEPROVISIONING']])('%s with desired STOPPED keeps mirroring (skipped)', lastStatus => {
    expect(parseTaskEvent(taskEvent({ lastStatus, desiredStatus: 'STOPPED' }), scope))
      .toMatchObject({ action: 'skip', reason: `nothing to do in state ${lastStatus} (desired STOPPED)` });
  });

  test('a stop without an ENI attachment still stops (sessions are found by task)', () => {
    expect(parseTaskEvent(taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', eni: null }), scope)).toEqual({
      action: 'stop', taskArn: TASK, networkInterfaceId: undefined, lastStatus: 'STOPPED', version: 3,
    });
  });

  test('PROVISIONING is skipped even with an ENI id (the interface may not exist yet)', () => {
    expect(parseTaskEvent(taskEvent({ lastStatus: 'PROVISIONING', attachmentStatus: 'PRECREATED' }), scope))
      .toMatchObject({ action: 'skip', reason: expect.stringMatching(/nothing to do in state PROVISIONING/) });
  });

  test('a running task without an ENI is skipped', () => {
    expect(parseTaskEvent(taskEvent({ lastStatus: 'RUNNING', eni: null }), scope))
      .toMatchObject({ action: 'skip', reason: 'task has no network interface yet (state RUNNING)', taskArn: TASK });
  });

  test.each([
    ['another cluster', taskEvent({ clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/staging' }), /another cluster/],
    ['another account', taskEvent({ clusterArn: 'arn:aws:ecs:us-east-1:210987654321:cluster/prod' }), /another cluster/],
    ['another region', taskEvent({ clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod' }), /another cluster/],
    ['another service', taskEvent({ group: 'service:api' }), /another group \(service:api\)/],
    ['a standalone task', taskEvent({ group: 'family:web' }), /another group/],
    ['a service whose name starts with ours', taskEvent({ group: 'service:web-canary' }), /another group/],
  ])('%s is skipped', (_name, event, reason) => {
    expect(parseTaskEvent(event, scope)).toMatchObject({ action: 'skip', reason: expect.stringMatching(reason) });
  });

  test.each([
    ['null', null, /not an object/],
    ['a string', 'hello', /not an object/],
    ['an array', [taskEvent()], /not an object/],
    ['another source', { ...taskEvent(), source: 'aws.ec2' }, /not an ECS task state change/],
    ['another detail-type', { ...taskEvent(), 'detail-type': 'ECS Container Instance State Change' }, /not an ECS task state change/],
    ['no detail', { ...taskEvent(), detail: undefined }, /no detail object/],
    ['detail of the wrong type', { ...taskEvent(), detail: 'RUNNING' }, /no detail object/],
    ['no task ARN', { ...taskEvent(), detail: { ...taskEvent().detail, taskArn: undefined } }, /taskArn is missing/],
    ['a task ARN of the wrong shape', { ...taskEvent(), detail: { ...taskEvent().detail, taskArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-1' } }, /taskArn is missing or not a task ARN/],
    ['no lastStatus', { ...taskEvent(), detail: { ...taskEvent().detail, lastStatus: 7 } }, /lastStatus or detail.desiredStatus is missing/],
    ['an ENI id of the wrong shape', taskEvent({ eni: 'eni-../../etc' }), /not an ENI id/],
  ])('%s is skipped without throwing', (_name, event, reason) => {
    expect(parseTaskEvent(event, scope)).toMatchObject({ action: 'skip', reason: expect.stringMatching(reason) });
  });

  test('unknown fields are tolerated', () => {
    const event = taskEvent();
    event.detail.someFutureField = { nested: [1, 2, 3] };
    event.newTopLevel = true;
    expect(parseTaskEvent(event, scope)).toMatchObject({ action: 'start' });
  });
});

describe('networkInterfaceIdOf', () => {
  test('reads DescribeTasks-style attachments too', () => {
    expect(networkInterfaceIdOf([
      { type: 'ElasticNetworkInterface', details: [{ name: 'networkInterfaceId', value: 'eni-0123456789abcdef0' }] },
    ])).toBe('eni-0123456789abcdef0');
  });

  test('ignores attachments of other types and broken entries', () => {
    expect(networkInterfaceIdOf([
      null, 'x', { type: 'Service Connect', details: [{ name: 'networkInterfaceId', value: 'eni-0123456789abcdef0' }] },
      { type: 'eni', details: 'nope' }, { type: 'eni', details: [null, { name: 'networkInterfaceId', value: 42 }] },
    ])).toBeUndefined();
    expect(networkInterfaceIdOf('not-an-array')).toBeUndefined();
  });
});
