/**
 * What the deploy-time enrollment reports to CloudFormation, and when it fails the deployment.
 * No SDK, no aws-cdk-lib; the attribute and property names are the contract's
 * (contract/enrollment-attributes.ts), which the construct reads too.
 */
import { SweepResult } from './operation-deps';
import { FAIL_ON_UNMIRRORED_PROPERTY, NO_FAILURES, REPORT_ATTRIBUTE } from '../../contract/enrollment-attributes';
import { FailureReason } from '../../contract/failure-reason';

/**
 * Reasons a running task is unmirrored that say nothing about whether it can be mirrored: the
 * task stopped between the listing and the create (its ENI is gone), or EC2 throttled (the final
 * sweep has none of these, since a sweep with transient failures does not complete the enrollment).
 */
const NOT_A_REFUSAL: ReadonlySet<string> = new Set([FailureReason.SOURCE_NOT_FOUND, FailureReason.TRANSIENT, FailureReason.SHADOWED]);

/** `Reason=count` pairs in a stable order, or {@link NO_FAILURES}. */
export function formatReasons(byReason: Readonly<Record<string, number>>): string {
  const pairs = Object.entries(byReason).filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length > 0 ? pairs.map(([reason, n]) => `${reason}=${n}`).join(',') : NO_FAILURES;
}

/** The attributes for the sweep that completed the enrollment. */
export function enrollmentReport(result: SweepResult): Record<string, string> {
  const unmirrored = Math.max(result.runningTasks - result.mirroredTasks, 0);
  const byReason = formatReasons(result.failuresByReason);
  const summary = `${result.mirroredTasks} of ${result.runningTasks} running tasks mirrored`
    + (unmirrored > 0 ? `; unmirrored: ${formatReasons(result.unmirroredByReason)}` : '')
    + (result.failures > 0 ? `; failures: ${byReason}` : '; no failures')
    + sidecarHint(result.unmirroredByReason);
  return {
    [REPORT_ATTRIBUTE.RUNNING_TASKS]: String(result.runningTasks),
    [REPORT_ATTRIBUTE.MIRRORED_TASKS]: String(result.mirroredTasks),
    [REPORT_ATTRIBUTE.UNMIRRORED_TASKS]: String(unmirrored),
    [REPORT_ATTRIBUTE.CREATED]: String(result.created),
    [REPORT_ATTRIBUTE.MODIFIED]: String(result.modified),
    [REPORT_ATTRIBUTE.FAILURES]: String(result.failures),
    [REPORT_ATTRIBUTE.FAILURES_BY_REASON]: byReason,
    [REPORT_ATTRIBUTE.SUMMARY]: summary,
  };
}

/**
 * Whether this request checks for unmirrored tasks: on Create, and on an Update that turns the
 * option on. Not on other Updates: when an Update fails, CloudFormation rolls it back with another
 * Update that carries the previous properties and runs against the same EC2 refusal (and, since
 * the custom resource is rolled back before the functions it depends on, the same configuration),
 * so a check there would fail the rollback too and leave the stack in UPDATE_ROLLBACK_FAILED.
 * A failed Create rolls back with a Delete, which removes every owned session and checks nothing.
 */
export function checksUnmirrored(event: Record<string, any>): boolean {
  const on = (properties: unknown) => typeof properties === 'object' && properties !== null
    && String((properties as Record<string, unknown>)[FAIL_ON_UNMIRRORED_PROPERTY]) === 'true';
  if (!on(event.ResourceProperties)) return false;
  if (event.RequestType === 'Create') return true;
  return event.RequestType === 'Update' && !on(event.OldResourceProperties);
}

/**
 * The error that fails the deployment when running tasks could not be mirrored for a reason
 * retrying will not fix, or undefined when there are none.
 */
export function unmirroredError(result: SweepResult, serviceName: string): Error | undefined {
  const refused = Object.fromEntries(Object.entries(result.unmirroredByReason).filter(([reason]) => !NOT_A_REFUSAL.has(reason)));
  const count = Object.values(refused).reduce((sum, n) => sum + n, 0);
  if (count === 0) return undefined;
  const examples = result.unmirroredErrors.slice(0, 3).join('; ');
  return new Error(`${count} of ${result.runningTasks} running tasks of ECS service ${serviceName} could not be mirrored `
    + `for a reason retrying will not fix (${formatReasons(refused)})${examples ? `: ${examples}` : ''}. `
    + 'failDeploymentOnUnmirroredTasks is set, so the deployment fails (a first deployment rolls back and removes the sessions it made); '
    + 'the reconciler\'s logs name every task.' + sidecarHint(refused));
}

/**
 * What to do when EC2 refuses the task network interfaces as mirror sources (AWS documents only
 * RDS and ElastiCache requester-managed interfaces as sources): the capture sidecar, which does not
 * need EC2 to accept them.
 */
function sidecarHint(byReason: Readonly<Record<string, number>>): string {
  return (byReason[FailureReason.SOURCE_UNSUPPORTED] ?? 0) > 0
    ? '. EC2 refused the tasks\' network interfaces as mirror sources: capture them with CaptureMethod.sidecar() instead'
    : '';
}
