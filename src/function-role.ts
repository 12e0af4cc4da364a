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
