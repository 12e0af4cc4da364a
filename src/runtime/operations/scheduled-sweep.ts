/**
 * The scheduled sweep: the whole service, then one more look at the young tasks it left to their
 * task state changes, so a lost PENDING event is healed within the sweep that saw its task, not
 * a minute later in the next.
 */
import { OperationDeps, SecondLookResult, SweepResult, pause, planFor, wantedTasks } from './operation-deps';
import { runActions } from './run-actions';
import { sweepService } from './sweep';
import { BUSY_HEAL_AGE_MS, IDLE_HEAL_AGE_MS, KEEPING_UP_BACKLOG } from '../../contract/timing';
import { StartingTask } from '../adapters/service-tasks';
import { errorMessageOf } from '../core/errors';
import { DesiredTask } from '../core/plan-sessions';

/**
 * Time the second look keeps before the sweep's deadline: a queue depth, a DescribeTasks, a
 * switch read, a listing by ENI and the creates' first round. A task whose event is due later is
 * left to the next sweep.
 */
const SECOND_LOOK_MARGIN_MS = 5_000;

/** How a scheduled sweep runs. */
export interface ScheduledSweepOptions {
  /** Epoch ms after which no action starts. */
  readonly deadline: number;
  /**
   * A sweep a flipped switch started: it mirrors every task at once (no event is on its way for
   * tasks that ran while mirroring was off) and reads the switch afresh.
   */
  readonly immediate: boolean;
}

/**
 * Sweeps the service, creating sessions only for tasks whose PENDING events had time to arrive
 * (contract/timing.ts: IDLE_HEAL_AGE_MS, or BUSY_HEAL_AGE_MS while the shared queue holds a
 * backlog and more of this service's own tasks wait for a session than one round of polls
 * takes: another service's backlog alone does not hold this one back). If it left younger tasks
 * to their events, it waits, within its deadline, until their events are {@link IDLE_HEAL_AGE_MS}
 * overdue, and unless the service is still in such a burst, mirrors those still without a
 * session: their events were lost. That look reads only those tasks (one
 * DescribeTasks, one DescribeTrafficMirrorSessions by the documented `network-interface-id`
 * filter), never the account, and is reported apart (`secondLook`).
 */
export async function scheduledSweep(deps: OperationDeps, options: ScheduledSweepOptions): Promise<SweepResult> {
  const now = Date.now();
  const { summary, deferredTasks, startingTasks, busy } = await sweepService(deps, {
    deadline: options.deadline,
    createdBefore: options.immediate ? undefined : now - IDLE_HEAL_AGE_MS,
    // A backlog in the shared queue holds this service's events back only when it has events
    // there: more of its own tasks wait for a session than one round of polls takes.
    busyCreatedBefore: options.immediate || await eventPathKeepsUp(deps) ? undefined : now - BUSY_HEAL_AGE_MS,
    freshSwitch: options.immediate,
    // A flip's sweep takes the work from the start, scheduled sweeps beside it from the end.
    fromTheEnd: !options.immediate,
    // A flip's sweep answers the switch; it leaves a young configuration to its deployment too.
    deferYoungConfiguration: true,
  });
  if (deferredTasks.length + startingTasks.length === 0) return summary;
  try {
    const secondLook = await lookAgain(deps, deferredTasks, startingTasks, options.deadline, busy);
    return secondLook ? { ...summary, secondLook } : summary;
  } catch (error) {
    // The sweep's work is done and reported; the next sweep looks at these tasks again.
    deps.logger.warn('the second look at young tasks failed; the next sweep looks again', { action: 'sweep', errorMessage: errorMessageOf(error) });
    return summary;
  }
}

/**
 * Whether the shared event queue keeps up (no more task state changes waiting than one round of
 * polls takes, contract/timing.ts). Unknown counts as not: a service with a burst of its own
 * then leaves its young tasks to their events, which costs time to heal, never a duplicate write.
 */
async function eventPathKeepsUp(deps: OperationDeps): Promise<boolean> {
  if (!deps.eventBacklog) return false;
  try {
    return (await deps.eventBacklog()) <= KEEPING_UP_BACKLOG;
  } catch (error) {
    deps.logger.warn('could not read the event queue\'s depth; counted as a backlog', { action: 'sweep', errorMessage: errorMessageOf(error) });
    return false;
  }
}

/**
 * Looks again at tasks the sweep left to their events (unmirrored, or still provisioning), once
 * those events are overdue, and mirrors the tasks whose events never came.
 *
 * @returns what it did, or nothing when no task's event is overdue before the look must start
 */
async function lookAgain(
  deps: OperationDeps, deferred: readonly DesiredTask[], starting: readonly StartingTask[], deadline: number, busy: boolean,
): Promise<SecondLookResult | undefined> {
  const { logger } = deps;
  const lookAt = deadline - SECOND_LOOK_MARGIN_MS;
  const overdueAt = (t: StartingTask) => (t.createdAt ?? Infinity) + IDLE_HEAL_AGE_MS;
  const due = [...deferred, ...starting].filter(t => overdueAt(t) <= lookAt);
  // The sweep itself may have worked past the time the look had.
  if (due.length === 0 || Date.now() > lookAt) return undefined;
  await waitUntil(deps, Math.max(...due.map(overdueAt)));
  // Still active (a stopped task's ENI is gone), still wanted (the switch may have turned off).
  const wanted = await wantedTasks(deps);
  const active = (await deps.tasks.describeLive(due.map(t => t.taskArn))).active.filter(wanted);
  const startingArns = new Set(starting.map(t => t.taskArn));
  const started = active.filter(t => startingArns.has(t.taskArn)).length;
  const result = { looked: due.length, started, alreadyMirrored: 0, created: 0, raced: 0, failures: 0, left: active.length };
  if (busy && !(await eventPathKeepsUp(deps))) {
    logger.info('young unmirrored tasks left to their queued events and the next sweep', { action: 'sweep', tasks: active.length });
    return result;
  }
  const onEni = await deps.sessions.listOnInterfaces(active.map(t => t.networkInterfaceId));
  const plan = planFor(deps, active, onEni);
  // Only creates: duplicates and orphans are the whole-service sweep's, which sees every session.
  const actions = plan.creates.length > 0
    ? await runActions(deps, { ...plan, deletes: [] }, [], `second-look-${Date.now()}-${Math.random()}`, { deadline })
    : undefined;
  const done = {
    ...result,
    alreadyMirrored: plan.alreadyMirrored,
    created: actions?.created ?? 0,
    raced: actions?.raced ?? 0,
    failures: (actions?.createFailures ?? 0) + plan.conflicts.length,
    left: actions?.unfinished ?? 0,
  };
  if (done.created > 0 || done.failures > 0) {
    logger.info('the sweep\'s second look mirrored tasks whose events were lost', { action: 'sweep', ...done });
  }
  return done;
}

async function waitUntil(deps: OperationDeps, time: number): Promise<void> {
  const wait = time - Date.now();
  if (wait > 0) await pause(deps, wait);
}
