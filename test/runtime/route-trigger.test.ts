import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { switchStateOf } from '../../src/contract/mirror-switch';
import { OWNER_TAG_KEY } from '../../src/contract/ownership';
import { SessionManagerConfig, configToEnv } from '../../src/contract/session-manager-config';
import { MirrorSessions } from '../../src/runtime/adapters/mirror-sessions';
import { sweepStarterOf } from '../../src/runtime/adapters/sweep-starter';
import { SwitchReader } from '../../src/runtime/adapters/switch-reader';
import { isSampled } from '../../src/runtime/core/sampling';
import { routeInvocation } from '../../src/runtime/route-invocation';
import { routeTrigger, unwrapTrigger } from '../../src/runtime/route-trigger';
import { taskArnOf, taskEvent } from '../fixtures/task-events';
import { TEST_CONFIG, harness } from '../support/harness';

const CONFIG: SessionManagerConfig = { ...TEST_CONFIG, account: '123456789012', region: 'us-east-1' };
const OTHER: SessionManagerConfig = { ...CONFIG, ownerId: 'ftm-bbbbbbbbbbbbbbbbbbbbbbbb', serviceName: 'other' };
const eniOf = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;
const taskIdOf = (n: number) => `task${n.toString().padStart(8, '0')}`;
const message = (config: SessionManagerConfig, event: unknown, messageId = 'm0') =>
  ({ messageId, body: JSON.stringify({ service: config.ownerId, event }) });
/** The configuration parameters of a stack with `configs`: the one source the functions act on. */
const configsOf = (...configs: SessionManagerConfig[]) => async (ownerId: unknown) => configs.find(c => c.ownerId === ownerId);

describe('triggers of the shared session manager', () => {
  test('queue messages are grouped by the service they name; a message naming none is acknowledged', () => {
    const trigger = unwrapTrigger({
      Records: [
        message(CONFIG, { a: 1 }, 'm1'),
        message(OTHER, { b: 2 }, 'm2'),
        message(CONFIG, { c: 3 }, 'm3'),
        { messageId: 'm4', body: JSON.stringify({ event: {} }) },
        { messageId: 'm5', body: 'not json' },
        // Queued by a release that carried the configuration: only its owner id is read.
        { messageId: 'm6', body: JSON.stringify({ mirror: { ...configToEnv(CONFIG), MIRROR_SAMPLING: '2' }, event: {} }) },
      ],
    });
    expect(trigger.kind).toBe('queue');
    if (trigger.kind !== 'queue') return;
    expect(trigger.groups.map(g => [g.ownerId, g.records.map(r => r.messageId)])).toEqual([
      [CONFIG.ownerId, ['m1', 'm3', 'm6']],
      [OTHER.ownerId, ['m2']],
    ]);
    expect(trigger.unusable).toEqual(['m4', 'm5']);
  });

  test('a schedule\'s input is a sweep of the service it names; a custom resource names it by its owner id property; anything else is skipped', () => {
    expect(unwrapTrigger({ service: CONFIG.ownerId, sweep: true })).toEqual({ kind: 'sweep', ownerId: CONFIG.ownerId, immediate: false, chunk: 0 });
    expect(unwrapTrigger({ mirror: configToEnv(CONFIG), sweep: true, immediate: true })).toEqual({ kind: 'sweep', ownerId: CONFIG.ownerId, immediate: true, chunk: 0 });
    expect(unwrapTrigger({ RequestType: 'Create', ResourceProperties: { ServiceToken: 'arn', ...configToEnv(OTHER) } }))
      .toMatchObject({ kind: 'customResource', ownerId: OTHER.ownerId });
    expect(unwrapTrigger({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' })).toMatchObject({ kind: 'unusable' });
  });

  test('a custom resource naming no service with a configuration parameter fails, so CloudFormation shows why', async () => {
    await expect(routeTrigger({ RequestType: 'Create', ResourceProperties: { ...configToEnv(CONFIG) } }, () => { throw new Error('unused'); },
      { log: () => undefined, configFor: configsOf() })).rejects.toThrow(/custom resource: no configuration parameter .*MIRROR_OWNER_ID/);
  });

  test('each service\'s events are handled with its own configuration: its owner tag, its target', async () => {
    const h = harness(CONFIG);
    for (const i of [0, 1]) {
      const taskArn = taskArnOf(taskIdOf(i));
      h.ecs.tasks.set(taskArn, { taskArn, group: 'service:x', lastStatus: 'PENDING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i) });
    }
    const other = { ...OTHER, serviceName: CONFIG.serviceName, targetId: 'tmt-0fedcba9876543210' };
    const depsFor = (config: SessionManagerConfig) => ({ ...h.deps, config, sessions: new MirrorSessions(h.ec2Client, config) });
    const response = await routeTrigger({
      Records: [
        message(CONFIG, taskEvent({ taskId: taskIdOf(0), eni: eniOf(0), lastStatus: 'PENDING', version: 1 }), 'm0'),
        message(other, taskEvent({ taskId: taskIdOf(1), eni: eniOf(1), lastStatus: 'PENDING', version: 1 }), 'm1'),
      ],
    }, depsFor, { log: () => undefined, configFor: configsOf(CONFIG, other) });
    expect(response).toEqual({ batchItemFailures: [] });
    const sessions = [...h.ec2.sessions.values()].map(s => [s.networkInterfaceId, s.tags[OWNER_TAG_KEY], s.targetId]).sort();
    expect(sessions).toEqual([[eniOf(0), CONFIG.ownerId, CONFIG.targetId], [eniOf(1), OTHER.ownerId, 'tmt-0fedcba9876543210']]);
  });

  test('a switch change in the queue starts one sweep of its service; if that fails, only its messages come back', async () => {
    const started: string[] = [];
    const change = { 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { name: '/switch', operation: 'Update' } };
    const records = [message(CONFIG, change, 'm0'), message(CONFIG, change, 'm1'), message(OTHER, change, 'm2')];
    const ok = await routeTrigger({ Records: records }, () => { throw new Error('no task events here'); }, {
      log: () => undefined, configFor: configsOf(CONFIG, OTHER), startSweep: async config => { started.push(config.ownerId); },
    });
    expect(ok).toEqual({ batchItemFailures: [] });
    expect(started).toEqual([CONFIG.ownerId, OTHER.ownerId]);
    const failed = await routeTrigger({ Records: records.slice(0, 2) }, () => { throw new Error('unused'); }, {
      log: () => undefined, configFor: configsOf(CONFIG, OTHER), startSweep: async () => { throw new Error('throttled'); },
    });
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }] });
  });

  test('the sweep starter invokes the reconciler asynchronously, naming only the service', async () => {
    const lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await sweepStarterOf(new LambdaClient({ region: 'us-east-1' }), 'reconciler')(CONFIG);
    const input = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect(input).toMatchObject({ FunctionName: 'reconciler', InvocationType: 'Event' });
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString())).toEqual({ service: CONFIG.ownerId, sweep: true, immediate: true });
    lambda.restore();
  });
});

describe('sampling', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `arn:aws:ecs:us-east-1:123456789012:task/prod/${i.toString(16).padStart(32, '0')}`);

  test('chooses about the share asked for, by task id (the same for an ARN and its id), and everything at 1', () => {
    const chosen = ids.filter(id => isSampled(id, 0.1)).length;
    expect(chosen).toBeGreaterThan(900);
    expect(chosen).toBeLessThan(1100);
    for (const id of ids.slice(0, 100)) expect(isSampled(id, 0.3)).toBe(isSampled(id.slice(id.lastIndexOf('/') + 1), 0.3));
    expect(ids.every(id => isSampled(id, 1) && isSampled(id, undefined))).toBe(true);
  });

  test('a smaller share is a subset of a larger one, so lowering it only removes sessions', () => {
    for (const id of ids.slice(0, 2000)) {
      if (isSampled(id, 0.1)) expect(isSampled(id, 0.5)).toBe(true);
    }
  });

  test('the event path and the sweep mirror exactly the chosen tasks', async () => {
    const h = harness({ ...CONFIG, sampling: 0.5 });
    const chosen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const taskArn = taskArnOf(taskIdOf(i));
      h.ecs.tasks.set(taskArn, { taskArn, group: `service:${CONFIG.serviceName}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i) });
      if (isSampled(taskArn, 0.5)) chosen.push(eniOf(i));
    }
    expect(chosen.length).toBeGreaterThan(0);
    expect(chosen.length).toBeLessThan(20);
    for (let i = 0; i < 10; i++) await routeInvocation(taskEvent({ taskId: taskIdOf(i), eni: eniOf(i), lastStatus: 'PENDING', version: 1 }), h.deps);
    expect([...h.ec2.sessions.values()].map(s => s.networkInterfaceId).sort()).toEqual(chosen.filter(e => parseInt(e.slice(4), 16) < 10).sort());
    const result = await routeInvocation({ 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} }, h.deps);
    expect(result).toMatchObject({ runningTasks: chosen.length, mirroredTasks: chosen.length });
    expect([...h.ec2.sessions.values()].map(s => s.networkInterfaceId).sort()).toEqual([...chosen].sort());
  });
});

describe('the switch', () => {
  test.each([
    ['on', 'on', true], ['OFF', 'off', true], [' off ', 'off', true],
    ['on until 2026-12-01T00:00:00Z', 'on', true], ['on until 2026-11-01T00:00:00Z', 'off', true],
    ['maybe', 'on', false], ['on until never', 'on', false], [undefined, 'on', false],
  ])('%j reads as %s (understood: %s)', (value, state, understood) => {
    expect(switchStateOf(value, Date.UTC(2026, 10, 27))).toEqual({ state, understood });
  });

  test('the reader asks SSM at most once per 5 s per parameter; a missing parameter is on', async () => {
    const ssm = mockClient(SSMClient);
    ssm.on(GetParameterCommand, { Name: '/a' }).resolves({ Parameter: { Value: 'off' } });
    ssm.on(GetParameterCommand, { Name: '/gone' }).rejects(Object.assign(new Error('gone'), { name: 'ParameterNotFound' }));
    let now = 0;
    const reader = new SwitchReader(new SSMClient({ region: 'us-east-1' }), () => now);
    expect(await reader.state('/a')).toEqual({ state: 'off' });
    now = 4_999;
    expect(await reader.state('/a')).toEqual({ state: 'off' });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    now = 5_000;
    await reader.state('/a');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
    expect(await reader.state('/gone')).toEqual({ state: 'on' });
    ssm.on(GetParameterCommand, { Name: '/typo' }).resolves({ Parameter: { Value: 'of' } });
    expect(await reader.state('/typo')).toEqual({ state: 'on', unknownValue: 'of' });
    ssm.restore();
  });

  test('an `on until` expiry is acted on by the first scheduled sweep after it, with no event', async () => {
    const h = harness(CONFIG);
    const ssm = mockClient(SSMClient);
    const until = new Date(Date.now() + 30_000).toISOString();
    ssm.on(GetParameterCommand, { Name: '/switch' }).resolves({ Parameter: { Value: `on until ${until}` } });
    const switches = new SwitchReader(new SSMClient({ region: 'us-east-1' }), () => Date.now());
    const deps = { ...h.deps, switchState: async () => (await switches.state('/switch', true)).state };
    for (let i = 0; i < 3; i++) {
      const taskArn = taskArnOf(taskIdOf(i));
      h.ecs.tasks.set(taskArn, { taskArn, group: `service:${CONFIG.serviceName}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i) });
    }
    const scheduled = { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': { immediate: true } };
    expect(await routeInvocation(scheduled, deps)).toMatchObject({ created: 3 });
    // One reconcile interval later the time has passed: the sweep removes every session.
    h.advance(60_000);
    expect(await routeInvocation(scheduled, deps)).toMatchObject({ deleted: 3, runningTasks: 0 });
    expect(h.ec2.sessions.size).toBe(0);
    ssm.restore();
  });

  test('off: no session for a starting task, and a sweep removes every owned session; on again: a sweep mirrors them all', async () => {
    let state: 'on' | 'off' = 'on';
    const h = harness(CONFIG);
    const deps = { ...h.deps, switchState: async () => state };
    for (let i = 0; i < 5; i++) {
      const taskArn = taskArnOf(taskIdOf(i));
      h.ecs.tasks.set(taskArn, { taskArn, group: `service:${CONFIG.serviceName}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i) });
    }
    const sweep = { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': { immediate: true } };
    expect(await routeInvocation(sweep, deps)).toMatchObject({ created: 5 });
    state = 'off';
    expect(await routeInvocation(sweep, deps)).toMatchObject({ deleted: 5, runningTasks: 0 });
    expect(h.ec2.sessions.size).toBe(0);
    expect(await routeInvocation(taskEvent({ taskId: taskIdOf(9), eni: eniOf(9), lastStatus: 'PENDING', version: 1 }), deps))
      .toMatchObject({ outcome: 'skipped', reason: 'switched off' });
    expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(5);
    state = 'on';
    expect(await routeInvocation(sweep, deps)).toMatchObject({ created: 5 });
  });
});
