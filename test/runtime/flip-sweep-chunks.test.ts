import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { SessionManagerConfig } from '../../src/contract/session-manager-config';
import { MAX_SWEEP_CHUNKS } from '../../src/contract/timing';
import { StackLifecycle } from '../../src/runtime/adapters/stack-status';
import { sweepStarterOf } from '../../src/runtime/adapters/sweep-starter';
import { DEADLINE_MARGIN_MS } from '../../src/runtime/route-invocation';
import { routeTrigger, unwrapTrigger } from '../../src/runtime/route-trigger';
import { taskArnOf } from '../fixtures/task-events';
import { TEST_CONFIG, harness } from '../support/harness';

// A flip's sweep (the event function starts it when a switch parameter changes) works in chunks:
// a chunk that leaves work starts the next on the reconciler, while the stack is steady.

const CONFIG: SessionManagerConfig = { ...TEST_CONFIG, account: '123456789012', region: 'us-east-1' };
const eniOf = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;
const taskIdOf = (n: number) => `task${n.toString().padStart(8, '0')}`;
/** A Lambda context with time for the margin only: the chunk starts no action and leaves all its work. */
const NO_TIME = { getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS + 1 };
/** A flip's sweep of the service, chunk `chunk`. */
const flip = (chunk?: number) => ({ service: CONFIG.ownerId, sweep: true, immediate: true, ...(chunk === undefined ? {} : { chunk }) });
const steady = (answer = true): StackLifecycle & { asked: number } => ({
  asked: 0,
  async deleting() { throw new Error('not asked here'); },
  async allowsChainedSweeps() { this.asked++; return answer; },
});

function setup(tasks = 3) {
  const h = harness(CONFIG);
  for (let i = 0; i < tasks; i++) {
    const taskArn = taskArnOf(taskIdOf(i));
    h.ecs.tasks.set(taskArn, { taskArn, group: `service:${CONFIG.serviceName}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i) });
  }
  const started: Array<[string, number | undefined]> = [];
  const logged: string[] = [];
  const options = (stack?: StackLifecycle) => ({
    log: (message: string) => { logged.push(message); },
    configFor: async (ownerId: unknown) => (ownerId === CONFIG.ownerId ? CONFIG : undefined),
    startSweep: async (config: SessionManagerConfig, chunk?: number) => { started.push([config.ownerId, chunk]); },
    stack,
  });
  return { h, started, logged, options };
}

describe('the chunks of a flip\'s sweep', () => {
  test('the chunk number is read as a count and nothing else: absent, negative or not an integer is the first chunk', () => {
    expect(unwrapTrigger({ service: CONFIG.ownerId, sweep: true, immediate: true, chunk: 7 })).toMatchObject({ kind: 'sweep', chunk: 7 });
    for (const chunk of [undefined, -1, 2.5, '3', null]) {
      expect(unwrapTrigger({ service: CONFIG.ownerId, sweep: true, immediate: true, chunk })).toMatchObject({ kind: 'sweep', chunk: 0 });
    }
  });

  test('a chunk that leaves work asks CloudFormation, then starts the next chunk of the same service', async () => {
    const { h, started, options } = setup();
    const stack = steady();
    const result = await routeTrigger(flip(4), () => h.deps, options(stack), NO_TIME);
    expect(result).toMatchObject({ runningTasks: 3, created: 0, unfinished: 3 });
    expect(stack.asked).toBe(1);
    expect(started).toEqual([[CONFIG.ownerId, 5]]);
  });

  test('a chunk that finishes its work starts none and asks nothing', async () => {
    const { h, started, options } = setup();
    const stack = steady();
    expect(await routeTrigger(flip(), () => h.deps, options(stack))).toMatchObject({ created: 3, unfinished: 0 });
    expect(stack.asked).toBe(0);
    expect(started).toEqual([]);
  });

  test('while the stack is deleted, rolled back or cleaned up, the sweep stops and says so', async () => {
    const { h, started, logged, options } = setup();
    await routeTrigger(flip(), () => h.deps, options(steady(false)), NO_TIME);
    expect(started).toEqual([]);
    expect(logged).toContain('the stack is being deleted, rolled back or cleaned up: the flip\'s sweep stops here');
  });

  test(`the chain ends after ${MAX_SWEEP_CHUNKS} chunks, and leaves the rest to the schedule with a log line`, async () => {
    const { h, started, logged, options } = setup();
    await routeTrigger(flip(MAX_SWEEP_CHUNKS - 2), () => h.deps, options(steady()), NO_TIME);
    expect(started).toEqual([[CONFIG.ownerId, MAX_SWEEP_CHUNKS - 1]]);
    await routeTrigger(flip(MAX_SWEEP_CHUNKS - 1), () => h.deps, options(steady()), NO_TIME);
    expect(started).toHaveLength(1);
    expect(logged.some(m => m.includes(`did not finish in ${MAX_SWEEP_CHUNKS} chunks`))).toBe(true);
  });

  test('scheduled sweeps never chain (the schedule is their next chunk); nor does a function without its stack id', async () => {
    const { h, started, options } = setup();
    await routeTrigger({ service: CONFIG.ownerId, sweep: true }, () => h.deps, options(steady()), NO_TIME);
    await routeTrigger(flip(), () => h.deps, options(undefined), NO_TIME);
    expect(started).toEqual([]);
  });

  test('a chunk that fails still starts the next, then reports its error', async () => {
    const { h, started, options } = setup();
    // ECS answers every call with a server error the SDK has given up retrying.
    const failing = new Proxy(h.deps.tasks, { get: () => async () => { throw Object.assign(new Error('internal error'), { name: 'ServerException' }); } });
    await expect(routeTrigger(flip(), () => ({ ...h.deps, tasks: failing }), options(steady())))
      .rejects.toThrow('internal error');
    expect(started).toEqual([[CONFIG.ownerId, 1]]);
  });

  test('a next chunk that cannot be started is logged; the chunk\'s own result stands', async () => {
    const { h, logged, options } = setup();
    const failing = { ...options(steady()), startSweep: async () => { throw new Error('TooManyRequestsException'); } };
    expect(await routeTrigger(flip(), () => h.deps, failing, NO_TIME)).toMatchObject({ unfinished: 3 });
    expect(logged).toContain('could not start the next chunk of the flip\'s sweep; the schedule carries on with the rest');
  });

  test('the starter names the service, the flip and the chunk, nothing else', async () => {
    const lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await sweepStarterOf(new LambdaClient({ region: 'us-east-1' }), 'reconciler')(CONFIG, 3);
    const input = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect(input).toMatchObject({ FunctionName: 'reconciler', InvocationType: 'Event' });
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString())).toEqual(flip(3));
    lambda.restore();
  });
});
