/**
 * Contract: why a task could not be mirrored, as the runtime logs it and publishes it as the
 * `Reason` metric dimension, and as the construct's metric methods and reports read it. Imports nothing.
 */

/** Why a session could not be created or deleted; used in logs and as a metric dimension. */
export enum FailureReason {
  /** EC2 throttled us or answered 5xx, or the network failed, after the SDK's own retries. */
  TRANSIENT = 'Transient',
  /** The source ENI no longer exists (the task stopped first). */
  SOURCE_NOT_FOUND = 'SourceNotFound',
  /** EC2 refused the ENI as a mirror source. */
  SOURCE_UNSUPPORTED = 'SourceUnsupported',
  /** The ENI already has the maximum of 3 sessions. */
  SOURCE_SESSION_LIMIT = 'SourceSessionLimit',
  /** The target already has the maximum number of sources (ENI targets: 10). */
  TARGET_SOURCES_LIMIT = 'TargetSourcesLimit',
  /**
   * No target the task may use accepted it: each was full or gone, the task's zone has no target
   * and crossing zones is not allowed, or the task's zone is unknown. A later sweep tries again.
   */
  NO_USABLE_TARGET = 'NoUsableTarget',
  /** Another session on the ENI already uses our session number. */
  SESSION_NUMBER_IN_USE = 'SessionNumberInUse',
  /** The account reached its limit of traffic mirror sessions. */
  ACCOUNT_SESSION_LIMIT = 'AccountSessionLimit',
  /** The traffic mirror target does not exist. */
  TARGET_NOT_FOUND = 'TargetNotFound',
  /** The traffic mirror filter does not exist. */
  FILTER_NOT_FOUND = 'FilterNotFound',
  /** IAM denied the call. */
  ACCESS_DENIED = 'AccessDenied',
  /** A ClientToken was reused with other parameters (configuration changed for an ENI). */
  IDEMPOTENCY_MISMATCH = 'IdempotencyMismatch',
  /** Any other client error. */
  OTHER = 'Other',
  /**
   * The task has a session of ours, but another tool's session with a lower number sits on the
   * same ENI: EC2 evaluates sessions in number order and the first whose filter matches mirrors
   * a packet, so ours may get none. Reported, not counted as mirrored; not a refusal.
   */
  SHADOWED = 'Shadowed',
}
