/**
 * Remove every owned session: the enrollment's Delete when the stack goes away.
 */
import { InvocationLimits, ROUND_PAUSE_MS, OperationDeps, RemoveAllResult, pastDeadline, pause } from './operation-deps';
import { runActions } from './run-actions';
import { SETTLE_MS } from '../../contract/timing';
import { MirrorSession } from '../adapters/mirror-sessions';
import { classifyError, errorMessageOf } from '../core/errors';

/** Passes in one invocation at most, so a call without a deadline still ends. */
const MAX_PASSES = 100;

/** Limits of one removal invocation. */
export interface RemoveLimits extends InvocationLimits {
  /**
   * Epoch ms from which an empty listing is final: the Delete's start plus
   * {@link SETTLE_MS}, after which no event batch or sweep that began before can still create a
   * session. @default now plus SETTLE_MS
   */
  readonly settledAfter?: number;
}

/**
 * Deletes every session this construct owns, in passes: list, delete, list again, until a
 * listing that started after `settledAfter` finds nothing. A failed or throttled listing is a
 * failed pass to retry, not the end of cleanup. Returns `complete: false` when the deadline
 * comes first (the next invocation continues); throws when a delete fails for a reason that
 * retrying cannot fix, so the stack delete fails loudly instead of leaving sessions behind
 * that keep the target and filter from being deleted and keep costing money.
 */
export async function removeAll(deps: OperationDeps, limits: RemoveLimits = {}): Promise<RemoveAllResult> {
  const { logger } = deps;
  const settledAfter = limits.settledAfter ?? Date.now() + SETTLE_MS;
  let deleted = 0;
  let remaining = -1;
  let passes = 0;
  while (!pastDeadline(limits) && passes < MAX_PASSES) {
    passes++;
    const listedAt = Date.now();
    let owned: MirrorSession[];
    try {
      owned = await deps.sessions.listOwned();
    } catch (error) {
      const cls = classifyError(error);
      logger.warn('could not list owned sessions; trying again', {
        action: 'remove-all', outcome: 'retry', errorCode: cls.code, errorMessage: errorMessageOf(error), reason: cls.reason, pass: passes,
      });
      if (!cls.transient) throw new Error(`cannot list the traffic mirror sessions to remove: ${cls.code}: ${errorMessageOf(error)}`);
      await pause(deps, ROUND_PAUSE_MS);
      continue;
    }
    remaining = owned.length;
    if (owned.length === 0) {
      if (listedAt >= settledAfter) {
        logger.info('removed owned sessions', { action: 'remove-all', outcome: 'complete', deleted, passes });
        return { complete: true, deleted, remaining: 0, passes };
      }
      // Wait for the settle time (or as much of it as the deadline allows), then list again.
      const wait = settledAfter - Date.now();
      if (limits.deadline !== undefined && Date.now() + wait > limits.deadline) break;
      await pause(deps, Math.max(wait, 0));
      continue;
    }
    const result = await runActions(deps, {
      creates: [],
      conflicts: [],
      alreadyMirrored: 0,
      deletes: owned.map(s => ({ sessionId: s.sessionId, networkInterfaceId: s.networkInterfaceId, reason: 'orphaned' as const })),
    }, [], '', limits);
    deleted += result.deleted;
    if (result.permanentFailures > 0) {
      throw new Error(`could not delete ${result.permanentFailures} owned traffic mirror session(s): ${result.errors.slice(0, 3).join('; ')}`);
    }
    if (result.transientFailures > 0) await pause(deps, ROUND_PAUSE_MS);
  }
  logger.info('removal continues in the next invocation', { action: 'remove-all', outcome: 'incomplete', deleted, remaining, passes });
  return { complete: false, deleted, remaining, passes };
}
