import { Logger } from '@aws-lambda-powertools/logger';
import { SessionManagerConfig } from './config';
import { classifyError } from './errors';
import { MirrorSessions } from './mirror-sessions';
import { parseTaskEvent } from './task-event';

/** What one event led to; returned by the handler so tests and logs can see it. */
export interface TaskEventOutcome {
  readonly action: 'start' | 'stop' | 'skip';
  readonly outcome: 'created' | 'deleted' | 'already-gone' | 'skipped' | 'failed';
  readonly taskArn?: string;
  readonly networkInterfaceId?: string;
  readonly sessionIds?: string[];
  readonly reason?: string;
  readonly errorCode?: string;
}

/** Everything the event path needs, injected so tests can use real SDK clients on fakes. */
export interface TaskEventDeps {
  readonly config: SessionManagerConfig;
  readonly sessions: MirrorSessions;
  readonly logger: Logger;
}

/**
 * Handles one ECS task state change: creates the task's session when it starts, deletes it
 * when it stops. Transient AWS errors are rethrown so the invocation fails and is retried;
 * permanent ones and unusable events are logged once and reported in the outcome.
 */
export async function handleTaskEvent(event: unknown, deps: TaskEventDeps): Promise<TaskEventOutcome> {
  const { config, sessions, logger } = deps;
  const parsed = parseTaskEvent(event, config);

  if (parsed.action === 'skip') {
    logger.info('event skipped', { action: 'skip', outcome: 'skipped', reason: parsed.reason, taskArn: parsed.taskArn });
    return { action: 'skip', outcome: 'skipped', reason: parsed.reason, taskArn: parsed.taskArn };
  }

  const { taskArn, networkInterfaceId } = parsed;
  try {
    if (parsed.action === 'start') {
      const sessionId = await sessions.create(parsed.networkInterfaceId, taskArn);
      logger.info('session created', { action: 'start', outcome: 'created', taskArn, networkInterfaceId, sessionId, lastStatus: parsed.lastStatus });
      return { action: 'start', outcome: 'created', taskArn, networkInterfaceId, sessionIds: [sessionId] };
    }

    const owned = await sessions.findOwnedByTask(taskArn);
    const deleted: string[] = [];
    for (const session of owned) {
      if (await sessions.delete(session.sessionId)) {
        deleted.push(session.sessionId);
      }
    }
    const outcome = deleted.length > 0 ? 'deleted' : 'already-gone';
    logger.info(deleted.length > 0 ? 'session deleted' : 'no session left to delete', { action: 'stop', outcome, taskArn, networkInterfaceId, sessionIds: deleted, lastStatus: parsed.lastStatus });
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
      message: error instanceof Error ? error.message : String(error),
    };
    if (cls.transient) {
      logger.warn('transient AWS error after SDK retries; failing the invocation so it is retried', details);
      throw error;
    }
    logger.error('permanent AWS error; not retrying', details);
    return { action: parsed.action, outcome: 'failed', taskArn, networkInterfaceId, reason: cls.reason, errorCode: cls.code };
  }
}
