/**
 * Construct side: the `traffic-capture` container a sidecar-captured service's task definition gets,
 * with the agent's whole configuration in its environment, and the start order that makes every
 * other container wait until capture runs.
 */
import { createHash } from 'crypto';
import {
  Aspects, Duration, IAspect, Lazy, Token, aws_ecs as ecs, aws_iam as iam, aws_logs as logs, aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { validateCaptureProps } from './props-validation';
import { sidecarFilter, validateSidecarProps } from './sidecar-validation';
import { SidecarCaptureOptions } from '../capture-method';
import { AGENT_ENV, AGENT_HEALTH_COMMAND, CAPTURE_CONTAINER_NAME } from '../contract/capture-agent-env';
import { FargateTrafficMirrorProps } from '../fargate-traffic-mirror-props';
import { MirrorTargetAddress } from '../mirror-target';
import { captureAgentImage, netRawOnly } from '../private/capture-container';
import { validateIntegerRange } from '../private/validation';

/** The agent's defaults: measured RSS stays far below (README, bench/capture-results.json). */
const DEFAULT_CPU = 128;
const DEFAULT_MEMORY_RESERVATION_MIB = 64;

/** What the sidecar takes from the mirror construct that adds it. */
export interface SidecarOwner extends Construct {
  readonly ownerId: string;
  readonly switchParameter: ssm.IStringParameter;
}

/**
 * Checks the props for `CaptureMethod.sidecar()` and adds the capture container to the service's
 * task definition: the sidecar path of `FargateTrafficMirror`, which creates no Lambda, rule,
 * queue, schedule, session or traffic mirror target.
 */
export function captureWithSidecar(mirror: SidecarOwner, props: FargateTrafficMirrorProps, options: SidecarCaptureOptions): CaptureSidecar {
  const taskDefinition = validateSidecarProps(mirror.node.path, props);
  const targets = props.target.sidecarAddresses();
  validateCaptureProps(props, targets.some(t => t.availabilityZone !== undefined));
  const filter = sidecarFilter(mirror.node.path, props);
  return new CaptureSidecar(mirror, 'Capture', {
    taskDefinition,
    options,
    targets,
    allowCrossZone: props.allowCrossZone,
    // Rendered at synth, so rules added to the filter after the mirror are included.
    filterJson: filter && Lazy.string({ produce: () => JSON.stringify(filter) }),
    packetLength: props.packetLength,
    virtualNetworkId: props.virtualNetworkId ?? defaultVni(mirror.ownerId),
    sampling: props.sampling,
    switchParameter: mirror.switchParameter,
    ownerId: mirror.ownerId,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
  });
}

/**
 * The VNI when none is given: the first 24 bits of a SHA-256 of the owner id, the same for every
 * task of the mirror and stable across deploys, so a receiver can tell mirrors apart. (Traffic
 * Mirroring picks a random VNI, unique in the account, for each session.)
 */
export function defaultVni(ownerId: string): number {
  return parseInt(createHash('sha256').update(ownerId).digest('hex').slice(0, 6), 16);
}

/** What the sidecar needs from the mirror. */
export interface CaptureSidecarProps {
  readonly taskDefinition: ecs.TaskDefinition;
  readonly options: SidecarCaptureOptions;
  readonly targets: readonly MirrorTargetAddress[];
  readonly allowCrossZone?: boolean;
  /** The filter as the agent's JSON, or undefined for the default filter. */
  readonly filterJson?: string;
  readonly packetLength?: number;
  readonly virtualNetworkId: number;
  readonly sampling?: number;
  readonly switchParameter: ssm.IStringParameter;
  readonly ownerId: string;
  readonly logRetention: logs.RetentionDays;
}

/** The capture container of one task definition. */
export class CaptureSidecar extends Construct {
  /** The `traffic-capture` container. */
  public readonly container: ecs.ContainerDefinition;
  /** Where the agent logs and writes its metrics (Embedded Metric Format). */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CaptureSidecarProps) {
    super(scope, id);
    const { taskDefinition, options } = props;
    if (taskDefinition.node.tryFindChild(CAPTURE_CONTAINER_NAME) || taskDefinition.findContainer(CAPTURE_CONTAINER_NAME)) {
      throw new Error(`the task definition ${taskDefinition.node.path} already has a '${CAPTURE_CONTAINER_NAME}' container: one FargateTrafficMirror with CaptureMethod.sidecar() per service`);
    }
    validateIntegerRange('captureMethod sidecar cpu', options.cpu, 0, 16_384);
    validateIntegerRange('captureMethod sidecar memoryReservationMiB', options.memoryReservationMiB, 6, 120 * 1024);
    const memory = options.memoryReservationMiB ?? DEFAULT_MEMORY_RESERVATION_MIB;

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    const essential = options.essential ?? false;
    const environment: Record<string, string> = {
      [AGENT_ENV.TARGETS]: props.targets.map(t => `${t.host}:${t.port}`).join(','),
      ...(props.targets.some(t => t.availabilityZone !== undefined)
        ? { [AGENT_ENV.TARGET_ZONES]: props.targets.map(t => t.availabilityZone ?? '*').join(',') }
        : {}),
      ...(props.allowCrossZone ? { [AGENT_ENV.ALLOW_CROSS_ZONE]: 'true' } : {}),
      ...(props.targets.some(t => t.zonalDns) ? { [AGENT_ENV.ZONAL_DNS]: 'true' } : {}),
      ...(options.networkInterface ? { [AGENT_ENV.INTERFACE]: options.networkInterface } : {}),
      [AGENT_ENV.VNI]: String(props.virtualNetworkId),
      ...(props.packetLength !== undefined ? { [AGENT_ENV.PACKET_LENGTH]: String(props.packetLength) } : {}),
      ...(props.filterJson !== undefined ? { [AGENT_ENV.FILTER]: props.filterJson } : {}),
      ...(props.sampling !== undefined ? { [AGENT_ENV.SAMPLING]: String(props.sampling) } : {}),
      [AGENT_ENV.SWITCH_PARAMETER]: props.switchParameter.parameterName,
      [AGENT_ENV.OWNER]: props.ownerId,
    };
    this.container = taskDefinition.addContainer(CAPTURE_CONTAINER_NAME, {
      containerName: CAPTURE_CONTAINER_NAME,
      image: options.image ?? captureAgentImage(),
      cpu: options.cpu ?? DEFAULT_CPU,
      memoryReservationMiB: memory,
      essential,
      // Not essential: ECS restarts it in place, and the application keeps running meanwhile.
      ...(essential ? {} : { enableRestartPolicy: true, restartAttemptPeriod: Duration.seconds(60) }),
      environment,
      // The agent answers on an abstract socket of the task's network namespace: no shell, no file.
      healthCheck: {
        command: AGENT_HEALTH_COMMAND,
        interval: Duration.seconds(5),
        timeout: Duration.seconds(2),
        retries: 3,
        startPeriod: Duration.seconds(10),
      },
      readonlyRootFilesystem: true,
      // Root inside the container: ECS gives a non-root user no capabilities (there are no ambient
      // ones), and AF_PACKET needs NET_RAW; every other default capability is dropped below.
      user: '0',
      linuxParameters: netRawOnly(this),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: CAPTURE_CONTAINER_NAME, logGroup: this.logGroup }),
      stopTimeout: Duration.seconds(10),
    });
    // The agent reads the switch with GetParameter and nothing else.
    taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [props.switchParameter.parameterArn],
    }));

    // Every other container, also one added after this construct, starts once capture runs.
    Aspects.of(taskDefinition).add(new StartAfterCapture(this.container));
    taskDefinition.node.addValidation({ validate: () => memoryRoom(taskDefinition, this.container, memory) });
  }
}

/** Adds `dependsOn traffic-capture HEALTHY` to every other container of the task definition. */
class StartAfterCapture implements IAspect {
  constructor(private readonly capture: ecs.ContainerDefinition) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof ecs.ContainerDefinition) || node === this.capture || node.taskDefinition !== this.capture.taskDefinition) return;
    if (node.containerDependencies.some(d => d.container === this.capture)) return;
    node.addContainerDependencies({ container: this.capture, condition: ecs.ContainerDependencyCondition.HEALTHY });
  }
}

/** A synth error when the task definition's memory cannot hold the capture container's reservation. */
function memoryRoom(taskDefinition: ecs.TaskDefinition, capture: ecs.ContainerDefinition, reservation: number): string[] {
  const taskMemory = (taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).memory;
  if (taskMemory === undefined || Token.isUnresolved(taskMemory)) return [];
  let used = 0;
  for (const child of taskDefinition.node.children) {
    if (!(child instanceof ecs.ContainerDefinition) || child === capture) continue;
    const rendered = child.renderContainerDefinition();
    const own = typeof rendered.memory === 'number' ? rendered.memory : typeof rendered.memoryReservation === 'number' ? rendered.memoryReservation : 0;
    used += own;
  }
  const total = Number(taskMemory);
  if (used + reservation > total) {
    return [`captureMethod: CaptureMethod.sidecar() reserves ${reservation} MiB for the '${CAPTURE_CONTAINER_NAME}' container, but the task definition has ${total} MiB `
      + `and its other containers reserve or are limited to ${used} MiB: raise the task's memoryLimitMiB to at least ${used + reservation}, or lower memoryReservationMiB (at least 6)`];
  }
  return [];
}
