/** Public API: `CaptureMethod`, how a mirror captures its service's packets (Traffic Mirroring or a sidecar). */
import { aws_ecs as ecs } from 'aws-cdk-lib';

/** Options for `CaptureMethod.sidecar()`. */
export interface SidecarCaptureOptions {
  /**
   * The capture agent's image. The default builds the agent from this package's own assets
   * (`capture-agent/`, a static Go program in a `scratch` image) with `ContainerImage.fromAsset`,
   * so deploying needs Docker, as any CDK image asset does; synthesizing does not.
   * @default - built from the package's capture-agent/ directory
   */
  readonly image?: ecs.ContainerImage;
  /**
   * CPU units reserved for the capture container (1,024 = one vCPU), taken from the task's share.
   * @default 128
   */
  readonly cpu?: number;
  /**
   * Memory the capture container reserves, in MiB (its soft limit). The task definition must have
   * this much memory beyond what its other containers reserve or limit themselves to.
   * @default 64
   */
  readonly memoryReservationMiB?: number;
  /**
   * Whether the task stops when the capture container stops. By default it does not: ECS restarts
   * the container (container restart policy), so a capture failure never takes the application
   * down, and `createAlarms` adds an alarm on restarts.
   * @default false
   */
  readonly essential?: boolean;
  /**
   * The network interface to capture inside the task.
   * @default - the interface of the default route
   */
  readonly networkInterface?: string;
}

/** Which capture method a `CaptureMethod` stands for. */
export enum CaptureMethodKind {
  /** A VPC Traffic Mirroring session per task network interface, kept by the session manager. */
  TRAFFIC_MIRRORING = 'TRAFFIC_MIRRORING',
  /** A `traffic-capture` container in each task that captures and sends VXLAN itself. */
  SIDECAR = 'SIDECAR',
}

/**
 * How a `FargateTrafficMirror` captures its service's packets. Both methods send the same VXLAN
 * stream (UDP 4789, the whole Ethernet frame) to the same targets through the same filter, so a
 * receiver cannot tell them apart.
 *
 * @example
 * declare const service: ecs.FargateService;
 * declare const nlb: elbv2.NetworkLoadBalancer;
 *
 * new FargateTrafficMirror(this, 'Mirror', {
 *   service,
 *   target: MirrorTarget.networkLoadBalancer(nlb),
 *   captureMethod: CaptureMethod.sidecar(),
 * });
 */
export abstract class CaptureMethod {
  /**
   * VPC Traffic Mirroring: a session per task network interface, created and removed by the
   * stack's shared session manager as tasks start and stop. AWS's guide documents only RDS and
   * ElastiCache requester-managed interfaces as sources, and Fargate task interfaces are
   * requester-managed: not proven for Fargate. The default, for compatibility.
   */
  public static trafficMirroring(): CaptureMethod {
    return new TrafficMirroringCapture();
  }

  /**
   * A capture container (`traffic-capture`) in every task of the service: it shares the task's
   * network namespace, captures with AF_PACKET (Fargate's default NET_RAW capability), applies the
   * filter with EC2's semantics and sends VXLAN to the target itself. The other containers start
   * only once it is healthy, so it sees every packet from the first. No Lambda, no sessions.
   *
   * @param options Image, CPU, memory and essential flag of the capture container
   */
  public static sidecar(options: SidecarCaptureOptions = {}): CaptureMethod {
    return new SidecarCapture(options);
  }

  /** Which method this is. */
  public abstract readonly kind: CaptureMethodKind;

  /** The sidecar's options; empty for Traffic Mirroring. */
  public abstract readonly sidecarOptions: SidecarCaptureOptions;
}

class TrafficMirroringCapture extends CaptureMethod {
  public readonly kind = CaptureMethodKind.TRAFFIC_MIRRORING;
  public readonly sidecarOptions: SidecarCaptureOptions = {};
}

class SidecarCapture extends CaptureMethod {
  public readonly kind = CaptureMethodKind.SIDECAR;
  constructor(public readonly sidecarOptions: SidecarCaptureOptions) {
    super();
  }
}
