/**
 * Public API: the `FargateTrafficMirror` construct (constructor, alarms, grants, metric methods).
 */
import {
  Annotations, CfnOutput, Duration, Stack, Token,
  aws_cloudwatch as cloudwatch, aws_ecs as ecs, aws_events as events, aws_iam as iam, aws_lambda as lambda, aws_logs as logs, aws_sqs as sqs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CaptureMethod, CaptureMethodKind } from './capture-method';
import { AGENT_METRIC } from './contract/capture-agent-env';
import { FAIL_ON_UNMIRRORED_PROPERTY, REPORT_ATTRIBUTE } from './contract/enrollment-attributes';
import { FailureReason } from './contract/failure-reason';
import { METRIC, OWNER_DIMENSION, REASON_DIMENSION } from './contract/metric-names';
import { ownerIdFor } from './contract/ownership';
import { EnrollmentReport, FargateTrafficMirrorProps } from './fargate-traffic-mirror-props';
import { captureWithSidecar } from './fleet/capture-sidecar';
import { validateProps } from './fleet/props-validation';
import { serviceConfig } from './fleet/service-config';
import { ServiceEnrollment } from './fleet/service-enrollment';
import { ServiceWiring } from './fleet/service-wiring';
import { SharedSessionManager } from './fleet/shared-session-manager';
import { MirrorFilter } from './mirror-filter';
import { libraryMetric } from './private/library-metric';

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
 * interface when the task starts and deletes it when the task stops. With
 * `captureMethod: CaptureMethod.sidecar()` it instead adds a `traffic-capture` container to each
 * task that sends the same VXLAN stream itself, with no Lambda and no sessions.
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
  /** Alarms created when `createAlarms` is true; empty otherwise. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /**
   * The value of the `fargate-traffic-mirror:owner` tag on every session this construct
   * creates, and the `Owner` dimension of its metrics; derived from the stack name and construct
   * path, so it is stable across deploys.
   */
  public readonly ownerId: string;
  /**
   * The switch that turns mirroring of this service on and off at run time, without a deploy:
   * an SSM parameter holding `on`, `off`, or `on until <ISO 8601 time>`. With Traffic Mirroring,
   * off removes every session of the service within a minute and on mirrors every chosen running
   * task at once; the capture sidecar reads it at least every 10 seconds and stops or resumes
   * sending. Let automation flip it with `grantSwitch`.
   */
  public readonly switchParameter: ssm.IStringParameter;
  /** How this mirror captures packets. */
  public readonly captureMethod: CaptureMethodKind;
  /**
   * The `traffic-capture` container added to the service's task definition.
   * @default - none: only with `CaptureMethod.sidecar()`
   */
  public readonly captureContainer?: ecs.ContainerDefinition;

  /** What only the Traffic Mirroring path creates; undefined with the sidecar. */
  private readonly sessions?: SessionParts;

  /** The id of the traffic mirror target sessions send packets to; with several targets, the first. Traffic Mirroring only. */
  public get trafficMirrorTargetId(): string {
    return this.sessionPart('trafficMirrorTargetId').targetIds[0];
  }
  /** The ids of every traffic mirror target sessions may send packets to, in the order given. Traffic Mirroring only. */
  public get trafficMirrorTargetIds(): string[] {
    return [...this.sessionPart('trafficMirrorTargetIds').targetIds];
  }
  /** The id of the traffic mirror filter every session uses. Traffic Mirroring only. */
  public get trafficMirrorFilterId(): string {
    return this.sessionPart('trafficMirrorFilterId').filterId;
  }
  /** The Lambda function that handles task state changes from the queue. Traffic Mirroring only. */
  public get sessionManager(): lambda.IFunction {
    return this.sessionPart('sessionManager').sessionManager;
  }
  /**
   * The Lambda function that reconciles the whole service (schedule, deploy, stack delete).
   * Traffic Mirroring only.
   *
   * On deploy and stack delete the custom resource provider calls it once (onEvent), then every
   * 10 seconds (isComplete) until it reports the enrollment complete, for up to 50 minutes. Each
   * call must return within the function's 15-minute timeout, so a large service is enrolled in
   * chunks, one per call.
   */
  public get reconciler(): lambda.IFunction {
    return this.sessionPart('reconciler').reconciler;
  }
  /** The EventBridge rule that sends the service's task state changes to the queue. Traffic Mirroring only. */
  public get rule(): events.IRule {
    return this.sessionPart('rule').rule;
  }
  /** The encrypted queue between the rule and the session manager. Traffic Mirroring only. */
  public get queue(): sqs.IQueue {
    return this.sessionPart('queue').queue;
  }
  /** Task state changes that could not be processed after 5 receives. Traffic Mirroring only. */
  public get deadLetterQueue(): sqs.IQueue {
    return this.sessionPart('deadLetterQueue').deadLetterQueue;
  }
  /** What the enrollment found when this stack was last deployed (attributes of its custom resource). Traffic Mirroring only. */
  public get enrollmentReport(): EnrollmentReport {
    return this.sessionPart('enrollmentReport').enrollmentReport;
  }

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

    // Not Names.uniqueId: the owner tag must stay the same for as long as the sessions live,
    // and depends only on what the user sees: stack name and construct path.
    this.ownerId = Token.isUnresolved(stack.stackName)
      ? ownerIdFor(stack.node.path, this.node.path)
      : ownerIdFor(stack.stackName, this.node.path);
    // The run-time switch; its changes reach the session manager through the service's rule, and
    // the capture sidecar reads it.
    const method = props.captureMethod ?? CaptureMethod.trafficMirroring();
    this.switchParameter = new ssm.StringParameter(this, 'Switch', {
      // The sidecar's task definition names the parameter, and the service needs the task
      // definition: naming the service here would make a cycle.
      description: `Mirroring of ${method.kind === CaptureMethodKind.SIDECAR ? `the ECS service of ${this.node.path}` : `ECS service ${props.service.serviceName}`}`
        + ': on, off, or on until <ISO 8601 time> (cdk-fargate-traffic-mirror)',
      stringValue: props.initialSwitch ?? 'on',
    });

    this.captureMethod = method.kind;
    if (method.kind === CaptureMethodKind.SIDECAR) {
      const sidecar = captureWithSidecar(this, props, method.sidecarOptions);
      this.captureContainer = sidecar.container;
      if (props.createAlarms) this.alarms.push(...this.sidecarAlarms(props.service.serviceName));
      return;
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
    const targetIds = bound.map(t => t.trafficMirrorTargetId);
    const filterId = (props.filter ?? new MirrorFilter(this, 'Filter')).trafficMirrorFilterId;
    // The service's configuration: every trigger of the shared session manager carries it.
    const config = serviceConfig(props, {
      ownerId: this.ownerId,
      clusterArn: cluster.clusterArn,
      serviceName: props.service.serviceName,
      targets: bound,
      filterId,
      account: stack.account,
      region: stack.region,
      switchParameterName: this.switchParameter.parameterName,
    });
    // One session manager per stack, shared by every FargateTrafficMirror in it; this service
    // adds only its own: its triggers (rule and schedule), its enrollment, its IAM scope.
    const manager = SharedSessionManager.of(this, {
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    });

    // Deploy and delete: enroll the tasks that are already running; remove every owned session
    // when the mirror goes away.
    const enrollment = new ServiceEnrollment(this, 'Enrollment', {
      manager,
      config,
      // Only when set, so templates without the option keep their properties.
      extraProperties: props.failDeploymentOnUnmirroredTasks ? { [FAIL_ON_UNMIRRORED_PROPERTY]: 'true' } : {},
    });
    const report = (attribute: string) => enrollment.resource.getAttString(attribute);
    const enrollmentReport: EnrollmentReport = {
      runningTasks: report(REPORT_ATTRIBUTE.RUNNING_TASKS),
      mirroredTasks: report(REPORT_ATTRIBUTE.MIRRORED_TASKS),
      unmirroredTasks: report(REPORT_ATTRIBUTE.UNMIRRORED_TASKS),
      sessionsCreated: report(REPORT_ATTRIBUTE.CREATED),
      sessionsModified: report(REPORT_ATTRIBUTE.MODIFIED),
      failures: report(REPORT_ATTRIBUTE.FAILURES),
      failuresByReason: report(REPORT_ATTRIBUTE.FAILURES_BY_REASON),
      summary: report(REPORT_ATTRIBUTE.SUMMARY),
    };
    const interval = props.reconcileInterval ?? DEFAULT_RECONCILE_INTERVAL;
    const wiring = new ServiceWiring(this, 'Triggers', {
      manager,
      config,
      clusterArn: cluster.clusterArn,
      serviceName: props.service.serviceName,
      reconcileInterval: (props.periodicReconcile ?? true) ? interval : undefined,
      switchParameterName: this.switchParameter.parameterName,
    });
    this.sessions = {
      targetIds,
      filterId,
      enrollmentReport,
      manager,
      rule: wiring.rule,
      sessionManager: manager.eventFunction,
      reconciler: manager.reconciler,
      queue: manager.queue,
      deadLetterQueue: manager.deadLetterQueue,
    };
    if (props.enrollmentReportOutputs) {
      this.addEnrollmentReportOutputs();
    }
    enrollment.order(wiring.rule, wiring.schedule);
    manager.register({
      ownerId: this.ownerId,
      targets: bound.map(t => ({ targetId: t.trafficMirrorTargetId, account: t.ownerAccount })),
      filterId,
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
        manager.ignoredTriggersAlarmOnce(),
      );
    }
  }

  /** The Traffic Mirroring path's parts, or a clear error for a member the sidecar does not have. */
  private sessionPart(member: string): SessionParts {
    if (!this.sessions) {
      throw new Error(`FargateTrafficMirror '${this.node.path}': ${member} exists only with CaptureMethod.trafficMirroring(); this mirror captures with CaptureMethod.sidecar()`);
    }
    return this.sessions;
  }

  /** The capture sidecar's alarms: packets the kernel ring dropped, and restarts of the container. */
  private sidecarAlarms(serviceName: string): cloudwatch.Alarm[] {
    const common = {
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    return [
      this.metricCaptureKernelDrops().createAlarm(this, 'CaptureDropsAlarm', {
        ...common,
        alarmDescription: `The capture sidecar of ECS service ${serviceName} lost packets: its kernel ring was full (raise the sidecar's cpu)`,
      }),
      this.metricCaptureRestarts().createAlarm(this, 'CaptureRestartsAlarm', {
        ...common,
        alarmDescription: `The capture sidecar of ECS service ${serviceName} was restarted by ECS: packets of the restart window were not mirrored`,
      }),
    ];
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
    return libraryMetric(metricName, { [OWNER_DIMENSION]: this.ownerId }, props);
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
   * Triggers the stack's shared session manager ignored: queue records, invokes and custom
   * resource Deletes that no rule, schedule or CloudFormation operation of this stack sent
   * (forged, or left over from a removed mirror). One metric for the stack (dimensions `service`
   * and `Stack`), the same from every mirror of it (sum over 5 minutes unless `props` say otherwise).
   * Traffic Mirroring only.
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricIgnoredTriggers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sessionPart('metricIgnoredTriggers()').manager.metricIgnoredTriggers(props);
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

  /**
   * Frames the capture sidecar sent to the target (sum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricCaptureMirroredPackets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(AGENT_METRIC.MIRRORED_PACKETS, props);
  }

  /**
   * Frames the capture sidecar's kernel ring dropped before the agent read them: packets lost to
   * the mirror, never to the application (sum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricCaptureKernelDrops(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(AGENT_METRIC.KERNEL_DROPS, props);
  }

  /**
   * Restarts of the capture container by ECS (sum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricCaptureRestarts(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(AGENT_METRIC.RESTARTS, props);
  }
}


/** What the Traffic Mirroring path creates for one mirror. */
interface SessionParts {
  readonly targetIds: string[];
  readonly filterId: string;
  readonly sessionManager: lambda.IFunction;
  readonly reconciler: lambda.IFunction;
  readonly rule: events.IRule;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly enrollmentReport: EnrollmentReport;
  readonly manager: SharedSessionManager;
}
