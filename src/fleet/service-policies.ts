/**
 * Construct side: the IAM the shared functions get for each mirrored service (managed policies,
 * least privilege).
 */
import { ArnFormat, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { OWNER_TAG_KEY, STACK_TAG_KEY } from '../contract/ownership';
import { suppressNagFindings } from '../private/nag-suppressions';

/** What one mirrored service's sessions may use: its owner tag, target, filter and cluster. */
export interface ServiceGrant {
  readonly ownerId: string;
  /** Every target the service's sessions may go to (a pool, or a target per zone), and nothing else. */
  readonly targets: readonly TargetGrant[];
  readonly filterId: string;
  readonly cluster: { readonly clusterArn: string; readonly clusterName: string };
  /** The ARN of the service's switch parameter, which both functions read. */
  readonly switchParameterArn: string;
}

/** One target sessions may go to. */
export interface TargetGrant {
  readonly targetId: string;
  /**
   * The account in the target's ARN: the stack's account for a target the construct creates,
   * the owner's account for a target shared with AWS RAM, `*` when that owner is not known.
   * @default - the stack's account
   */
  readonly account?: string;
}

/** The permissions of one of the shared functions. */
export interface ServicePoliciesProps {
  /** The function's own role; only it gets the policies. */
  readonly role: iam.Role;
  /**
   * The reconciler: it also lists the services' tasks and brings owned sessions to the
   * configuration (ModifyTrafficMirrorSession). The event path does neither.
   */
  readonly reconciler: boolean;
  /** The stack tag's value (contract/ownership.ts): sessions carry it, Delete and Modify are scoped to it. */
  readonly stackTag: string;
}

/**
 * Policy characters one service adds with one target (owner id three times, target and filter
 * ARNs twice, cluster ARN twice, switch parameter), and each further target (its ARN in the
 * create and modify statements). `npx projen bench` measures about 480 and 140.
 */
const SERVICE_CHARS = 500;
const TARGET_CHARS = 150;
/**
 * What a managed policy holds for its services. It holds at most 6,144 characters, the fixed
 * statements take about 2,000 (1 service with 1 target measures 2,498), so seven single-target
 * services fit with room to spare. A role takes 10 managed policies by default.
 */
const POLICY_SERVICE_BUDGET = 3500;
/** Single-target services per managed policy. */
export const SERVICES_PER_POLICY = Math.floor(POLICY_SERVICE_BUDGET / SERVICE_CHARS);
/** Targets one mirror may have, so that its service alone fits in a managed policy. */
export const MAX_TARGETS_PER_SERVICE = 1 + Math.floor((POLICY_SERVICE_BUDGET - SERVICE_CHARS) / TARGET_CHARS);

/** The estimated characters a service adds to a managed policy. */
function policyCharsOf(grant: ServiceGrant): number {
  return SERVICE_CHARS + TARGET_CHARS * Math.max(0, grant.targets.length - 1);
}
/**
 * Mirrored services one stack can hold. Each queue's policy lists every service's rule ARN (up
 * to about 110 characters each) in one statement, and SQS takes 8,192 bytes per queue policy
 * (Amazon SQS quotas); 50 rules take about 6 KB. The roles' managed policies would allow 70.
 */
export const MAX_SERVICES_PER_STACK = 50;

/**
 * The IAM of one shared function, scoped to exactly the services registered with it: sessions
 * may be created only with a registered owner tag, from a task ENI to a registered target
 * through a registered filter, and deleted or modified only when they carry a registered owner
 * tag. Statements list the services side by side, so their size grows with the services; they
 * go into managed policies of as many services as fit (seven with one target each), attached to the role.
 * Which service an invocation works for is checked in code (each session's owner tag): IAM
 * cannot tell the services of one function apart, and confines the function to this stack's
 * mirrors.
 */
export class ServicePolicies extends Construct {
  private chunk?: { readonly services: ServiceGrant[]; readonly grow: (grant: ServiceGrant) => void; chars: number };
  private policies = 0;

  constructor(scope: Construct, id: string, private readonly props: ServicePoliciesProps) {
    super(scope, id);
  }

  /** Grants the function what one more mirrored service needs. */
  public add(grant: ServiceGrant): void {
    const chars = policyCharsOf(grant);
    if (!this.chunk || this.chunk.chars + chars > POLICY_SERVICE_BUDGET) {
      this.chunk = { ...this.newPolicy(), chars: 0 };
    }
    this.chunk.chars += chars;
    this.chunk.services.push(grant);
    this.chunk.grow(grant);
  }

  /** A managed policy whose statements grow with each service added to it. */
  private newPolicy(): { services: ServiceGrant[]; grow: (grant: ServiceGrant) => void } {
    const stack = Stack.of(this);
    const n = ++this.policies;
    const ec2Arn = (resource: string, resourceName: string, account?: string) =>
      stack.formatArn({ service: 'ec2', resource, resourceName, account, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const sessionArn = ec2Arn('traffic-mirror-session', '*');
    const statement = (sid: string, actions: string[], resources: string[]) => new iam.PolicyStatement({ sid, actions, resources });

    const createFrom = statement('CreateSessionFromTaskEniToTheseTargetsThroughTheseFilters', ['ec2:CreateTrafficMirrorSession'],
      [ec2Arn('network-interface', '*')]);
    const createOwned = statement('CreateOnlySessionsTaggedWithTheseOwners', ['ec2:CreateTrafficMirrorSession'], [sessionArn]);
    createOwned.addCondition('StringEquals', { [`aws:RequestTag/${STACK_TAG_KEY}`]: this.props.stackTag });
    const tag = statement('TagSessionsOnlyWhileCreatingThem', ['ec2:CreateTags'], [sessionArn]);
    tag.addCondition('StringEquals', { 'ec2:CreateAction': 'CreateTrafficMirrorSession' });
    // Delete and modify are scoped to the stack tag, a constant: the update that removes a mirror
    // (or moves it to another construct path) changes the owner lists below in its update phase,
    // and only then, in the cleanup phase, runs the removed mirror's Delete. The owner lists
    // remain for sessions created before sessions carried the stack tag.
    const deleteInStack = statement('DeleteOnlySessionsOfThisStack', ['ec2:DeleteTrafficMirrorSession'], [sessionArn]);
    deleteInStack.addCondition('StringEquals', { [`aws:ResourceTag/${STACK_TAG_KEY}`]: this.props.stackTag });
    const deleteOwned = statement('DeleteOnlySessionsTheseOwnersCreated', ['ec2:DeleteTrafficMirrorSession'], [sessionArn]);
    const describe = statement('DescribeCallsCannotBeScoped', ['ec2:DescribeTrafficMirrorSessions'], ['*']);
    const readSwitches = statement('ReadTheseServicesSwitches', ['ssm:GetParameter'], []);
    const statements = [createFrom, createOwned, tag, deleteInStack, deleteOwned, describe, readSwitches];
    // EC2 authorizes ModifyTrafficMirrorSession against the session and, when the request names
    // them, the new target and filter. The owner tag condition goes on the session only: on the
    // target and filter it would test their tags and never match. ListTasks is authorized
    // against container instances; the cluster condition scopes it.
    const modifyInStack = statement('ModifyOnlySessionsOfThisStack', ['ec2:ModifyTrafficMirrorSession'], [sessionArn]);
    modifyInStack.addCondition('StringEquals', { [`aws:ResourceTag/${STACK_TAG_KEY}`]: this.props.stackTag });
    const modifyOwned = statement('ModifyOnlySessionsTheseOwnersCreated', ['ec2:ModifyTrafficMirrorSession'], [sessionArn]);
    const modifyTo = statement('ModifySessionsOnlyToTheseTargetsAndFilters', ['ec2:ModifyTrafficMirrorSession'], []);
    const listTasks = statement('ListTasksOfTheseClustersOnly', ['ecs:ListTasks'], ['*']);
    const describeTasks = statement('DescribeTasksOfTheseClustersOnly', ['ecs:DescribeTasks'], []);
    if (this.props.reconciler) statements.push(modifyInStack, modifyOwned, modifyTo, listTasks, describeTasks);

    const services: ServiceGrant[] = [];
    const unique = (of: (s: ServiceGrant) => string) => [...new Set(services.map(of))];
    const grow = (grant: ServiceGrant) => {
      // A target or filter shared by several services is listed once (same id, same token).
      const filter = ec2Arn('traffic-mirror-filter', grant.filterId);
      const isNew = (of: (s: ServiceGrant) => string) => services.filter(s => of(s) === of(grant)).length === 1;
      // A target or filter shared by several services is listed once.
      const known = new Set(services.slice(0, -1).flatMap(s => s.targets.map(t => `${t.targetId}|${t.account}`)));
      const newTargets = [...new Map(grant.targets.map(t => [`${t.targetId}|${t.account}`, t])).entries()].filter(([key]) => !known.has(key));
      if (newTargets.some(([, t]) => t.account === '*') && ![...known].some(key => key.endsWith('|*'))) suppressAnyTargetAccount(policy);
      const newFilter = isNew(s => s.filterId);
      for (const st of this.props.reconciler ? [createFrom, modifyTo] : [createFrom]) {
        for (const [, t] of newTargets) st.addResources(ec2Arn('traffic-mirror-target', t.targetId, t.account));
        if (newFilter) st.addResources(filter);
      }
      readSwitches.addResources(grant.switchParameterArn);
      const owners = unique(s => s.ownerId);
      createOwned.addCondition('StringEquals', { [`aws:RequestTag/${OWNER_TAG_KEY}`]: owners });
      deleteOwned.addCondition('StringEquals', { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: owners });
      modifyOwned.addCondition('StringEquals', { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: owners });
      const clusters = unique(s => s.cluster.clusterArn);
      listTasks.addCondition('ArnEquals', { 'ecs:cluster': clusters });
      describeTasks.addCondition('ArnEquals', { 'ecs:cluster': clusters });
      if (isNew(s => s.cluster.clusterArn)) {
        describeTasks.addResources(stack.formatArn({
          service: 'ecs', resource: 'task', resourceName: `${grant.cluster.clusterName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }));
      }
    };
    // Made before the statements grow; they render at synthesis.
    const policy: iam.ManagedPolicy = new iam.ManagedPolicy(this, `Services${n}`, {
      description: `${this.props.reconciler ? 'Reconciler' : 'Session manager'} of cdk-fargate-traffic-mirror: mirrored services, part ${n}`,
      statements,
      roles: [this.props.role],
    });
    suppressUnscopableWildcards(policy, this.props.reconciler);
    return { services, grow };
  }
}

/**
 * The wildcards above are as narrow as IAM allows; tell cdk-nag why, finding by finding, on
 * this policy only, so every other wildcard is still reported.
 */
function suppressUnscopableWildcards(policy: iam.ManagedPolicy, reconciler: boolean): void {
  // Region and account are literals in an environment-bound stack, pseudo parameters otherwise.
  const arnFinding = (service: string, resource: string) =>
    ({ regex: `/^Resource::arn:<AWS::Partition>:${service}:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\\d{12}):${resource}$/` });
  suppressNagFindings(policy, [
    {
      id: 'AwsSolutions-IAM5',
      reason: 'ECS creates a task\'s network interface when the task starts, so its id is unknown at deploy time. '
        + 'CreateTrafficMirrorSession is still limited to the mirrored services\' targets and filters, and the new session must carry one of their owner tags.',
      appliesTo: [arnFinding('ec2', 'network-interface/\\*')],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'EC2 assigns session ids at creation. Create requires an owner tag of a mirrored service in the request (aws:RequestTag), '
        + 'tagging is allowed only while creating (ec2:CreateAction), and delete'
        + (reconciler ? ' and modify require' : ' requires') + ' such an owner tag on the session (aws:ResourceTag).',
      appliesTo: [arnFinding('ec2', 'traffic-mirror-session/\\*')],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'ec2:DescribeTrafficMirrorSessions and ecs:ListTasks support no resource-level permissions; '
        + 'ListTasks is limited to the mirrored services\' clusters by the ecs:cluster condition. No other action is granted on Resource *.',
      appliesTo: ['Resource::*'],
    },
    ...(reconciler ? [{
      id: 'AwsSolutions-IAM5',
      reason: 'ECS assigns task ids at launch; DescribeTasks is limited to tasks of the mirrored services\' clusters by ARN prefix and the ecs:cluster condition.',
      appliesTo: [arnFinding('ecs', 'task/[^/]+/\\*')],
    }] : []),
  ]);
}

/** A target imported without its owner account has `*` for the account in its ARN: say why once per policy. */
function suppressAnyTargetAccount(policy: iam.ManagedPolicy): void {
  suppressNagFindings(policy, [{
    id: 'AwsSolutions-IAM5',
    reason: 'A traffic mirror target was imported without its owner account; a target shared with AWS RAM carries its owner\'s '
      + 'account in its ARN, so the account is any. The target id, unique across accounts, still names exactly one target.',
    // Only the account is a wildcard: the target id is a literal id or a token, never *.
    appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:ec2:(<AWS::Region>|[a-z0-9-]+):\\*:traffic-mirror-target\\/[^*]+$/' }],
  }]);
}
