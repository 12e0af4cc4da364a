/** Public API: `MirrorFilter`, typed 5-tuple rules of a traffic mirror filter. */
import { IResource, Resource, Token, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AgentFilter, recordFilter } from './private/agent-filters';
import { cidrFamily, validateIntegerRange } from './private/validation';

/** Which way a filter rule looks at traffic, from the source network interface's view. */
export enum TrafficDirection {
  /** Packets arriving at the task. */
  INGRESS = 'ingress',
  /** Packets leaving the task. */
  EGRESS = 'egress',
}

/** What a filter rule does with the packets it matches. */
export enum MirrorRuleAction {
  /** Mirror matching packets. */
  ACCEPT = 'accept',
  /** Do not mirror matching packets. */
  REJECT = 'reject',
}

/** IANA protocol numbers commonly used in filter rules. Any number 0..255 is accepted. */
export class MirrorProtocol {
  /** ICMP (1). */
  public static readonly ICMP = 1;
  /** TCP (6). Port ranges are allowed. */
  public static readonly TCP = 6;
  /** UDP (17). Port ranges are allowed. */
  public static readonly UDP = 17;
  /** ICMPv6 (58). */
  public static readonly ICMPV6 = 58;

  private constructor() {}
}

/** An inclusive range of ports. */
export interface MirrorPortRange {
  /** First port, 0..65535. */
  readonly from: number;
  /** Last port, 0..65535, not below `from`. */
  readonly to: number;
}

/** One 5-tuple rule of a traffic mirror filter. */
export interface MirrorFilterRule {
  /** Direction of the traffic the rule matches. */
  readonly direction: TrafficDirection;
  /**
   * Whether matching packets are mirrored.
   * @default MirrorRuleAction.ACCEPT
   */
  readonly action?: MirrorRuleAction;
  /**
   * IANA protocol number (0..255), for example `MirrorProtocol.TCP`.
   * @default - all protocols
   */
  readonly protocol?: number;
  /**
   * Source CIDR block. Must be of the same IP family as `destinationCidr`.
   * @default - '0.0.0.0/0', or '::/0' when `destinationCidr` is IPv6
   */
  readonly sourceCidr?: string;
  /**
   * Destination CIDR block. Must be of the same IP family as `sourceCidr`.
   * @default - '0.0.0.0/0', or '::/0' when `sourceCidr` is IPv6
   */
  readonly destinationCidr?: string;
  /**
   * Source ports. Only with protocol TCP or UDP.
   * @default - all ports
   */
  readonly sourcePortRange?: MirrorPortRange;
  /**
   * Destination ports. Only with protocol TCP or UDP.
   * @default - all ports
   */
  readonly destinationPortRange?: MirrorPortRange;
  /**
   * Rule number (1..32766), unique per direction; lower numbers are evaluated first.
   * @default - the next multiple of 100 above the highest number already used in this direction
   */
  readonly ruleNumber?: number;
  /**
   * Description of the rule.
   * @default - no description
   */
  readonly description?: string;
}

/** A traffic mirror filter: the 5-tuple rules that decide which packets are mirrored. */
export interface IMirrorFilter extends IResource {
  /**
   * The id of the filter (`tmf-...`).
   * @attribute
   */
  readonly trafficMirrorFilterId: string;
}

/** Properties of a `MirrorFilter`. */
export interface MirrorFilterProps {
  /**
   * The filter's rules, at most 10 in both directions together. More can be added with
   * `addRule()`.
   * @default - accept all IPv4 and IPv6 traffic in both directions
   */
  readonly rules?: MirrorFilterRule[];
  /**
   * Also mirror traffic to and from the Amazon DNS server, which filters skip by default.
   * @default false
   */
  readonly mirrorAmazonDns?: boolean;
  /**
   * Description of the filter.
   * @default - a description naming this library
   */
  readonly description?: string;
}

/** AWS allows at most this many rules in one filter (not adjustable). */
const MAX_RULES_PER_FILTER = 10;
const MAX_RULE_NUMBER = 32766;
const PORT_PROTOCOLS = [MirrorProtocol.TCP, MirrorProtocol.UDP];

/** The rules a filter gets when none are given: everything, both ways, both IP families. */
const ACCEPT_ALL: MirrorFilterRule[] = [TrafficDirection.INGRESS, TrafficDirection.EGRESS].flatMap(direction => [
  { direction, sourceCidr: '0.0.0.0/0', destinationCidr: '0.0.0.0/0', description: 'Mirror all IPv4 traffic' },
  { direction, sourceCidr: '::/0', destinationCidr: '::/0', description: 'Mirror all IPv6 traffic' },
]);

/**
 * A traffic mirror filter with typed 5-tuple rules.
 *
 * @example
 * const filter = new MirrorFilter(this, 'WebOnly', {
 *   rules: [
 *     { direction: TrafficDirection.INGRESS, protocol: MirrorProtocol.TCP, destinationPortRange: { from: 443, to: 443 } },
 *     { direction: TrafficDirection.EGRESS, protocol: MirrorProtocol.TCP, sourcePortRange: { from: 443, to: 443 } },
 *   ],
 * });
 */
export class MirrorFilter extends Resource implements IMirrorFilter {
  /**
   * Refers to a traffic mirror filter that already exists.
   * @param scope The construct to define the reference in
   * @param id The id of the reference, unique within `scope`
   * @param trafficMirrorFilterId The filter's id (`tmf-...`)
   */
  public static fromMirrorFilterId(scope: Construct, id: string, trafficMirrorFilterId: string): IMirrorFilter {
    if (!Token.isUnresolved(trafficMirrorFilterId) && !/^tmf-[0-9a-f]{8,17}$/.test(trafficMirrorFilterId)) {
      throw new Error(`MirrorFilter.fromMirrorFilterId trafficMirrorFilterId must be a traffic mirror filter id like 'tmf-0123456789abcdef0', got '${trafficMirrorFilterId}'`);
    }
    class Import extends Resource implements IMirrorFilter {
      public readonly trafficMirrorFilterId = trafficMirrorFilterId;
    }
    return new Import(scope, id);
  }

  public readonly trafficMirrorFilterId: string;
  private readonly usedRuleNumbers: Record<TrafficDirection, Set<number>> = {
    [TrafficDirection.INGRESS]: new Set(),
    [TrafficDirection.EGRESS]: new Set(),
  };
  private ruleCount = 0;
  private readonly agentFilter: AgentFilter;

  /**
   * @param scope The construct to add the filter to, usually a stack
   * @param id The id of this construct, unique within `scope`
   * @param props The rules and options. Without rules, the filter accepts all traffic
   */
  constructor(scope: Construct, id: string, props: MirrorFilterProps = {}) {
    super(scope, id);
    const filter = new ec2.CfnTrafficMirrorFilter(this, 'Resource', {
      description: props.description ?? 'Traffic mirror filter managed by cdk-fargate-traffic-mirror',
      networkServices: props.mirrorAmazonDns ? ['amazon-dns'] : undefined,
    });
    this.trafficMirrorFilterId = filter.ref;
    // The same rules for the capture sidecar, which applies them itself (CaptureMethod.sidecar()).
    this.agentFilter = recordFilter(this, props.mirrorAmazonDns ?? false);
    (props.rules ?? ACCEPT_ALL).forEach(rule => this.addRule(rule));
  }

  /**
   * Adds a rule. Throws when the rule is invalid, its number is already used in its
   * direction, or the filter would hold more than 10 rules.
   * @param rule The rule to add. Without a `ruleNumber`, it gets the next multiple of 100 in its direction
   */
  public addRule(rule: MirrorFilterRule): void {
    const index = this.ruleCount;
    const at = `MirrorFilter '${this.node.path}' rules[${index}]`;
    if (index >= MAX_RULES_PER_FILTER) {
      throw new Error(`${at}: a traffic mirror filter holds at most ${MAX_RULES_PER_FILTER} rules, got ${index + 1}`);
    }
    const { sourceCidr, destinationCidr } = resolveCidrs(at, rule);
    validateIntegerRange(`${at}.protocol`, rule.protocol, 0, 255);
    validatePorts(at, rule);
    const ruleNumber = this.allocateRuleNumber(at, rule);

    const cfnRule = new ec2.CfnTrafficMirrorFilterRule(this, `Rule${index}`, {
      trafficMirrorFilterId: this.trafficMirrorFilterId,
      trafficDirection: rule.direction,
      ruleAction: rule.action ?? MirrorRuleAction.ACCEPT,
      ruleNumber,
      protocol: rule.protocol,
      sourceCidrBlock: sourceCidr,
      destinationCidrBlock: destinationCidr,
      sourcePortRange: rule.sourcePortRange && { fromPort: rule.sourcePortRange.from, toPort: rule.sourcePortRange.to },
      destinationPortRange: rule.destinationPortRange && { fromPort: rule.destinationPortRange.from, toPort: rule.destinationPortRange.to },
      description: rule.description,
    });
    if (cidrFamily(sourceCidr) === 'ipv6' || cidrFamily(destinationCidr) === 'ipv6') {
      // cfn-lint's enhanced schema declares these CIDRs 'ipv4-network' (E3002), but EC2 accepts
      // IPv6 blocks in filter rules (the Traffic Mirroring guide's own example mirrors ::/0) and
      // CloudFormation's published schema types them as plain strings. The values were validated
      // above, so only this rule's E3002 is silenced, for users' cfn-lint runs too.
      cfnRule.addMetadata('cfn-lint', { config: { ignore_checks: ['E3002'] } });
    }
    this.agentFilter.rules.push({
      direction: rule.direction,
      ruleNumber,
      action: rule.action ?? MirrorRuleAction.ACCEPT,
      ...(rule.protocol !== undefined ? { protocol: rule.protocol } : {}),
      sourceCidr,
      destinationCidr,
      ...(rule.sourcePortRange ? { sourcePortRange: { from: rule.sourcePortRange.from, to: rule.sourcePortRange.to } } : {}),
      ...(rule.destinationPortRange ? { destinationPortRange: { from: rule.destinationPortRange.from, to: rule.destinationPortRange.to } } : {}),
    });
    this.ruleCount++;
  }

  private allocateRuleNumber(at: string, rule: MirrorFilterRule): number {
    const used = this.usedRuleNumbers[rule.direction];
    if (used === undefined) {
      throw new Error(`${at}.direction must be 'ingress' or 'egress', got '${rule.direction}'`);
    }
    let ruleNumber = rule.ruleNumber;
    if (ruleNumber === undefined) {
      ruleNumber = (Math.floor(Math.max(0, ...used) / 100) + 1) * 100;
      if (ruleNumber > MAX_RULE_NUMBER) {
        throw new Error(`${at}.ruleNumber could not be assigned: ${rule.direction} rule numbers would exceed ${MAX_RULE_NUMBER}; set ruleNumber explicitly`);
      }
    } else if (!Token.isUnresolved(ruleNumber)) {
      validateIntegerRange(`${at}.ruleNumber`, ruleNumber, 1, MAX_RULE_NUMBER);
      if (used.has(ruleNumber)) {
        throw new Error(`${at}.ruleNumber ${ruleNumber} is already used by another ${rule.direction} rule; rule numbers must be unique per direction`);
      }
    }
    used.add(ruleNumber);
    return ruleNumber;
  }
}

function resolveCidrs(at: string, rule: MirrorFilterRule): { sourceCidr: string; destinationCidr: string } {
  const check = (prop: string, cidr: string | undefined) => {
    if (cidr === undefined || Token.isUnresolved(cidr)) {
      return undefined;
    }
    const family = cidrFamily(cidr);
    if (!family) {
      throw new Error(`${at}.${prop} must be an IPv4 or IPv6 CIDR block like '10.0.0.0/16' or '2001:db8::/32', got '${cidr}'`);
    }
    return family;
  };
  const sourceFamily = check('sourceCidr', rule.sourceCidr);
  const destinationFamily = check('destinationCidr', rule.destinationCidr);
  if (sourceFamily && destinationFamily && sourceFamily !== destinationFamily) {
    throw new Error(`${at}: sourceCidr '${rule.sourceCidr}' and destinationCidr '${rule.destinationCidr}' must be of the same IP family`);
  }
  const anyOf = (family: string | undefined) => (family === 'ipv6' ? '::/0' : '0.0.0.0/0');
  return {
    sourceCidr: rule.sourceCidr ?? anyOf(destinationFamily),
    destinationCidr: rule.destinationCidr ?? anyOf(sourceFamily),
  };
}

function validatePorts(at: string, rule: MirrorFilterRule): void {
  const ranges: Array<[string, MirrorPortRange | undefined]> = [
    ['sourcePortRange', rule.sourcePortRange],
    ['destinationPortRange', rule.destinationPortRange],
  ];
  for (const [prop, range] of ranges) {
    if (!range) {
      continue;
    }
    if (rule.protocol === undefined || (!Token.isUnresolved(rule.protocol) && !PORT_PROTOCOLS.includes(rule.protocol))) {
      throw new Error(`${at}.${prop} is only allowed with protocol TCP (6) or UDP (17), got protocol ${rule.protocol ?? 'all'}`);
    }
    validateIntegerRange(`${at}.${prop}.from`, range.from, 0, 65535);
    validateIntegerRange(`${at}.${prop}.to`, range.to, 0, 65535);
    if (!Token.isUnresolved(range.from) && !Token.isUnresolved(range.to) && range.from > range.to) {
      throw new Error(`${at}.${prop}.from (${range.from}) must not be greater than to (${range.to})`);
    }
  }
}
