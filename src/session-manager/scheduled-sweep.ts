/**
 * The scheduled sweep: the whole service, then one more look at the young tasks it left to their
 * task state changes, so a lost PENDING event is healed within the sweep that saw its task, not
 * a minute later in the next.
 */
import { errorMessageOf } from './errors';
import { ReconcilerDeps, SweepResult, pause, planFor } from './reconciler';
import { runActions } from './run-actions';
import { isSampled } from './sampling';
import { StartingTask } from './service-tasks';
import { sweepService } from './sweep';
import { BUSY_HEAL_AGE_MS, IDLE_HEAL_AGE_MS, KEEPING_UP_BACKLOG, SCHEDULED_SWEEP_MODIFY_LIMIT } from './timing';

/**
 * Time the second look needs before the sweep's deadline: a DescribeTasks, a listing by ENI and
 * the creates' first round. A task that turns old enough later is left to the next sweep.
 */
export const SECOND_LOOK_MARGIN_MS = 5_000;

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
 * Sweeps the service, creating sessions only for tasks its events had time to reach (timing.ts:
 * IDLE_HEAL_AGE_MS with nothing queued, BUSY_HEAL_AGE_MS otherwise). If it left younger tasks
 * unmirrored, it waits, within its deadline, until they are {@link IDLE_HEAL_AGE_MS} old, and
 * when no event then waits in the queue, mirrors those still without a session: their events
 * were lost. That look reads only those tasks (one DescribeTasks, one DescribeTrafficMirrorSessions
 * by the documented `network-interface-id` filter), never the account.
 */
export async function scheduledSweep(deps: ReconcilerDeps, options: ScheduledSweepOptions): Promise<SweepResult> {
  const now = Date.now();
  const { summary, deferredTasks } = await sweepService(deps, {
    deadline: options.deadline,
    createdBefore: options.immediate ? undefined : now - (await eventPathKeepsUp(deps) ? IDLE_HEAL_AGE_MS : BUSY_HEAL_AGE_MS),
    freshSwitch: options.immediate,
    maxModifies: SCHEDULED_SWEEP_MODIFY_LIMIT,
  });
  if (deferredTasks.length === 0) return summary;
  const look = await secondLook(deps, deferredTasks, options.deadline);
  return {
    ...summary,
    // Tasks that were still provisioning have come to run since.
    runningTasks: summary.runningTasks + look.started,
    created: summary.created + look.created,
    mirroredTasks: summary.mirroredTasks + look.created,
    deferred: Math.max(0, summary.deferred - look.created),
  };
}

/**
 * Whether the event queue keeps up (no more task state changes waiting than one round of polls
 * takes, timing.ts), so a task old enough without a session has lost its events. Unknown counts
 * as busy: the sweep then leaves young tasks to their events, which costs time to heal, never a
 * duplicate write.
 */
export async function eventPathKeepsUp(deps: ReconcilerDeps): Promise<boolean> {
  if (!deps.eventBacklog) return false;
  try {
    return (await deps.eventBacklog()) <= KEEPING_UP_BACKLOG;
  } catch (error) {
    deps.logger.warn('could not read the event queue\'s depth; young tasks are left to their events', { action: 'sweep', errorMessage: errorMessageOf(error) });
    return false;
  }
}

/** What the second look did. */
interface SecondLook {
  /** Sessions created. */
  readonly created: number;
  /** Tasks that had no ENI at the sweep and run now. */
  readonly started: number;
}

/**
 * Looks again at tasks the sweep left to their events, once they are old enough that their
 * PENDING event would have been handled, and mirrors those it was not.
 */
async function secondLook(deps: ReconcilerDeps, young: readonly StartingTask[], deadline: number): Promise<SecondLook> {
  const { logger, config } = deps;
  const lookAt = deadline - SECOND_LOOK_MARGIN_MS;
  const due = young.filter(t => t.createdAt !== undefined && t.createdAt + IDLE_HEAL_AGE_MS <= lookAt);
  const none = { created: 0, started: 0 };
  if (due.length === 0) return none;
  const wait = Math.max(...due.map(t => t.createdAt! + IDLE_HEAL_AGE_MS)) - Date.now();
  if (wait > 0) await pause(deps, wait);
  if (!(await eventPathKeepsUp(deps))) {
    logger.info('young unmirrored tasks left to their queued events and the next sweep', { action: 'sweep', tasks: due.length });
    return none;
  }
  // Still active (a stopped task's ENI is gone), still wanted (the switch may have turned off).
  const live = await deps.tasks.describeLive(due.map(t => t.taskArn));
  const off = (await deps.switchState?.()) === 'off';
  const active = live.active.filter(t => !off && isSampled(t.taskArn, config.sampling));
  const hadEni = new Set(young.filter(y => 'networkInterfaceId' in y).map(y => y.taskArn));
  const started = active.filter(t => !hadEni.has(t.taskArn)).length;
  const onEni = await deps.sessions.listOnInterfaces(active.map(t => t.networkInterfaceId));
  const plan = planFor(deps, active, onEni);
  if (plan.creates.length === 0) return { created: 0, started };
  // Only creates: duplicates and orphans are the whole-service sweep's, which sees every session.
  const result = await runActions(deps, { ...plan, deletes: [] }, [], `second-look-${Date.now()}-${Math.random()}`, { deadline });
  logger.info('tasks whose events were lost mirrored by the sweep\'s second look', {
    action: 'sweep', looked: due.length, created: result.created, failures: result.createFailures,
  });
  return { created: result.created, started };
}
