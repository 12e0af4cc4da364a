import { ArnFormat, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { OWNER_TAG_KEY } from './ownership';

/** What one of the session manager's functions may touch. */
export interface SessionPermissions {
  readonly ownerId: string;
  readonly targetId: string;
  readonly filterId: string;
  /** Set for the reconciler, which lists the service's tasks. */
  readonly cluster?: { readonly clusterArn: string; readonly clusterName: string };
}

/**
 * Grants exactly what the session manager calls, scoped to this construct's target, filter
 * and owner tag. See README "IAM permissions" for why each statement exists.
 */
export function grantSessionManagement(fn: iam.IGrantable & IConstruct, permissions: SessionPermissions): void {
  const { ownerId, targetId, filterId, cluster } = permissions;
  const stack = Stack.of(fn);
  const add = (statement: iam.PolicyStatement) => fn.grantPrincipal.addToPrincipalPolicy(statement);
  const ec2Arn = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'ec2', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const sessionArn = ec2Arn('traffic-mirror-session', '*');

  add(new iam.PolicyStatement({
    sid: 'CreateSessionFromTaskEniToThisTargetThroughThisFilter',
    actions: ['ec2:CreateTrafficMirrorSession'],
    resources: [ec2Arn('network-interface', '*'), ec2Arn('traffic-mirror-target', targetId), ec2Arn('traffic-mirror-filter', filterId)],
  }));
  add(new iam.PolicyStatement({
    sid: 'CreateOnlySessionsTaggedWithThisOwner',
    actions: ['ec2:CreateTrafficMirrorSession'],
    resources: [sessionArn],
    conditions: { StringEquals: { [`aws:RequestTag/${OWNER_TAG_KEY}`]: ownerId } },
  }));
  add(new iam.PolicyStatement({
    sid: 'TagSessionsOnlyWhileCreatingThem',
    actions: ['ec2:CreateTags'],
    resources: [sessionArn],
    conditions: { StringEquals: { 'ec2:CreateAction': 'CreateTrafficMirrorSession' } },
  }));
  add(new iam.PolicyStatement({
    sid: 'DeleteOnlySessionsThisOwnerCreated',
    actions: ['ec2:DeleteTrafficMirrorSession'],
    resources: [sessionArn],
    conditions: { StringEquals: { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: ownerId } },
  }));
  add(new iam.PolicyStatement({
    sid: 'DescribeCallsCannotBeScoped',
    actions: ['ec2:DescribeTrafficMirrorSessions'],
    resources: ['*'],
  }));
  if (cluster) {
    add(new iam.PolicyStatement({
      sid: 'ListTasksOfThisClusterOnly',
      actions: ['ecs:ListTasks'],
      // ListTasks is authorized against container instances; the cluster condition scopes it.
      resources: ['*'],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }));
    add(new iam.PolicyStatement({
      sid: 'DescribeTasksOfThisClusterOnly',
      actions: ['ecs:DescribeTasks'],
      resources: [stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }));
  }
}
