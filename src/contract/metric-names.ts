/**
 * CloudWatch names the session manager publishes under and the construct's `metricXxx()`
 * methods read. Shared, so the two cannot drift apart. No SDK, no aws-cdk-lib.
 */
export const METRIC_NAMESPACE = 'FargateTrafficMirror';
/** Powertools adds this dimension (the service name) to every metric. */
export const SERVICE_DIMENSION = 'service';
export const SERVICE_DIMENSION_VALUE = 'fargate-traffic-mirror';
/** One construct instance's metrics: its owner id. */
export const OWNER_DIMENSION = 'Owner';
/** The stack-wide metrics (IgnoredTriggers): the stack tag of the shared session manager (ownership.ts STACK_TAG_KEY). */
export const STACK_DIMENSION = 'Stack';
/** Failure metrics broken down by reason (see FailureReason). */
export const REASON_DIMENSION = 'Reason';

export const METRIC = {
  SESSIONS_CREATED: 'SessionsCreated',
  SESSIONS_DELETED: 'SessionsDeleted',
  SESSIONS_MODIFIED: 'SessionsModified',
  SESSION_FAILURES: 'SessionFailures',
  RUNNING_TASKS: 'RunningTasks',
  MIRRORED_TASKS: 'MirroredTasks',
  UNMIRRORED_TASKS: 'UnmirroredTasks',
  /** Sessions created on, or moved to, a target in another Availability Zone than their task. */
  CROSS_ZONE_SESSIONS: 'CrossZoneSessions',
  /**
   * Triggers (queue messages, invokes) the functions ignored because they name no service of the
   * stack, or a Delete CloudFormation is not running: forged, or left over from a mirror that is
   * gone. Published with the `service` and `Stack` dimensions (the session manager is the stack's).
   */
  IGNORED_TRIGGERS: 'IgnoredTriggers',
} as const;
