import {
  Annotations, CfnOutput, Duration, Stack, Token, Tokenization,
  aws_cloudwatch as cloudwatch, aws_ecs as ecs, aws_events as events, aws_iam as iam, aws_lambda as lambda, aws_logs as logs, aws_sqs as sqs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ServiceEnrollment } from './fleet/service-enrollment';
import { MAX_TARGETS_PER_SERVICE } from './fleet/service-policies';
import { ServiceWiring } from './fleet/service-wiring';
import { SharedSessionManager } from './fleet/shared-session-manager';
import { IMirrorFilter, MirrorFilter } from './mirror-filter';
import { MirrorTarget, MirrorTargetConfig, MirrorTargetKind } from './mirror-target';
import { ENV } from './session-manager/config';
import { FAIL_ON_UNMIRRORED_PROPERTY, REPORT_ATTRIBUTE } from './session-manager/enrollment-report';
import { FailureReason } from './session-manager/errors';
import { METRIC, METRIC_NAMESPACE, OWNER_DIMENSION, REASON_DIMENSION, SERVICE_DIMENSION, SERVICE_DIMENSION_VALUE } from './session-manager/metric-names';
import { switchStateOf } from './session-manager/mirror-switch';
import { ownerIdFor } from './session-manager/ownership';
import { formatTargets } from './session-manager/targets';
import { EVENT_SOURCE_MAX_CONCURRENCY } from './session-manager/timing';
import { validateIntegerRange } from './validation';

/** Properties of a `FargateTrafficMirror`. */
export interface FargateTrafficMirrorProps {
  /**
   * The ECS service whose tasks are mirrored: a `FargateService` of the same app, or one
   * imported with `FargateService.fromFargateServiceAttributes` (cluster and service name).
   */
  readonly service: ecs.IBaseService;

  /**
   * Where mirrored packets go: one target, a `MirrorTarget.pool()` of targets that share the
   * load, or a target (or pool) per Availability Zone with `MirrorTarget.perAvailabilityZone()`.
   */
  readonly target: MirrorTarget;

  /**
   * With `MirrorTarget.perAvailabilityZone()`: when a task's zone has no target, or none with
   * room, mirror the task to another zone's target instead of leaving it unmirrored until one
   * frees up. Mirrored packets that cross zones are billed as inter-AZ data transfer; each such
   * session is logged and counted (`metricCrossZoneSessions()`), and the sweep moves it back to
   * its zone as soon as a target there has room.
   * @default false
   */
  readonly allowCrossZone?: boolean;

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
   * How long the logs of the construct's functions (session manager, reconciler and the custom
   * resource provider) are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * When the configured `sessionNumber` is already used on a task's ENI by another tool, use
   * the lowest free number after it instead of reporting the task as unmirrored. Never a lower
   * one: EC2 evaluates an ENI's sessions in number order and the first whose filter matches
   * mirrors the packet, so a lower number would take packets from the other tool's session.
   * @default false
   */
  readonly pickFreeSessionNumber?: boolean;

  /**
   * Reconcile the whole service on a schedule: mirror tasks whose events were lost, remove
   * sessions whose task is gone, recreate sessions deleted by hand.
   *
   * Without it, only task state changes and deployments mirror tasks: a task whose PENDING event
   * is lost, or whose create failed for good (its target full, say), stays unmirrored until it
   * stops or the stack is deployed again (or the switch is turned off and on).
   * @default true
   */
  readonly periodicReconcile?: boolean;

  /**
   * How often the periodic reconciliation runs (whole minutes, at least 1). A task whose
   * PENDING event was lost is mirrored by it: RUNNING events do not check. Each run lists the
   * service's tasks and the account's sessions (reads only, when nothing needs fixing), reads
   * the event queue's depth, and starts actions for at most 45 seconds. It leaves tasks younger
   * than 30 seconds (5 minutes while the queue holds a backlog) to their task state changes,
   * then, within those 45 seconds, looks once more at those it left, when they are 30 seconds
   * old, by their ENIs only.
   * @default Duration.minutes(1)
   */
  readonly reconcileInterval?: Duration;

  /**
   * Create CloudWatch alarms for tasks that stay unmirrored (every reconciliation for 15 minutes)
   * and for events in the dead-letter queue. Attach actions through `alarms`.
   * @default false
   */
  readonly createAlarms?: boolean;

  /**
   * Reserve this many concurrent executions for each of the construct's two functions (2..100).
   *
   * Not reserved by default because a reservation fails to deploy in accounts whose concurrency
   * limit would leave fewer than 100 unreserved executions (new accounts have a limit of 10).
   * Concurrency is bounded without it: the session manager is polled from the queue by at most
   * 2 concurrent invocations, and the reconciler runs once per `reconcileInterval` per mirrored
   * service and on deployment. A sweep that leaves young tasks to their events waits up to about
   * 40 seconds to look at them again, so while services start tasks, the reconciler runs about
   * as many invocations at once as the stack has mirrored services: reserve at least that many,
   * or a throttled sweep's event is dropped after 60 s and the next sweep does its work. Reserve
   * to guarantee that other functions can never starve the mirroring.
   * @default - no reservation; concurrency bounded by the queue's maximum concurrency (2)
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Share of the service's tasks to mirror (greater than 0, at most 1). A task is chosen by a
   * hash of its id, so it is mirrored for its whole life or not at all, and the event path and
   * the sweeps agree on it. Sessions cost per ENI-hour: 0.1 mirrors about a tenth of the tasks.
   * Coverage metrics count the tasks chosen.
   * @default 1 (every task)
   */
  readonly sampling?: number;

  /**
   * The initial value of the mirroring switch (`switchParameter`): `on`, `off`, or
   * `on until <ISO 8601 time>`. Deploys leave a value changed at run time alone unless this
   * prop changes.
   * @default 'on'
   */
  readonly initialSwitch?: string;

  /**
   * Fail the deployment when running tasks of the service could not be mirrored for a reason that
   * retrying will not fix: EC2 refused the source or the target, a session quota is reached,
   * another tool holds the session number, or IAM denied the call. The error names the reasons and
   * the first tasks, with EC2's error codes.
   *
   * Checked when the enrollment is created (the first deployment of this construct, which then
   * rolls back and removes the sessions it made) and on the update that turns this on. Not on later
   * updates: CloudFormation would roll a failed update back with another update that meets the same
   * refusal, and leave the stack in UPDATE_ROLLBACK_FAILED. Transient failures (throttling, 5xx)
   * are retried and never fail the deployment, nor does a task that stopped while it was enrolled.
   * Whatever this says, `enrollmentReport` tells what the enrollment found.
   * @default false
   */
  readonly failDeploymentOnUnmirroredTasks?: boolean;

  /**
   * Add the enrollment's report (`enrollmentReport`) to the stack's outputs: running, mirrored and
   * unmirrored tasks, sessions created and modified, failures, failures by reason, and a summary.
   * @default false
   */
  readonly enrollmentReportOutputs?: boolean;
}

/**
 * What the enrollment found on the last deployment: attributes of its custom resource, as
 * `Fn::GetAtt` tokens, set by the sweep that completed the Create or Update. Every value is a
 * string, numbers in decimal, so each can go into a `CfnOutput`, a `Fn::Sub` or another stack.
 */
export interface EnrollmentReport {
  /** Tasks of the service that were running (or starting) when the enrollment completed. */
  readonly runningTasks: string;
  /** Running tasks that had a session of this construct. */
  readonly mirroredTasks: string;
  /** Running tasks without one: `runningTasks` minus `mirroredTasks`. */
  readonly unmirroredTasks: string;
  /** Sessions the completing sweep created. */
  readonly sessionsCreated: string;
  /** Sessions the completing sweep brought to a changed configuration in place. */
  readonly sessionsModified: string;
  /** Actions that failed (creates, modifications, deletes) and tasks whose session number was taken. */
  readonly failures: string;
  /**
   * The failures by reason, as `Reason=count` pairs joined by commas (the `Reason` values of the
   * `SessionFailures` metric, for example `NoUsableTarget=1,SourceUnsupported=2`), or `none`.
   */
  readonly failuresByReason: string;
  /** One line for people, for example `3 of 3 running tasks mirrored; no failures`. */
  readonly summary: string;
}

const MAX_SESSION_NUMBER = 32766;
const MAX_VNI = 16777215;
const MAX_NLB_PACKET_LENGTH = 8500;
// AWS documents no limit for other targets; packets never exceed the largest jumbo frame
// plus headers, and the API field is an integer, so the 16-bit bound is the honest one.
const MAX_PACKET_LENGTH = 65535;
// More than 100 reserved executions are never used.
const MAX_RESERVED_CONCURRENCY = 100;
// Sweeps heal what events missed: a task whose PENDING event was lost waits for the next one (or
// its second look). Each minute is affordable because a sweep creates sessions for young tasks
// only while the event queue keeps up (IDLE_HEAL_AGE_MS, BUSY_HEAL_AGE_MS): otherwise, during a
// burst, it would race the queued events (the simulator measured 1.46 writes per start for
// burst-0-to-1000 with one-minute sweeps that did not look at the queue).
const DEFAULT_RECONCILE_INTERVAL = Duration.minutes(1);
// The unmirrored-tasks alarm fires when tasks stayed unmirrored in every sweep for this long.
const UNMIRRORED_ALARM_WINDOW = Duration.minutes(15);

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
  /** The id of the traffic mirror target sessions send packets to; with several targets, the first. */
  public readonly trafficMirrorTargetId: string;
  /** The ids of every traffic mirror target sessions may send packets to, in the order given. */
  public readonly trafficMirrorTargetIds: string[];
  /** The id of the traffic mirror filter every session uses. */
  public readonly trafficMirrorFilterId: string;
  /** The Lambda function that handles task state changes from the queue. */
  public readonly sessionManager: lambda.IFunction;
  /**
   * The Lambda function that reconciles the whole service (schedule, deploy, stack delete).
   *
   * On deploy and stack delete the custom resource provider calls it once (onEvent), then every
   * 10 seconds (isComplete) until it reports the enrollment complete, for up to 50 minutes. Each
   * call must return within the function's 15-minute timeout, so a large service is enrolled in
   * chunks, one per call.
   */
  public readonly reconciler: lambda.IFunction;
  /** The EventBridge rule that sends the service's task state changes to the queue. */
  public readonly rule: events.IRule;
  /** The encrypted queue between the rule and the session manager. */
  public readonly queue: sqs.IQueue;
  /** Task state changes that could not be processed after 5 receives. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** Alarms created when `createAlarms` is true; empty otherwise. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /**
   * The value of the `fargate-traffic-mirror:owner` tag on every session this construct
   * creates; derived from the stack name and construct path, so it is stable across deploys.
   */
  public readonly ownerId: string;
  /**
   * The switch that turns mirroring of this service on and off at run time, without a deploy:
   * an SSM parameter holding `on`, `off`, or `on until <ISO 8601 time>`. Off removes every
   * session of the service within a minute; on mirrors every chosen running task at once.
   * Let automation flip it with `grantSwitch`.
   */
  public readonly switchParameter: ssm.IStringParameter;
  /** What the enrollment found when this stack was last deployed (attributes of its custom resource). */
  public readonly enrollmentReport: EnrollmentReport;

  /**
   * @param scope The construct to add the mirroring resources to, usually a stack
   * @param id The id of this construct, unique within `scope`
   * @param props The service to mirror, the target to mirror to, and options
   */
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

    const bound = props.target.bindAll(this, { description: props.description });
    validateProps(props, bound);
    const limited = bound.filter(t => t.maxSources !== undefined);
    if (limited.length === bound.length) {
      const capacity = limited.reduce((sum, t) => sum + t.maxSources!, 0);
      Annotations.of(this).addWarningV2('cdk-fargate-traffic-mirror:eniTargetSourceLimit',
        (bound.length === 1
          ? `A network interface target accepts at most ${capacity} sources (10, or 100 on the largest instance sizes): `
          : `These ${bound.length} network interface targets accept at most ${capacity} sources in all: `)
        + 'tasks beyond that are not mirrored until a source frees up. Add targets to a MirrorTarget.pool(), or use a Network Load Balancer '
        + 'or Gateway Load Balancer endpoint target, which have no source limit.');
    }
    this.trafficMirrorTargetIds = bound.map(t => t.trafficMirrorTargetId);
    this.trafficMirrorTargetId = bound[0].trafficMirrorTargetId;
    this.trafficMirrorFilterId = (props.filter ?? new MirrorFilter(this, 'Filter')).trafficMirrorFilterId;

    // Not Names.uniqueId: the owner tag must stay the same for as long as the sessions live,
    // and depends only on what the user sees: stack name and construct path.
    this.ownerId = Token.isUnresolved(stack.stackName)
      ? ownerIdFor(stack.node.path, this.node.path)
      : ownerIdFor(stack.stackName, this.node.path);

    // The service's configuration: every trigger of the shared session manager carries it.
    const config: Record<string, string> = {
      [ENV.OWNER_ID]: this.ownerId,
      [ENV.CLUSTER_ARN]: cluster.clusterArn,
      [ENV.SERVICE_NAME]: props.service.serviceName,
      // One target serving every zone keeps the plain id; several, or zones, are a layout.
      ...(bound.length === 1 && bound[0].availabilityZone === undefined
        ? { [ENV.TARGET_ID]: this.trafficMirrorTargetId }
        : {
          [ENV.TARGETS]: formatTargets(bound.map(t => ({
            targetId: t.trafficMirrorTargetId, availabilityZone: t.availabilityZone, maxSources: t.maxSources,
          }))),
        }),
      ...(props.allowCrossZone ? { [ENV.ALLOW_CROSS_ZONE]: 'true' } : {}),
      [ENV.FILTER_ID]: this.trafficMirrorFilterId,
      [ENV.SESSION_NUMBER]: String(props.sessionNumber ?? 1),
      ...(props.packetLength !== undefined ? { [ENV.PACKET_LENGTH]: String(props.packetLength) } : {}),
      ...(props.virtualNetworkId !== undefined ? { [ENV.VIRTUAL_NETWORK_ID]: String(props.virtualNetworkId) } : {}),
      ...(props.description !== undefined ? { [ENV.DESCRIPTION]: props.description } : {}),
      ...(props.pickFreeSessionNumber ? { [ENV.PICK_FREE_SESSION_NUMBER]: 'true' } : {}),
      // Events from any other account or region are refused by the handler.
      [ENV.ACCOUNT]: stack.account,
      [ENV.REGION]: stack.region,
    };
    // The run-time switch; its changes reach the session manager through the service's rule.
    this.switchParameter = new ssm.StringParameter(this, 'Switch', {
      description: `Mirroring of ECS service ${props.service.serviceName}: on, off, or on until <ISO 8601 time> (cdk-fargate-traffic-mirror)`,
      stringValue: props.initialSwitch ?? 'on',
    });
    config[ENV.SWITCH_PARAMETER] = this.switchParameter.parameterName;
    if (props.sampling !== undefined) config[ENV.SAMPLING] = String(props.sampling);
    validateTriggerSize(config, bound.length);
    // One session manager per stack, shared by every FargateTrafficMirror in it; this service
    // adds only its own: its triggers (rule and schedule), its enrollment, its IAM scope.
    const manager = SharedSessionManager.of(this, {
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    });
    this.sessionManager = manager.eventFunction;
    this.reconciler = manager.reconciler;
    this.queue = manager.queue;
    this.deadLetterQueue = manager.deadLetterQueue;

    // Deploy and delete: enroll the tasks that are already running; remove every owned session
    // when the mirror goes away.
    const enrollment = new ServiceEnrollment(this, 'Enrollment', {
      manager,
      config,
      // Only when set, so templates without the option keep their properties.
      extraProperties: props.failDeploymentOnUnmirroredTasks ? { [FAIL_ON_UNMIRRORED_PROPERTY]: 'true' } : {},
    });
    const report = (attribute: string) => enrollment.resource.getAttString(attribute);
    this.enrollmentReport = {
      runningTasks: report(REPORT_ATTRIBUTE.RUNNING_TASKS),
      mirroredTasks: report(REPORT_ATTRIBUTE.MIRRORED_TASKS),
      unmirroredTasks: report(REPORT_ATTRIBUTE.UNMIRRORED_TASKS),
      sessionsCreated: report(REPORT_ATTRIBUTE.CREATED),
      sessionsModified: report(REPORT_ATTRIBUTE.MODIFIED),
      failures: report(REPORT_ATTRIBUTE.FAILURES),
      failuresByReason: report(REPORT_ATTRIBUTE.FAILURES_BY_REASON),
      summary: report(REPORT_ATTRIBUTE.SUMMARY),
    };
    if (props.enrollmentReportOutputs) {
      this.addEnrollmentReportOutputs();
    }
    const interval = props.reconcileInterval ?? DEFAULT_RECONCILE_INTERVAL;
    const wiring = new ServiceWiring(this, 'Triggers', {
      manager,
      config,
      clusterArn: cluster.clusterArn,
      serviceName: props.service.serviceName,
      reconcileInterval: (props.periodicReconcile ?? true) ? interval : undefined,
      switchParameterName: this.switchParameter.parameterName,
    });
    this.rule = wiring.rule;
    enrollment.order(wiring.rule, wiring.schedule);
    manager.register({
      ownerId: this.ownerId,
      targets: bound.map(t => ({ targetId: t.trafficMirrorTargetId, account: t.ownerAccount })),
      filterId: this.trafficMirrorFilterId,
      cluster: { clusterArn: cluster.clusterArn, clusterName: cluster.clusterName },
      switchParameterArn: this.switchParameter.parameterArn,
    }, enrollment.resource);

    if (props.createAlarms) {
      const windowMinutes = UNMIRRORED_ALARM_WINDOW.toMinutes();
      this.alarms.push(
        this.metricUnmirroredTasks({ period: interval, statistic: 'Maximum' }).createAlarm(this, 'UnmirroredTasksAlarm', {
          alarmDescription: `Tasks of ECS service ${props.service.serviceName} stayed unmirrored in every reconciliation for ${windowMinutes} minutes`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: interval.isUnresolved() ? 3 : Math.max(3, Math.ceil(windowMinutes / interval.toMinutes())),
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        manager.deadLetterQueueAlarm(),
      );
    }
  }

  /** One stack output per attribute of the enrollment's report. */
  private addEnrollmentReportOutputs(): void {
    const outputs: Array<[string, string, string]> = [
      ['EnrollmentRunningTasks', this.enrollmentReport.runningTasks, 'running tasks'],
      ['EnrollmentMirroredTasks', this.enrollmentReport.mirroredTasks, 'running tasks with a mirror session'],
      ['EnrollmentUnmirroredTasks', this.enrollmentReport.unmirroredTasks, 'running tasks without a mirror session'],
      ['EnrollmentSessionsCreated', this.enrollmentReport.sessionsCreated, 'mirror sessions created'],
      ['EnrollmentSessionsModified', this.enrollmentReport.sessionsModified, 'mirror sessions brought to the configuration'],
      ['EnrollmentFailures', this.enrollmentReport.failures, 'failed actions and taken session numbers'],
      ['EnrollmentFailuresByReason', this.enrollmentReport.failuresByReason, 'failures by reason'],
      ['EnrollmentSummary', this.enrollmentReport.summary, 'summary'],
    ];
    for (const [id, value, what] of outputs) {
      // A literal description: CloudFormation takes no intrinsic function there, and the service name may be one.
      new CfnOutput(this, id, { value, description: `${this.node.path} at deployment: ${what}` });
    }
  }

  /**
   * Lets `grantee` read and flip this service's mirroring switch (`switchParameter`), for
   * example a function that turns mirroring on when GuardDuty reports a finding.
   *
   * @param grantee The principal to grant ssm:GetParameter and ssm:PutParameter on the switch
   */
  public grantSwitch(grantee: iam.IGrantable): iam.Grant {
    this.switchParameter.grantRead(grantee);
    return this.switchParameter.grantWrite(grantee);
  }

  /**
   * A metric the session manager publishes for this construct (namespace `FargateTrafficMirror`,
   * dimensions `service` and `Owner`).
   *
   * @param metricName The metric's name, for example `SessionsCreated`
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      statistic: 'Sum',
      ...props,
      dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_DIMENSION_VALUE, [OWNER_DIMENSION]: this.ownerId, ...props?.dimensionsMap },
    });
  }

  /**
   * Sessions created (sum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricSessionsCreated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_CREATED, props);
  }

  /**
   * Sessions deleted (sum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricSessionsDeleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_DELETED, props);
  }

  /**
   * Owned sessions brought to a changed configuration in place (sum over 5 minutes unless
   * `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricSessionsModified(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSIONS_MODIFIED, props);
  }

  /**
   * Sessions that could not be created or deleted, and tasks that cannot be mirrored as
   * configured (sum over 5 minutes unless `props` say otherwise). Add
   * `dimensionsMap: { Reason: 'NoUsableTarget' }` for one reason (`metricNoUsableTarget()` is that one).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricSessionFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.SESSION_FAILURES, props);
  }

  /**
   * Tasks that no target they may use accepted: every one full or gone, or none in the task's
   * zone (sum over 5 minutes unless `props` say otherwise). A later sweep mirrors them once a
   * target has room. The `SessionFailures` metric with `Reason: NoUsableTarget`.
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricNoUsableTarget(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricSessionFailures({ ...props, dimensionsMap: { [REASON_DIMENSION]: FailureReason.NO_USABLE_TARGET, ...props?.dimensionsMap } });
  }

  /**
   * Sessions created on, or moved to, a target in another Availability Zone than their task,
   * which `allowCrossZone` permits when the task's zone has no target with room (sum over 5
   * minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricCrossZoneSessions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CROSS_ZONE_SESSIONS, props);
  }

  /**
   * Running tasks without a session, as counted by the reconciler (maximum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricUnmirroredTasks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.UNMIRRORED_TASKS, { statistic: 'Maximum', ...props });
  }

  /**
   * Running tasks of the service, as counted by the reconciler (maximum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricRunningTasks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.RUNNING_TASKS, { statistic: 'Maximum', ...props });
  }
}

/**
 * Every trigger carries the configuration: the rule's input template and the schedule's input
 * take at most 8,192 characters each (EventBridge and EventBridge Scheduler quotas), and the
 * rule's template wraps the configuration. Kept well below: 4 KB. Unresolved values count as
 * this many characters: a target id (`tmt-` and 17 hex digits) is 21, ARNs and names of the
 * app's resources are longer.
 */
const MAX_CONFIG_BYTES = 4096;
const TARGET_ID_LENGTH = 21;
const UNRESOLVED_VALUE_LENGTH = 128;

/** Throws when the configuration the triggers carry may grow too large (many targets, long names). */
function validateTriggerSize(config: Record<string, string>, targetCount: number): void {
  let bytes = 0;
  for (const [key, value] of Object.entries(config)) {
    const placeholder = 'x'.repeat(key === ENV.TARGETS || key === ENV.TARGET_ID ? TARGET_ID_LENGTH : UNRESOLVED_VALUE_LENGTH);
    const estimate = Tokenization.reverseString(value).mapTokens({ mapToken: () => placeholder }).join({ join: (l: unknown, r: unknown) => `${l}${r}` });
    bytes += Buffer.byteLength(key) + Buffer.byteLength(String(estimate));
  }
  if (bytes > MAX_CONFIG_BYTES) {
    throw new Error(`the configuration every trigger carries would take about ${bytes} bytes (${targetCount} targets, the description and the ids); `
      + `at most ${MAX_CONFIG_BYTES} fit: use fewer targets or a shorter description`);
  }
}


function validateProps(props: FargateTrafficMirrorProps, bound: readonly MirrorTargetConfig[]): void {
  // Each target is in the configuration every trigger carries and twice in each function's IAM
  // policy; a service's statements must fit in one managed policy (6,144 characters).
  if (bound.length > MAX_TARGETS_PER_SERVICE) {
    throw new Error(`target must hold at most ${MAX_TARGETS_PER_SERVICE} targets (the configuration and IAM policies list each one), got ${bound.length}`);
  }
  if (props.allowCrossZone && !bound.some(t => t.availabilityZone !== undefined)) {
    throw new Error('allowCrossZone has an effect only with MirrorTarget.perAvailabilityZone() targets; remove it or give target a target per zone');
  }
  const nlb = bound.filter(t => t.kind === MirrorTargetKind.NETWORK_LOAD_BALANCER).length;
  const known = bound.filter(t => t.kind !== MirrorTargetKind.UNKNOWN).length;
  if (nlb > 0 && nlb < known) {
    throw new Error('target mixes Network Load Balancer targets (packet length at most 8500 bytes, 8500 by default) with targets that take '
      + 'whole packets: a task\'s mirrored packets would be cut or not depending on its target. Use targets of one kind.');
  }
  if (props.sampling !== undefined && !Token.isUnresolved(props.sampling) && !(props.sampling > 0 && props.sampling <= 1)) {
    throw new Error(`sampling must be greater than 0 and at most 1, got ${props.sampling}`);
  }
  if (props.initialSwitch !== undefined && !Token.isUnresolved(props.initialSwitch)
    && !switchStateOf(props.initialSwitch, Date.now()).understood) {
    throw new Error(`initialSwitch must be 'on', 'off' or 'on until <ISO 8601 time>', got '${props.initialSwitch}'`);
  }
  const interval = props.reconcileInterval;
  if (interval && !interval.isUnresolved()) {
    const seconds = interval.toSeconds();
    if (seconds < 60 || seconds % 60 !== 0) {
      throw new Error(`reconcileInterval must be a whole number of minutes, at least 1, got ${interval.toHumanString()}`);
    }
  }
  if (props.reconcileInterval && props.periodicReconcile === false) {
    throw new Error('reconcileInterval has no effect when periodicReconcile is false; remove one of them');
  }
  validateIntegerRange('reservedConcurrentExecutions', props.reservedConcurrentExecutions, EVENT_SOURCE_MAX_CONCURRENCY, MAX_RESERVED_CONCURRENCY,
    ' (the queue runs up to 2 session managers at once)');
  validateIntegerRange('sessionNumber', props.sessionNumber, 1, MAX_SESSION_NUMBER);
  validateIntegerRange('virtualNetworkId', props.virtualNetworkId, 0, MAX_VNI);
  if (nlb > 0) {
    validateIntegerRange('packetLength', props.packetLength, 1, MAX_NLB_PACKET_LENGTH, ' for a Network Load Balancer target');
  } else {
    validateIntegerRange('packetLength', props.packetLength, 1, MAX_PACKET_LENGTH);
  }
}
