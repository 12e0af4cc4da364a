import { Expectation, Figures, Measure, tokenBucketBoundSec } from './measure';
import { SimEc2Options } from './sim-ec2';
import { SimTask, ZONES } from './sim-ecs';
import { Strategy, World, WorldOptions } from './world';
import { OWNER_TAG_KEY } from '../../src/contract/ownership';
import { isSampled } from '../../src/runtime/core/sampling';

/** One simulated situation, run the same way for every strategy. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Tasks the scenario is about (started, stopped or enrolled). */
  readonly tasks: number;
  /** False where the baseline has nothing to compare: it cannot enroll running tasks. */
  readonly baselineComparable: boolean;
  /** `ec2` overrides the scenario's EC2 options (for example the tag-filter mode). */
  run(strategy: Strategy, seed?: number, ec2?: SimEc2Options): Promise<Figures>;
}

const MINUTE = 60_000;

interface Steps {
  /** World options besides strategy and seed. */
  readonly world?: Omit<WorldOptions, 'strategy' | 'seed'>;
  readonly expectation?: Expectation;
  /** Creates or deletes the measured part requires (for the token-bucket bound), known at the end if a function. */
  readonly writesNeeded: number | ((w: World) => number);
  /** False where the baseline cannot run the scenario. @default true unless measureDeploy */
  readonly baselineComparable?: boolean;
  /** Before the trigger: tasks already there, then the mirror is deployed and settles. */
  readonly before?: (w: World) => void;
  /** Simulated time between deploy and trigger. */
  readonly settleMs?: number;
  /**
   * The deployment itself is what is measured: the trigger runs first, then the deploy. The
   * baseline has no enrollment to compare.
   */
  readonly measureDeploy?: boolean;
  /** The measured change; returns when coverage counts as reachable. */
  readonly trigger: (w: World) => () => boolean;
  /** Simulated time after the trigger until the final check. */
  readonly horizonMs: number;
}

function scenario(name: string, description: string, tasks: number, steps: Steps): Scenario {
  return {
    name,
    description,
    tasks,
    baselineComparable: steps.baselineComparable ?? !steps.measureDeploy,
    async run(strategy, seed = 1, ec2 = {}) {
      const w = new World({ strategy, seed, ...steps.world, ec2: { ...steps.world?.ec2, ...ec2 } });
      steps.before?.(w);
      const m = new Measure(w, steps.expectation);
      if (steps.measureDeploy) m.trigger(steps.trigger(w));
      await deploy(w);
      if (!steps.measureDeploy) {
        await w.clock.run(w.clock.now + (steps.settleMs ?? MINUTE));
        m.trigger(steps.trigger(w));
      }
      await w.clock.run(w.clock.now + steps.horizonMs);
      const writes = steps.writesNeeded;
      return m.figures(tasks, typeof writes === 'number' ? writes : writes(w));
    },
  };
}

/** CloudFormation finishes the deployment (the enrollments) before anything else happens. */
async function deploy(w: World): Promise<void> {
  let deployed = false;
  w.clock.schedule(0, () => void w.deploy().then(() => { deployed = true; }));
  await w.clock.run(w.clock.now + 60 * MINUTE, () => deployed);
}

const allRunning = (tasks: SimTask[]) => () => tasks.every(t => t.runningAt !== undefined);
const allStopped = (tasks: SimTask[]) => () => tasks.every(t => t.stoppedAt !== undefined);

/** The 10,000-task scenarios: scale.test.ts runs them, in a jest worker of their own. */
export const SCALE_SCENARIOS = ['enroll-10000', 'stack-delete-10000'];

/** The scenarios of the simulator, each a jest test and a benchmark case. */
export const SCENARIOS: Scenario[] = [
  scenario('steady', 'A service of 100 mirrored tasks; one task is replaced every minute for 20 minutes', 20, {
    writesNeeded: 20,
    before: w => { w.ecs.preexisting(100); },
    settleMs: 0,
    trigger: w => {
      const fresh: SimTask[] = [];
      for (let i = 1; i <= 20; i++) {
        w.clock.schedule(i * MINUTE, () => {
          const [old] = w.ecs.running();
          w.ecs.stop([old]);
          fresh.push(...w.ecs.launch(1));
        });
      }
      return () => fresh.length === 20 && allRunning(fresh)();
    },
    horizonMs: 30 * MINUTE,
  }),
  scenario('rolling-deployment-200', 'A rolling deployment replaces all 200 tasks (100% min healthy, 200% max)', 200, {
    writesNeeded: 200,
    before: w => { w.ecs.preexisting(200); },
    trigger: w => allRunning(w.ecs.deploy(MINUTE)),
    horizonMs: 15 * MINUTE,
  }),
  scenario('burst-0-to-1000', 'The service scales from 0 to 1000 tasks within one minute', 1000, {
    writesNeeded: 1000,
    trigger: w => allRunning(w.ecs.launch(1000, MINUTE)),
    horizonMs: 15 * MINUTE,
  }),
  scenario('scale-1000-to-0', 'The service scales from 1000 mirrored tasks to 0 within one minute', 1000, {
    writesNeeded: 0,
    before: w => { w.ecs.preexisting(1000); },
    trigger: w => allStopped(stopAll(w)),
    horizonMs: 15 * MINUTE,
  }),
  scenario('multi-container-events', '200 tasks of 3 containers start in one minute: each start brings 3 more RUNNING events, and 30% of tasks a container exit later', 200, {
    writesNeeded: 200,
    world: { containers: { extraRunning: 3, extraRunningAfter: [0.5, 5], exitRate: 0.3, exitAfter: [10, 120] } },
    trigger: w => allRunning(w.ecs.launch(200, MINUTE)),
    horizonMs: 15 * MINUTE,
  }),
  scenario('throttling-storm', '300 tasks start while another tool spends 4 of EC2\'s 5 mutating calls per second and 5% of calls fail with 5xx', 300, {
    writesNeeded: 300,
    world: { ec2: { faultRate: 0.05 } },
    trigger: w => {
      const neighbour = () => {
        for (let i = 0; i < 4; i++) w.ec2.spendMutatingToken();
        if (w.clock.now < 10 * MINUTE) w.clock.schedule(1000, neighbour);
      };
      neighbour();
      return allRunning(w.ecs.launch(300, MINUTE));
    },
    horizonMs: 20 * MINUTE,
  }),
  scenario('lost-events-10pct', '200 tasks start; 10% of task state change events never arrive (the sweep heals)', 200, {
    writesNeeded: 200,
    world: { delivery: { lossRate: 0.1 } },
    trigger: w => allRunning(w.ecs.launch(200, MINUTE)),
    horizonMs: 15 * MINUTE,
  }),
  scenario('duplicated-reordered', 'A rolling deployment of 100 tasks with 30% of events duplicated and 30% delayed by up to 30 s', 100, {
    writesNeeded: 100,
    world: { delivery: { duplicateRate: 0.3, reorderRate: 0.3, reorderMaxMs: 30_000 } },
    before: w => { w.ecs.preexisting(100); },
    trigger: w => allRunning(w.ecs.deploy(MINUTE)),
    horizonMs: 15 * MINUTE,
  }),
  scenario('function-failures', '200 tasks start; each event-path invocation crashes partway through its batch with probability 0.2', 200, {
    writesNeeded: 200,
    world: { crashRate: 0.2 },
    trigger: w => allRunning(w.ecs.launch(200, MINUTE)),
    // A message whose batch crashed comes back after the queue's visibility timeout (6 minutes);
    // two crashes in a row take it past 15 minutes.
    horizonMs: 30 * MINUTE,
  }),
  scenario('session-deleted-by-hand', '50 mirrored tasks; an operator deletes 10 of their sessions', 10, {
    writesNeeded: 10,
    before: w => { w.ecs.preexisting(50); },
    trigger: w => {
      const owned = [...w.ec2.sessions.values()].filter(s => s.tags[OWNER_TAG_KEY] === w.config.ownerId);
      for (const s of owned.slice(0, 10)) w.ec2.deleteByHand(s.id);
      return () => true;
    },
    horizonMs: 12 * MINUTE,
  }),
  foreignSessions(),
  scenario('eni-target-cap', '25 tasks start against an ENI target that accepts 10 sources; then 20 stop and the 5 left must all be mirrored', 25, {
    writesNeeded: 10,
    world: { ec2: { targetSourceLimit: 10 } },
    expectation: { targetSourceLimit: 10 },
    trigger: w => {
      const tasks = w.ecs.launch(25, MINUTE);
      w.clock.schedule(4 * MINUTE, () => w.ecs.stop(tasks.slice(0, 20)));
      return () => tasks.slice(0, 20).every(t => t.stoppedAt !== undefined);
    },
    horizonMs: 15 * MINUTE,
  }),
  scenario('eni-target-pool', '25 tasks start against a pool of three ENI targets that accept 10 sources each; none may be left waiting', 25, {
    writesNeeded: 25,
    // The ENIs are in the service's three zones; a pool has no zones, so tasks go to any of them.
    world: { targets: ZONES.map((location, i) => ({ targetId: `tmt-00000000000000e0${i + 1}`, maxSources: 10, location })) },
    trigger: w => allRunning(w.ecs.launch(25, MINUTE)),
    horizonMs: 15 * MINUTE,
  }),
  scenario('az-local-3az', '300 tasks start spread over 3 Availability Zones, with one Gateway Load Balancer endpoint target per zone', 300, {
    writesNeeded: 300,
    world: { targets: ZONES.map((availabilityZone, i) => ({ targetId: `tmt-00000000000000a0${i + 1}`, availabilityZone })) },
    trigger: w => allRunning(w.ecs.launch(300, MINUTE)),
    horizonMs: 15 * MINUTE,
  }),
  scenario('stack-delete-during-sweep', '300 tasks start with every event lost; the stack is deleted 30 s into the sweep that mirrors them', 300, {
    writesNeeded: 300,
    world: { delivery: { lossRate: 1 } },
    expectation: { stackDeleted: true },
    trigger: w => {
      w.ecs.launch(300, MINUTE);
      // Scheduled sweeps start every reconcileInterval from the deployment (one minute ago). The
      // first, as the tasks start, finds them too young to be anything but their events' work;
      // the second mirrors them.
      let deleted = false;
      w.clock.schedule(2 * w.settings.reconcileIntervalMs - MINUTE + 30_000, () => {
        w.removeEventPath();
        void w.deleteEnrollment().then(() => { deleted = true; });
      });
      return () => deleted;
    },
    horizonMs: 20 * MINUTE,
  }),
  scenario('target-change', 'A stack update points the mirror of 100 running tasks at another target', 100, {
    writesNeeded: 100,
    before: w => { w.ecs.preexisting(100); },
    trigger: w => {
      w.clock.schedule(0, () => void w.changeTarget('tmt-0fedcba9876543210'));
      return () => true;
    },
    horizonMs: 10 * MINUTE,
  }),
  scenario('config-change-1000', 'A stack update changes packet length and VNI while 1000 mirrored tasks keep running', 1000, {
    writesNeeded: 1000,
    before: w => { w.ecs.preexisting(1000); },
    trigger: w => {
      w.clock.schedule(0, () => void w.changeConfig({ packetLength: 128, virtualNetworkId: 4242 }));
      return () => true;
    },
    horizonMs: 15 * MINUTE,
  }),
  scenario('config-change-sweeps-1000', 'The configuration parameter of 1000 mirrored tasks changes packet length and VNI; only the scheduled sweeps act on it', 1000, {
    writesNeeded: 1000,
    before: w => { w.ecs.preexisting(1000); },
    trigger: w => {
      w.clock.schedule(0, () => w.changeConfigParameterOnly({ packetLength: 128, virtualNetworkId: 4242 }));
      return () => true;
    },
    horizonMs: 15 * MINUTE,
  }),
  scenario('enroll-10000', 'The mirror is deployed onto a service already running 10,000 tasks (the account\'s session quota)', 10_000, {
    writesNeeded: 10_000,
    measureDeploy: true,
    before: w => { w.ecs.preexisting(10_000); },
    trigger: () => () => true,
    horizonMs: 5 * MINUTE,
  }),
  scenario('stack-delete-10000', 'The stack is deleted while 10,000 mirrored tasks keep running', 10_000, {
    writesNeeded: 10_000,
    expectation: { stackDeleted: true },
    before: w => {
      w.ecs.preexisting(10_000);
      w.seedSessions();
    },
    trigger: w => {
      w.removeEventPath();
      w.clock.schedule(0, () => void w.deleteEnrollment());
      return () => true;
    },
    horizonMs: 60 * MINUTE,
  }),
  scenario('stack-delete-1000', 'The stack is deleted while 1000 mirrored tasks keep running', 1000, {
    writesNeeded: 1000,
    expectation: { stackDeleted: true },
    before: w => { w.ecs.preexisting(1000); },
    trigger: w => {
      w.removeEventPath();
      w.clock.schedule(0, () => void w.deleteEnrollment());
      return () => true;
    },
    horizonMs: 15 * MINUTE,
  }),
  scenario('fleet-50-services', 'One stack mirrors 50 services of 20 tasks each (one shared session manager, a switch each); 10 of them roll out a deployment at once', 200, {
    writesNeeded: 200,
    baselineComparable: false,
    world: { services: 50, initialSwitch: 'on' },
    before: w => {
      for (const service of w.services) w.ecs.preexisting(20, service.name);
      w.seedSessions();
    },
    trigger: w => allRunning(w.services.slice(0, 10).flatMap(service => w.ecs.deploy(MINUTE, service.name))),
    // The deployments are over in about two minutes; 50 sweeps a minute make every further minute costly to simulate.
    horizonMs: 8 * MINUTE,
  }),
  switchOffOn(),
  switchOffOn(30_000, false),
  stackDeleteDuringFlip(),
  scenario('sampling-0.1', '1000 tasks start within a minute with sampling 0.1: the sampled tenth is mirrored, no other task', 1000, {
    writesNeeded: w => w.ecs.tasksOf().filter(t => isSampled(t.arn, 0.1)).length,
    baselineComparable: false,
    world: { sampling: 0.1 },
    trigger: w => allRunning(w.ecs.launch(1000, MINUTE)),
    horizonMs: 15 * MINUTE,
  }),
];

function stopAll(w: World): SimTask[] {
  const tasks = w.ecs.running();
  w.ecs.stop(tasks, MINUTE);
  return tasks;
}

function foreignSessions(): Scenario {
  const foreign: string[] = [];
  return scenario('foreign-sessions', '100 tasks start; another tool mirrors every ENI (session number 2, and our number 1 on every fifth)', 100, {
    writesNeeded: 100,
    world: { pickFreeSessionNumber: true },
    expectation: { foreignSessionIds: foreign },
    before: w => {
      foreign.length = 0;
      let n = 0;
      w.ecs.onEniCreated = task => {
        foreign.push(w.ec2.addSession(task.eni, 2, 'tmt-foreign').id);
        if (n++ % 5 === 0) foreign.push(w.ec2.addSession(task.eni, 1, 'tmt-foreign').id);
      };
    },
    trigger: w => allRunning(w.ecs.launch(100, MINUTE)),
    horizonMs: 15 * MINUTE,
  });
}

/**
 * A service of 1000 mirrored tasks has its switch turned off; once no session is left, and a
 * minute more (EC2's bucket refills), on again. Two figures: seconds from off to no owned
 * session, and from on to full coverage, each against the token-bucket bound of 1000 writes.
 * The figures but the first are those of the second half, from switching on.
 */
export function switchOffOn(flipAfterSweepMs = 30_000, scheduled = true): Scenario {
  const tasks = 1000;
  return {
    name: scheduled ? 'switch-off-on' : 'switch-off-on-unscheduled',
    description: scheduled
      ? '1000 mirrored tasks: the service\'s switch goes off until no session is left, then on again a minute later'
      : 'As switch-off-on, with no scheduled sweep after the deployment: each flip\'s sweep carries itself out in chunks',
    tasks,
    baselineComparable: false,
    async run(strategy, seed = 1, ec2 = {}) {
      const w = new World({ strategy, seed, initialSwitch: 'on', ec2 });
      const service = w.services[0];
      w.ecs.preexisting(tasks);
      w.seedSessions();
      await deploy(w);
      // The schedules start with the deployment: the switch goes off this long after a sweep began.
      await w.clock.run(w.clock.now + w.settings.reconcileIntervalMs + flipAfterSweepMs);
      // Without the schedule (reconcileInterval: none), only the flip's own sweep can act.
      if (!scheduled) w.scheduleEnabled = false;
      const sweepsBefore = service.sweeps;
      const m = new Measure(w);
      w.flipSwitch(service, 'off');
      m.trigger();
      // Switched off, coverage means no owned session left (nothing is to be mirrored).
      await w.clock.run(w.clock.now + 30 * MINUTE, () => m.coverageSec !== null);
      const timeToZeroSessionsSec = m.coverageSec;
      await w.clock.run(w.clock.now + MINUTE);
      w.flipSwitch(service, 'on');
      m.trigger();
      await w.clock.run(w.clock.now + 20 * MINUTE);
      return {
        ...m.figures(tasks, tasks),
        timeToZeroSessionsSec,
        zeroSessionsBoundSec: tokenBucketBoundSec(tasks),
        scheduledSweepsAfterFlip: service.sweeps - sweepsBefore,
        sweepChunks: w.sweepChunks,
      };
    },
  };
}

/**
 * 1000 tasks run unmirrored with the switch off and no schedule; the switch goes on, and 30 s
 * into the flip's sweep (its second chunk has not started) the stack is deleted. The chunk at
 * work ends within the settle time; no later chunk starts, since CloudFormation says the stack
 * is being deleted; the Delete's final listing finds nothing left.
 */
export function stackDeleteDuringFlip(): Scenario {
  const tasks = 1000;
  return {
    name: 'stack-delete-during-flip',
    description: '1000 unmirrored tasks; the switch goes on (no schedule), and the stack is deleted 30 s into the flip\'s chunked sweep',
    tasks,
    baselineComparable: false,
    async run(strategy, seed = 1, ec2 = {}) {
      const w = new World({ strategy, seed, initialSwitch: 'off', ec2 });
      const service = w.services[0];
      w.ecs.preexisting(tasks);
      await deploy(w);
      w.scheduleEnabled = false;
      await w.clock.run(w.clock.now + MINUTE);
      const m = new Measure(w, { stackDeleted: true });
      w.flipSwitch(service, 'on');
      let deleted = false;
      m.trigger(() => deleted);
      w.clock.schedule(30_000, () => {
        w.removeEventPath();
        void w.deleteEnrollment().then(() => { deleted = true; });
      });
      await w.clock.run(w.clock.now + 20 * MINUTE);
      return { ...m.figures(tasks, tasks), sweepChunks: w.sweepChunks };
    },
  };
}
