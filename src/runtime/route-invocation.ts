/**
 * Runtime entry: routes one invocation (queue batch, schedule, custom resource) to its operation.
 */
import { classifyError, errorMessageOf } from './core/errors';
import { isObject } from './core/is-object';
import { enrollmentPhysicalId } from './core/physical-id';
import { removedFields } from './core/session-parameters';
import { checksUnmirrored, enrollmentReport, unmirroredError } from './operations/enrollment-report';
import { handleQueueBatch } from './operations/handle-queue-batch';
import { handleTaskEvent } from './operations/handle-task-event';
import { InvocationLimits, OperationDeps, pause } from './operations/operation-deps';
import { removeAll } from './operations/remove-all';
import { scheduledSweep } from './operations/scheduled-sweep';
import { sweep } from './operations/sweep';
import { ENROLLMENT_WORK_LIMIT_MS, SCHEDULED_SWEEP_BUDGET_MS, SETTLE_MS } from '../contract/timing';


/** The part of the Lambda context the session manager reads. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/**
 * Time kept back from the function's timeout: the work in flight when the deadline comes (a
 * round of four EC2 calls with the SDK's retries) must still finish, and the answer go out.
 */
export const DEADLINE_MARGIN_MS = 60_000;

/**
 * Routes one invocation to the right path by the shape of its event. Metrics are flushed after
 * every invocation, whatever happened.
 */
export async function routeInvocation(event: unknown, deps: OperationDeps, context?: InvocationContext): Promise<unknown> {
  // Whole-service work stops starting actions this long before Lambda would stop it.
  const limits: InvocationLimits = context ? { deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS } : {};
  const now = Date.now();
  try {
    if (isObject(event) && Array.isArray(event.Records)) {
      return await handleQueueBatch(event.Records.filter(isObject).map(r => ({ messageId: String(r.messageId), body: String(r.body ?? '') })), deps);
    }
    if (isObject(event) && typeof event.RequestType === 'string') {
      return await handleCustomResource(event, deps, limits);
    }
    if (isObject(event) && event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
      // A scheduled sweep works for a bounded time, so it cannot outlast the settle time of a
      // stack delete or update that begins while it runs; the next one carries on.
      // A sweep a flipped switch started mirrors every task at once: no event is on its way for
      // tasks that were running while mirroring was off.
      return await scheduledSweep(deps, {
        deadline: Math.min(limits.deadline ?? Infinity, now + SCHEDULED_SWEEP_BUDGET_MS),
        immediate: isObject(event.detail) && event.detail.immediate === true,
      });
    }
    // A task state change delivered directly (EventBridge target, or a manual test invoke).
    return await handleTaskEvent(event, deps);
  } finally {
    deps.metrics.flush();
  }
}

/** The Data key the first call returns, which marks every later call as an isComplete poll. */
export const STARTED_AT = 'StartedAt';

/** When the custom resource operation began (epoch ms), or undefined on its first call. */
export function startedAtOf(event: Record<string, any>): number | undefined {
  const startedAt = Number(event.Data?.[STARTED_AT]);
  return Number.isFinite(startedAt) ? startedAt : undefined;
}

/** When an operation that began at `startedAt` must stop working (see {@link ENROLLMENT_WORK_LIMIT_MS}). */
export function workLimitOf(startedAt: number): number {
  return startedAt + ENROLLMENT_WORK_LIMIT_MS;
}

/**
 * CloudFormation lifecycle, through the custom resource provider framework in its
 * asynchronous mode, so work of any size finishes across invocations. The first call (onEvent)
 * only records when the operation started; the framework then calls again (isComplete) every
 * few seconds, and each of those calls works until its deadline and says whether it is done.
 * Every call starts from fresh listings, so no state has to survive between calls.
 *
 * - Create and Update: a sweep enrolls every running task and brings every owned session to
 *   the configuration. Update is complete only after a sweep that started {@link SETTLE_MS}
 *   after the Update began finished all its work: by then no event batch or scheduled sweep
 *   running the previous configuration is still in flight to undo it.
 *   The sweep that completes it is reported as the resource's attributes (operations/enrollment-report.ts);
 *   with `FailOnUnmirroredTasks`, a Create (or the Update that turns it on) fails instead when
 *   running tasks could not be mirrored for a reason retrying will not fix. A sweep with transient
 *   failures never completes, so those are retried by the next poll and never fail it.
 * - Delete: every owned session is removed; a failure retrying cannot fix fails the Delete.
 *
 * Work stops {@link ENROLLMENT_WORK_LIMIT_MS} after the start with an error, before
 * CloudFormation's own timeout: a poll CloudFormation no longer waits for must not go on
 * creating sessions while a rollback removes them.
 */
async function handleCustomResource(event: Record<string, any>, deps: OperationDeps, limits: InvocationLimits) {
  const startedAt = startedAtOf(event);
  if (startedAt === undefined) {
    // An Update or Delete keeps the id CloudFormation has: a new one on Update would make it
    // delete the old resource (and with it every session), and the framework refuses a new one on Delete.
    const physicalResourceId = typeof event.PhysicalResourceId === 'string' && event.PhysicalResourceId
      ? event.PhysicalResourceId : enrollmentPhysicalId(deps.config.ownerId);
    return { PhysicalResourceId: physicalResourceId, Data: { [STARTED_AT]: String(Date.now()) } };
  }
  const workLimit = workLimitOf(startedAt);
  if (Date.now() >= workLimit) {
    throw new Error(`${event.RequestType} of the mirror sessions did not finish within ${ENROLLMENT_WORK_LIMIT_MS / 60_000} minutes; `
      + 'see the reconciler\'s logs. Sessions already made stay; the periodic sweep carries on with the rest.');
  }
  const bounded = { deadline: Math.min(limits.deadline ?? Infinity, workLimit) };
  try {
    return await pollCustomResource(event, deps, bounded, startedAt + SETTLE_MS);
  } catch (error) {
    // The framework fails the resource on any error but its own Retry: a throttled listing is
    // a poll to repeat, not a failed deployment.
    const cls = classifyError(error);
    if (!cls.transient) throw error;
    deps.logger.warn('transient AWS error; the next poll tries again', {
      action: event.RequestType, outcome: 'retry', errorCode: cls.code, errorMessage: errorMessageOf(error),
    });
    return { IsComplete: false };
  }
}

/** One isComplete poll: work until the deadline, then say whether everything is done. */
async function pollCustomResource(event: Record<string, any>, deps: OperationDeps, limits: InvocationLimits, settledAfter: number) {
  if (event.RequestType === 'Delete') {
    const result = await removeAll(deps, { ...limits, settledAfter });
    return result.complete ? { IsComplete: true, Data: { Deleted: String(result.deleted) } } : { IsComplete: false };
  }
  for (;;) {
    const sweptAt = Date.now();
    const result = await sweep(deps, { ...limits, removedFields: removedByUpdate(event) });
    if (result.unfinished > 0 || result.transientFailures > 0) {
      return { IsComplete: false };
    }
    if (event.RequestType !== 'Update' || sweptAt >= settledAfter) {
      const refused = checksUnmirrored(event) ? unmirroredError(result, deps.config.serviceName) : undefined;
      if (refused) {
        deps.logger.error('running tasks could not be mirrored; failing the deployment as configured', {
          action: event.RequestType, outcome: 'failed', ...enrollmentReport(result),
        });
        throw refused;
      }
      return { IsComplete: true, Data: enrollmentReport(result) };
    }
    // Done, but an event batch with the previous configuration may still be in flight: sweep
    // once more after the settle time, here if the deadline allows, else in the next call.
    const wait = settledAfter - Date.now();
    if (limits.deadline !== undefined && Date.now() + wait > limits.deadline) {
      return { IsComplete: false };
    }
    await pause(deps, Math.max(wait, 0));
  }
}

/** The optional session settings an Update took out of the configuration (old vs new properties). */
function removedByUpdate(event: Record<string, any>) {
  if (event.RequestType !== 'Update') return [];
  const properties = (value: unknown) => (isObject(value) ? value : {});
  return removedFields(properties(event.OldResourceProperties), properties(event.ResourceProperties));
}
