/**
 * Executes a plan: creates, in-place modifications and deletes, a few at a time, with throttled
 * actions retried in rounds and nothing new started after the invocation's deadline.
 */
import { TargetRefusal, failureMessage, mirrorTask } from './mirror-task';
import { InvocationLimits, ROUND_PAUSE_MS, OperationDeps, pastDeadline, pause } from './operation-deps';
import { FailureReason } from '../../contract/failure-reason';
import { MirrorSession } from '../adapters/mirror-sessions';
import { ErrorClass, classifyError, errorMessageOf } from '../core/errors';
import { chooseSessionNumber, ReconcilePlan } from '../core/plan-sessions';
import { SessionChange, describeChange } from '../core/session-parameters';

/** Creates, modifications and deletes run this many at a time: fast, yet gentle on EC2's 5/s token bucket. */
const ACTION_CONCURRENCY = 4;
/**
 * Rounds of a plan's actions. A call still throttled after the SDK's own retries goes back in
 * line for the next round instead of failing: a sweep of 1000 creates needs over three
 * minutes of EC2's token bucket, and waiting for the next sweep would cost five.
 */
const ACTION_ROUNDS = 10;

/** An owned session to bring to the current configuration in place. */
export interface ModifyAction {
  readonly session: MirrorSession;
  readonly change: SessionChange;
  /** Why the session moves to another target, when it does (core/target-placement.ts MoveReason). */
  readonly why?: string;
}

/** What running a plan did. */
export interface ActionResults {
  created: number;
  /** Creates that found the task already mirrored (an event got there first). */
  raced: number;
  modified: number;
  deleted: number;
  createFailures: number;
  modifyFailures: number;
  deleteFailures: number;
  /** Failures that were still transient in the last round. */
  transientFailures: number;
  /** Failures that retrying will not fix. */
  permanentFailures: number;
  /** Actions not started because the deadline came. */
  unfinished: number;
  /** One line per failure: action, what, AWS code and message. */
  errors: string[];
  /** Failures by reason (`FailureReason`), every action. */
  failuresByReason: Record<string, number>;
  /** Failed creates by reason: the tasks left unmirrored. */
  createFailuresByReason: Record<string, number>;
}

type Job = (final: boolean) => Promise<'done' | 'retry'>;

/** Runs the plan's deletes, the modifications and the plan's creates; never throws for one action. */
export async function runActions(
  deps: OperationDeps, plan: ReconcilePlan, modifies: readonly ModifyAction[], tokenSalt: string, limits: InvocationLimits = {},
): Promise<ActionResults> {
  const { logger, metrics, sessions } = deps;
  const r: ActionResults = {
    created: 0,
    raced: 0,
    modified: 0,
    deleted: 0,
    createFailures: 0,
    modifyFailures: 0,
    deleteFailures: 0,
    transientFailures: 0,
    permanentFailures: 0,
    unfinished: 0,
    errors: [],
    failuresByReason: {},
    createFailuresByReason: {},
  };

  const fail = (action: 'create' | 'modify' | 'delete', cls: ErrorClass, error: unknown, details: object) => {
    r[`${action}Failures`]++;
    if (cls.transient) r.transientFailures++;
    else r.permanentFailures++;
    r.errors.push(`${action} ${JSON.stringify(details)}: ${cls.code}: ${errorMessageOf(error)}`);
    r.failuresByReason[cls.reason] = (r.failuresByReason[cls.reason] ?? 0) + 1;
    if (action === 'create') r.createFailuresByReason[cls.reason] = (r.createFailuresByReason[cls.reason] ?? 0) + 1;
    metrics.failure(cls.reason);
    logger.error(`${action} failed`, {
      action, outcome: 'failed', errorCode: cls.code, errorMessage: errorMessageOf(error), reason: cls.reason, transient: cls.transient, ...details,
    });
  };
  const attempt = async (final: boolean, action: 'create' | 'modify' | 'delete', details: object, work: () => Promise<void>): Promise<'done' | 'retry'> => {
    try {
      await work();
    } catch (error) {
      const cls = classifyError(error);
      if (cls.transient && !final) return 'retry';
      fail(action, cls, error, details);
    }
    return 'done';
  };

  // A target takes a fixed number of sources: once EC2 says it is full (or gone), the plan's other
  // creates would be refused by it too. They skip it with the same answer, without a write each,
  // and go to their next target, if they have one.
  const unusable = new Map<string, TargetRefusal>();
  const jobs: Job[] = [
    ...plan.deletes.map(d => (final: boolean) => attempt(final, 'delete', { sessionId: d.sessionId, networkInterfaceId: d.networkInterfaceId }, async () => {
      if (await sessions.delete(d.sessionId)) {
        r.deleted++;
        metrics.sessionDeleted();
      }
      logger.info('session deleted', { action: 'delete', outcome: 'deleted', sessionId: d.sessionId, networkInterfaceId: d.networkInterfaceId, why: d.reason });
    })),
    ...modifies.map(m => (final: boolean) => attempt(final, 'modify', { sessionId: m.session.sessionId, networkInterfaceId: m.session.networkInterfaceId }, async () => {
      if (await modifySession(deps, m) === 'modified') {
        r.modified++;
        metrics.sessionModified();
      }
    })),
    ...plan.creates.map(c => (final: boolean) => attempt(final, 'create', { taskArn: c.taskArn, networkInterfaceId: c.networkInterfaceId }, async () => {
      // The same path as an event: if the number is taken since the listing, by the event
      // path (success) or by another tool, mirrorTask looks at the ENI and decides.
      const result = await mirrorTask(deps, c, { sessionNumber: c.sessionNumber, tokenSalt, unusable });
      const details = { taskArn: c.taskArn, networkInterfaceId: c.networkInterfaceId };
      if (result.failure) {
        fail('create', result.failure, new Error(failureMessage(result.failure.reason, result.refusals)), details);
      } else if (result.created) {
        r.created++;
        logger.info('session created', { action: 'start', outcome: 'created', sessionId: result.sessionId, sessionNumber: c.sessionNumber, targetId: result.targetId, ...details });
      } else {
        r.raced++;
        logger.info('session ensured', { action: 'start', outcome: 'ensured', sessionId: result.sessionId, ...details });
      }
    })),
  ];

  let pending = jobs;
  // A sweep whose configuration was replaced meanwhile stops: it would undo the new one's work.
  const halted = { value: false };
  for (let round = 1; pending.length > 0; round++) {
    const ran = await runWithConcurrency(pending, ACTION_CONCURRENCY, round === ACTION_ROUNDS, limits, halted);
    r.unfinished += ran.skipped;
    pending = ran.again;
    if (halted.value) logger.info('the configuration changed while this sweep ran; it stops and leaves the rest to a sweep of the new one', { action: 'sweep' });
    if (pending.length > 0) {
      if (pastDeadline(limits) || halted.value) {
        r.unfinished += pending.length;
        break;
      }
      logger.info('throttled actions wait for the next round', { action: 'sweep', round, pending: pending.length });
      await pause(deps, ROUND_PAUSE_MS);
    }
  }
  if (r.unfinished > 0) {
    logger.warn('deadline reached; the next run continues', { action: 'sweep', unfinished: r.unfinished });
  }
  return r;
}

/**
 * Modifies one owned session in place. When the configured number cannot be used on the ENI
 * (another tool's session has it), it uses the lowest free number after it
 * (pickFreeSessionNumber) or keeps its number, and applies the rest of the change either way.
 *
 * @returns `modified`, `gone` when the session no longer exists, or `unchanged` when the
 * number was all there was to change and it cannot be
 */
async function modifySession(deps: OperationDeps, m: ModifyAction): Promise<'modified' | 'gone' | 'unchanged'> {
  const { config, sessions, logger, metrics } = deps;
  const apply = async (change: SessionChange) => {
    if (!(await sessions.modify(m.session.sessionId, change))) return 'gone';
    logger.info('session brought to the current configuration', {
      action: 'modify',
      outcome: 'modified',
      sessionId: m.session.sessionId,
      networkInterfaceId: m.session.networkInterfaceId,
      changed: describeChange(change),
      ...(change.targetId ? { fromTargetId: m.session.targetId, targetId: change.targetId, why: m.why } : {}),
    });
    return 'modified';
  };
  try {
    return await apply(m.change);
  } catch (error) {
    const cls = classifyError(error);
    // EC2 documents no code for a taken number: any client error we cannot place gets a look.
    const numberProblem = cls.reason === FailureReason.SESSION_NUMBER_IN_USE || cls.reason === FailureReason.OTHER;
    if (!numberProblem || m.change.sessionNumber === undefined) throw error;
    const others = (await sessions.listOnInterfaces([m.session.networkInterfaceId])).filter(s => s.sessionId !== m.session.sessionId);
    const used = others.map(s => s.sessionNumber);
    if (!used.includes(m.change.sessionNumber)) throw error;
    const choice = chooseSessionNumber(used, config.sessionNumber, config.pickFreeSessionNumber ?? false);
    const { sessionNumber: _, ...rest } = m.change;
    const change: SessionChange = typeof choice === 'number' ? { ...rest, sessionNumber: choice } : rest;
    if (typeof choice !== 'number') {
      metrics.failure(FailureReason.SESSION_NUMBER_IN_USE);
      logger.error('session keeps its number: the configured one is taken on the ENI', {
        action: 'modify',
        outcome: 'failed',
        reason: choice,
        sessionId: m.session.sessionId,
        networkInterfaceId: m.session.networkInterfaceId,
        usedSessionNumbers: used,
      });
    }
    const nothingElse = change.sessionNumber === undefined && Object.keys(change).length === 1 && change.removeFields.length === 0;
    return nothingElse ? 'unchanged' : apply(change);
  }
}

/** Whether the configuration the actions run is still the current one; a failed check counts as yes. */
async function stillCurrent(limits: InvocationLimits): Promise<boolean> {
  try {
    return await limits.stillCurrent!();
  } catch {
    return true;
  }
}

/** Runs the jobs, `concurrency` at a time; returns those that asked to be retried and how many never started. */
async function runWithConcurrency(jobs: Job[], concurrency: number, final: boolean, limits: InvocationLimits, halted: { value: boolean }) {
  let next = 0;
  const again: Job[] = [];
  const worker = async () => {
    while (next < jobs.length && !pastDeadline(limits) && !halted.value) {
      if (limits.stillCurrent && !(await stillCurrent(limits))) {
        halted.value = true;
        break;
      }
      if (next >= jobs.length) break;
      const job = jobs[next++];
      if (await job(final) === 'retry') again.push(job);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return { again, skipped: jobs.length - next };
}
