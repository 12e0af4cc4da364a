import { handleQueueBatch } from './handle-queue-batch';
import { handleTaskEvent } from './handle-task-event';
import { ReconcilerDeps, removeAll, sweep } from './reconciler';

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Routes one invocation to the right path by the shape of its event. Metrics are flushed after
 * every invocation, whatever happened.
 */
export async function route(event: unknown, deps: ReconcilerDeps): Promise<unknown> {
  try {
    if (isObject(event) && Array.isArray(event.Records)) {
      return await handleQueueBatch(event.Records.filter(isObject).map(r => ({ messageId: String(r.messageId), body: String(r.body ?? '') })), deps);
    }
    if (isObject(event) && typeof event.RequestType === 'string') {
      return await handleCustomResource(event, deps);
    }
    if (isObject(event) && event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
      return await sweep(deps);
    }
    // A task state change delivered directly (EventBridge target, or a manual test invoke).
    return await handleTaskEvent(event, deps);
  } finally {
    deps.metrics.flush();
  }
}

/**
 * CloudFormation lifecycle, through the custom resource provider framework. Create and Update
 * enroll every running task at once; Delete removes every owned session. Delete never fails:
 * a failed cleanup is reported in the logs and the response, and must not wedge the stack.
 */
async function handleCustomResource(event: Record<string, any>, deps: ReconcilerDeps) {
  const physicalResourceId = `fargate-traffic-mirror-${deps.config.ownerId}`;
  if (event.RequestType === 'Delete') {
    const result = await removeAll(deps);
    return {
      PhysicalResourceId: physicalResourceId,
      Data: { Deleted: result.deleted, Failures: result.failures, Errors: result.errors.slice(0, 5).join('; ') },
    };
  }
  const result = await sweep(deps);
  return {
    PhysicalResourceId: physicalResourceId,
    Data: { RunningTasks: result.runningTasks, MirroredTasks: result.mirroredTasks, Created: result.created, Failures: result.failures },
  };
}
