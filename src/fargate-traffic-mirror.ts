import {
  Annotations, CfnOutput, CfnResource, CustomResource, Duration, Stack, Token, Tokenization,
  aws_cloudwatch as cloudwatch, aws_ecs as ecs, aws_events as events, aws_events_targets as targets, aws_iam as iam,
  aws_lambda as lambda, aws_lambda_event_sources as sources, aws_logs as logs, aws_sqs as sqs,
  aws_stepfunctions as sfn, custom_resources as cr,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { functionRole, restrictToOwnLogGroup } from './function-role';
import { IMirrorFilter, MirrorFilter } from './mirror-filter';
import { MirrorTarget, MirrorTargetConfig, MirrorTargetKind } from './mirror-target';
import { suppressNagFindings } from './nag-suppressions';
import { ENV } from './session-manager/config';
import { FAIL_ON_UNMIRRORED_PROPERTY, REPORT_ATTRIBUTE } from './session-manager/enrollment-report';
import { FailureReason } from './session-manager/errors';
import { METRIC, METRIC_NAMESPACE, OWNER_DIMENSION, REASON_DIMENSION, SERVICE_DIMENSION, SERVICE_DIMENSION_VALUE } from './session-manager/metric-names';
import { ownerIdFor } from './session-manager/ownership';
import { grantSessionManagement } from './session-manager/permissions';
import { SessionManagerFunction } from './session-manager/session-manager-function';
import { formatTargets } from './session-manager/targets';
import { EARLY_START_STATE, START_STATE, STOP_STATE } from './session-manager/task-event';
import {
  ENROLLMENT_QUERY_INTERVAL_SEC, ENROLLMENT_SERVICE_TIMEOUT_SEC, ENROLLMENT_TOTAL_TIMEOUT_SEC, EVENT_TIMEOUT_SEC,
  RECONCILER_MAX_EVENT_AGE_SEC, RECONCILER_TIMEOUT_SEC,
} from './session-manager/timing';
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
   * @default true
   */
  readonly periodicReconcile?: boolean;

  /**
   * How often the periodic reconciliation runs (whole minutes, at least 1). A task whose
   * PENDING and RUNNING events were both lost is mirrored by the next one. Each run lists the
   * service's tasks and the account's sessions (reads only, when nothing needs fixing), reads
   * the event queue's depth, and starts actions for at most 45 seconds. It leaves tasks younger
   * than 30 seconds (5 minutes while the queue holds events) to their task state changes.
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
   * 2 concurrent invocations, and the reconciler runs once per `reconcileInterval` and on
   * deployment. Reserve to guarantee that other functions can never starve the mirroring.
   * @default - no reservation; concurrency bounded by the queue's maximum concurrency (2)
   */
  readonly reservedConcurrentExecutions?: number;

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
// The queue's event source never runs more than 2 session managers at once; a reservation below
// that would throttle it, and more than 100 is never used.
const EVENT_SOURCE_MAX_CONCURRENCY = 2;
const MAX_RESERVED_CONCURRENCY = 100;
// AWS guidance for SQS event sources: a visibility timeout of at least six times the function
// timeout, so a message is not received again while a throttled or retried invocation still runs.
const QUEUE_VISIBILITY_TIMEOUT_FACTOR = 6;
// The reconciler's timeout, the Lambda maximum. Every call of the enrollment (onEvent and each
// isComplete poll) must return within it, so a large enrollment works in chunks across polls.
const RECONCILER_TIMEOUT = Duration.seconds(RECONCILER_TIMEOUT_SEC);
// The enrollment is asynchronous: after onEvent, the provider framework's waiter asks the
// reconciler every 10 s whether the enrollment is complete. The handler gives up 50 minutes
// after the start (ENROLLMENT_WORK_LIMIT_MS), before CloudFormation's ServiceTimeout (3600 s,
// the maximum); the waiter's own retry budget is larger and only a backstop.
const ENROLLMENT_QUERY_INTERVAL = Duration.seconds(ENROLLMENT_QUERY_INTERVAL_SEC);
const ENROLLMENT_TOTAL_TIMEOUT = Duration.seconds(ENROLLMENT_TOTAL_TIMEOUT_SEC);
const ENROLLMENT_SERVICE_TIMEOUT_SECONDS = ENROLLMENT_SERVICE_TIMEOUT_SEC;
// Sweeps heal what events missed: a task whose PENDING and RUNNING events were both lost waits
// for the next one. Each minute is affordable because a sweep creates sessions for young tasks
// only when the event queue is empty (IDLE_HEAL_AGE_MS, BUSY_HEAL_AGE_MS): otherwise, during a
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

    const environment: Record<string, string> = {
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
      POWERTOOLS_SERVICE_NAME: SERVICE_DIMENSION_VALUE,
    };
    validateEnvironmentSize(environment, bound.length);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const permissions = {
      ownerId: this.ownerId,
      targets: bound.map(t => ({ targetId: t.trafficMirrorTargetId, account: t.ownerAccount })),
      filterId: this.trafficMirrorFilterId,
    };

    // Event path: one task at a time, so a short timeout; the queue's visibility timeout is six
    // times as long.
    const eventTimeout = Duration.seconds(EVENT_TIMEOUT_SEC);
    const sessionManagerLogs = new logs.LogGroup(this, 'SessionManagerLogs', { retention: logRetention });
    const sessionManager = new SessionManagerFunction(this, 'SessionManager', {
      description: `Mirrors the tasks of ECS service ${props.service.serviceName} as they start and stop (cdk-fargate-traffic-mirror)`,
      memorySize: 256,
      timeout: eventTimeout,
      environment,
      logGroup: sessionManagerLogs,
      role: functionRole(this, 'SessionManagerRole', sessionManagerLogs, 'Session manager of cdk-fargate-traffic-mirror'),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    });
    grantSessionManagement(sessionManager, permissions);
    this.sessionManager = sessionManager;

    // Whole-service path: a sweep of thousands of tasks is paced by EC2's 5 writes per second.
    const reconcilerLogs = new logs.LogGroup(this, 'ReconcilerLogs', { retention: logRetention });
    const reconciler = new SessionManagerFunction(this, 'Reconciler', {
      description: `Reconciles the mirror sessions of ECS service ${props.service.serviceName} (cdk-fargate-traffic-mirror)`,
      memorySize: 256,
      timeout: RECONCILER_TIMEOUT,
      environment,
      logGroup: reconcilerLogs,
      role: functionRole(this, 'ReconcilerRole', reconcilerLogs, 'Reconciler of cdk-fargate-traffic-mirror'),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      // A failed scheduled sweep is not retried by Lambda: the next one runs within
      // reconcileInterval anyway, and a retry could start after the stack began deleting.
      retryAttempts: 0,
      // Nor is a throttled one kept waiting: Lambda would otherwise retry it for up to six
      // hours. The stack delete's settle time counts on a sweep starting within a minute.
      maxEventAge: Duration.seconds(RECONCILER_MAX_EVENT_AGE_SEC),
    });
    // Only the sweep brings existing sessions to the configuration, so only it may modify them.
    grantSessionManagement(reconciler, {
      ...permissions,
      cluster: { clusterArn: cluster.clusterArn, clusterName: cluster.clusterName },
      modify: true,
    });
    this.reconciler = reconciler;

    // Durable events: EventBridge -> encrypted queue -> Lambda, with partial batch responses,
    // bounded concurrency and a dead-letter queue. Nothing is lost when EC2 throttles.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'TaskStateQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(eventTimeout.toSeconds() * QUEUE_VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    // A sweep mirrors young tasks only when no task state change is still on its way.
    reconciler.addEnvironment(ENV.EVENT_QUEUE_URL, this.queue.queueUrl);
    this.queue.grant(reconciler, 'sqs:GetQueueAttributes');
    sessionManager.addEventSource(new sources.SqsEventSource(this.queue, {
      batchSize: 10,
      reportBatchItemFailures: true,
      // Few concurrent pollers keep a deployment burst from turning into an EC2 throttling storm.
      maxConcurrency: EVENT_SOURCE_MAX_CONCURRENCY,
    }));

    this.rule = new events.Rule(this, 'TaskStateChange', {
      description: `ECS task state changes of service ${props.service.serviceName}, for traffic mirroring`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [cluster.clusterArn],
          group: [`service:${props.service.serviceName}`],
          // Only the states the session manager acts on (first ENI, running, stopped), so the other transitions of a
          // task cost neither a queue message nor an invocation.
          lastStatus: [EARLY_START_STATE, START_STATE, STOP_STATE],
        },
      },
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });

    let schedule: events.Rule | undefined;
    if (props.periodicReconcile ?? true) {
      schedule = new events.Rule(this, 'ReconcileSchedule', {
        description: `Periodic reconciliation of the mirror sessions of ECS service ${props.service.serviceName}`,
        schedule: events.Schedule.rate(props.reconcileInterval ?? DEFAULT_RECONCILE_INTERVAL),
        targets: [new targets.LambdaFunction(reconciler, { retryAttempts: 0 })],
      });
    }

    // Deploy and delete: enroll the tasks that are already running; remove every owned session
    // when the stack goes away. Created after the event path exists, so no start is missed.
    const provider = this.enrollmentProvider(reconciler, logRetention);
    const enrollment = new CustomResource(this, 'Enrollment', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::FargateTrafficMirrorEnrollment',
      // A change to any of these re-enrolls the service (Update).
      properties: {
        ...environment,
        // Only when set, so templates without the option keep their properties.
        ...(props.failDeploymentOnUnmirroredTasks ? { [FAIL_ON_UNMIRRORED_PROPERTY]: 'true' } : {}),
      },
    });
    this.enrollmentReport = {
      runningTasks: enrollment.getAttString(REPORT_ATTRIBUTE.RUNNING_TASKS),
      mirroredTasks: enrollment.getAttString(REPORT_ATTRIBUTE.MIRRORED_TASKS),
      unmirroredTasks: enrollment.getAttString(REPORT_ATTRIBUTE.UNMIRRORED_TASKS),
      sessionsCreated: enrollment.getAttString(REPORT_ATTRIBUTE.CREATED),
      sessionsModified: enrollment.getAttString(REPORT_ATTRIBUTE.MODIFIED),
      failures: enrollment.getAttString(REPORT_ATTRIBUTE.FAILURES),
      failuresByReason: enrollment.getAttString(REPORT_ATTRIBUTE.FAILURES_BY_REASON),
      summary: enrollment.getAttString(REPORT_ATTRIBUTE.SUMMARY),
    };
    if (props.enrollmentReportOutputs) {
      this.addEnrollmentReportOutputs();
    }
    // aws-cdk-lib has no prop for it at our floor. An integer, as in the resource's registry
    // schema, which cfn-lint checks (one page of the user guide says String).
    (enrollment.node.defaultChild as CfnResource).addPropertyOverride('ServiceTimeout', ENROLLMENT_SERVICE_TIMEOUT_SECONDS);
    // Order matters both ways. Deploy: rule and queue first, so task changes during enrollment
    // wait in the queue; the queue is drained only after enrollment. Delete: CloudFormation
    // goes in reverse, so the event source mapping and the schedule are gone before the
    // enrollment's Delete removes every owned session, and nothing re-creates one after it.
    // The service needs no explicit dependency: the properties reference its name, which already
    // orders the enrollment after it (an explicit one is redundant, cfn-lint W3005).
    enrollment.node.addDependency(this.rule, this.queue);
    // Update: the reconciler is ordered before the enrollment through the provider, which
    // references it. The session manager is not: its new configuration must be in place before the
    // enrollment's sweep. Only its function resource, not the construct: the event source mapping
    // below the construct depends on the enrollment, which would be a cycle.
    enrollment.node.addDependency(sessionManager.node.defaultChild as lambda.CfnFunction);
    for (const mapping of sessionManager.node.children.filter(c => c instanceof lambda.EventSourceMapping)) {
      mapping.node.addDependency(enrollment);
    }
    schedule?.node.addDependency(enrollment);

    if (props.createAlarms) {
      const interval = props.reconcileInterval ?? DEFAULT_RECONCILE_INTERVAL;
      const windowMinutes = UNMIRRORED_ALARM_WINDOW.toMinutes();
      this.alarms.push(
        this.metricUnmirroredTasks({ period: interval, statistic: 'Maximum' }).createAlarm(this, 'UnmirroredTasksAlarm', {
          alarmDescription: `Tasks of ECS service ${props.service.serviceName} stayed unmirrored in every reconciliation for ${windowMinutes} minutes`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: interval.isUnresolved() ? 3 : Math.max(3, Math.ceil(windowMinutes / interval.toMinutes())),
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }).createAlarm(this, 'DeadLetterQueueAlarm', {
          alarmDescription: `Task state changes of ECS service ${props.service.serviceName} could not be processed and are in the dead-letter queue`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
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
   * The custom resource provider that calls the reconciler on deploy and delete, asynchronously:
   * onEvent once, then isComplete every 10 seconds until the reconciler reports completion. Each
   * of the framework's three functions (onEvent, isComplete, onTimeout) has a role of its own that
   * may write only to its own log group, which keeps the configured retention, and runs on the
   * same Node.js runtime as our functions; the waiter state machine logs to a log group with the
   * same retention.
   */
  private enrollmentProvider(reconciler: lambda.Function, logRetention: logs.RetentionDays): cr.Provider {
    const stack = Stack.of(this);
    const waiterLogs = new logs.LogGroup(this, 'EnrollmentWaiterLogs', {
      retention: logRetention,
      // Step Functions logs through CloudWatch Logs vended log delivery: under this prefix no
      // entry is added to the account's size-limited log resource policy. The reconciler's
      // physical name makes the name unique per deployment, so a retained group never blocks a
      // new one.
      logGroupName: `/aws/vendedlogs/states/${reconciler.functionName}-enrollment`,
    });
    const onEventLogs = new logs.LogGroup(this, 'EnrollmentProviderLogs', { retention: logRetention });
    // No `role`: at our aws-cdk-lib floor the Provider would share it between its three functions,
    // and with isComplete that is a dependency cycle (aws/aws-cdk#20360). Each function gets the
    // Provider's default role of its own instead, trimmed below.
    const provider = new cr.Provider(this, 'EnrollmentProvider', {
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
      ['isComplete', 'invokes the reconciler', new logs.LogGroup(this, 'EnrollmentIsCompleteLogs', { retention: logRetention })],
      ['onTimeout', 'answers CloudFormation when the waiter times out', new logs.LogGroup(this, 'EnrollmentOnTimeoutLogs', { retention: logRetention })],
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
        throw new Error(`FargateTrafficMirror '${this.node.path}': the provider framework's ${name} function has no role of its own to restrict`);
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
 * Lambda allows 4 KB for all of a function's environment variables together (Lambda quotas).
 * Unresolved values count as this many characters: a target id (`tmt-` and 17 hex digits) is 21,
 * ARNs and names of the app's resources are longer.
 */
const MAX_ENVIRONMENT_BYTES = 4096;
const TARGET_ID_LENGTH = 21;
const UNRESOLVED_VALUE_LENGTH = 128;

/** Throws when the functions' environment may exceed Lambda's 4 KB (many targets, long names). */
function validateEnvironmentSize(environment: Record<string, string>, targetCount: number): void {
  let bytes = 0;
  for (const [key, value] of Object.entries(environment)) {
    const placeholder = 'x'.repeat(key === ENV.TARGETS || key === ENV.TARGET_ID ? TARGET_ID_LENGTH : UNRESOLVED_VALUE_LENGTH);
    const estimate = Tokenization.reverseString(value).mapTokens({ mapToken: () => placeholder }).join({ join: (l: unknown, r: unknown) => `${l}${r}` });
    bytes += Buffer.byteLength(key) + Buffer.byteLength(String(estimate));
  }
  if (bytes > MAX_ENVIRONMENT_BYTES) {
    throw new Error(`the functions' environment would take about ${bytes} bytes (${targetCount} targets, the description and the ids); `
      + `Lambda allows ${MAX_ENVIRONMENT_BYTES} in all: use fewer targets or a shorter description`);
  }
}

/**
 * Targets one mirror may have. Each is in the functions' environment (4 KB in all) and twice in
 * each function's IAM policy (create and modify; 10,240 characters for a role's inline policies).
 */
const MAX_TARGETS = 32;

function validateProps(props: FargateTrafficMirrorProps, bound: readonly MirrorTargetConfig[]): void {
  if (bound.length > MAX_TARGETS) {
    throw new Error(`target must hold at most ${MAX_TARGETS} targets (the functions' environment and IAM policies list each one), got ${bound.length}`);
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
