/**
 * The time limits the construct configures and the handler works within. Shared, so the two
 * cannot drift apart; no SDK, no aws-cdk-lib. Stack delete and configuration changes are safe
 * only because every invocation that could still create or modify a session after the event
 * path and the schedule are gone (or changed) ends within {@link SETTLE_MS}.
 */

/** Task state changes the event source mapping hands the event function at once. */
export const EVENT_BATCH_SIZE = 10;
/**
 * The queue's event source never runs more than this many session managers at once (few, so a
 * deployment burst does not become an EC2 throttling storm); a reservation below would throttle it.
 */
export const EVENT_SOURCE_MAX_CONCURRENCY = 2;
/**
 * A queue with no more task state changes waiting than one round of polls takes keeps up: an
 * event in it is handled within seconds, so a task {@link IDLE_HEAL_AGE_MS} old without a
 * session lost its events. More waiting is a backlog (a burst) whose events may still come.
 */
export const KEEPING_UP_BACKLOG = EVENT_BATCH_SIZE * EVENT_SOURCE_MAX_CONCURRENCY;

/** The event path's function timeout: a batch of task state changes. */
export const EVENT_TIMEOUT_SEC = 60;
/**
 * The event queue's visibility timeout: six times the function's, as AWS advises for SQS event
 * sources, so a message is not received again while a throttled or retried invocation still runs.
 */
export const EVENT_QUEUE_VISIBILITY_TIMEOUT_SEC = 6 * EVENT_TIMEOUT_SEC;
/** The reconciler's function timeout, Lambda's maximum. */
export const RECONCILER_TIMEOUT_SEC = 15 * 60;
/**
 * How long Lambda keeps a scheduled sweep's event in its asynchronous queue (the minimum Lambda
 * allows). Without it, a throttled invocation is retried for up to six hours, whatever the
 * retry attempts say, and could start a sweep long after the schedule is gone.
 */
export const RECONCILER_MAX_EVENT_AGE_SEC = 60;
/**
 * How long a scheduled sweep keeps starting actions. A sweep of thousands of actions carries
 * on in the next one (every `reconcileInterval`); bounding each keeps {@link SETTLE_MS} short.
 * The enrollment is not bound by this: it works across the provider framework's polls.
 */
export const SCHEDULED_SWEEP_BUDGET_MS = 45_000;
/**
 * A sweep a flipped switch started works in chunks of {@link SCHEDULED_SWEEP_BUDGET_MS}: one that
 * leaves work starts the next (an asynchronous invoke of the reconciler), while the stack is not
 * being deleted, rolled back or cleaned up, so the flip is carried out whole without the
 * schedule. At EC2's 5 writes per second a chunk does about 225 writes; this many cover the
 * account's 10,000 sessions with room for throttling.
 */
export const MAX_SWEEP_CHUNKS = 60;
/** An action started just before a deadline still runs, with the SDK's retries. */
export const ACTION_GRACE_MS = 30_000;
/**
 * After the event path and the schedule are removed (stack delete) or changed (update), a
 * session may still be created or modified by an event batch already running (at most the
 * event timeout), or by a scheduled sweep that started before, or whose event was queued
 * before and starts up to the maximum event age later (at most its budget), plus an action in
 * flight. A listing that starts this long after is final.
 */
export const SETTLE_MS = Math.max(EVENT_TIMEOUT_SEC * 1000, RECONCILER_MAX_EVENT_AGE_SEC * 1000 + SCHEDULED_SWEEP_BUDGET_MS) + ACTION_GRACE_MS;

/**
 * A scheduled sweep creates sessions only for tasks its events had time to reach. While the
 * event queue keeps up ({@link KEEPING_UP_BACKLOG}), a task created this long ago without a
 * session lost its events (or they are in a batch being handled, or one whose function died), so
 * the sweep mirrors it now: EventBridge delivers in well under a second, and ECS emits PENDING
 * within seconds of the ENI's attachment.
 */
export const IDLE_HEAL_AGE_MS = 30_000;
/**
 * While the event queue holds a backlog, a younger task's PENDING event may still be in it:
 * creating its session from the sweep as well would cost a second write (and a read on the
 * event path), which bursts cannot afford. Such tasks are left to their events this long.
 */
export const BUSY_HEAL_AGE_MS = 5 * 60_000;

/** CloudFormation's custom resource timeout (`ServiceTimeout`), its maximum. */
export const ENROLLMENT_SERVICE_TIMEOUT_SEC = 3600;
/** Interval of the provider framework's isComplete polls. */
export const ENROLLMENT_QUERY_INTERVAL_SEC = 10;
/**
 * How long an enrollment or removal may work, from its start. Well inside the service timeout,
 * so it fails with its own message (and stops for good) before CloudFormation gives up on it:
 * no orphaned poll goes on creating sessions while a rollback removes them.
 */
export const ENROLLMENT_WORK_LIMIT_MS = 50 * 60_000;
/** The waiter's retry budget: polls at the query interval for the work limit and a margin. */
export const ENROLLMENT_TOTAL_TIMEOUT_SEC = 55 * 60;
