import { OWNER_TAG_KEY, TASK_TAG_KEY } from '../../../src/contract/ownership';
import {
  BUSY_HEAL_AGE_MS, ENROLLMENT_WORK_LIMIT_MS, IDLE_HEAL_AGE_MS, KEEPING_UP_BACKLOG, SCHEDULED_SWEEP_BUDGET_MS,
} from '../../../src/contract/timing';
import { MirrorSessions } from '../../../src/runtime/adapters/mirror-sessions';
import { RecentTasks } from '../../../src/runtime/adapters/recent-tasks';
import { SweepResult } from '../../../src/runtime/operations/operation-deps';
import { routeInvocation } from '../../../src/runtime/route-invocation';
import { CLUSTER_ARN, SERVICE_NAME, taskArnOf, taskEvent } from '../../fixtures/task-events';
import { ERROR_SPELLINGS, Ec2MirrorModelOptions, TAG_FILTER_MODES } from '../../support/ec2-model';
import { FakeSession } from '../../support/fake-ec2-endpoint';
import { TEST_CONFIG, harness } from '../../support/harness';
import { provide } from '../../support/provider';

const SCHEDULED = { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} };
const eniOf = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;
const taskIdOf = (n: number) => `task${n.toString().padStart(8, '0')}`;

/** A harness with `n` running tasks of the service (ids 0..n-1). */
function withTasks(n: number, config = {}) {
  const h = harness(config, ec2Modes);
  for (let i = 0; i < n; i++) addTask(h, i);
  return h;
}

function addTask(h: ReturnType<typeof harness>, i: number, status = 'RUNNING') {
  const taskArn = taskArnOf(taskIdOf(i));
  h.ecs.tasks.set(taskArn, { taskArn, group: `service:${SERVICE_NAME}`, lastStatus: status, desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i) });
  return taskArn;
}

function stopTask(h: ReturnType<typeof harness>, i: number) {
  const task = h.ecs.tasks.get(taskArnOf(taskIdOf(i)))!;
  task.lastStatus = 'STOPPED';
  task.desiredStatus = 'STOPPED';
  // EC2 deletes sessions together with their ENI.
  h.ec2.deletedEnis.add(eniOf(i));
  for (const [id, s] of h.ec2.sessions) if (s.networkInterfaceId === eniOf(i)) h.ec2.sessions.delete(id);
}

/** Makes each create of `h`'s sessions take a simulated second; returns the spy on it. */
function slowCreates(h: ReturnType<typeof harness>) {
  const create = h.deps.sessions.create.bind(h.deps.sessions);
  return jest.spyOn(h.deps.sessions, 'create').mockImplementation(async (...args) => {
    h.advance(1000);
    return create(...args);
  });
}

function ownedEnis(h: ReturnType<typeof harness>): string[] {
  return [...h.ec2.sessions.values()].filter(s => s.tags[OWNER_TAG_KEY] === h.config.ownerId).map(s => s.networkInterfaceId).sort();
}

function foreignSession(id: string, eni: string, sessionNumber: number): FakeSession {
  return { id, networkInterfaceId: eni, targetId: 'tmt-other', filterId: 'tmf-other', sessionNumber, tags: { [OWNER_TAG_KEY]: 'another-tool' } };
}

function sqs(...events: any[]) {
  return { Records: events.map((e, i) => ({ messageId: `m${i}`, body: typeof e === 'string' ? e : JSON.stringify(e), eventSource: 'aws:sqs' })) };
}

/** The fake EC2's modes for the tests of the current block. */
let ec2Modes: Ec2MirrorModelOptions = {};

// Where the EC2 API reference is silent or sources disagree, the fake has a mode for each
// behaviour, and every lifecycle test runs under all of them: tag filters honoured, ignored
// or rejected (DescribeTrafficMirrorSessions documents none), and not-found codes spelled as
// EC2's error-code reference does or in the dotted ...Id.NotFound form.
describe.each(TAG_FILTER_MODES.flatMap(t => ERROR_SPELLINGS.map(e => [t, e] as const)))('EC2 tag filters %s, error codes %s', (tagFilters, errorSpelling) => {
  beforeEach(() => {
    ec2Modes = { tagFilters, errorSpelling };
  });

  describe('deploy-time enrollment (custom resource, asynchronous provider)', () => {
    test('onEvent only records the start; isComplete mirrors every task that was already running', async () => {
      const h = withTasks(7);
      const first: any = await routeInvocation({ RequestType: 'Create', ResourceProperties: {} }, h.deps);
      expect(first).toEqual({ PhysicalResourceId: `fargate-traffic-mirror-${h.config.ownerId}`, Data: { StartedAt: expect.stringMatching(/^\d+$/) } });
      expect(h.ec2.calls).toEqual([]);
      const response = await provide({ RequestType: 'Create' }, h.deps);
      // Every attribute a string: CloudFormation refuses a non-string attribute in an output or a Fn::Sub.
      expect(response.Data).toEqual({
        StartedAt: expect.stringMatching(/^\d+$/),
        RunningTasks: '7',
        MirroredTasks: '7',
        UnmirroredTasks: '0',
        Created: '7',
        Modified: '0',
        Failures: '0',
        FailuresByReason: 'none',
        Summary: '7 of 7 running tasks mirrored; no failures',
      });
      expect(ownedEnis(h)).toEqual([0, 1, 2, 3, 4, 5, 6].map(eniOf).sort());
      expect(h.metrics.flushes).toBeGreaterThanOrEqual(2);
    });

    test('Update reconciles again without duplicating, and completes only with a sweep after the settle time', async () => {
      const h = withTasks(3);
      await provide({ RequestType: 'Create' }, h.deps);
      const before = h.ec2.count('DescribeTrafficMirrorSessions');
      const response = await provide({ RequestType: 'Update', PhysicalResourceId: 'x' }, h.deps);
      expect(response.Data).toMatchObject({ Created: '0', MirroredTasks: '3' });
      expect(h.ec2.sessions.size).toBe(3);
      // One sweep at once, one more after 70 s: an event batch with the old configuration that was
      // in flight when the Update began cannot undo it.
      expect(h.ec2.count('DescribeTrafficMirrorSessions') - before).toBe(2);
    });

    test('Update and Delete keep the physical id CloudFormation has', async () => {
      const h = withTasks(1);
      for (const RequestType of ['Update', 'Delete']) {
        const first: any = await routeInvocation({ RequestType, PhysicalResourceId: 'id-from-an-earlier-release', ResourceProperties: {} }, h.deps);
        expect(first.PhysicalResourceId).toBe('id-from-an-earlier-release');
      }
    });

    test('Delete removes every owned session and only those', async () => {
      const h = withTasks(4);
      await provide({ RequestType: 'Create' }, h.deps);
      h.ec2.sessions.set('tms-foreign', foreignSession('tms-foreign', eniOf(0), 2));
      const response = await provide({ RequestType: 'Delete', PhysicalResourceId: 'x' }, h.deps);
      expect(response.Data).toMatchObject({ Deleted: '4' });
      expect([...h.ec2.sessions.keys()]).toEqual(['tms-foreign']);
    });

    test('a throttled listing is a failed pass to retry, not the end of cleanup', async () => {
      const h = withTasks(2);
      await provide({ RequestType: 'Create' }, h.deps);
      h.ec2.failNext('DescribeTrafficMirrorSessions', { code: 'RequestLimitExceeded', status: 503 }, 5 * 3);
      const response = await provide({ RequestType: 'Delete', PhysicalResourceId: 'x' }, h.deps);
      expect(response.Data).toMatchObject({ Deleted: '2' });
      expect(h.ec2.sessions.size).toBe(0);
    });

    test('Delete fails, naming the AWS error, when owned sessions cannot be deleted', async () => {
      const h = withTasks(2);
      await provide({ RequestType: 'Create' }, h.deps);
      h.ec2.failNext('DeleteTrafficMirrorSession', { code: 'UnauthorizedOperation', status: 403, message: 'You are not authorized to perform this operation.' }, 1000);
      await expect(provide({ RequestType: 'Delete', PhysicalResourceId: 'x' }, h.deps)).rejects.toThrow(/could not delete 2 owned traffic mirror session\(s\).*UnauthorizedOperation: You are not authorized/);
      expect(h.ec2.sessions.size).toBe(2);
    });

    test('Delete fails when listing is denied, instead of reporting success with sessions left', async () => {
      const h = withTasks(2);
      await provide({ RequestType: 'Create' }, h.deps);
      h.ec2.failNext('DescribeTrafficMirrorSessions', { code: 'UnauthorizedOperation', status: 403 });
      await expect(provide({ RequestType: 'Delete', PhysicalResourceId: 'x' }, h.deps)).rejects.toThrow(/cannot list.*UnauthorizedOperation/);
    });

    test('Delete retries a throttled delete until it goes through', async () => {
      const h = withTasks(2);
      await provide({ RequestType: 'Create' }, h.deps);
      h.ec2.failNext('DeleteTrafficMirrorSession', { code: 'RequestLimitExceeded', status: 503 }, 5 * 4);
      const response = await provide({ RequestType: 'Delete', PhysicalResourceId: 'x' }, h.deps);
      expect(response.Data).toMatchObject({ Deleted: '2' });
      expect(h.ec2.sessions.size).toBe(0);
    });

    test('Delete lists again after the settle time and removes what a sweep still running created', async () => {
      const h = withTasks(2);
      await provide({ RequestType: 'Create' }, h.deps);
      let pauses = 0;
      const deps = {
        ...h.deps,
        sleep: async (ms: number) => {
          h.advance(ms);
          // A sweep that started before the schedule was removed mirrors one more task meanwhile.
          if (pauses++ === 0) {
            addTask(h, 7);
            await routeInvocation(SCHEDULED, h.deps);
          }
        },
      };
      const response = await provide({ RequestType: 'Delete', PhysicalResourceId: 'x' }, deps);
      // Pass 1 deletes 2; the sweep re-mirrors all 3 running tasks; pass 2 deletes those 3.
      expect(response.Data).toMatchObject({ Deleted: '5' });
      expect(h.ec2.sessions.size).toBe(0);
    });

    test('an enrollment that cannot finish fails with its own message before CloudFormation\'s timeout', async () => {
      const h = withTasks(1);
      const first: any = await routeInvocation({ RequestType: 'Create', ResourceProperties: {} }, h.deps);
      h.advance(ENROLLMENT_WORK_LIMIT_MS);
      await expect(routeInvocation({ RequestType: 'Create', ResourceProperties: {}, ...first }, h.deps)).rejects.toThrow(/did not finish within 50 minutes/);
      expect(h.ec2.calls).toEqual([]);
      // Each poll also stops starting actions at the limit.
      const h2 = withTasks(20);
      const second: any = await routeInvocation({ RequestType: 'Create', ResourceProperties: {} }, h2.deps);
      h2.advance(ENROLLMENT_WORK_LIMIT_MS - 5_000);
      slowCreates(h2);
      const answer: any = await routeInvocation({ RequestType: 'Create', ResourceProperties: {}, ...second }, h2.deps, { getRemainingTimeInMillis: () => 900_000 });
      expect(answer).toEqual({ IsComplete: false });
      expect(h2.ec2.count('CreateTrafficMirrorSession')).toBeLessThan(20);
    });

    test('work beyond one invocation continues in the next isComplete call', async () => {
      const h = withTasks(30);
      // A deadline that has already passed after the first few actions: each call does a little.
      let calls = 0;
      const limited = { ...h.deps, sessions: h.deps.sessions };
      // Each create takes a simulated second; each call may start actions for five.
      const spy = slowCreates(h);
      const context = { getRemainingTimeInMillis: () => 60_000 + 5_000 };
      const first: any = await routeInvocation({ RequestType: 'Create', ResourceProperties: {} }, limited, context);
      const event = { RequestType: 'Create', ResourceProperties: {}, ...first };
      let answer: any;
      do {
        calls++;
        answer = await routeInvocation(event, limited, context);
        h.advance(10_000);
      } while (!answer.IsComplete && calls < 100);
      expect(answer).toMatchObject({ IsComplete: true, Data: { MirroredTasks: '30' } });
      expect(calls).toBeGreaterThan(1);
      expect(spy).toHaveBeenCalledTimes(30);
      expect(ownedEnis(h)).toHaveLength(30);
    });

    test('a sweep brings sessions of a previous target, filter, packet length, VNI, description and number to the configuration in place', async () => {
      const h = withTasks(2, { targetId: 'tmt-00000000000000old', filterId: 'tmf-00000000000000old', packetLength: 100, virtualNetworkId: 7, description: 'old', sessionNumber: 5 });
      await routeInvocation(SCHEDULED, h.deps);
      const ids = [...h.ec2.sessions.keys()].sort();
      const config = { ...h.config, targetId: 'tmt-00000000000000new', filterId: 'tmf-00000000000000new', packetLength: 200, virtualNetworkId: 8, description: 'new', sessionNumber: 6 };
      const deps = { ...h.deps, config, sessions: new MirrorSessions((h.deps.sessions as any).ec2, config) };
      const result = await routeInvocation(SCHEDULED, deps) as SweepResult;
      expect(result).toMatchObject({ created: 0, deleted: 0, modified: 2, mirroredTasks: 2, failures: 0 });
      expect(h.metrics.modified).toBe(2);
      expect([...h.ec2.sessions.keys()].sort()).toEqual(ids);
      for (const s of h.ec2.sessions.values()) {
        expect(s).toMatchObject({ targetId: 'tmt-00000000000000new', filterId: 'tmf-00000000000000new', packetLength: 200, virtualNetworkId: 8, description: 'new', sessionNumber: 6 });
      }
      expect(h.ec2.count('DeleteTrafficMirrorSession')).toBe(0);
      // Settings an Update takes out of the configuration are removed from the sessions
      // (ModifyTrafficMirrorSession RemoveField), once; a periodic sweep leaves what EC2 made of them.
      const plain = { ...config, packetLength: undefined, description: undefined, virtualNetworkId: undefined };
      const plainDeps = { ...deps, config: plain, sessions: new MirrorSessions((h.deps.sessions as any).ec2, plain) };
      const periodic = await routeInvocation(SCHEDULED, plainDeps) as SweepResult;
      expect(periodic.modified).toBe(0);
      const update = await provide({
        RequestType: 'Update',
        PhysicalResourceId: 'x',
        ResourceProperties: { MIRROR_SESSION_NUMBER: '6' },
        OldResourceProperties: { MIRROR_SESSION_NUMBER: '6', MIRROR_PACKET_LENGTH: '200', MIRROR_DESCRIPTION: 'new', MIRROR_VIRTUAL_NETWORK_ID: '8' },
      }, plainDeps);
      expect(update.Data).toMatchObject({ Modified: '2' });
      for (const s of h.ec2.sessions.values()) {
        expect(s).toMatchObject({ packetLength: undefined, description: undefined });
        expect(s.virtualNetworkId).not.toBe(8);
      }
      // And then there is nothing left to change.
      const settled = await routeInvocation(SCHEDULED, plainDeps) as SweepResult;
      expect(settled.modified).toBe(0);
    });

    // ModifyTrafficMirrorSession API reference: a Network Load Balancer target's packet length
    // defaults to 8500, and removing the field sets it back to that default.
    test('a Network Load Balancer target\'s default packet length is not rewritten on every sweep', async () => {
      const h = harness({}, { ...ec2Modes, nlbTargets: new Set([TEST_CONFIG.targetId]) });
      for (let i = 0; i < 3; i++) addTask(h, i);
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await routeInvocation(SCHEDULED, h.deps) as SweepResult);
      expect(runs.map(r => [r.created, r.modified])).toEqual([[3, 0], [0, 0], [0, 0]]);
      expect([...h.ec2.sessions.values()].map(s => s.packetLength)).toEqual([8500, 8500, 8500]);
      expect(h.ec2.count('ModifyTrafficMirrorSession')).toBe(0);
    });

    test('a number that cannot change is reported, not counted as a modification on every sweep', async () => {
      const h = withTasks(1, { sessionNumber: 2 });
      await routeInvocation(SCHEDULED, h.deps);
      h.ec2.sessions.set('tms-other', foreignSession('tms-other', eniOf(0), 1));
      const config = { ...h.config, sessionNumber: 1 };
      const deps = { ...h.deps, config, sessions: new MirrorSessions((h.deps.sessions as any).ec2, config) };
      for (let i = 0; i < 2; i++) {
        const result = await routeInvocation(SCHEDULED, deps) as SweepResult;
        expect(result.modified).toBe(0);
      }
      expect(h.metrics.modified).toBe(0);
      // Our session (2) sits behind the other tool's (1) on the ENI: also reported as shadowed.
      expect(h.metrics.failures).toEqual(['SessionNumberInUse', 'Shadowed', 'SessionNumberInUse', 'Shadowed']);
      expect([...h.ec2.sessions.values()].map(s => s.sessionNumber).sort()).toEqual([1, 2]);
    });
  });

  describe('enrollment report and failDeploymentOnUnmirroredTasks', () => {
    // "Error codes for the Amazon EC2 API" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html),
    // common client errors: "UnauthorizedOperation: You are not authorized to perform this operation." Here EC2 refuses
    // two tasks' ENIs (an SCP or permissions boundary on those interfaces, say) on every try.
    const DENIED = { code: 'UnauthorizedOperation', status: 403, message: 'You are not authorized to perform this operation.' };
    // The same page, client errors for specific actions: "TrafficMirrorSourcesPerTargetLimitExceeded: The maximum number
    // of Traffic Mirror sources for the specified Traffic Mirror target has been exceeded."
    const TARGET_FULL = {
      code: 'TrafficMirrorSourcesPerTargetLimitExceeded',
      status: 400,
      message: 'The maximum number of Traffic Mirror sources for the specified Traffic Mirror target has been exceeded.',
    };
    const FAIL_ON = { FailOnUnmirroredTasks: 'true' };

    /** Five running tasks, of which EC2 refuses tasks 1 and 3 for good. */
    function withRefusedSources() {
      const h = withTasks(5);
      h.ec2.refusedEnis.set(eniOf(1), DENIED);
      h.ec2.refusedEnis.set(eniOf(3), DENIED);
      return h;
    }

    test('without the option, the enrollment completes and its report names what it could not mirror, and why', async () => {
      const h = withRefusedSources();
      const response = await provide({ RequestType: 'Create' }, h.deps);
      expect(response.Data).toMatchObject({
        RunningTasks: '5',
        MirroredTasks: '3',
        UnmirroredTasks: '2',
        Created: '3',
        Failures: '2',
        FailuresByReason: 'AccessDenied=2',
        Summary: '3 of 5 running tasks mirrored; unmirrored: AccessDenied=2; failures: AccessDenied=2',
      });
      expect(ownedEnis(h)).toEqual([0, 2, 4].map(eniOf).sort());
    });

    test('with the option, a Create fails naming the reason, the EC2 error code and the tasks; its rollback removes what it made', async () => {
      const h = withRefusedSources();
      const create = provide({ RequestType: 'Create', ResourceProperties: FAIL_ON }, h.deps);
      await expect(create).rejects.toThrow(/^2 of 5 running tasks of ECS service \S+ could not be mirrored for a reason retrying will not fix \(AccessDenied=2\)/);
      await expect(create).rejects.toThrow(/UnauthorizedOperation: You are not authorized to perform this operation/);
      await expect(create).rejects.toThrow(new RegExp(`${eniOf(1)}.*${eniOf(3)}|${eniOf(3)}.*${eniOf(1)}`));
      await expect(create).rejects.toThrow(/failDeploymentOnUnmirroredTasks is set, so the deployment fails/);
      // Refused once each: a permanent refusal is not retried in a loop.
      expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(5);
      expect(ownedEnis(h)).toEqual([0, 2, 4].map(eniOf).sort());
      // CloudFormation rolls a failed Create back with a Delete.
      await provide({ RequestType: 'Delete', PhysicalResourceId: `fargate-traffic-mirror-${h.config.ownerId}`, ResourceProperties: FAIL_ON }, h.deps);
      expect(h.ec2.sessions.size).toBe(0);
    });

    test('a full target fails a Create with the option, naming EC2\'s code; the report says the same without it', async () => {
      const full = () => {
        const h = withTasks(4);
        // The target takes no more sources: EC2 refuses every new one.
        for (let i = 0; i < 4; i++) h.ec2.refusedEnis.set(eniOf(i), TARGET_FULL);
        return h;
      };
      await expect(provide({ RequestType: 'Create', ResourceProperties: FAIL_ON }, full().deps))
        .rejects.toThrow(/^4 of 4 running tasks .*\(NoUsableTarget=4\): create .*tmt-0123456789abcdef0: TrafficMirrorSourcesPerTargetLimitExceeded: The maximum number of Traffic Mirror sources/);
      // With one target, a full target leaves the task no usable target.
      expect((await provide({ RequestType: 'Create' }, full().deps)).Data).toMatchObject({
        MirroredTasks: '0', UnmirroredTasks: '4', FailuresByReason: 'NoUsableTarget=4',
      });
    });

    test('with the option and every task mirrored, the Create completes with its report', async () => {
      const h = withTasks(3);
      const response = await provide({ RequestType: 'Create', ResourceProperties: FAIL_ON }, h.deps);
      expect(response.Data).toMatchObject({ RunningTasks: '3', MirroredTasks: '3', UnmirroredTasks: '0', FailuresByReason: 'none' });
    });

    test('throttling never fails the deployment: the poll that meets it is not complete, the next one is', async () => {
      const h = withTasks(3);
      // More throttling than the SDK's attempts times the sweep's rounds, so the first poll ends with transient failures.
      h.ec2.failNext('CreateTrafficMirrorSession', { code: 'RequestLimitExceeded', status: 503 }, 200);
      const response = await provide({ RequestType: 'Create', ResourceProperties: FAIL_ON }, h.deps);
      expect(response.polls).toBeGreaterThan(1);
      expect(response.Data).toMatchObject({ RunningTasks: '3', MirroredTasks: '3', UnmirroredTasks: '0', Failures: '0' });
    });

    test('a task that stopped while it was enrolled does not fail the deployment, and is reported', async () => {
      const h = withTasks(3);
      // ECS still lists the task, but its ENI is gone: EC2 answers that it does not exist.
      h.ec2.deletedEnis.add(eniOf(2));
      const response = await provide({ RequestType: 'Create', ResourceProperties: FAIL_ON }, h.deps);
      expect(response.Data).toMatchObject({ RunningTasks: '3', MirroredTasks: '2', UnmirroredTasks: '1', FailuresByReason: 'SourceNotFound=1' });
    });

    test('a session number another tool holds counts as a refusal', async () => {
      const h = withTasks(2);
      h.ec2.sessions.set('tms-other', foreignSession('tms-other', eniOf(0), 1));
      await expect(provide({ RequestType: 'Create', ResourceProperties: FAIL_ON }, h.deps)).rejects.toThrow(/\(SessionNumberInUse=1\).*session numbers 1 are taken/);
    });

    test('an Update checks only when it turns the option on, so a rolled-back Update cannot fail its rollback', async () => {
      const h = withRefusedSources();
      const update = (ResourceProperties: object, OldResourceProperties: object) =>
        provide({ RequestType: 'Update', PhysicalResourceId: 'x', ResourceProperties, OldResourceProperties }, h.deps);
      await expect(update(FAIL_ON, {})).rejects.toThrow(/AccessDenied=2/);
      // The rollback of that Update carries the previous properties: no check.
      await expect(update({}, FAIL_ON)).resolves.toMatchObject({ Data: { UnmirroredTasks: '2' } });
      // An Update that keeps the option on reports without failing.
      await expect(update(FAIL_ON, FAIL_ON)).resolves.toMatchObject({ Data: { UnmirroredTasks: '2', FailuresByReason: 'AccessDenied=2' } });
    });
  });

  describe('periodic sweep', () => {
    test('creates missing sessions, deletes orphaned owned ones, ignores foreign ones', async () => {
      const h = withTasks(3);
      await routeInvocation(SCHEDULED, h.deps);
      stopTask(h, 0);
      // An owned session whose ENI survived its task (e.g. a missed stop event).
      const ghost = addTask(h, 9);
      await routeInvocation(SCHEDULED, h.deps);
      h.ecs.tasks.get(ghost)!.desiredStatus = 'STOPPED';
      h.ecs.tasks.get(ghost)!.lastStatus = 'STOPPED';
      addTask(h, 3);
      h.ec2.sessions.set('tms-foreign', foreignSession('tms-foreign', eniOf(8), 1));

      const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(result).toMatchObject({ runningTasks: 3, mirroredTasks: 3, created: 1, deleted: 1, failures: 0 });
      expect(ownedEnis(h)).toEqual([1, 2, 3].map(eniOf).sort());
      expect(h.ec2.sessions.has('tms-foreign')).toBe(true);
      expect(h.metrics.coverages.at(-1)).toEqual({ running: 3, mirrored: 3 });
    });

    test('a scheduled sweep leaves young tasks to their events: 30 s, or 5 minutes while the queue holds a burst of this service', async () => {
      const h = withTasks(0);
      const created = (i: number, age: number) => { h.ecs.tasks.get(addTask(h, i))!.createdAt = Date.now() - age; };
      // A burst of this service: more of its tasks wait for their events than one round of polls takes.
      created(0, BUSY_HEAL_AGE_MS * 2);
      for (let i = 1; i <= KEEPING_UP_BACKLOG + 1; i++) created(i, IDLE_HEAL_AGE_MS * 2);
      // The shared queue holds a backlog, this service's events among it.
      const deps = { ...h.deps, eventBacklog: async () => KEEPING_UP_BACKLOG + 1 };
      // Only the task older than 5 minutes is the sweep's to mirror; its second look leaves the rest to their events.
      expect(await routeInvocation(SCHEDULED, deps)).toMatchObject({ created: 1, deferred: KEEPING_UP_BACKLOG + 1, secondLook: { created: 0 } });
      expect(ownedEnis(h)).toEqual([eniOf(0)]);
    });

    test('another service\'s backlog in the shared queue does not hold this service\'s healing back', async () => {
      const h = withTasks(0);
      const created = (i: number, age: number) => { h.ecs.tasks.get(addTask(h, i))!.createdAt = Date.now() - age; };
      [BUSY_HEAL_AGE_MS * 2, IDLE_HEAL_AGE_MS * 2, IDLE_HEAL_AGE_MS / 2].forEach((age, i) => created(i, age));
      // Thousands of other services' messages (or a redrive) wait in the shared queue.
      const deps = { ...h.deps, eventBacklog: async () => 10_000 };
      // A task older than 30 s without a session lost its events; one just created is mirrored by the second look.
      const sweptAt = Date.now();
      expect(await routeInvocation(SCHEDULED, deps))
        .toMatchObject({ runningTasks: 3, created: 2, deferred: 1, mirroredTasks: 2, secondLook: { looked: 1, created: 1 } });
      expect(Date.now() - sweptAt).toBeGreaterThanOrEqual(IDLE_HEAL_AGE_MS / 2);
      expect(ownedEnis(h)).toEqual([0, 1, 2].map(eniOf).sort());
      // The deploy-time enrollment waits for nothing: it mirrors every task.
      created(4, 0);
      expect((await provide({ RequestType: 'Create' }, deps)).Data).toMatchObject({ Created: '1', MirroredTasks: '4' });
    });

    test('a task still PROVISIONING when the sweep runs is looked at again once it is 30 s old', async () => {
      const h = withTasks(0);
      const arn = addTask(h, 0, 'PROVISIONING');
      h.ecs.tasks.get(arn)!.createdAt = Date.now();
      const deps = { ...h.deps, eventBacklog: async () => 0 };
      // Its ENI attaches and its PENDING event is lost while the sweep waits.
      const sleep = async (ms: number) => { await h.deps.sleep!(ms); h.ecs.tasks.get(arn)!.lastStatus = 'PENDING'; };
      expect(await routeInvocation(SCHEDULED, { ...deps, sleep }))
        .toMatchObject({ runningTasks: 0, created: 0, secondLook: { looked: 1, started: 1, created: 1 } });
      expect(ownedEnis(h)).toEqual([eniOf(0)]);
    });

    test('the session of a task ECS still says is PROVISIONING stays: its PENDING event made it before DescribeTasks caught up', async () => {
      const h = withTasks(0);
      const arn = addTask(h, 0);
      await routeInvocation(sqs(taskEvent({ taskId: taskIdOf(0), eni: eniOf(0), lastStatus: 'PENDING', version: 1 })), h.deps);
      h.ecs.tasks.get(arn)!.lastStatus = 'PROVISIONING';
      expect(await routeInvocation(SCHEDULED, h.deps)).toMatchObject({ deleted: 0 });
      expect(ownedEnis(h)).toEqual([eniOf(0)]);
    });

    test('the second look skips a task that stopped while the sweep waited, and never waits past the sweep\'s deadline', async () => {
      const h = withTasks(0);
      h.ecs.tasks.get(addTask(h, 0))!.createdAt = Date.now();
      const deps = { ...h.deps, eventBacklog: async () => 0 };
      const sleep = async (ms: number) => { await h.deps.sleep!(ms); stopTask(h, 0); };
      expect(await routeInvocation(SCHEDULED, { ...deps, sleep })).toMatchObject({ created: 0 });
      expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(0);
      // 80 s left in the function: the deadline (60 s kept back) comes before the task is 30 s old.
      h.ecs.tasks.get(addTask(h, 1))!.createdAt = Date.now();
      const sweptAt = Date.now();
      expect(await routeInvocation(SCHEDULED, deps, { getRemainingTimeInMillis: () => 80_000 })).toMatchObject({ created: 0, deferred: 1 });
      expect(Date.now() - sweptAt).toBeLessThan(IDLE_HEAL_AGE_MS);
      expect(ownedEnis(h)).toEqual([]);
    });

    test('a scheduled sweep brings every owned session to the current configuration, however many differ', async () => {
      const count = 12;
      const h = withTasks(count);
      await routeInvocation(SCHEDULED, h.deps);
      // The configuration (read from the service's parameter, never a trigger) changed: every session follows.
      const changed = { ...h.deps, config: { ...h.deps.config, virtualNetworkId: 4242 } };
      expect(await routeInvocation(SCHEDULED, changed)).toMatchObject({ modified: count, unfinished: 0 });
      expect([...h.ec2.sessions.values()].every(s => s.virtualNetworkId === 4242)).toBe(true);
      // Sessions changed by hand are put back.
      const byHand = [...h.ec2.sessions.values()].slice(0, 7);
      for (const s of byHand) (s as { filterId: string }).filterId = 'tmf-0fedcba9876543210';
      expect(await routeInvocation(SCHEDULED, changed)).toMatchObject({ modified: 7 });
    });

    test('once EC2 says the target is full, the sweep\'s other creates skip it with that answer without a call each', async () => {
      const h = withTasks(12);
      // "TrafficMirrorSourcesPerTargetLimitExceeded" (EC2 API error codes reference).
      h.ec2.failNext('CreateTrafficMirrorSession', { status: 400, code: 'TrafficMirrorSourcesPerTargetLimitExceeded' });
      const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      // Creates run four at a time: those sent before the refusal was known still go through; no later one is sent.
      const sent = h.ec2.count('CreateTrafficMirrorSession');
      expect(sent).toBeLessThan(12);
      expect(result).toMatchObject({ created: sent - 1, createFailures: 12 - (sent - 1), transientFailures: 0 });
      // With one target, no other target takes them: each is reported as having none.
      expect(h.metrics.failures.filter(r => r === 'NoUsableTarget')).toHaveLength(12 - (sent - 1));
      // Not remembered across sweeps: the next one tries again.
      expect(await routeInvocation(SCHEDULED, h.deps)).toMatchObject({ created: 12 - (sent - 1), createFailures: 0 });
    });

    test('a scheduled sweep works for at most its budget, however long the function may run', async () => {
      const h = withTasks(100);
      slowCreates(h);
      const result = await routeInvocation(SCHEDULED, h.deps, { getRemainingTimeInMillis: () => 900_000 }) as SweepResult;
      // Four at a time, a simulated second each, for SCHEDULED_SWEEP_BUDGET_MS.
      expect(result.created).toBeLessThanOrEqual((SCHEDULED_SWEEP_BUDGET_MS / 1000 + 1) * 4);
      expect(result.unfinished).toBe(100 - result.created);
    });

    test('a scheduled sweep stops starting actions before its timeout, and the next run carries on', async () => {
      const h = withTasks(12);
      // Each create takes a simulated second; the sweep has 65 s left, 60 of them kept back.
      slowCreates(h);
      const context = { getRemainingTimeInMillis: () => 65_000 };
      const first = await routeInvocation(SCHEDULED, h.deps, context) as SweepResult;
      expect(first.created).toBeGreaterThan(0);
      expect(first.created + first.unfinished).toBe(12);
      expect(first.unfinished).toBeGreaterThan(0);
      let runs = 1;
      while (ownedEnis(h).length < 12 && runs < 10) {
        await routeInvocation(SCHEDULED, h.deps, context);
        runs++;
      }
      expect(ownedEnis(h)).toHaveLength(12);
      expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(12);
    });

    test('a session deleted by hand is recreated by the next sweep', async () => {
      const h = withTasks(2);
      await routeInvocation(SCHEDULED, h.deps);
      const [first] = h.ec2.sessions.keys();
      h.ec2.sessions.delete(first);
      const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(result.created).toBe(1);
      expect(ownedEnis(h)).toEqual([eniOf(0), eniOf(1)]);
    });

    test('keeps the session of a draining task until it is STOPPED', async () => {
      const h = withTasks(2);
      await routeInvocation(SCHEDULED, h.deps);
      const draining = h.ecs.tasks.get(taskArnOf(taskIdOf(0)))!;
      draining.desiredStatus = 'STOPPED';
      draining.lastStatus = 'STOPPING';
      const during = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(during).toMatchObject({ deleted: 0, created: 0, runningTasks: 1 });
      expect(ownedEnis(h)).toEqual([eniOf(0), eniOf(1)]);
      draining.lastStatus = 'STOPPED';
      const after = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(after.deleted).toBe(1);
      expect(ownedEnis(h)).toEqual([eniOf(1)]);
    });

    test('does not delete the session of a task too new to be listed', async () => {
      const h = withTasks(1);
      const fresh = addTask(h, 5, 'RUNNING');
      h.ecs.hiddenFromList.add(fresh);
      await routeInvocation(taskEvent({ taskId: taskIdOf(5), lastStatus: 'PENDING', eni: eniOf(5) }), h.deps);
      const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(result.deleted).toBe(0);
      expect(ownedEnis(h)).toEqual([eniOf(0), eniOf(5)]);
    });

    test('pages through 250 tasks and 250 sessions', async () => {
      const h = withTasks(250);
      h.ec2.describePageSize = 100;
      await routeInvocation(SCHEDULED, h.deps);
      expect(h.ec2.sessions.size).toBe(250);
      h.ecs.calls.length = 0;
      h.ec2.calls.length = 0;
      const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(result).toMatchObject({ runningTasks: 250, mirroredTasks: 250, created: 0, deleted: 0 });
      expect(h.ecs.count('ListTasks')).toBe(3);
      expect(h.ecs.count('DescribeTasks')).toBe(3);
      expect(h.ec2.count('DescribeTrafficMirrorSessions')).toBe(3);
      expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(0);
    });

    test('throttling then success: the sweep completes', async () => {
      const h = withTasks(5);
      h.ec2.failNext('CreateTrafficMirrorSession', { code: 'RequestLimitExceeded', status: 503 }, 3);
      const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(result).toMatchObject({ created: 5, failures: 0 });
    });

    test('a permanent error is reported once per sweep and does not loop', async () => {
      const h = withTasks(3);
      h.ec2.unsupportedEnis.add(eniOf(1));
      const first = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(first).toMatchObject({ created: 2, failures: 1, mirroredTasks: 2, runningTasks: 3 });
      expect(h.metrics.failures).toEqual(['SourceUnsupported']);
      expect(h.metrics.coverages.at(-1)).toEqual({ running: 3, mirrored: 2 });
      expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(3);
    });

    // EC2 evaluates an ENI's sessions in number order and the first match mirrors the packet
    // (Traffic Mirroring user guide, "Traffic mirror sessions"): a free number is looked for only
    // after the configured one, never before it.
    test('a session number used by another tool is reported, or the lowest free one after it is used when allowed', async () => {
      for (const pick of [false, true]) {
        const h = withTasks(1, { pickFreeSessionNumber: pick, sessionNumber: 3 });
        h.ec2.sessions.set('tms-first', foreignSession('tms-first', eniOf(0), 1));
        h.ec2.sessions.set('tms-other', foreignSession('tms-other', eniOf(0), 3));
        const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
        if (pick) {
          expect(result).toMatchObject({ created: 1, conflicts: 0 });
          expect([...h.ec2.sessions.values()].find(s => s.tags[OWNER_TAG_KEY] === h.config.ownerId)?.sessionNumber).toBe(4);
        } else {
          expect(result).toMatchObject({ created: 0, conflicts: 1 });
          expect(h.metrics.failures).toEqual(['SessionNumberInUse']);
          expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(0);
        }
      }
    });

    test('owned sessions of tasks in another cluster (the service moved) do not stall the sweep', async () => {
      const h = withTasks(2);
      await routeInvocation(SCHEDULED, h.deps);
      const moved = 'arn:aws:ecs:us-east-1:123456789012:task/old-cluster/0123456789abcdef0123456789abcdef';
      h.ec2.sessions.set('tms-moved', { ...foreignSession('tms-moved', eniOf(40), 1), tags: { [OWNER_TAG_KEY]: h.config.ownerId, [TASK_TAG_KEY]: moved } });
      // DescribeTasks of a task of another cluster would be refused by the function's IAM policy.
      h.ecs.refuseOtherClusters = true;
      const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(result).toMatchObject({ runningTasks: 2, mirroredTasks: 2, deleted: 1, failures: 0 });
      expect(h.ec2.sessions.has('tms-moved')).toBe(false);
    });

    test('tags stay within EC2\'s 256 characters for the longest cluster and service names, and the task is still found', async () => {
      const longCluster = 'c'.repeat(255);
      const clusterArn = `arn:aws:ecs:us-east-1:123456789012:cluster/${longCluster}`;
      const h = harness({ clusterArn, serviceName: 's'.repeat(255) }, ec2Modes);
      const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/${longCluster}/0123456789abcdef0123456789abcdef`;
      h.ecs.tasks.set(taskArn, { taskArn, group: `service:${'s'.repeat(255)}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(1) });
      await routeInvocation(SCHEDULED, h.deps);
      const [session] = h.ec2.sessions.values();
      for (const value of Object.values(session.tags)) expect(value.length).toBeLessThanOrEqual(256);
      expect(session.tags[TASK_TAG_KEY]).toBe('0123456789abcdef0123456789abcdef');
      // The task stops, its ENI survives (a missed event): the sweep finds it gone by its id.
      const task = h.ecs.tasks.get(taskArn)!;
      task.lastStatus = 'STOPPING';
      task.desiredStatus = 'STOPPED';
      const draining = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(draining.deleted).toBe(0);
      task.lastStatus = 'STOPPED';
      const stopped = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(stopped.deleted).toBe(1);
    });

    test('the sweep\'s summary counts stale deletions and their failures', async () => {
      const h = withTasks(2);
      await routeInvocation(SCHEDULED, h.deps);
      stopTask(h, 0);
      h.ec2.deletedEnis.delete(eniOf(0));
      h.ec2.sessions.set('tms-left', { ...foreignSession('tms-left', eniOf(0), 1), tags: { [OWNER_TAG_KEY]: h.config.ownerId, [TASK_TAG_KEY]: taskArnOf(taskIdOf(0)) } });
      h.ec2.failNext('DeleteTrafficMirrorSession', { code: 'UnauthorizedOperation', status: 403 });
      const result = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(result).toMatchObject({ deleted: 0, deleteFailures: 1, failures: 1 });
      const again = await routeInvocation(SCHEDULED, h.deps) as SweepResult;
      expect(again).toMatchObject({ deleted: 1, deleteFailures: 0, failures: 0 });
    });
  });

  describe('event path with a queue', () => {
    const start = (i: number, version = 2, lastStatus = 'RUNNING') => taskEvent({ taskId: taskIdOf(i), eni: eniOf(i), lastStatus, version });
    const stop = (i: number, version = 6) => taskEvent({ taskId: taskIdOf(i), eni: eniOf(i), lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version });

    test('one create per task start at PENDING, no reads; the RUNNING events that follow cost nothing', async () => {
      const h = withTasks(3);
      const response = await routeInvocation(sqs(start(0, 1, 'PENDING'), start(1, 1, 'PENDING'), start(2, 1, 'PENDING')), h.deps);
      expect(response).toEqual({ batchItemFailures: [] });
      // The RUNNING transition and three container transitions of each task.
      for (let v = 2; v <= 5; v++) await routeInvocation(sqs(start(0, v), start(1, v), start(2, v)), h.deps);
      expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(3);
      expect(h.ec2.count('DescribeTrafficMirrorSessions')).toBe(0);
      expect(ownedEnis(h)).toEqual([0, 1, 2].map(eniOf).sort());
    });

    test('RUNNING events in any function container cost no call, and never make a second session', async () => {
      const h = withTasks(1);
      const creator = { ...h.deps, recent: new RecentTasks() };
      const other = { ...h.deps, recent: new RecentTasks() };
      await routeInvocation(sqs(start(0, 1, 'PENDING')), creator);
      for (let v = 2; v <= 5; v++) await routeInvocation(sqs(start(0, v)), other);
      expect(h.ec2.calls).toEqual(['CreateTrafficMirrorSession']);
      expect(ownedEnis(h)).toEqual([eniOf(0)]);
    });

    test('a lost PENDING event: its RUNNING events cost nothing; the sweep mirrors the task once it is 30 s old, by a second look at it', async () => {
      const h = withTasks(0);
      h.ecs.tasks.get(addTask(h, 0))!.createdAt = Date.now();
      await routeInvocation(sqs(start(0, 2), start(0, 3)), h.deps);
      expect(h.ec2.calls).toEqual([]);
      // The sweep finds the task too young to be its business, waits until it is 30 s old, sees
      // the queue keep up, and reads only that task's ENI before the create.
      const sweptAt = Date.now();
      const result = await routeInvocation(SCHEDULED, { ...h.deps, eventBacklog: async () => 0 }) as SweepResult;
      expect(result).toMatchObject({ runningTasks: 1, created: 0, deferred: 1 });
      expect(result.secondLook).toEqual({ looked: 1, started: 0, alreadyMirrored: 0, created: 1, raced: 0, failures: 0, left: 0 });
      expect(Date.now() - sweptAt).toBeGreaterThanOrEqual(IDLE_HEAL_AGE_MS);
      expect(ownedEnis(h)).toEqual([eniOf(0)]);
      // DescribeTrafficMirrorSessions documents the network-interface-id filter.
      const lookup = h.ec2.requests.filter(p => p.get('Action') === 'DescribeTrafficMirrorSessions').at(-1)!;
      expect([lookup.get('Filter.1.Name'), lookup.get('Filter.1.Value.1'), lookup.get('Filter.1.Value.2')]).toEqual(['network-interface-id', eniOf(0), null]);
    });

    test('a PENDING event without an attached ENI: the RUNNING event, its first with one, creates the session without a read', async () => {
      const h = withTasks(3);
      const noEni = (i: number) => taskEvent({ taskId: taskIdOf(i), lastStatus: 'PENDING', version: 1, attachmentStatus: 'ATTACHING' });
      // Across batches of one container, and within one batch.
      await routeInvocation(sqs(noEni(0)), h.deps);
      await routeInvocation(sqs(start(0, 2)), h.deps);
      await routeInvocation(sqs(noEni(1), start(1, 2)), h.deps);
      expect(ownedEnis(h)).toEqual([eniOf(0), eniOf(1)].sort());
      expect(h.ec2.calls).toEqual(['CreateTrafficMirrorSession', 'CreateTrafficMirrorSession']);
      // Another container never saw the PENDING event: the sweep heals the task.
      await routeInvocation(sqs(noEni(2)), h.deps);
      await routeInvocation(sqs(start(2, 2)), { ...h.deps, recent: new RecentTasks() });
      expect(ownedEnis(h)).not.toContain(eniOf(2));
      await routeInvocation(SCHEDULED, { ...h.deps, eventBacklog: async () => 0 });
      expect(ownedEnis(h)).toContain(eniOf(2));
    });

    test('out of order: RUNNING before PENDING, in one batch or two, still one session', async () => {
      const h = withTasks(2);
      await routeInvocation(sqs(start(0, 2), start(0, 1, 'PENDING')), h.deps);
      // In one batch the PENDING event makes the create direct: no read.
      expect(h.ec2.count('DescribeTrafficMirrorSessions')).toBe(0);
      await routeInvocation(sqs(start(1, 2)), h.deps);
      await routeInvocation(sqs(start(1, 1, 'PENDING')), h.deps);
      expect(ownedEnis(h)).toEqual([eniOf(0), eniOf(1)].sort());
      const perEni = new Map<string, number>();
      for (const s of h.ec2.sessions.values()) perEni.set(s.networkInterfaceId, (perEni.get(s.networkInterfaceId) ?? 0) + 1);
      expect([...perEni.values()]).toEqual([1, 1]);
    });

    test('a late start in the same batch as the stop does not undo it', async () => {
      const h = withTasks(1);
      await routeInvocation(sqs(start(0, 1, 'PENDING')), h.deps);
      stopTask(h, 0);
      await routeInvocation(sqs(stop(0, 6), start(0, 1, 'PENDING')), h.deps);
      expect(h.ec2.sessions.size).toBe(0);
      expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(1);
    });

    test('a late start for a task that is gone creates nothing', async () => {
      const h = withTasks(1);
      stopTask(h, 0);
      const response = await routeInvocation(sqs(start(0, 1, 'PENDING')), h.deps);
      expect(response).toEqual({ batchItemFailures: [] });
      expect(h.ec2.sessions.size).toBe(0);
      expect(h.metrics.failures).toEqual(['SourceNotFound']);
    });

    test('duplicated, reordered and lost events converge after one sweep', async () => {
      const h = withTasks(6);
      // Task 0 and 1: duplicated; task 2: reordered (RUNNING before PENDING, which is skipped); task 3: lost;
      // task 4 stopped but its stop event is lost; task 5 started and stopped, events reversed.
      await routeInvocation(sqs(start(0), start(0), start(1, 3, 'RUNNING'), start(1, 3, 'RUNNING')), h.deps);
      await routeInvocation(sqs(start(2, 3, 'RUNNING')), h.deps);
      await routeInvocation(sqs(start(2, 2, 'PENDING'), start(4), start(5)), h.deps);
      stopTask(h, 5);
      await routeInvocation(sqs(stop(5)), h.deps);
      await routeInvocation(sqs(start(5, 3, 'RUNNING')), h.deps);
      h.ecs.tasks.get(taskArnOf(taskIdOf(4)))!.desiredStatus = 'STOPPED';
      h.ecs.tasks.get(taskArnOf(taskIdOf(4)))!.lastStatus = 'STOPPED';

      await routeInvocation(SCHEDULED, h.deps);
      expect(ownedEnis(h)).toEqual([0, 1, 2, 3].map(eniOf).sort());
      const perEni = new Map<string, number>();
      for (const s of h.ec2.sessions.values()) perEni.set(s.networkInterfaceId, (perEni.get(s.networkInterfaceId) ?? 0) + 1);
      expect([...perEni.values()].every(n => n === 1)).toBe(true);
    });

    test('a transient failure reports only that task\'s messages for redelivery', async () => {
      const h = withTasks(2);
      h.ec2.failNext('CreateTrafficMirrorSession', { code: 'RequestLimitExceeded', status: 503 }, 5);
      const response = await routeInvocation(sqs(start(0, 1, 'PENDING'), start(0, 3, 'RUNNING'), start(1, 1, 'PENDING')), h.deps);
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }] });
      expect(ownedEnis(h)).toEqual([eniOf(1)]);
    });

    test('malformed and foreign messages are acknowledged without any AWS call', async () => {
      const h = withTasks(1);
      const response = await routeInvocation(sqs('not json', { hello: 'world' }, taskEvent({ group: 'service:other' }),
        { ...start(0), detail: { ...start(0).detail, clusterArn: CLUSTER_ARN.replace('123456789012', '999999999999') } }), h.deps);
      expect(response).toEqual({ batchItemFailures: [] });
      expect(h.ec2.calls).toEqual([]);
    });

    test('stop deletes the owned session found by task tag', async () => {
      const h = withTasks(1);
      await routeInvocation(sqs(start(0, 1, 'PENDING')), h.deps);
      const [session] = h.ec2.sessions.values();
      expect(session.tags[TASK_TAG_KEY]).toBe(taskArnOf(taskIdOf(0)));
      await routeInvocation(sqs(stop(0)), h.deps);
      expect(h.ec2.sessions.size).toBe(0);
      expect(h.metrics.deleted).toBe(1);
    });
  });
});
