import { ArnFormat, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { OWNER_TAG_KEY } from './ownership';
import { suppressNagFindings } from '../nag-suppressions';

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
  suppressUnscopableWildcards(fn, !!cluster);
}

/**
 * The wildcards above are as narrow as IAM allows; tell cdk-nag why, finding by finding, on the
 * function's own policy only, so every other wildcard in it is still reported.
 */
function suppressUnscopableWildcards(fn: iam.IGrantable & IConstruct, withCluster: boolean): void {
  const role = fn.grantPrincipal instanceof iam.Role ? fn.grantPrincipal : undefined;
  const policy = role?.node.tryFindChild('DefaultPolicy');
  if (!policy) {
    return;
  }
  // Region and account are literals in an environment-bound stack, pseudo parameters otherwise.
  const arnFinding = (service: string, resource: string) =>
    ({ regex: `/^Resource::arn:<AWS::Partition>:${service}:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\\d{12}):${resource}$/` });
  suppressNagFindings(policy, [
    {
      id: 'AwsSolutions-IAM5',
      reason: 'ECS creates a task\'s network interface when the task starts, so its id is unknown at deploy time. '
        + 'CreateTrafficMirrorSession is still limited to this construct\'s target and filter, and the new session must carry its owner tag.',
      appliesTo: [arnFinding('ec2', 'network-interface/\\*')],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'EC2 assigns session ids at creation. Create requires the owner tag in the request (aws:RequestTag), '
        + 'tagging is allowed only while creating (ec2:CreateAction), and delete requires the owner tag on the session (aws:ResourceTag).',
      appliesTo: [arnFinding('ec2', 'traffic-mirror-session/\\*')],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'ec2:DescribeTrafficMirrorSessions and ecs:ListTasks support no resource-level permissions; '
        + 'ListTasks is limited to this cluster by the ecs:cluster condition. No other action is granted on Resource *.',
      appliesTo: ['Resource::*'],
    },
    ...(withCluster ? [{
      id: 'AwsSolutions-IAM5',
      reason: 'ECS assigns task ids at launch; DescribeTasks is limited to tasks of this cluster by ARN prefix and the ecs:cluster condition.',
      appliesTo: [arnFinding('ecs', 'task/[^/]+/\\*')],
    }] : []),
  ]);
}
