import { ArnFormat, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { OWNER_TAG_KEY } from './ownership';
import { suppressNagFindings } from '../nag-suppressions';

/** One target sessions may go to. */
export interface TargetPermission {
  readonly targetId: string;
  /**
   * The account in the target's ARN: the stack's account for a target the construct creates,
   * the owner's account for a target shared with AWS RAM, `*` when that owner is not known.
   * @default - the stack's account
   */
  readonly account?: string;
}

/** What one of the session manager's functions may touch. */
export interface SessionPermissions {
  readonly ownerId: string;
  /** Every target sessions may go to, and nothing else. */
  readonly targets: readonly TargetPermission[];
  readonly filterId: string;
  /** Set for the reconciler, which lists the service's tasks. */
  readonly cluster?: { readonly clusterArn: string; readonly clusterName: string };
  /**
   * Grant `ec2:ModifyTrafficMirrorSession` on owned sessions, to these targets and this filter. Only for
   * the reconciler: only the sweep brings existing sessions to the configuration, the event path
   * never rewrites one.
   * @default false
   */
  readonly modify?: boolean;
}

/**
 * Grants exactly what the session manager calls, scoped to this construct's targets, filter
 * and owner tag. See README "IAM permissions" for why each statement exists.
 */
export function grantSessionManagement(fn: iam.IGrantable & IConstruct, permissions: SessionPermissions): void {
  const { ownerId, filterId, cluster } = permissions;
  const stack = Stack.of(fn);
  const add = (statement: iam.PolicyStatement) => fn.grantPrincipal.addToPrincipalPolicy(statement);
  const ec2Arn = (resource: string, resourceName: string, account?: string) =>
    stack.formatArn({ service: 'ec2', resource, resourceName, account, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const sessionArn = ec2Arn('traffic-mirror-session', '*');
  // A target shared with AWS RAM carries its owner's account in its ARN.
  const targetArns = permissions.targets.map(t => ec2Arn('traffic-mirror-target', t.targetId, t.account));
  const filterArn = ec2Arn('traffic-mirror-filter', filterId);

  add(new iam.PolicyStatement({
    sid: 'CreateSessionFromTaskEniToThisTargetThroughThisFilter',
    actions: ['ec2:CreateTrafficMirrorSession'],
    resources: [ec2Arn('network-interface', '*'), ...targetArns, filterArn],
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
  if (permissions.modify) {
    // EC2 authorizes ModifyTrafficMirrorSession against the session and, when the request names
    // them, the new target and filter. The owner tag condition goes on the session only: on the
    // target and filter it would test their tags and never match, so they get a statement of
    // their own.
    add(new iam.PolicyStatement({
      sid: 'ModifyOnlySessionsThisOwnerCreated',
      actions: ['ec2:ModifyTrafficMirrorSession'],
      resources: [sessionArn],
      conditions: { StringEquals: { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: ownerId } },
    }));
    add(new iam.PolicyStatement({
      sid: 'ModifySessionsOnlyToThisTargetAndFilter',
      actions: ['ec2:ModifyTrafficMirrorSession'],
      resources: [...targetArns, filterArn],
    }));
  }
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
  suppressUnscopableWildcards(fn, !!cluster, permissions);
}

/**
 * The wildcards above are as narrow as IAM allows; tell cdk-nag why, finding by finding, on the
 * function's own policy only, so every other wildcard in it is still reported.
 */
function suppressUnscopableWildcards(fn: iam.IGrantable & IConstruct, withCluster: boolean, permissions: SessionPermissions): void {
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
        + 'tagging is allowed only while creating (ec2:CreateAction), and delete'
        + (permissions.modify ? ' and modify require' : ' requires') + ' the owner tag on the session (aws:ResourceTag).',
      appliesTo: [arnFinding('ec2', 'traffic-mirror-session/\\*')],
    },
    ...(permissions.targets.some(t => t.account === '*') ? [{
      id: 'AwsSolutions-IAM5',
      reason: 'A traffic mirror target was imported without its owner account; a target shared with AWS RAM carries its owner\'s '
        + 'account in its ARN, so the account is any. The target id, unique across accounts, still names exactly one target.',
      // Only the account is a wildcard: the target id is a literal id or a token, never *.
      appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:ec2:(<AWS::Region>|[a-z0-9-]+):\\*:traffic-mirror-target\\/[^*]+$/' }],
    }] : []),
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
