import { Stack, aws_ec2 as ec2, aws_elasticloadbalancingv2 as elbv2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { validatePattern } from './validation';

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
}

/** Options for `MirrorTarget.bind()`. */
export interface MirrorTargetBindOptions {
  /**
   * Description of the traffic mirror target, when one is created.
   * @default - a description naming this library
   */
  readonly description?: string;
}

/**
 * Where mirrored packets go: a network interface, a Network Load Balancer, a Gateway Load
 * Balancer endpoint, or a traffic mirror target that already exists.
 *
 * Use the static factories; `FargateTrafficMirror` calls `bind()`.
 */
export abstract class MirrorTarget {
  /**
   * Mirror to an elastic network interface, typically the one of an EC2 instance that runs the
   * sensor. An ENI target accepts at most 10 sources (100 on the largest instance sizes).
   *
   * @param networkInterfaceId The id of the network interface (`eni-...`)
   */
  public static networkInterface(networkInterfaceId: string): MirrorTarget {
    validatePattern('MirrorTarget.networkInterface networkInterfaceId', networkInterfaceId, /^eni-[0-9a-f]{8,17}$/, "a network interface id like 'eni-0123456789abcdef0'");
    return new NewMirrorTarget(MirrorTargetKind.NETWORK_INTERFACE, { networkInterfaceId });
  }

  /**
   * Mirror to a Network Load Balancer (UDP listener on port 4789 in front of the sensors).
   * No source limit; packet length at most 8500 bytes.
   * @param nlb The load balancer in front of the sensors
   */
  public static networkLoadBalancer(nlb: elbv2.INetworkLoadBalancer): MirrorTarget {
    return new NewMirrorTarget(MirrorTargetKind.NETWORK_LOAD_BALANCER, { networkLoadBalancerArn: nlb.loadBalancerArn });
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
    return new ExistingMirrorTarget(trafficMirrorTargetId, options.ownerAccount);
  }

  /**
   * Creates whatever the target needs inside `scope` and returns its id, kind and owner account.
   * Called once by `FargateTrafficMirror`.
   * @param scope The construct to create the target in
   * @param options Options for the target when one is created
   */
  public abstract bind(scope: Construct, options?: MirrorTargetBindOptions): MirrorTargetConfig;
}

type NewTargetProperties = Pick<ec2.CfnTrafficMirrorTargetProps, 'networkInterfaceId' | 'networkLoadBalancerArn' | 'gatewayLoadBalancerEndpointId'>;

class NewMirrorTarget extends MirrorTarget {
  constructor(private readonly kind: MirrorTargetKind, private readonly properties: NewTargetProperties) {
    super();
  }

  public bind(scope: Construct, options: MirrorTargetBindOptions = {}): MirrorTargetConfig {
    const target = new ec2.CfnTrafficMirrorTarget(scope, 'Target', {
      ...this.properties,
      description: options.description ?? 'Traffic mirror target managed by cdk-fargate-traffic-mirror',
    });
    // Created here, so owned by this stack's account.
    return { trafficMirrorTargetId: target.ref, kind: this.kind, ownerAccount: Stack.of(scope).account };
  }
}

/** Any account: the value of `MirrorTargetConfig.ownerAccount` when the owner is not known. */
const ANY_ACCOUNT = '*';

class ExistingMirrorTarget extends MirrorTarget {
  constructor(private readonly targetId: string, private readonly ownerAccount: string | undefined) {
    super();
  }

  public bind(_scope: Construct, _options?: MirrorTargetBindOptions): MirrorTargetConfig {
    return { trafficMirrorTargetId: this.targetId, kind: MirrorTargetKind.UNKNOWN, ownerAccount: this.ownerAccount ?? ANY_ACCOUNT };
  }
}

