/**
 * Contract: the environment variables of the `traffic-capture` container, the capture agent's whole
 * configuration (capture-agent/internal/config reads the same names). Imports nothing.
 */

/** The container's name in the task definition. */
export const CAPTURE_CONTAINER_NAME = 'traffic-capture';

/** The agent's variables, by meaning. */
export const AGENT_ENV = {
  /** Comma-separated `host:port` targets (an NLB's DNS name, an ENI target's private IPv4). */
  TARGETS: 'MIRROR_TARGETS',
  /** The interface to capture; unset: the interface of the default route. */
  INTERFACE: 'MIRROR_INTERFACE',
  /** Comma-separated, one per target: its Availability Zone, or `*` for any. */
  TARGET_ZONES: 'MIRROR_TARGET_ZONES',
  /** `true`: a task whose zone has no target uses another zone's. */
  ALLOW_CROSS_ZONE: 'MIRROR_ALLOW_CROSS_ZONE',
  /** `true`: DNS-name targets are Network Load Balancers; try the zonal name `<az>.<name>` first. */
  ZONAL_DNS: 'MIRROR_ZONAL_DNS',
  /** The VXLAN network identifier, 0..16777215. */
  VNI: 'MIRROR_VNI',
  /** Bytes of each frame to send; unset: the whole frame. */
  PACKET_LENGTH: 'MIRROR_PACKET_LENGTH',
  /** The filter's rules as JSON (`{"rules":[...],"amazonDns":false}`); unset: accept all IPv4 and IPv6. */
  FILTER: 'MIRROR_FILTER',
  /** The share of tasks mirrored, (0, 1]: a task is chosen by a hash of its id. */
  SAMPLING: 'MIRROR_SAMPLING',
  /** The SSM parameter of the run-time switch (`on`, `off`, `on until <ISO 8601>`). */
  SWITCH_PARAMETER: 'MIRROR_SWITCH_PARAMETER',
  /** The owner id, the `Owner` dimension of the agent's metrics. */
  OWNER: 'MIRROR_OWNER',
} as const;

/** The health command of the container (CMD form: the image has no shell). */
export const AGENT_HEALTH_COMMAND = ['CMD', '/capture-agent', 'health'];

/** The agent's metric names (CloudWatch Embedded Metric Format on stdout). */
export const AGENT_METRIC = {
  CAPTURED_PACKETS: 'CapturedPackets',
  MIRRORED_PACKETS: 'MirroredPackets',
  MIRRORED_BYTES: 'MirroredBytes',
  FILTERED_PACKETS: 'FilteredPackets',
  KERNEL_DROPS: 'KernelDrops',
  SEND_ERRORS: 'SendErrors',
  TRUNCATED_FRAMES: 'TruncatedFrames',
  RESTARTS: 'AgentRestarts',
} as const;
