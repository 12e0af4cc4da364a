/** Construct-side helper: a least-privilege role for one function. Imports nothing else in src/. */
import { aws_iam as iam, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * A role for exactly one Lambda function that may write only to that function's own log group.
 * Replaces the AWS managed `AWSLambdaBasicExecutionRole`, which allows creating and writing any
 * log group in the account. Never share the role: each function's permissions are granted to
 * its own role, so one function's grants never widen another's.
 */
export function functionRole(scope: Construct, id: string, logGroup: logs.ILogGroup, description: string): iam.Role {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description,
  });
  // The log group exists before the function runs (it is a resource of the stack), so the
  // function needs neither logs:CreateLogGroup nor access to any other group.
  logGroup.grant(role, 'logs:CreateLogStream', 'logs:PutLogEvents');
  return role;
}

/**
 * Narrows a role that aws-cdk-lib created for a function it owns (such as the custom resource
 * provider framework's) to what `functionRole` grants: the AWS managed
 * `AWSLambdaBasicExecutionRole` is removed and the role may write only to `logGroup`, the
 * function's own. Grants aws-cdk-lib made to the role are kept.
 */
export function restrictToOwnLogGroup(role: iam.Role, logGroup: logs.ILogGroup, description: string): void {
  const cfnRole = role.node.defaultChild as iam.CfnRole;
  cfnRole.managedPolicyArns = undefined;
  cfnRole.description = description;
  logGroup.grant(role, 'logs:CreateLogStream', 'logs:PutLogEvents');
}
