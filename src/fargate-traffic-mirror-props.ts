/** Public API: what a `FargateTrafficMirror` takes (its props) and what its enrollment reports. */
import { Duration, aws_ecs as ecs, aws_logs as logs } from 'aws-cdk-lib';
import { CaptureMethod } from './capture-method';
import { IMirrorFilter } from './mirror-filter';
import { MirrorTarget } from './mirror-target';

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
   * How packets are captured: a VPC Traffic Mirroring session per task network interface, or a
   * `traffic-capture` sidecar container in each task (`CaptureMethod.sidecar()`), which works
   * whatever EC2 accepts as a mirror source and sees every packet from the first. Both send the
   * same VXLAN stream to the same targets through the same filter. The sidecar needs a
   * `FargateService` of this app (its task definition gets the container), a filter defined with
   * `new MirrorFilter()` (its rules are applied by the agent), and targets it can address: a
   * Network Load Balancer, or network interfaces with their `privateIpAddress`.
   * @default CaptureMethod.trafficMirroring()
   */
  readonly captureMethod?: CaptureMethod;

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
   * Create CloudWatch alarms for tasks that stay unmirrored (every reconciliation for 15 minutes),
   * for events in the dead-letter queue and for triggers the session manager ignored (forged or
   * stale; one alarm per stack). Attach actions through `alarms`.
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
   *
   * An `on until` value expires without any event: the first scheduled sweep after the time
   * (at most one `reconcileInterval` later) removes the service's sessions, and no starting task
   * gets one from then on. So `on until` needs periodic sweeps: with `periodicReconcile: false`
   * it is refused here, and a value written at run time expires only for starting tasks until
   * the switch is written again.
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
