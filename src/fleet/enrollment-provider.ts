/**
 * Construct side: the stack's one custom-resource provider that runs the reconciler on deploy and
 * delete.
 */
import { Stack, aws_iam as iam, aws_lambda as lambda, aws_logs as logs, aws_stepfunctions as sfn, custom_resources as cr, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ENROLLMENT_QUERY_INTERVAL_SEC, ENROLLMENT_TOTAL_TIMEOUT_SEC } from '../contract/timing';
import { restrictToOwnLogGroup } from '../private/function-role';
import { suppressNagFindings } from '../private/nag-suppressions';

// The enrollment is asynchronous: after onEvent, the provider framework's waiter asks the
// reconciler every 10 s whether the enrollment is complete. The handler gives up 50 minutes
// after the start (ENROLLMENT_WORK_LIMIT_MS), before CloudFormation's ServiceTimeout (3600 s,
// the maximum); the waiter's own retry budget is larger and only a backstop.
const ENROLLMENT_QUERY_INTERVAL = Duration.seconds(ENROLLMENT_QUERY_INTERVAL_SEC);
const ENROLLMENT_TOTAL_TIMEOUT = Duration.seconds(ENROLLMENT_TOTAL_TIMEOUT_SEC);

/**
 * The custom resource provider that calls the reconciler on deploy and delete, asynchronously:
 * onEvent once, then isComplete every 10 seconds until the reconciler reports completion. Each
 * of the framework's three functions (onEvent, isComplete, onTimeout) has a role of its own that
 * may write only to its own log group, which keeps the configured retention, and runs on the
 * same Node.js runtime as our functions; the waiter state machine logs to a log group with the
 * same retention.
 */
export function enrollmentProvider(scope: Construct, reconciler: lambda.Function, logRetention: logs.RetentionDays): cr.Provider {
  const stack = Stack.of(scope);
  const waiterLogs = new logs.LogGroup(scope, 'EnrollmentWaiterLogs', {
    retention: logRetention,
    // Step Functions logs through CloudWatch Logs vended log delivery: under this prefix no
    // entry is added to the account's size-limited log resource policy. The reconciler's
    // physical name makes the name unique per deployment, so a retained group never blocks a
    // new one.
    logGroupName: `/aws/vendedlogs/states/${reconciler.functionName}-enrollment`,
  });
  const onEventLogs = new logs.LogGroup(scope, 'EnrollmentProviderLogs', { retention: logRetention });
  // No `role`: at our aws-cdk-lib floor the Provider would share it between its three functions,
  // and with isComplete that is a dependency cycle (aws/aws-cdk#20360). Each function gets the
  // Provider's default role of its own instead, trimmed below.
  const provider = new cr.Provider(scope, 'EnrollmentProvider', {
    onEventHandler: reconciler,
    // The same function: the reconciler tells the two calls apart itself.
    isCompleteHandler: reconciler,
    queryInterval: ENROLLMENT_QUERY_INTERVAL,
    totalTimeout: ENROLLMENT_TOTAL_TIMEOUT,
    logGroup: onEventLogs,
    // Every state transition, but not the execution data: the input carries the pre-signed
    // response URL of the CloudFormation request.
    waiterStateMachineLogOptions: { destination: waiterLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });

  const reconcilerArnFinding = `Resource::<${stack.getLogicalId(reconciler.node.defaultChild as lambda.CfnFunction)}.Arn>:*`;
  const frameworkFunctions: Array<[string, string, logs.ILogGroup]> = [
    ['onEvent', 'invokes the reconciler and starts the waiter', onEventLogs],
    ['isComplete', 'invokes the reconciler', new logs.LogGroup(scope, 'EnrollmentIsCompleteLogs', { retention: logRetention })],
    ['onTimeout', 'answers CloudFormation when the waiter times out', new logs.LogGroup(scope, 'EnrollmentOnTimeoutLogs', { retention: logRetention })],
  ];
  for (const [name, job, logGroup] of frameworkFunctions) {
    const fn = provider.node.findChild(`framework-${name}`) as lambda.Function;
    const cfn = fn.node.defaultChild as lambda.CfnFunction;
    // aws-cdk-lib picks nodejs20.x (end of life) at our floor; the framework's code uses only
    // Node.js built-ins and the SDK v3 every Node.js runtime ships, so it runs unchanged on 22.
    cfn.runtime = reconciler.runtime.name;
    // The Provider sends all three to one log group; each gets its own.
    cfn.loggingConfig = { logGroup: logGroup.logGroupName };
    const role = fn.role;
    if (!(role instanceof iam.Role)) {
      throw new Error(`FargateTrafficMirror '${scope.node.path}': the provider framework's ${name} function has no role of its own to restrict`);
    }
    restrictToOwnLogGroup(role, logGroup, `Custom resource provider (${name}: ${job}) of cdk-fargate-traffic-mirror`);
    suppressNagFindings(role.node.findChild('DefaultPolicy'), [{
      id: 'AwsSolutions-IAM5',
      reason: `The provider framework's ${name} function may invoke the reconciler function (aws-cdk-lib grants it to all three), and Lambda `
        + 'authorizes invocations of its versions and aliases as <function ARN>:*; the grant names this one function and nothing else.',
      appliesTo: [reconcilerArnFinding],
    }]);
  }

  const waiter = provider.node.findChild('waiter-state-machine');
  const frameworkArnFinding = (name: string) =>
    `Resource::<${stack.getLogicalId(provider.node.findChild(`framework-${name}`).node.defaultChild as lambda.CfnFunction)}.Arn>:*`;
  suppressNagFindings(waiter.node.findChild('Role').node.findChild('DefaultPolicy'), [
    ...['isComplete', 'onTimeout'].map(name => ({
      id: 'AwsSolutions-IAM5',
      reason: `The waiter state machine invokes the provider framework's ${name} function, and Lambda authorizes invocations `
        + 'of its versions and aliases as <function ARN>:*; the grant names this one function and nothing else.',
      appliesTo: [frameworkArnFinding(name)],
    })),
    {
      id: 'AwsSolutions-IAM5',
      reason: 'Step Functions logs through CloudWatch Logs log delivery, whose actions (CreateLogDelivery, GetLogDelivery, '
        + 'UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) '
        + 'support no resource-level permissions; aws-cdk-lib grants the policy the Step Functions documentation gives for logging.',
      appliesTo: ['Resource::*'],
    },
  ]);
  suppressNagFindings(waiter.node.findChild('Resource'), [{
    id: 'AwsSolutions-SF2',
    reason: 'The waiter only calls the provider framework\'s isComplete function every 10 seconds; every transition is logged '
      + '(level ALL) and the reconciler logs its own work, so X-Ray tracing would add permissions on Resource * and no information.',
  }]);
  return provider;
}
