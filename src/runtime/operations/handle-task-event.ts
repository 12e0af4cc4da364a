/**
 * Operation: the event path for one task state change (mirror a starting task, clean up a stopped
 * one).
 */
import { failureMessage, mirrorTask } from './mirror-task';
import { OperationDeps } from './operation-deps';
import { taskTagMatches } from '../../contract/ownership';
import { MirrorSession } from '../adapters/mirror-sessions';
import { classifyError, errorMessageOf } from '../core/errors';
import { StopAction, TaskEventAction, parseTaskEvent } from '../core/parse-task-event';
import { isSampled } from '../core/sampling';

/** What one event led to; returned so tests and logs can see it. */
export interface TaskEventOutcome {
  readonly action: 'start' | 'stop' | 'skip';
  /** `ensured`: the task was already mirrored (a duplicate event or a retry); nothing was created. */
  readonly outcome: 'created' | 'ensured' | 'deleted' | 'already-gone' | 'skipped' | 'failed';
  readonly taskArn?: string;
  readonly networkInterfaceId?: string;
  readonly sessionIds?: string[];
  readonly reason?: string;
  readonly errorCode?: string;
}

/**
 * Handles one ECS task state change: creates the task's session when it starts, deletes it
 * when it stops. Transient AWS errors are rethrown so the message is retried (and finally
 * dead-lettered); permanent ones and unusable events are logged once and reported.
 */
export async function handleTaskEvent(event: unknown, deps: OperationDeps): Promise<TaskEventOutcome> {
  return applyTaskAction(parseTaskEvent(event, deps.config), deps);
}

/** Applies an already parsed event; see {@link handleTaskEvent}. */
export async function applyTaskAction(parsed: TaskEventAction, deps: OperationDeps): Promise<TaskEventOutcome> {
  const { sessions, logger, metrics } = deps;
  if (parsed.action === 'skip') {
    if (parsed.awaitingEni && parsed.taskArn) deps.recent?.awaitEni(parsed.taskArn);
    // Foreign or malformed events are warnings: no healthy deployment sends them.
    logger[parsed.rejected ? 'warn' : 'info']('event skipped', { action: 'skip', outcome: 'skipped', reason: parsed.reason, taskArn: parsed.taskArn });
    return { action: 'skip', outcome: 'skipped', reason: parsed.reason, taskArn: parsed.taskArn };
  }

  const { taskArn, networkInterfaceId } = parsed;
  try {
    if (parsed.action === 'start') {
      if (deps.recent?.has(taskArn)) {
        // A later event (a container transition, a duplicate, a redelivery) of a task this container saw mirrored.
        logger.debug('task already mirrored', { action: 'start', outcome: 'ensured', taskArn, networkInterfaceId, lastStatus: parsed.lastStatus });
        return { action: 'start', outcome: 'ensured', taskArn, networkInterfaceId, sessionIds: [] };
      }
      if (!parsed.early && !deps.recent?.isAwaitingEni(taskArn)) {
        // The PENDING event made the session; a lost one is the sweep's to heal (contract/task-states.ts).
        logger.debug('running task left to its PENDING event and the sweep', { action: 'start', outcome: 'skipped', taskArn, networkInterfaceId, lastStatus: parsed.lastStatus });
        return { action: 'start', outcome: 'skipped', taskArn, networkInterfaceId, reason: 'left to the PENDING event and the sweep' };
      }
      const unwanted = !isSampled(taskArn, deps.config.sampling) ? 'not sampled' : (await deps.switchState?.()) === 'off' ? 'switched off' : undefined;
      if (unwanted) {
        logger.debug('task not mirrored', { action: 'start', outcome: 'skipped', reason: unwanted, taskArn });
        return { action: 'start', outcome: 'skipped', taskArn, networkInterfaceId, reason: unwanted };
      }
      const task = { taskArn, networkInterfaceId: parsed.networkInterfaceId, availabilityZone: parsed.availabilityZone };
      const result = await mirrorTask(deps, task);
      if (result.failure) {
        metrics.failure(result.failure.reason);
        logger.error(failureMessage(result.failure.reason), {
          action: 'start',
          outcome: 'failed',
          taskArn,
          networkInterfaceId,
          errorCode: result.failure.code,
          reason: result.failure.reason,
          transient: false,
          availabilityZone: parsed.availabilityZone,
          refusals: result.refusals,
        });
        return { action: 'start', outcome: 'failed', taskArn, networkInterfaceId, reason: result.failure.reason, errorCode: result.failure.code };
      }
      deps.recent?.add(taskArn);
      const outcome = result.created ? 'created' : 'ensured';
      logger.info(result.created ? 'session created' : 'session ensured', {
        action: 'start', outcome, taskArn, networkInterfaceId, sessionId: result.sessionId, targetId: result.targetId, lastStatus: parsed.lastStatus, version: parsed.version,
      });
      return { action: 'start', outcome, taskArn, networkInterfaceId, sessionIds: [result.sessionId!] };
    }

    deps.recent?.delete(taskArn);
    const deleted: string[] = [];
    for (const session of await sessionsOfStoppedTask(parsed, deps)) {
      if (await sessions.delete(session.sessionId)) {
        deleted.push(session.sessionId);
        metrics.sessionDeleted();
      }
    }
    const outcome = deleted.length > 0 ? 'deleted' : 'already-gone';
    logger.info(deleted.length > 0 ? 'session deleted' : 'no session left to delete', { action: 'stop', outcome, taskArn, networkInterfaceId, sessionIds: deleted, lastStatus: parsed.lastStatus, version: parsed.version });
    return { action: 'stop', outcome, taskArn, networkInterfaceId, sessionIds: deleted };
  } catch (error) {
    const cls = classifyError(error);
    const details = {
      action: parsed.action,
      outcome: 'failed',
      taskArn,
      networkInterfaceId,
      errorCode: cls.code,
      reason: cls.reason,
      transient: cls.transient,
      // Not `message`: the logger reserves that key and would drop the AWS error's text.
      errorMessage: errorMessageOf(error),
    };
    metrics.failure(cls.reason);
    if (cls.transient) {
      logger.warn('transient AWS error after SDK retries; failing so the event is retried', details);
      throw error;
    }
    logger.error('permanent AWS error; not retrying', details);
    return { action: parsed.action, outcome: 'failed', taskArn, networkInterfaceId, reason: cls.reason, errorCode: cls.code };
  }
}

/**
 * The owned sessions of a stopped task, found with documented filters only: by the ENI named in
 * the event, or, for an event without one, among every owned session. Both the owner and the
 * task tag are checked here, so no listing, however EC2 filters it, can make one task's stop
 * delete another task's session.
 */
async function sessionsOfStoppedTask(stop: StopAction, deps: OperationDeps): Promise<MirrorSession[]> {
  const { sessions } = deps;
  const candidates = stop.networkInterfaceId
    ? await sessions.listOnInterfaces([stop.networkInterfaceId])
    : await sessions.listOwned();
  return candidates.filter(s => sessions.isOwned(s) && taskTagMatches(s.taskTag, stop.taskArn));
}
