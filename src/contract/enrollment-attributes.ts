/**
 * Contract: the attributes the enrollment custom resource reports and the property that asks it to
 * fail on unmirrored tasks; the construct reads them with `Fn::GetAtt`, the runtime writes them.
 * Imports nothing.
 */

/**
 * The attributes of the enrollment custom resource (the `Data` of the provider framework's final
 * isComplete answer). Every value is a string: CloudFormation refuses a stack output, and a
 * `Fn::Sub` or `Fn::Join`, that takes a non-string attribute, and every key is present on every
 * Create and Update, since a `Fn::GetAtt` of a missing key fails the deployment.
 */
export const REPORT_ATTRIBUTE = {
  RUNNING_TASKS: 'RunningTasks',
  MIRRORED_TASKS: 'MirroredTasks',
  UNMIRRORED_TASKS: 'UnmirroredTasks',
  CREATED: 'Created',
  MODIFIED: 'Modified',
  FAILURES: 'Failures',
  FAILURES_BY_REASON: 'FailuresByReason',
  SUMMARY: 'Summary',
} as const;

/** The custom resource property that asks the enrollment to fail on tasks it cannot mirror. */
export const FAIL_ON_UNMIRRORED_PROPERTY = 'FailOnUnmirroredTasks';

/** What `FailuresByReason` says when nothing failed. */
export const NO_FAILURES = 'none';
