import { OWNER_TAG_KEY } from '../../../src/contract/ownership';
import { TargetSpec } from '../../../src/contract/target-layout';
import { routeInvocation } from '../../../src/runtime/route-invocation';
import { SERVICE_NAME, taskArnOf, taskEvent } from '../../fixtures/task-events';
import { ERROR_SPELLINGS, Ec2MirrorModelOptions, TARGET_LIMIT_CODES } from '../../support/ec2-model';
import { harness } from '../../support/harness';

const SCHEDULED = { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} };
const T = (n: number) => `tmt-${n.toString(16).padStart(17, '0')}`;
const eniOf = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;
const taskIdOf = (n: number) => `task${n.toString().padStart(8, '0')}`;
const A = 'us-east-1a';
const B = 'us-east-1b';

type Harness = ReturnType<typeof harness>;

function setup(targets: TargetSpec[], options: { allowCrossZone?: boolean; ec2?: Ec2MirrorModelOptions } = {}) {
  // EC2 enforces each target's source limit; the layout tells the handler the same limit.
  const limits = new Map(targets.filter(t => t.maxSources !== undefined).map(t => [t.targetId, t.maxSources!]));
  const config = { targetId: targets[0].targetId, targets, allowCrossZone: options.allowCrossZone };
  return harness(config, { targetSourceLimits: limits, ...ec2Modes, ...options.ec2 });
}

/** A task of the service in ECS (for sweeps), running in `zone`. */
function addTask(h: Harness, i: number, zone?: string) {
  const taskArn = taskArnOf(taskIdOf(i));
  h.ecs.tasks.set(taskArn, {
    taskArn, group: `service:${SERVICE_NAME}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i), ...(zone ? { availabilityZone: zone } : {}),
  });
}

/** The PENDING event of task `i` in `zone`, as ECS sends it. */
function pending(i: number, zone: string) {
  const event = taskEvent({ taskId: taskIdOf(i), lastStatus: 'PENDING', version: 1, eni: eniOf(i) });
  return { ...event, detail: { ...event.detail, availabilityZone: zone } };
}

function stopTask(h: Harness, i: number) {
  h.ecs.tasks.delete(taskArnOf(taskIdOf(i)));
  h.ec2.deletedEnis.add(eniOf(i));
  for (const [id, s] of h.ec2.sessions) if (s.networkInterfaceId === eniOf(i)) h.ec2.sessions.delete(id);
}

/** The target of the owned session on each ENI. */
function targetsByEni(h: Harness): Map<string, string> {
  return new Map([...h.ec2.sessions.values()].filter(s => s.tags[OWNER_TAG_KEY] === h.config.ownerId).map(s => [s.networkInterfaceId, s.targetId]));
}

function sourcesPerTarget(h: Harness): Map<string, number> {
  const counts = new Map<string, number>();
  for (const target of targetsByEni(h).values()) counts.set(target, (counts.get(target) ?? 0) + 1);
  return counts;
}

let ec2Modes: Ec2MirrorModelOptions = {};

// EC2's error-code reference lists two codes a full target may answer and does not say which it
// uses, and spells "target not found" two ways: every test runs under each combination.
describe.each(TARGET_LIMIT_CODES.flatMap(code => ERROR_SPELLINGS.map(spelling => [code, spelling] as const)))(
  'a full target answers with the %s code; not-found codes spelled %s', (targetLimitCode, errorSpelling) => {
    beforeEach(() => {
      ec2Modes = { targetLimitCode, errorSpelling };
    });

    describe('a pool of ENI targets', () => {
      const pool = [1, 2, 3].map(n => ({ targetId: T(n), maxSources: 3 }));

      test('every start is one create to a target with room, spread over the pool, no read; the tenth has no usable target', async () => {
        const h = setup(pool);
        for (let i = 0; i < 9; i++) {
          expect(await routeInvocation(pending(i, A), h.deps)).toMatchObject({ outcome: 'created' });
        }
        expect([...sourcesPerTarget(h).values()]).toEqual([3, 3, 3]);
        expect(h.ec2.count('DescribeTrafficMirrorSessions')).toBe(0);
        // Nine successful creates; a target that was full refused some first.
        const refused = h.ec2.count('CreateTrafficMirrorSession') - 9;
        expect(refused).toBeLessThan(9);
        expect(h.metrics.failures).toEqual([]);

        const outcome = await routeInvocation(pending(9, A), h.deps);
        expect(outcome).toMatchObject({ outcome: 'failed', reason: 'NoUsableTarget' });
        expect(h.metrics.failures).toEqual(['NoUsableTarget']);
        // Tried each target once, and never read.
        expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(9 + refused + 3);
        expect(h.ec2.count('DescribeTrafficMirrorSessions')).toBe(0);
      });

      test('a duplicate event is answered by the same target: the token is deterministic', async () => {
        const h = setup(pool);
        await routeInvocation(pending(1, A), h.deps);
        const before = [...targetsByEni(h)];
        expect(await routeInvocation(pending(1, A), { ...h.deps, recent: undefined })).toMatchObject({ outcome: 'ensured' });
        expect([...targetsByEni(h)]).toEqual(before);
        expect(h.ec2.sessions.size).toBe(1);
      });

      test('a target that no longer exists is skipped for the next', async () => {
        const h = setup(pool, { ec2: { knownTargets: new Set([T(2), T(3)]) } });
        for (let i = 0; i < 6; i++) await routeInvocation(pending(i, A), h.deps);
        expect(new Set(targetsByEni(h).values())).toEqual(new Set([T(2), T(3)]));
        expect(targetsByEni(h).size).toBe(6);
        expect(h.metrics.failures).toEqual([]);
      });

      test('the sweep mirrors a task whose events were lost once a source frees up', async () => {
        const h = setup(pool);
        for (let i = 0; i < 10; i++) addTask(h, i, A);
        await routeInvocation(SCHEDULED, h.deps);
        expect(targetsByEni(h).size).toBe(9);
        expect(h.metrics.failures).toEqual(['NoUsableTarget']);
        stopTask(h, 0);
        await routeInvocation(SCHEDULED, h.deps);
        expect(targetsByEni(h).size).toBe(9);
        expect(targetsByEni(h).has(eniOf(9))).toBe(true);
      });
    });

    test('a sweep tries a target EC2 called full only once: the other creates skip it without a call', async () => {
      const h = setup([{ targetId: T(1), maxSources: 2 }, { targetId: T(2), maxSources: 100 }]);
      for (let i = 0; i < 30; i++) addTask(h, i, A);
      await routeInvocation(SCHEDULED, h.deps);
      expect(sourcesPerTarget(h)).toEqual(new Map([[T(1), 2], [T(2), 28]]));
      // About half the tasks hash to target 1 first; creates run four at a time, so at most the
      // four in flight when the first refusal came back were refused.
      expect(h.ec2.count('CreateTrafficMirrorSession') - 30).toBeLessThanOrEqual(4);
      expect(h.metrics.failures).toEqual([]);
    });

    describe('targets per Availability Zone', () => {
      const perZone = [{ targetId: T(1), availabilityZone: A, maxSources: 2 }, { targetId: T(2), availabilityZone: B, maxSources: 2 }];

      test('each task goes to its own zone\'s target, named by the event', async () => {
        const h = setup(perZone);
        await routeInvocation(pending(1, A), h.deps);
        await routeInvocation(pending(2, B), h.deps);
        expect(targetsByEni(h)).toEqual(new Map([[eniOf(1), T(1)], [eniOf(2), T(2)]]));
        expect(h.metrics.crossZone).toBe(0);
      });

      test('a full zone leaves the task waiting, never crossing zones unless allowed', async () => {
        const h = setup(perZone);
        for (const i of [1, 2, 3]) await routeInvocation(pending(i, A), h.deps);
        expect(targetsByEni(h).size).toBe(2);
        expect(h.metrics.failures).toEqual(['NoUsableTarget']);
        expect(h.metrics.crossZone).toBe(0);
        // A task whose zone has no target, or whose event names none, waits too.
        await routeInvocation(pending(4, 'us-east-1c'), h.deps);
        const event = pending(5, A);
        delete (event.detail as any).availabilityZone;
        await routeInvocation(event, h.deps);
        expect(h.metrics.failures).toEqual(['NoUsableTarget', 'NoUsableTarget', 'NoUsableTarget']);
        expect(targetsByEni(h).size).toBe(2);
      });

      test('with allowCrossZone a full zone\'s task is mirrored in another zone, reported; the sweep brings it back when its zone has room', async () => {
        const h = setup(perZone, { allowCrossZone: true });
        for (const i of [1, 2, 3]) {
          addTask(h, i, A);
          await routeInvocation(pending(i, A), h.deps);
        }
        expect(targetsByEni(h).get(eniOf(3))).toBe(T(2));
        expect(h.metrics.crossZone).toBe(1);
        // Nothing to move while zone A is full: the sweep changes nothing.
        await routeInvocation(SCHEDULED, h.deps);
        expect(h.ec2.count('ModifyTrafficMirrorSession')).toBe(0);

        stopTask(h, 1);
        await routeInvocation(SCHEDULED, h.deps);
        expect(h.ec2.count('ModifyTrafficMirrorSession')).toBe(1);
        expect(targetsByEni(h)).toEqual(new Map([[eniOf(2), T(1)], [eniOf(3), T(1)]]));
        // And no churn after that.
        await routeInvocation(SCHEDULED, h.deps);
        expect(h.ec2.count('ModifyTrafficMirrorSession')).toBe(1);
      });

      // The probe of issue 21: more than a handful of sessions cross zones; scheduled sweeps move
      // every one back once the zone frees up (no cap on how many a scheduled sweep modifies).
      test('six tasks mirrored cross-zone while zone A\'s target is full all move back once it frees up, by scheduled sweeps alone', async () => {
        const zones = [{ targetId: T(1), availabilityZone: A, maxSources: 10 }, { targetId: T(2), availabilityZone: B, maxSources: 10 }];
        const h = setup(zones, { allowCrossZone: true });
        // Zone A's target full with 10 other sources... of this service's tasks that then stop.
        for (let i = 0; i < 16; i++) {
          addTask(h, i, A);
          await routeInvocation(pending(i, A), h.deps);
        }
        const crossing = () => [...targetsByEni(h).values()].filter(t => t === T(2)).length;
        expect(crossing()).toBe(6);
        for (let i = 0; i < 6; i++) stopTask(h, i);
        for (let sweep = 0; sweep < 5 && crossing() > 0; sweep++) await routeInvocation(SCHEDULED, h.deps);
        expect(crossing()).toBe(0);
        expect(h.ec2.count('ModifyTrafficMirrorSession')).toBe(6);
      });

      test('the sweep takes the zone from DescribeTasks for tasks whose events were lost', async () => {
        const h = setup(perZone);
        addTask(h, 1, A);
        addTask(h, 2, B);
        await routeInvocation(SCHEDULED, h.deps);
        expect(targetsByEni(h)).toEqual(new Map([[eniOf(1), T(1)], [eniOf(2), T(2)]]));
      });

      test('sessions on a target that left the configuration move to their zone\'s target', async () => {
        const old = setup([{ targetId: T(9) }]);
        addTask(old, 1, A);
        addTask(old, 2, B);
        await routeInvocation(SCHEDULED, old.deps);
        expect(new Set(targetsByEni(old).values())).toEqual(new Set([T(9)]));
        // The same account after a deploy that configured a target per zone.
        const deps = { ...old.deps, config: { ...old.config, targetId: T(1), targets: perZone } };
        await routeInvocation(SCHEDULED, deps);
        expect(targetsByEni(old)).toEqual(new Map([[eniOf(1), T(1)], [eniOf(2), T(2)]]));
        expect(old.ec2.count('ModifyTrafficMirrorSession')).toBe(2);
        expect(old.ec2.count('CreateTrafficMirrorSession')).toBe(2);
      });
    });
  });
