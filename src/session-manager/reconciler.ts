import { Logger } from '@aws-lambda-powertools/logger';
import { SessionManagerConfig } from './config';
import { ErrorClass, FailureReason, classifyError } from './errors';
import { MirrorMetrics } from './metrics';
import { MirrorSession, MirrorSessions } from './mirror-sessions';
import { DesiredTask, ExistingSession, ReconcilePlan, reconcile } from './reconcile';
import { ServiceTasks } from './service-tasks';

/** Everything the reconciler talks to; injected so tests run the real SDK clients on fakes. */
export interface ReconcilerDeps {
  readonly config: SessionManagerConfig;
  readonly sessions: MirrorSessions;
  readonly tasks: ServiceTasks;
  readonly logger: Logger;
  readonly metrics: MirrorMetrics;
  /** Waits between rounds and removal passes; tests pass one that does not. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What a whole-service reconciliation did. */
export interface SweepResult {
  readonly runningTasks: number;
  readonly mirroredTasks: number;
  readonly created: number;
  readonly deleted: number;
  readonly conflicts: number;
  readonly failures: number;
  /** Transient failures: the next sweep (or an event retry) will try again. */
  readonly transientFailures: number;
}

/** What removing every owned session did. */
export interface RemoveAllResult {
  readonly deleted: number;
  readonly failures: number;
  readonly errors: string[];
}

/** Creates and deletes run this many at a time: fast, yet gentle on EC2's 5/s token bucket. */
const ACTION_CONCURRENCY = 4;
/**
 * Rounds of a sweep's actions. A call still throttled after the SDK's own retries goes back in
 * line for the next round instead of failing: a sweep of 1000 creates needs over three
 * minutes of EC2's token bucket, and waiting for the next sweep would cost five.
 */
const ACTION_ROUNDS = 10;
/** Pause between rounds, so the bucket refills a little before the next one. */
const ROUND_PAUSE_MS = 2000;
/**
 * Stack delete: after deleting, wait this long and list again. Longer than an event batch may
 * run (60 s), so a batch or a sweep that was already running when the event source mapping and
 * the schedule went cannot leave a session behind.
 */
export const REMOVE_SETTLE_MS = 70_000;
/** Removal passes at most; the reconciler's 15-minute timeout leaves room for this many. */
const REMOVE_MAX_PASSES = 10;

function pause(deps: ReconcilerDeps, ms: number): Promise<void> {
  return deps.sleep ? deps.sleep(ms) : new Promise(resolve => setTimeout(resolve, ms));
}

function deletesOf(sessions: readonly MirrorSession[], reason: 'orphaned' | 'stale'): ReconcilePlan {
  return {
    creates: [],
    conflicts: [],
    alreadyMirrored: 0,
    deletes: sessions.map(s => ({ sessionId: s.sessionId, networkInterfaceId: s.networkInterfaceId, reason })),
  };
}

/** Whether EC2's answer means the configured session number cannot be used on this ENI. */
function isSessionNumberProblem(cls: ErrorClass): boolean {
  return cls.reason === FailureReason.SESSION_NUMBER_IN_USE || cls.reason === FailureReason.SOURCE_SESSION_LIMIT;
}

/** Runs the pure core on what the adapters found, with this deployment's settings. */
function planFor(config: SessionManagerConfig, desired: DesiredTask[], sessions: readonly MirrorSession[]): ReconcilePlan {
  return reconcile({
    desired,
    sessions: sessions.map((s): ExistingSession => ({
      sessionId: s.sessionId, networkInterfaceId: s.networkInterfaceId, sessionNumber: s.sessionNumber, owned: s.ownerId === config.ownerId,
    })),
    sessionNumber: config.sessionNumber,
    pickFreeSessionNumber: config.pickFreeSessionNumber ?? false,
  });
}

/** How {@link mirrorTask} creates the session; the sweep passes the number it planned and a salt. */
export interface MirrorOptions {
  /** @default the configured session number */
  readonly sessionNumber?: number;
  /** @default '' (the deterministic token) */
  readonly tokenSalt?: string;
}

/** What {@link mirrorTask} did: the session mirroring the task, or why there is none. */
export interface MirrorResult {
  readonly sessionId?: string;
  /** False when our current session was already on the ENI. */
  readonly created?: boolean;
  readonly failure?: ErrorClass;
}

/**
 * Mirrors one starting task: a single CreateTrafficMirrorSession with the configured number and
 * a deterministic ClientToken (no reads on the common path). Only when EC2 says the number is
 * taken does it look at the ENI's sessions and let the pure core decide.
 *
 * @returns the id of the session mirroring the task, or the reason it is not mirrored
 */
export async function mirrorTask(deps: ReconcilerDeps, task: DesiredTask, options: MirrorOptions = {}): Promise<MirrorResult> {
  const { config, sessions, logger, metrics } = deps;
  const { sessionNumber = config.sessionNumber, tokenSalt = '' } = options;
  try {
    const sessionId = await sessions.create(task.networkInterfaceId, task.taskArn, sessionNumber, tokenSalt);
    metrics.sessionCreated();
    return { sessionId, created: true };
  } catch (error) {
    const cls = classifyError(error);
    if (!isSessionNumberProblem(cls)) {
      throw error;
    }
    const onEni = await sessions.listOnInterfaces([task.networkInterfaceId]);
    const mine = onEni.filter(s => s.ownerId === config.ownerId);
    // Our own session already on the ENI (an earlier event or sweep won the race): nothing to decide.
    const current = mine.find(s => sessions.isCurrent(s));
    if (current) {
      return { sessionId: current.sessionId, created: false };
    }
    // Ours, but for a target or filter this deployment no longer uses: replace it.
    for (const stale of mine) {
      if (await sessions.delete(stale.sessionId)) metrics.sessionDeleted();
    }
    const plan = planFor(config, [task], onEni.filter(s => s.ownerId !== config.ownerId));
    const create = plan.creates[0];
    if (create) {
      const sessionId = await sessions.create(task.networkInterfaceId, task.taskArn, create.sessionNumber, tokenSalt);
      logger.info('configured session number taken on the ENI; used the lowest free one', {
        taskArn: task.taskArn,
        networkInterfaceId: task.networkInterfaceId,
        sessionNumber: create.sessionNumber,
        configuredSessionNumber: config.sessionNumber,
      });
      metrics.sessionCreated();
      return { sessionId, created: true };
    }
    const conflict = plan.conflicts[0];
    const reason = conflict?.reason === 'SourceSessionLimit' ? FailureReason.SOURCE_SESSION_LIMIT : FailureReason.SESSION_NUMBER_IN_USE;
    return { failure: { code: cls.code, transient: false, reason } };
  }
}

/**
 * Reconciles the whole service: creates the sessions running tasks lack and deletes the owned
 * sessions whose task is gone. Per-session failures are logged and counted, not thrown, so one
 * bad ENI cannot stop the rest; listing failures are thrown.
 */
export async function sweep(deps: ReconcilerDeps): Promise<SweepResult> {
  const { config, sessions, tasks, logger, metrics } = deps;
  // Owned sessions first, then tasks: a session created after this listing belongs to a task
  // the task listing is at least as likely to show.
  const everything = await sessions.listOwned();
  // Sessions made for a target or filter this deployment no longer uses go first, so their
  // ENIs are free for the current ones.
  const stale = everything.filter(s => !sessions.isCurrent(s));
  if (stale.length > 0) {
    logger.info('replacing sessions of a previous target or filter', { action: 'sweep', stale: stale.length });
    await execute(deps, deletesOf(stale, 'stale'));
  }
  const listed = everything.filter(s => sessions.isCurrent(s));
  const desired = await tasks.listActive();
  const desiredEnis = new Set(desired.map(t => t.networkInterfaceId));

  // ListTasks can lag behind a task that just started. Before deleting a session, ask ECS
  // directly about its task; if it is active, it stays desired; if it is draining, its
  // session is left alone (EC2 deletes it with the ENI).
  const orphanTaskArns = [...new Set(listed.filter(s => !desiredEnis.has(s.networkInterfaceId)).map(s => s.taskArn).filter((a): a is string => !!a))];
  const live = orphanTaskArns.length ? await tasks.describeLive(orphanTaskArns) : { active: [], draining: new Set<string>() };
  for (const task of live.active) {
    if (!desiredEnis.has(task.networkInterfaceId)) {
      desired.push(task);
      desiredEnis.add(task.networkInterfaceId);
    }
  }
  const owned = listed.filter(s => !(s.taskArn && live.draining.has(s.taskArn) && !desiredEnis.has(s.networkInterfaceId)));

  // Only ENIs that still need a session are worth a look for other tools' sessions.
  const ownedEnis = new Set(owned.map(s => s.networkInterfaceId));
  const unmirrored = [...desiredEnis].filter(eni => !ownedEnis.has(eni));
  const foreign = unmirrored.length ? (await sessions.listOnInterfaces(unmirrored)).filter(s => s.ownerId !== config.ownerId) : [];

  const plan = planFor(config, desired, [...owned, ...foreign]);
  // A task without a session at this point either never got one or lost it to a hand delete;
  // a fresh token per sweep makes EC2 create a new session in the second case too.
  const result = await execute(deps, plan, `sweep-${Date.now()}-${Math.random()}`);
  const mirrored = plan.alreadyMirrored + result.created + result.raced;
  metrics.coverage(desired.length, mirrored);
  const summary: SweepResult = {
    runningTasks: desired.length,
    mirroredTasks: mirrored,
    created: result.created,
    deleted: result.deleted,
    conflicts: plan.conflicts.length,
    failures: result.failures,
    transientFailures: result.transientFailures,
  };
  logger.info('sweep finished', { action: 'sweep', ...summary });
  return summary;
}

/**
 * Deletes every session this construct owns (stack deletion), in passes: list, delete, wait
 * {@link REMOVE_SETTLE_MS}, list again, until a listing after a wait finds nothing. A batch or
 * sweep that was already running when CloudFormation removed the event source mapping and the
 * schedule may still create a session; the next pass removes it. Never throws: a failure is
 * reported in the result (failures of the last pass) and the logs, so CloudFormation can finish
 * deleting the stack.
 */
export async function removeAll(deps: ReconcilerDeps): Promise<RemoveAllResult> {
  const { logger } = deps;
  let deleted = 0;
  for (let pass = 1; ; pass++) {
    let owned: MirrorSession[];
    try {
      owned = await deps.sessions.listOwned();
    } catch (error) {
      const cls = classifyError(error);
      logger.error('could not list owned sessions for removal', { action: 'remove-all', outcome: 'failed', errorCode: cls.code, reason: cls.reason, pass });
      return { deleted, failures: 1, errors: [`${cls.code}: ${(error as Error).message ?? String(error)}`] };
    }
    if (owned.length === 0 && pass > 1) {
      logger.info('removed owned sessions', { action: 'remove-all', deleted, passes: pass });
      return { deleted, failures: 0, errors: [] };
    }
    const result = await execute(deps, deletesOf(owned, 'orphaned'));
    deleted += result.deleted;
    if (pass === REMOVE_MAX_PASSES) {
      logger.error('owned sessions may be left after the last removal pass', { action: 'remove-all', deleted, failures: result.failures, passes: pass });
      return { deleted, failures: result.failures, errors: result.errors };
    }
    await pause(deps, REMOVE_SETTLE_MS);
  }
}

async function execute(deps: ReconcilerDeps, plan: ReconcilePlan, tokenSalt = '') {
  const { logger, metrics, sessions } = deps;
  let created = 0;
  let raced = 0;
  let deleted = 0;
  let failures = 0;
  let transientFailures = 0;
  const errors: string[] = [];

  const fail = (action: string, cls: ErrorClass, details: object) => {
    failures++;
    if (cls.transient) transientFailures++;
    errors.push(`${action} ${JSON.stringify(details)}: ${cls.code}`);
    metrics.failure(cls.reason);
    logger.error(`${action} failed`, { action, outcome: 'failed', errorCode: cls.code, reason: cls.reason, transient: cls.transient, ...details });
  };

  for (const conflict of plan.conflicts) {
    failures++;
    metrics.failure(conflict.reason);
    logger.error('task cannot be mirrored with the configured session number', {
      action: 'start',
      outcome: 'failed',
      reason: conflict.reason,
      taskArn: conflict.taskArn,
      networkInterfaceId: conflict.networkInterfaceId,
      usedSessionNumbers: conflict.usedSessionNumbers,
      hint: conflict.reason === 'SessionNumberInUse' ? 'another tool uses this session number on the ENI; set pickFreeSessionNumber or another sessionNumber' : 'the ENI already has 3 sessions',
    });
  }

  // A job returns 'retry' for a transient failure while rounds are left.
  const jobs: Job[] = [
    ...plan.deletes.map(d => async (final: boolean) => {
      try {
        if (await sessions.delete(d.sessionId)) {
          deleted++;
          metrics.sessionDeleted();
        }
        logger.info('session deleted', { action: 'delete', outcome: 'deleted', sessionId: d.sessionId, networkInterfaceId: d.networkInterfaceId, why: d.reason });
      } catch (error) {
        const cls = classifyError(error);
        if (cls.transient && !final) return 'retry';
        fail('delete', cls, { sessionId: d.sessionId, networkInterfaceId: d.networkInterfaceId });
      }
      return 'done';
    }),
    ...plan.creates.map(c => async (final: boolean) => {
      try {
        // The same path as an event: if the number is taken since the listing, by the event
        // path (success) or by another tool, mirrorTask looks at the ENI and decides.
        const result = await mirrorTask(deps, c, { sessionNumber: c.sessionNumber, tokenSalt });
        const details = { taskArn: c.taskArn, networkInterfaceId: c.networkInterfaceId };
        if (result.failure) {
          fail('start', result.failure, details);
        } else if (result.created) {
          created++;
          logger.info('session created', { action: 'start', outcome: 'created', sessionId: result.sessionId, sessionNumber: c.sessionNumber, ...details });
        } else {
          raced++;
        }
      } catch (error) {
        const cls = classifyError(error);
        if (cls.transient && !final) return 'retry';
        fail('start', cls, { taskArn: c.taskArn, networkInterfaceId: c.networkInterfaceId });
      }
      return 'done';
    }),
  ];
  let pending = jobs;
  for (let round = 1; pending.length > 0; round++) {
    pending = await runWithConcurrency(pending, ACTION_CONCURRENCY, round === ACTION_ROUNDS);
    if (pending.length > 0) {
      logger.info('throttled actions wait for the next round', { action: 'sweep', round, pending: pending.length });
      await pause(deps, ROUND_PAUSE_MS);
    }
  }
  return { created, raced, deleted, failures, transientFailures, errors };
}

type Job = (final: boolean) => Promise<'done' | 'retry'>;

/** Runs the jobs, `concurrency` at a time; returns those that asked to be retried. */
async function runWithConcurrency(jobs: Job[], concurrency: number, final: boolean): Promise<Job[]> {
  let next = 0;
  const again: Job[] = [];
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (await job(final) === 'retry') again.push(job);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return again;
}
