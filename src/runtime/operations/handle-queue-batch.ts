/**
 * Operation: one SQS batch of task state changes, newest event per task, partial batch failures.
 */
import { applyTaskAction } from './handle-task-event';
import { OperationDeps } from './operation-deps';
import { StartAction, StopAction, parseTaskEventBody } from '../core/parse-task-event';

/** The parts of an SQS record the session manager reads. */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
}

/** SQS partial batch response: only the failed messages are retried. */
export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

type TaskAction = StartAction | StopAction;

/**
 * Which of two events about one task wins. A stop always beats a start (a task never comes
 * back); otherwise the higher `detail.version` wins. Duplicates and late events therefore never
 * undo a newer state within a batch.
 */
function newer(a: TaskAction, b: TaskAction): TaskAction {
  if (a.action !== b.action) return a.action === 'stop' ? a : b;
  const latest = (b.version ?? -1) > (a.version ?? -1) ? b : a;
  // The task's PENDING event is in the batch: it is the first with the ENI, so the task is
  // created from it even when a RUNNING event (which takes no action) is newer.
  return latest.action === 'start' && a.action === 'start' && b.action === 'start' && (a.early || b.early) ? { ...latest, early: true } : latest;
}

/**
 * Handles a batch of task state change events from the queue. Events are grouped by task and
 * only the newest state of each task is applied. A task whose action fails transiently reports
 * all its messages as failed so SQS redelivers them (and finally dead-letters them); malformed
 * and foreign messages are logged and acknowledged.
 */
export async function handleQueueBatch(records: readonly QueueRecord[], deps: OperationDeps): Promise<BatchResponse> {
  const byTask = new Map<string, { action: TaskAction; messageIds: string[] }>();

  for (const record of records) {
    // Oversized, non-JSON, foreign and malformed messages can never succeed: log and acknowledge.
    const parsed = parseTaskEventBody(record.body, deps.config);
    if (parsed.action === 'skip') {
      await applyTaskAction(parsed, deps);
      continue;
    }
    const entry = byTask.get(parsed.taskArn);
    if (entry) {
      entry.action = newer(entry.action, parsed);
      entry.messageIds.push(record.messageId);
    } else {
      byTask.set(parsed.taskArn, { action: parsed, messageIds: [record.messageId] });
    }
  }

  const failures: string[] = [];
  for (const { action, messageIds } of byTask.values()) {
    try {
      await applyTaskAction(action, deps);
    } catch {
      failures.push(...messageIds);
    }
  }
  return { batchItemFailures: failures.map(itemIdentifier => ({ itemIdentifier })) };
}

