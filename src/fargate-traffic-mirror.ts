import {
  Annotations, ArnFormat, Duration, Stack, Token,
  aws_ecs as ecs, aws_events as events, aws_events_targets as targets,
  aws_iam as iam, aws_lambda as lambda, aws_logs as logs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IMirrorFilter, MirrorFilter } from './mirror-filter';
import { MirrorTarget, MirrorTargetKind } from './mirror-target';
import { ENV } from './session-manager/config';
import { OWNER_TAG_KEY, ownerIdFor } from './session-manager/ownership';
import { SessionManagerFunction } from './session-manager/session-manager-function';
import { validateIntegerRange } from './validation';

/** Properties of a {@link FargateTrafficMirror}. */
export interface FargateTrafficMirrorProps {
  /**
   * The ECS service whose tasks are mirrored: a `FargateService` of the same app, or one
   * imported with `FargateService.fromFargateServiceAttributes` (cluster and service name).
   */
  readonly service: ecs.IBaseService;

  /** Where mirrored packets go. */
  readonly target: MirrorTarget;

  /**
   * Which packets are mirrored.
   * @default - a new `MirrorFilter` that accepts all traffic in both directions
   */
  readonly filter?: IMirrorFilter;

  /**
   * Session number (1..32766). A network interface holds at most 3 sessions, each with its own
   * number; the lowest number is evaluated first when packets match several sessions.
   * @default 1
   */
  readonly sessionNumber?: number;

  /**
   * Bytes of each packet to mirror. With a Network Load Balancer target, 1..8500.
   * @default - the whole packet
   */
  readonly packetLength?: number;

  /**
   * VXLAN network identifier stamped on mirrored packets (0..16777215).
   * @default - chosen by AWS, unique in the account
   */
  readonly virtualNetworkId?: number;

  /**
   * Description of every session created, and of the target if one is created.
   * @default - a description naming this library
   */
  readonly description?: string;

  /**
   * How long the session manager's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

const MAX_SESSION_NUMBER = 32766;
const MAX_VNI = 16777215;
const MAX_NLB_PACKET_LENGTH = 8500;
// AWS documents no limit for other targets; packets never exceed the largest jumbo frame
// plus headers, and the API field is an integer, so the 16-bit bound is the honest one.
const MAX_PACKET_LENGTH = 65535;

/**
 * Mirrors every task of an ECS Fargate service to a VPC Traffic Mirroring target.
 *
 * Fargate tasks get a new network interface each time they start, so a static mirror session
 * goes stale at the next deployment. This construct owns an EventBridge rule on the service's
 * task state changes and a session-manager Lambda that creates one session per task's network
 * interface when the task starts and deletes it when the task stops.
 *
 * @example
 * declare const service: ecs.FargateService;
 * declare const nlb: elbv2.NetworkLoadBalancer;
 *
 * new FargateTrafficMirror(this, 'Mirror', {
 *   service,
 *   target: MirrorTarget.networkLoadBalancer(nlb),
 * });
 */
export class FargateTrafficMirror extends Construct {
  /** The id of the traffic mirror target sessions send packets to. */
  public readonly trafficMirrorTargetId: string;
  /** The id of the traffic mirror filter every session uses. */
  public readonly trafficMirrorFilterId: string;
  /** The Lambda function that creates and deletes sessions. */
  public readonly sessionManager: lambda.IFunction;
  /** The EventBridge rule that sends the service's task state changes to the session manager. */
  public readonly rule: events.IRule;
  /**
   * The value of the `fargate-traffic-mirror:owner` tag on every session this construct
   * creates; derived from the stack name and construct path, so it is stable across deploys.
   */
  public readonly ownerId: string;

  constructor(scope: Construct, id: string, props: FargateTrafficMirrorProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const cluster = props.service.cluster as ecs.ICluster | undefined;
    if (!cluster || !cluster.clusterArn) {
      throw new Error(`FargateTrafficMirror '${this.node.path}': service must have a known cluster; import it with FargateService.fromFargateServiceAttributes({ cluster, serviceName })`);
    }
    if (!props.service.serviceName) {
      throw new Error(`FargateTrafficMirror '${this.node.path}': service must have a known service name`);
    }

    const target = props.target.bind(this, { description: props.description });
    validateProps(props, target.kind);
    if (target.kind === MirrorTargetKind.NETWORK_INTERFACE) {
      Annotations.of(this).addWarningV2('cdk-fargate-traffic-mirror:eniTargetSourceLimit',
        'A network interface target accepts at most 10 sources (100 on the largest instance sizes): '
        + 'tasks beyond that are not mirrored. Use a Network Load Balancer or Gateway Load Balancer endpoint target, which have no source limit.');
    }
    this.trafficMirrorTargetId = target.trafficMirrorTargetId;
    this.trafficMirrorFilterId = (props.filter ?? new MirrorFilter(this, 'Filter')).trafficMirrorFilterId;

    // Not Names.uniqueId: that would change if the construct tree above us is refactored in a
    // way that keeps the path, and the owner tag must survive as long as the sessions do.
    this.ownerId = Token.isUnresolved(stack.stackName)
      ? ownerIdFor(stack.node.path, this.node.path)
      : ownerIdFor(stack.stackName, this.node.path);

    const logGroup = new logs.LogGroup(this, 'SessionManagerLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    const fn = new SessionManagerFunction(this, 'SessionManager', {
      description: `Keeps the tasks of ECS service ${props.service.serviceName} mirrored (cdk-fargate-traffic-mirror)`,
      memorySize: 256,
      // The SDK's own retries of a throttled call can take several seconds.
      timeout: Duration.minutes(1),
      logGroup,
      environment: {
        [ENV.OWNER_ID]: this.ownerId,
        [ENV.CLUSTER_ARN]: cluster.clusterArn,
        [ENV.SERVICE_NAME]: props.service.serviceName,
        [ENV.TARGET_ID]: this.trafficMirrorTargetId,
        [ENV.FILTER_ID]: this.trafficMirrorFilterId,
        [ENV.SESSION_NUMBER]: String(props.sessionNumber ?? 1),
        ...(props.packetLength !== undefined ? { [ENV.PACKET_LENGTH]: String(props.packetLength) } : {}),
        ...(props.virtualNetworkId !== undefined ? { [ENV.VIRTUAL_NETWORK_ID]: String(props.virtualNetworkId) } : {}),
        ...(props.description !== undefined ? { [ENV.DESCRIPTION]: props.description } : {}),
        POWERTOOLS_SERVICE_NAME: 'fargate-traffic-mirror',
      },
    });
    this.sessionManager = fn;
    grantSessionManagement(fn, this.ownerId, this.trafficMirrorTargetId, this.trafficMirrorFilterId);

    this.rule = new events.Rule(this, 'TaskStateChange', {
      description: `ECS task state changes of service ${props.service.serviceName}, for traffic mirroring`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [cluster.clusterArn],
          group: [`service:${props.service.serviceName}`],
        },
      },
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(2) })],
    });
  }
}

function validateProps(props: FargateTrafficMirrorProps, kind: MirrorTargetKind): void {
  validateIntegerRange('sessionNumber', props.sessionNumber, 1, MAX_SESSION_NUMBER);
  validateIntegerRange('virtualNetworkId', props.virtualNetworkId, 0, MAX_VNI);
  if (kind === MirrorTargetKind.NETWORK_LOAD_BALANCER) {
    validateIntegerRange('packetLength', props.packetLength, 1, MAX_NLB_PACKET_LENGTH, ' for a Network Load Balancer target');
  } else {
    validateIntegerRange('packetLength', props.packetLength, 1, MAX_PACKET_LENGTH);
  }
}

/**
 * Grants exactly what the session manager calls, scoped to this construct's target, filter
 * and owner tag. See README "IAM permissions" for why each statement exists.
 */
function grantSessionManagement(fn: lambda.IFunction, ownerId: string, targetId: string, filterId: string): void {
  const stack = Stack.of(fn);
  const ec2Arn = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'ec2', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const sessionArn = ec2Arn('traffic-mirror-session', '*');

  fn.addToRolePolicy(new iam.PolicyStatement({
    sid: 'CreateSessionFromTaskEniToThisTargetThroughThisFilter',
    actions: ['ec2:CreateTrafficMirrorSession'],
    resources: [ec2Arn('network-interface', '*'), ec2Arn('traffic-mirror-target', targetId), ec2Arn('traffic-mirror-filter', filterId)],
  }));
  fn.addToRolePolicy(new iam.PolicyStatement({
    sid: 'CreateOnlySessionsTaggedWithThisOwner',
    actions: ['ec2:CreateTrafficMirrorSession'],
    resources: [sessionArn],
    conditions: { StringEquals: { [`aws:RequestTag/${OWNER_TAG_KEY}`]: ownerId } },
  }));
  fn.addToRolePolicy(new iam.PolicyStatement({
    sid: 'TagSessionsOnlyWhileCreatingThem',
    actions: ['ec2:CreateTags'],
    resources: [sessionArn],
    conditions: { StringEquals: { 'ec2:CreateAction': 'CreateTrafficMirrorSession' } },
  }));
  fn.addToRolePolicy(new iam.PolicyStatement({
    sid: 'DeleteOnlySessionsThisOwnerCreated',
    actions: ['ec2:DeleteTrafficMirrorSession'],
    resources: [sessionArn],
    conditions: { StringEquals: { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: ownerId } },
  }));
  fn.addToRolePolicy(new iam.PolicyStatement({
    sid: 'DescribeCallsCannotBeScoped',
    actions: ['ec2:DescribeTrafficMirrorSessions'],
    resources: ['*'],
  }));
}
