/**
 * Mirror one starting task: the event path's start, and every create of a sweep.
 */
import { ErrorClass, FailureReason, classifyError } from './errors';
import { MirrorSession } from './mirror-sessions';
import { DesiredTask } from './reconcile';
import { ReconcilerDeps, planFor } from './reconciler';

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
  /**
   * True when this call created the session; false when the task was already mirrored (an
   * earlier event, a retry, or a sweep got there first): "ensured".
   */
  readonly created?: boolean;
  readonly failure?: ErrorClass;
}

/** Answers that mean the create cannot go through as asked, and the ENI must be looked at. */
function needsLook(cls: ErrorClass): boolean {
  return cls.reason === FailureReason.SESSION_NUMBER_IN_USE
    || cls.reason === FailureReason.SOURCE_SESSION_LIMIT
    // Our token covers every parameter, so a mismatch means a token made by something else
    // (an older release): treat it like a conflict, never as the task's permanent failure.
    || cls.reason === FailureReason.IDEMPOTENCY_MISMATCH
    // EC2 documents no error code for a session number already used on the ENI; what it says
    // then is recognized by its wording at best. Any client error we cannot place is worth the
    // one read (on failures only) that tells.
    || cls.reason === FailureReason.OTHER;
}

/**
 * Mirrors one starting task: a single CreateTrafficMirrorSession with a deterministic
 * ClientToken (no reads on the common path). Only when EC2 refuses, or answers with the result
 * of an earlier request, does it look at the ENI's sessions. It never modifies or deletes an
 * existing owned session: an invocation may run the previous deployment's configuration, and
 * only the sweep reconciles configuration.
 *
 * @returns the id of the session mirroring the task, or the reason it is not mirrored
 */
export async function mirrorTask(deps: ReconcilerDeps, task: DesiredTask, options: MirrorOptions = {}): Promise<MirrorResult> {
  const { config, sessions, metrics } = deps;
  const { sessionNumber = config.sessionNumber, tokenSalt = '' } = options;
  try {
    const result = await sessions.create(task.networkInterfaceId, task.taskArn, sessionNumber, tokenSalt);
    if (!result.replayed) {
      metrics.sessionCreated();
      return { sessionId: result.sessionId, created: true };
    }
    // A repeat: the session it names may since have been deleted (by hand, say).
    return await lookAndDecide(deps, task, `replayed:${result.sessionId}`);
  } catch (error) {
    const cls = classifyError(error);
    if (!needsLook(cls)) {
      throw error;
    }
    return lookAndDecide(deps, task, `${tokenSalt}|${cls.reason}`, cls);
  }
}

/**
 * Makes sure a running task is mirrored, reading first: its RUNNING events come after the
 * PENDING one that normally created the session, so a look by ENI (one documented-filter read)
 * settles it. Only when the PENDING event was lost does the start path follow, with its
 * deterministic token: a concurrent PENDING create then meets it as a repeat, not a second session.
 *
 * @param seen the sessions on the task's ENI when a caller already listed them (one listing for
 * a whole batch of checks); read here otherwise
 */
export async function ensureRunningTask(deps: ReconcilerDeps, task: DesiredTask, seen?: readonly MirrorSession[]): Promise<MirrorResult> {
  const { sessions } = deps;
  const onEni = seen ?? await sessions.listOnInterfaces([task.networkInterfaceId]);
  const mine = onEni.filter(s => sessions.isOwned(s) && s.networkInterfaceId === task.networkInterfaceId).sort(bySessionNumber);
  return mine.length > 0 ? { sessionId: mine[0].sessionId, created: false } : mirrorTask(deps, task);
}

/**
 * Looks at the ENI's sessions: any owned one means the task is mirrored (whatever its
 * configuration, which the sweep reconciles); otherwise the pure core picks a number among the
 * other tools' sessions and one create follows, with a token of its own: derived from what was
 * seen, so concurrent duplicates still agree on one session.
 */
async function lookAndDecide(deps: ReconcilerDeps, task: DesiredTask, salt: string, refused?: ErrorClass): Promise<MirrorResult> {
  const { config, sessions, logger, metrics } = deps;
  const onEni = await sessions.listOnInterfaces([task.networkInterfaceId]);
  const mine = onEni.filter(s => sessions.isOwned(s)).sort(bySessionNumber);
  if (mine.length > 0) {
    return { sessionId: mine[0].sessionId, created: false };
  }
  const plan = planFor(deps, [task], onEni);
  const create = plan.creates[0];
  if (create) {
    const seen = onEni.map(s => s.sessionId).sort().join(',');
    const result = await sessions.create(task.networkInterfaceId, task.taskArn, create.sessionNumber, `${salt}|${seen}`);
    if (create.sessionNumber !== config.sessionNumber) {
      logger.info('configured session number taken on the ENI; used the lowest free one after it', {
        taskArn: task.taskArn,
        networkInterfaceId: task.networkInterfaceId,
        sessionNumber: create.sessionNumber,
        configuredSessionNumber: config.sessionNumber,
      });
    }
    if (!result.replayed) metrics.sessionCreated();
    return { sessionId: result.sessionId, created: !result.replayed };
  }
  const conflict = plan.conflicts[0];
  const reason = conflict?.reason === 'SourceSessionLimit' ? FailureReason.SOURCE_SESSION_LIMIT : FailureReason.SESSION_NUMBER_IN_USE;
  return { failure: { code: refused?.code ?? reason, transient: false, reason } };
}

function bySessionNumber(a: MirrorSession, b: MirrorSession): number {
  return a.sessionNumber - b.sessionNumber;
}
