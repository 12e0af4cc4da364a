/** Public API: `MirrorTarget` and its factories: where mirrored packets go. */
import { Stack, Token, aws_ec2 as ec2, aws_elasticloadbalancingv2 as elbv2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MirrorReceiver } from './mirror-receiver';
import { VXLAN_PORT } from './private/capture-container';
import { validateIntegerRange, validatePattern } from './private/validation';

/**
 * The kind of resource a traffic mirror target points at. It decides which packet lengths
 * and how many sources the target accepts.
 */
export enum MirrorTargetKind {
  /** An elastic network interface: at most 10 sources (100 on the largest instance sizes). */
  NETWORK_INTERFACE = 'NETWORK_INTERFACE',
  /** A Network Load Balancer: no source limit; packet length at most 8500 bytes. */
  NETWORK_LOAD_BALANCER = 'NETWORK_LOAD_BALANCER',
  /** A Gateway Load Balancer endpoint: no source limit. */
  GATEWAY_LOAD_BALANCER_ENDPOINT = 'GATEWAY_LOAD_BALANCER_ENDPOINT',
  /** An existing traffic mirror target whose kind this library cannot see. */
  UNKNOWN = 'UNKNOWN',
}

/** What a `MirrorTarget` resolves to once bound to a construct. */
export interface MirrorTargetConfig {
  /** The id (`tmt-...`) of the traffic mirror target sessions send packets to. */
  readonly trafficMirrorTargetId: string;
  /** The kind of resource behind the target. */
  readonly kind: MirrorTargetKind;
  /**
   * The account that owns the target: the account in the target's ARN, which the session
   * functions' IAM permissions name. `*` allows any account, for a target shared with AWS RAM
   * whose owner was not given (the target id still pins one target: ids are unique).
   * @default - the account of the stack the mirror is in
   */
  readonly ownerAccount?: string;
  /**
   * The Availability Zone whose tasks the target serves, set by `MirrorTarget.perAvailabilityZone()`.
   * @default - the tasks of every zone
   */
  readonly availabilityZone?: string;
  /**
   * How many distinct sources (task network interfaces) the target accepts. The sweep moves a
   * session back to its zone only to a target with room; EC2 itself refuses a full target.
   * @default - no known limit
   */
  readonly maxSources?: number;
}

/** Where a capture sidecar sends its VXLAN datagrams: one target's address. */
export interface MirrorTargetAddress {
  /** An IPv4 address or a DNS name. */
  readonly host: string;
  /** The UDP port: 4789, VXLAN's, as Traffic Mirroring sends to. */
  readonly port: number;
  /**
   * The Availability Zone whose tasks the target serves, set by `MirrorTarget.perAvailabilityZone()`.
   * @default - the tasks of every zone
   */
  readonly availabilityZone?: string;
  /**
   * Whether `host` is a Network Load Balancer's DNS name, whose zonal name `<zone>.<host>`
   * answers with that zone's address, so a task sends to its own zone first.
   * @default false
   */
  readonly zonalDns?: boolean;
}

/** Options for `MirrorTarget.networkInterface()`. */
export interface NetworkInterfaceTargetOptions {
  /**
   * The interface's private IPv4 address. A capture sidecar (`CaptureMethod.sidecar()`) sends to
   * the address, not the interface id, so it is required there.
   * @default - unknown: the interface can be a Traffic Mirroring target only
   */
  readonly privateIpAddress?: string;
  /**
   * How many sources the network interface accepts as a traffic mirror target: 10, or 100 on
   * the largest instance sizes (Traffic Mirroring quotas list them).
   * @default 10
   */
  readonly maxSources?: number;
}

/** Options for `MirrorTarget.fromTrafficMirrorTargetId()`. */
export interface ImportedMirrorTargetOptions {
  /**
   * The account that owns the target. A target shared with AWS Resource Access Manager (AWS
   * RAM) by another account carries its owner's account in its ARN, and the IAM permissions
   * to create and modify sessions name that ARN.
   * @default - any account (`*` in the target's ARN); the target id still identifies one target
   */
  readonly ownerAccount?: string;
  /**
   * How many sources the target accepts, when it is a network interface (10, or 100 on the
   * largest instance sizes). Network Load Balancer and Gateway Load Balancer endpoint targets
   * have no limit.
   * @default - no known limit
   */
  readonly maxSources?: number;
}

/** Options for `MirrorTarget.bind()`. */
export interface MirrorTargetBindOptions {
  /**
   * Description of the traffic mirror target, when one is created.
   * @default - a description naming this library
   */
  readonly description?: string;
  /**
   * The construct id of the traffic mirror target, when one is created. Pools and
   * `perAvailabilityZone` give each of their targets an id of its own derived from this one.
   * @default 'Target'
   */
  readonly id?: string;
}

/**
 * Where mirrored packets go: a network interface, a Network Load Balancer, a Gateway Load
 * Balancer endpoint, or a traffic mirror target that already exists; several of them in a
 * `pool()`, and a target or pool per Availability Zone with `perAvailabilityZone()`.
 *
 * Use the static factories; `FargateTrafficMirror` calls `bindAll()`.
 */
export abstract class MirrorTarget {
  /**
   * Mirror to an elastic network interface, typically the one of an EC2 instance that runs the
   * sensor. An ENI target accepts at most 10 sources (100 on the largest instance sizes): put
   * several in a `pool()` for more.
   *
   * @param networkInterfaceId The id of the network interface (`eni-...`)
   * @param options How many sources the interface accepts
   */
  public static networkInterface(networkInterfaceId: string, options: NetworkInterfaceTargetOptions = {}): MirrorTarget {
    validatePattern('MirrorTarget.networkInterface networkInterfaceId', networkInterfaceId, /^eni-[0-9a-f]{8,17}$/, "a network interface id like 'eni-0123456789abcdef0'");
    validateIntegerRange('MirrorTarget.networkInterface maxSources', options.maxSources, 1, MAX_SOURCES_PER_TARGET);
    if (options.privateIpAddress !== undefined) {
      validatePattern('MirrorTarget.networkInterface privateIpAddress', options.privateIpAddress, IPV4_ADDRESS, "an IPv4 address like '10.0.1.25'");
    }
    return new NewMirrorTarget(MirrorTargetKind.NETWORK_INTERFACE, { networkInterfaceId }, options.maxSources ?? ENI_TARGET_SOURCES,
      options.privateIpAddress !== undefined ? { host: options.privateIpAddress, port: VXLAN_PORT } : undefined);
  }

  /**
   * Mirror to a Network Load Balancer (UDP listener on port 4789 in front of the sensors).
   * No source limit; packet length at most 8500 bytes.
   * @param nlb The load balancer in front of the sensors
   */
  public static networkLoadBalancer(nlb: elbv2.INetworkLoadBalancer): MirrorTarget {
    return new NewMirrorTarget(MirrorTargetKind.NETWORK_LOAD_BALANCER, { networkLoadBalancerArn: nlb.loadBalancerArn }, undefined,
      { host: nlb.loadBalancerDnsName, port: VXLAN_PORT, zonalDns: true });
  }

  /**
   * Mirror to a `MirrorReceiver`: its Network Load Balancer, whose receiver tasks write the
   * packets to pcap files in S3. Works with both capture methods and inside `pool()` and
   * `perAvailabilityZone()`.
   * @param receiver The receiver
   */
  public static receiver(receiver: MirrorReceiver): MirrorTarget {
    return MirrorTarget.networkLoadBalancer(receiver.loadBalancer);
  }

  /**
   * Mirror to a Gateway Load Balancer endpoint. No source limit.
   *
   * @param vpcEndpointId The id of the Gateway Load Balancer endpoint (`vpce-...`)
   */
  public static gatewayLoadBalancerEndpoint(vpcEndpointId: string): MirrorTarget {
    validatePattern('MirrorTarget.gatewayLoadBalancerEndpoint vpcEndpointId', vpcEndpointId, /^vpce-[0-9a-f]{8,17}$/, "a VPC endpoint id like 'vpce-0123456789abcdef0'");
    return new NewMirrorTarget(MirrorTargetKind.GATEWAY_LOAD_BALANCER_ENDPOINT, { gatewayLoadBalancerEndpointId: vpcEndpointId });
  }

  /**
   * Reuse a traffic mirror target that already exists (created elsewhere, perhaps shared by
   * several services, or shared with this account through AWS RAM). Nothing is created for it.
   *
   * @param trafficMirrorTargetId The id of the target (`tmt-...`)
   * @param options The account that owns the target
   */
  public static fromTrafficMirrorTargetId(trafficMirrorTargetId: string, options: ImportedMirrorTargetOptions = {}): MirrorTarget {
    validatePattern('MirrorTarget.fromTrafficMirrorTargetId trafficMirrorTargetId', trafficMirrorTargetId, /^tmt-[0-9a-f]{8,17}$/, "a traffic mirror target id like 'tmt-0123456789abcdef0'");
    if (options.ownerAccount !== undefined) {
      validatePattern('MirrorTarget.fromTrafficMirrorTargetId ownerAccount', options.ownerAccount, /^\d{12}$/, "a 12-digit AWS account id like '123456789012'");
    }
    validateIntegerRange('MirrorTarget.fromTrafficMirrorTargetId maxSources', options.maxSources, 1, MAX_SOURCES_PER_TARGET);
    return new ExistingMirrorTarget(trafficMirrorTargetId, options.ownerAccount, options.maxSources);
  }

  /**
   * Several targets that share the load: each task's session goes to one of them, spread evenly
   * and deterministically (by the task's network interface), and to the next when one is full
   * or gone. Use it to mirror more tasks than one network interface target accepts (10 sources
   * each), or to spread over several appliances. Nested pools are flattened; a pool cannot hold
   * `perAvailabilityZone()` (put pools inside it instead). All targets of a pool must accept the
   * same packet lengths: do not mix Network Load Balancers with other kinds.
   *
   * @param targets The targets, at least one, each once
   */
  public static pool(targets: MirrorTarget[]): MirrorTarget {
    if (targets.length === 0) {
      throw new Error('MirrorTarget.pool targets must hold at least one target, got an empty list');
    }
    const members: MirrorTarget[] = [];
    for (const target of targets) {
      if (target instanceof ZonedMirrorTargets) {
        throw new Error('MirrorTarget.pool targets cannot hold MirrorTarget.perAvailabilityZone(); put the pools inside perAvailabilityZone instead');
      }
      members.push(...leaves(target));
    }
    rejectDuplicates('MirrorTarget.pool targets', members);
    return new MirrorTargetPool(members);
  }

  /**
   * A target (or a `pool()`) per Availability Zone: each task's session goes to a target of the
   * task's own zone, so mirrored traffic does not cross zones (where it is billed as inter-AZ
   * data transfer). Tasks in a zone without a target, or whose zone's targets are all full,
   * wait unmirrored until one has room, unless `allowCrossZone` is set on the mirror.
   *
   * @param targets The target of each zone, by zone name (`eu-west-1a`, not the zone id `euw1-az1`)
   */
  public static perAvailabilityZone(targets: { [availabilityZone: string]: MirrorTarget }): MirrorTarget {
    // In zone order, whatever order the caller's map iterates in (Java's and Go's maps have none).
    const zones = Object.keys(targets).sort();
    if (zones.length === 0) {
      throw new Error('MirrorTarget.perAvailabilityZone targets must name at least one Availability Zone, got none');
    }
    for (const zone of zones) {
      if (!AVAILABILITY_ZONE_NAME.test(zone)) {
        throw new Error(`MirrorTarget.perAvailabilityZone targets must be keyed by Availability Zone names like 'eu-west-1a' or 'us-west-2-lax-1a', got '${zone}'`
          + (/^[a-z0-9]+-az\d+$/.test(zone) ? ' (a zone id: use the zone\'s name, which ECS reports for each task)' : ''));
      }
      if (targets[zone] instanceof ZonedMirrorTargets) {
        throw new Error(`MirrorTarget.perAvailabilityZone targets['${zone}'] cannot be another perAvailabilityZone()`);
      }
    }
    rejectDuplicates('MirrorTarget.perAvailabilityZone targets', zones.flatMap(zone => leaves(targets[zone])));
    return new ZonedMirrorTargets(zones.map(zone => [zone, targets[zone]]));
  }

  /**
   * Creates whatever the target needs inside `scope` and returns its id, kind and owner account.
   * Called once by `FargateTrafficMirror`.
   * @param scope The construct to create the target in
   * @param options Options for the target when one is created
   */
  public abstract bind(scope: Construct, options?: MirrorTargetBindOptions): MirrorTargetConfig;

  /**
   * Creates whatever every target needs inside `scope` and returns each one's id, kind, owner
   * account, zone and source limit, in order. One target returns itself; `pool()` and
   * `perAvailabilityZone()` return each of theirs. Called once by `FargateTrafficMirror`.
   * @param scope The construct to create the targets in
   * @param options Options for the targets that are created
   */
  public bindAll(scope: Construct, options: MirrorTargetBindOptions = {}): MirrorTargetConfig[] {
    return [this.bind(scope, options)];
  }

  /**
   * The addresses a capture sidecar (`CaptureMethod.sidecar()`) sends to, in order; creates
   * nothing. Throws for a target a sender cannot address: a Gateway Load Balancer endpoint, an
   * existing target id, a network interface without its `privateIpAddress`.
   */
  public sidecarAddresses(): MirrorTargetAddress[] {
    throw new Error('this MirrorTarget cannot take packets from a capture sidecar');
  }
}

const IPV4_ADDRESS = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Sources a network interface target accepts (Traffic Mirroring quotas), and on the largest instance sizes. */
const ENI_TARGET_SOURCES = 10;
const MAX_SOURCES_PER_TARGET = 100;

/**
 * Availability Zone names: a region and a letter (`eu-west-1a`), or a Local Zone's name
 * (`us-west-2-lax-1a`). The first group is the region.
 */
const AVAILABILITY_ZONE_NAME = /^([a-z]{2}(?:-[a-z]+)+-\d+)(?:[a-z]|-[a-z]+-\d+[a-z])$/;

/** The single targets a target stands for (itself, or a pool's members). */
function leaves(target: MirrorTarget): MirrorTarget[] {
  return target instanceof MirrorTargetPool ? target.members : [target];
}

/** Throws when a target appears twice (same interface, endpoint, load balancer or target id). */
function rejectDuplicates(prop: string, targets: readonly MirrorTarget[]): void {
  const seen = new Set<string>();
  for (const target of targets) {
    const key = target instanceof NewMirrorTarget || target instanceof ExistingMirrorTarget ? target.identity : undefined;
    if (key === undefined) continue;
    if (seen.has(key)) {
      throw new Error(`${prop} must name each target once, got ${key.replace(/^[^:]+:/, '')} twice`);
    }
    seen.add(key);
  }
}

type NewTargetProperties = Pick<ec2.CfnTrafficMirrorTargetProps, 'networkInterfaceId' | 'networkLoadBalancerArn' | 'gatewayLoadBalancerEndpointId'>;

class NewMirrorTarget extends MirrorTarget {
  constructor(
    private readonly kind: MirrorTargetKind,
    private readonly properties: NewTargetProperties,
    private readonly maxSources?: number,
    private readonly address?: MirrorTargetAddress,
  ) {
    super();
  }

  public sidecarAddresses(): MirrorTargetAddress[] {
    if (this.address) return [this.address];
    if (this.kind === MirrorTargetKind.GATEWAY_LOAD_BALANCER_ENDPOINT) {
      throw new Error('a Gateway Load Balancer endpoint cannot take packets from a capture sidecar (it accepts only what VPC Traffic Mirroring '
        + 'and route tables send it): use MirrorTarget.networkLoadBalancer() in front of the appliances, or CaptureMethod.trafficMirroring()');
    }
    throw new Error(`MirrorTarget.networkInterface('${this.properties.networkInterfaceId}') needs its privateIpAddress for CaptureMethod.sidecar(): `
      + 'the capture sidecar sends to the address');
  }

  /** What makes two targets the same: the resource they point at (a token string for a load balancer of the app). */
  public get identity(): string {
    return `${this.kind}:${Object.values(this.properties).join()}`;
  }

  public bind(scope: Construct, options: MirrorTargetBindOptions = {}): MirrorTargetConfig {
    const target = new ec2.CfnTrafficMirrorTarget(scope, options.id ?? 'Target', {
      ...this.properties,
      description: options.description ?? 'Traffic mirror target managed by cdk-fargate-traffic-mirror',
    });
    // Created here, so owned by this stack's account.
    return {
      trafficMirrorTargetId: target.ref,
      kind: this.kind,
      ownerAccount: Stack.of(scope).account,
      ...(this.maxSources !== undefined ? { maxSources: this.maxSources } : {}),
    };
  }
}

/** Any account: the value of `MirrorTargetConfig.ownerAccount` when the owner is not known. */
const ANY_ACCOUNT = '*';

class ExistingMirrorTarget extends MirrorTarget {
  constructor(private readonly targetId: string, private readonly ownerAccount: string | undefined, private readonly maxSources?: number) {
    super();
  }

  public get identity(): string {
    return `existing:${this.targetId}`;
  }

  public sidecarAddresses(): MirrorTargetAddress[] {
    throw new Error(`MirrorTarget.fromTrafficMirrorTargetId('${this.targetId}') cannot take packets from a capture sidecar: its address is unknown. `
      + 'Use MirrorTarget.networkLoadBalancer() or MirrorTarget.networkInterface() with privateIpAddress');
  }

  public bind(_scope: Construct, _options?: MirrorTargetBindOptions): MirrorTargetConfig {
    return {
      trafficMirrorTargetId: this.targetId,
      kind: MirrorTargetKind.UNKNOWN,
      ownerAccount: this.ownerAccount ?? ANY_ACCOUNT,
      ...(this.maxSources !== undefined ? { maxSources: this.maxSources } : {}),
    };
  }
}

class MirrorTargetPool extends MirrorTarget {
  constructor(public readonly members: MirrorTarget[]) {
    super();
  }

  public bind(_scope: Construct, _options?: MirrorTargetBindOptions): MirrorTargetConfig {
    throw new Error('MirrorTarget.pool() stands for several targets: bind it with bindAll()');
  }

  public bindAll(scope: Construct, options: MirrorTargetBindOptions = {}): MirrorTargetConfig[] {
    // A pool of one is that target, under the same id.
    const id = options.id ?? 'Target';
    return this.members.flatMap((member, i) => member.bindAll(scope, { ...options, id: this.members.length === 1 ? id : `${id}-${i + 1}` }));
  }

  public sidecarAddresses(): MirrorTargetAddress[] {
    return this.members.flatMap(member => member.sidecarAddresses());
  }
}

class ZonedMirrorTargets extends MirrorTarget {
  constructor(private readonly zones: Array<[string, MirrorTarget]>) {
    super();
  }

  public bind(_scope: Construct, _options?: MirrorTargetBindOptions): MirrorTargetConfig {
    throw new Error('MirrorTarget.perAvailabilityZone() stands for several targets: bind it with bindAll()');
  }

  public bindAll(scope: Construct, options: MirrorTargetBindOptions = {}): MirrorTargetConfig[] {
    const region = Stack.of(scope).region;
    const id = options.id ?? 'Target';
    return this.zones.flatMap(([zone, target]) => {
      const zoneRegion = AVAILABILITY_ZONE_NAME.exec(zone)![1];
      if (!Token.isUnresolved(region) && zoneRegion !== region) {
        throw new Error(`MirrorTarget.perAvailabilityZone targets must be keyed by Availability Zones of the stack's region ${region}, got '${zone}'`);
      }
      return target.bindAll(scope, { ...options, id: `${id}-${zone}` }).map(config => ({ ...config, availabilityZone: zone }));
    });
  }

  public sidecarAddresses(): MirrorTargetAddress[] {
    return this.zones.flatMap(([zone, target]) => target.sidecarAddresses().map(address => ({ ...address, availabilityZone: zone })));
  }
}

