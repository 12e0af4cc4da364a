/**
 * Mirror one starting task: the event path's start, and every create of a sweep.
 */
import { OperationDeps, planFor } from './operation-deps';
import { FailureReason } from '../../contract/failure-reason';
import { MirrorSession } from '../adapters/mirror-sessions';
import { ErrorClass, classifyError, errorMessageOf, isTargetUnusable } from '../core/errors';
import { DesiredTask } from '../core/plan-sessions';
import { candidateTargets } from '../core/target-placement';

/** How {@link mirrorTask} creates the session; the sweep passes the number it planned and a salt. */
export interface MirrorOptions {
  /** @default the configured session number */
  readonly sessionNumber?: number;
  /** @default '' (the deterministic token) */
  readonly tokenSalt?: string;
  /**
   * Targets EC2 already refused as full or gone during this invocation (a sweep's creates share
   * it): skipped with that answer, without a call, and filled in as EC2 refuses more.
   * @default none known
   */
  readonly unusable?: Map<string, TargetRefusal>;
}

/** A target that refused the task, and why. */
export interface TargetRefusal {
  readonly targetId: string;
  readonly code: string;
  readonly reason: FailureReason;
  /** EC2's message. */
  readonly message: string;
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
  /** The target this call created the session on. */
  readonly targetId?: string;
  /** The targets that refused the task before (full or gone), in the order they were tried. */
  readonly refusals?: readonly TargetRefusal[];
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
 * ClientToken (no reads on the common path), to the first of the task's targets (core/target-placement.ts:
 * its own zone's, spread by rendezvous hashing of its ENI). Only when EC2 refuses that target
 * (full, or gone) does it try the next; only when EC2 refuses otherwise does it look at the
 * ENI's sessions. An answer with the result of an earlier request (the same token) is trusted.
 * It never modifies or deletes an existing owned session: an invocation may run the previous
 * deployment's configuration, and only the sweep reconciles configuration.
 *
 * @returns the id of the session mirroring the task, or the reason it is not mirrored
 */
export async function mirrorTask(deps: OperationDeps, task: DesiredTask, options: MirrorOptions = {}): Promise<MirrorResult> {
  const { config, sessions, metrics, logger } = deps;
  const { sessionNumber = config.sessionNumber, tokenSalt = '', unusable } = options;
  const candidates = candidateTargets(config, task.networkInterfaceId, task.availabilityZone);
  const refusals: TargetRefusal[] = [];
  for (const target of candidates) {
    const known = unusable?.get(target.targetId);
    if (known) {
      refusals.push(known);
      continue;
    }
    try {
      const result = await sessions.create(task.networkInterfaceId, task.taskArn, sessionNumber, tokenSalt, target.targetId);
      if (!result.replayed) {
        metrics.sessionCreated();
        if (target.crossZone) reportCrossZone(deps, task, target.targetId, target.availabilityZone, refusals);
        return { sessionId: result.sessionId, created: true, targetId: target.targetId, refusals };
      }
      // A repeat (a redelivered or duplicated event): the session was made by the first. Should
      // it since have been deleted by hand, the sweep, which lists rather than trusts, heals it.
      return { sessionId: result.sessionId, created: false, targetId: target.targetId, refusals };
    } catch (error) {
      const cls = classifyError(error);
      // Every refusal is logged, whatever follows: should a later create succeed, EC2's first
      // answer (a configuration it refused once) would otherwise be seen nowhere.
      const logRefusal = (what: string) => logger.warn(`EC2 refused the create: ${what}`, {
        action: 'start',
        outcome: 'refused',
        taskArn: task.taskArn,
        networkInterfaceId: task.networkInterfaceId,
        targetId: target.targetId,
        errorCode: cls.code,
        errorMessage: errorMessageOf(error),
        reason: cls.reason,
      });
      if (isTargetUnusable(cls)) {
        // This target is full or gone; the next may take the task.
        const refusal = { targetId: target.targetId, code: cls.code, reason: cls.reason, message: errorMessageOf(error) };
        refusals.push(refusal);
        unusable?.set(target.targetId, refusal);
        logRefusal('the target is full or gone; trying the next target');
        continue;
      }
      if (!needsLook(cls)) {
        throw error;
      }
      logRefusal('looking at the ENI, then at most one more create');
      return lookAndDecide(deps, task, `${tokenSalt}|${cls.reason}`, target.targetId, cls);
    }
  }
  const code = refusals.length > 0 ? refusals[refusals.length - 1].code : FailureReason.NO_USABLE_TARGET;
  return { failure: { code, transient: false, reason: FailureReason.NO_USABLE_TARGET }, refusals };
}

/** What a task's failure to be mirrored means, for the line that reports it: with each target's refusal and EC2's message. */
export function failureMessage(reason: FailureReason, refusals: readonly TargetRefusal[] = []): string {
  if (reason !== FailureReason.NO_USABLE_TARGET) return 'task cannot be mirrored with the configured session number';
  const why = refusals.map(r => `${r.targetId}: ${r.code}: ${r.message}`).join('; ');
  return 'task cannot be mirrored: no target it may use accepts it (full, gone, or none in its zone); a later sweep tries again'
    + (why ? ` (${why})` : '');
}

/** Logs and counts a session created in another zone than its task (allowed by `allowCrossZone`). */
function reportCrossZone(
  deps: OperationDeps, task: DesiredTask, targetId: string, targetZone: string | undefined, refusals: readonly TargetRefusal[],
) {
  deps.metrics.crossZoneSession();
  deps.logger.warn('task mirrored to a target in another Availability Zone: its zone has no target that accepts it', {
    action: 'start',
    outcome: 'cross-zone',
    taskArn: task.taskArn,
    networkInterfaceId: task.networkInterfaceId,
    availabilityZone: task.availabilityZone ?? 'unknown',
    targetId,
    targetAvailabilityZone: targetZone,
    refusals,
  });
}

/**
 * Looks at the ENI's sessions: any owned one means the task is mirrored (whatever its
 * configuration, which the sweep reconciles); otherwise the pure core picks a number among the
 * other tools' sessions and one create follows, with a token of its own: derived from what was
 * seen, so concurrent duplicates still agree on one session.
 */
async function lookAndDecide(deps: OperationDeps, task: DesiredTask, salt: string, targetId: string, refused?: ErrorClass): Promise<MirrorResult> {
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
    const result = await sessions.create(task.networkInterfaceId, task.taskArn, create.sessionNumber, `${salt}|${seen}`, targetId);
    if (create.sessionNumber !== config.sessionNumber) {
      logger.info('configured session number taken on the ENI; used the lowest free one after it', {
        taskArn: task.taskArn,
        networkInterfaceId: task.networkInterfaceId,
        sessionNumber: create.sessionNumber,
        configuredSessionNumber: config.sessionNumber,
      });
    }
    if (!result.replayed) metrics.sessionCreated();
    return { sessionId: result.sessionId, created: !result.replayed, targetId };
  }
  const conflict = plan.conflicts[0];
  const reason = conflict?.reason === 'SourceSessionLimit' ? FailureReason.SOURCE_SESSION_LIMIT : FailureReason.SESSION_NUMBER_IN_USE;
  return { failure: { code: refused?.code ?? reason, transient: false, reason } };
}

function bySessionNumber(a: MirrorSession, b: MirrorSession): number {
  return a.sessionNumber - b.sessionNumber;
}
