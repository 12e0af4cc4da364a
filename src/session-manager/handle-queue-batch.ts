import { applyTaskAction } from './handle-task-event';
import { MirrorSession } from './mirror-sessions';
import { ReconcilerDeps } from './reconciler';
import { isSampled } from './sampling';
import { StartAction, StopAction, parseTaskEventBody } from './task-event';

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
  // The task's PENDING event is in the batch: it is the first with the ENI, so no look is
  // needed before the create, whichever event is newer.
  return latest.action === 'start' && a.action === 'start' && b.action === 'start' && (a.early || b.early) ? { ...latest, early: true } : latest;
}

/**
 * Handles a batch of task state change events from the queue. Events are grouped by task and
 * only the newest state of each task is applied. A task whose action fails transiently reports
 * all its messages as failed so SQS redelivers them (and finally dead-letters them); malformed
 * and foreign messages are logged and acknowledged.
 */
export async function handleQueueBatch(records: readonly QueueRecord[], deps: ReconcilerDeps): Promise<BatchResponse> {
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
  const checks = await checkedInterfaces([...byTask.values()].map(e => e.action), deps);
  for (const { action, messageIds } of byTask.values()) {
    const seen = action.action === 'start' ? checks.get(action.networkInterfaceId) : undefined;
    if (seen instanceof Error) {
      failures.push(...messageIds);
      continue;
    }
    try {
      await applyTaskAction(action, deps, seen);
    } catch {
      failures.push(...messageIds);
    }
  }
  return { batchItemFailures: failures.map(itemIdentifier => ({ itemIdentifier })) };
}

/**
 * The RUNNING checks of a batch (tasks this container has not seen mirrored) share one listing
 * by the documented `network-interface-id` filter, so a batch of ten checks costs one read, not
 * ten. A failed listing fails only those checks' messages, which SQS then redelivers.
 *
 * @returns per checked ENI, the sessions on it, or the listing's error
 */
async function checkedInterfaces(actions: readonly TaskAction[], deps: ReconcilerDeps): Promise<Map<string, readonly MirrorSession[] | Error>> {
  const enis = actions
    // A task outside the sampled share is skipped without a look.
    .filter((a): a is StartAction => a.action === 'start' && !a.early && !deps.recent?.has(a.taskArn) && isSampled(a.taskArn, deps.config.sampling))
    .map(a => a.networkInterfaceId);
  const checks = new Map<string, readonly MirrorSession[] | Error>();
  // A lone check reads on its own, as an event handled alone would.
  if (enis.length < 2) return checks;
  try {
    const listed = await deps.sessions.listOnInterfaces(enis);
    for (const eni of enis) checks.set(eni, listed.filter(s => s.networkInterfaceId === eni));
  } catch (error) {
    deps.logger.warn('listing the sessions of a batch of RUNNING checks failed; they will be retried', {
      networkInterfaceIds: enis, errorMessage: error instanceof Error ? error.message : String(error),
    });
    for (const eni of enis) checks.set(eni, error instanceof Error ? error : new Error(String(error)));
  }
  return checks;
}
