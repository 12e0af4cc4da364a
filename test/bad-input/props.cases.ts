import { Duration, aws_ecs as ecs } from 'aws-cdk-lib';
import { FargateTrafficMirror, FargateTrafficMirrorProps, MirrorFilter, MirrorFilterRule, MirrorProtocol, MirrorTarget, TrafficDirection } from '../../src';
import { serviceStack } from '../support/service-stack';

/** One invalid use of the library and the exact synth error it must produce. */
export interface PropsCase {
  readonly category: string;
  readonly name: string;
  /** Builds the construct(s) in a fresh stack; must throw. */
  readonly build: () => void;
  /** The whole error message: it names the prop, the value and what is allowed. */
  readonly error: string;
}

const ENI = 'eni-0123456789abcdef0';
const FILTER = "MirrorFilter 'TestStack/Filter'";

/** A mirror to the stack's NLB with `props` on top. */
function mirror(props: Partial<FargateTrafficMirrorProps>): () => void {
  return () => {
    const { stack, service, nlb } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), ...props });
  };
}

/** A mirror to a target of another kind with `props` on top. */
function mirrorTo(target: () => MirrorTarget, props: Partial<FargateTrafficMirrorProps> = {}): () => void {
  return () => {
    const { stack, service } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: target(), ...props });
  };
}

/** A MirrorFilter named 'Filter' with these rules. */
function filter(...rules: MirrorFilterRule[]): () => void {
  return () => {
    const { stack } = serviceStack();
    new MirrorFilter(stack, 'Filter', { rules });
  };
}

const ingress = (rule: Partial<MirrorFilterRule> = {}): MirrorFilterRule => ({ direction: TrafficDirection.INGRESS, ...rule });
const tcp = (rule: Partial<MirrorFilterRule> = {}): MirrorFilterRule => ingress({ protocol: MirrorProtocol.TCP, ...rule });

export const PROPS_CASES: PropsCase[] = [
  // Ranges of the session settings.
  { category: 'range', name: 'sessionNumber 0', build: mirror({ sessionNumber: 0 }), error: 'sessionNumber must be an integer between 1 and 32766, got 0' },
  { category: 'range', name: 'sessionNumber above the AWS maximum', build: mirror({ sessionNumber: 32767 }), error: 'sessionNumber must be an integer between 1 and 32766, got 32767' },
  { category: 'range', name: 'sessionNumber not an integer', build: mirror({ sessionNumber: 1.5 }), error: 'sessionNumber must be an integer between 1 and 32766, got 1.5' },
  { category: 'range', name: 'sessionNumber NaN', build: mirror({ sessionNumber: NaN }), error: 'sessionNumber must be an integer between 1 and 32766, got NaN' },
  { category: 'range', name: 'virtualNetworkId negative', build: mirror({ virtualNetworkId: -1 }), error: 'virtualNetworkId must be an integer between 0 and 16777215, got -1' },
  { category: 'range', name: 'virtualNetworkId wider than 24 bits', build: mirror({ virtualNetworkId: 16777216 }), error: 'virtualNetworkId must be an integer between 0 and 16777215, got 16777216' },
  { category: 'range', name: 'packetLength 0', build: mirror({ packetLength: 0 }), error: 'packetLength must be an integer between 1 and 8500 for a Network Load Balancer target, got 0' },
  { category: 'range', name: 'packetLength above the NLB limit', build: mirror({ packetLength: 8501 }), error: 'packetLength must be an integer between 1 and 8500 for a Network Load Balancer target, got 8501' },
  {
    category: 'range',
    name: 'packetLength above 16 bits for a GWLB endpoint',
    build: mirrorTo(() => MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0'), { packetLength: 65536 }),
    error: 'packetLength must be an integer between 1 and 65535, got 65536',
  },
  { category: 'range', name: 'packetLength negative for an ENI target', build: mirrorTo(() => MirrorTarget.networkInterface(ENI), { packetLength: -5 }), error: 'packetLength must be an integer between 1 and 65535, got -5' },
  { category: 'range', name: 'reconcileInterval below a minute', build: mirror({ reconcileInterval: Duration.seconds(30) }), error: 'reconcileInterval must be a whole number of minutes, at least 1, got 30 seconds' },
  { category: 'range', name: 'reconcileInterval not whole minutes', build: mirror({ reconcileInterval: Duration.seconds(90) }), error: 'reconcileInterval must be a whole number of minutes, at least 1, got 1 minute 30 seconds' },
  {
    category: 'range',
    name: 'reservedConcurrentExecutions below the queue\'s concurrency',
    build: mirror({ reservedConcurrentExecutions: 1 }),
    error: 'reservedConcurrentExecutions must be an integer between 2 and 100 (the queue runs up to 2 session managers at once), got 1',
  },
  {
    category: 'range',
    name: 'reservedConcurrentExecutions above 100',
    build: mirror({ reservedConcurrentExecutions: 101 }),
    error: 'reservedConcurrentExecutions must be an integer between 2 and 100 (the queue runs up to 2 session managers at once), got 101',
  },
  {
    category: 'range',
    name: 'reservedConcurrentExecutions not an integer',
    build: mirror({ reservedConcurrentExecutions: 2.5 }),
    error: 'reservedConcurrentExecutions must be an integer between 2 and 100 (the queue runs up to 2 session managers at once), got 2.5',
  },

  // Options that contradict each other.
  {
    category: 'conflicting options',
    name: 'reconcileInterval without periodic reconciliation',
    build: mirror({ periodicReconcile: false, reconcileInterval: Duration.minutes(10) }),
    error: 'reconcileInterval has no effect when periodicReconcile is false; remove one of them',
  },
  {
    category: 'conflicting options',
    name: 'a switch that expires without periodic sweeps to act on the expiry',
    build: mirror({ periodicReconcile: false, initialSwitch: 'on until 2030-01-01T00:00:00Z' }),
    error: 'initialSwitch \'on until 2030-01-01T00:00:00Z\' expires at the first scheduled sweep after its time, and periodicReconcile is false: '
      + 'nothing would remove the sessions at the expiry; turn periodicReconcile on, or use \'on\' and write \'off\' when mirroring should end',
  },
  {
    category: 'conflicting options',
    name: 'source and destination CIDR of different IP families',
    build: filter(ingress({ sourceCidr: '10.0.0.0/8', destinationCidr: '::/0' })),
    error: `${FILTER} rules[0]: sourceCidr '10.0.0.0/8' and destinationCidr '::/0' must be of the same IP family`,
  },
  {
    category: 'conflicting options',
    name: 'port range with ICMP',
    build: filter(ingress({ protocol: MirrorProtocol.ICMP, destinationPortRange: { from: 0, to: 8 } })),
    error: `${FILTER} rules[0].destinationPortRange is only allowed with protocol TCP (6) or UDP (17), got protocol 1`,
  },
  {
    category: 'conflicting options',
    name: 'port range without a protocol',
    build: filter(ingress({ sourcePortRange: { from: 1024, to: 65535 } })),
    error: `${FILTER} rules[0].sourcePortRange is only allowed with protocol TCP (6) or UDP (17), got protocol all`,
  },

  // The service.
  {
    category: 'imported service',
    name: 'imported by ARN, so without a cluster',
    build: () => {
      const { stack } = serviceStack();
      // TypeScript rejects this (IFargateService lacks `cluster`); other jsii languages and plain
      // JavaScript may pass it all the same, so the construct checks at synth.
      const service = ecs.FargateService.fromFargateServiceArn(stack, 'Imported', 'arn:aws:ecs:us-east-1:123456789012:service/prod/web') as unknown as ecs.IBaseService;
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0') });
    },
    error: "FargateTrafficMirror 'TestStack/Mirror': service must have a known cluster; import it with FargateService.fromFargateServiceAttributes({ cluster, serviceName })",
  },

  // Resource ids of the wrong shape.
  {
    category: 'resource id',
    name: 'ENI target given a device name',
    build: mirrorTo(() => MirrorTarget.networkInterface('eth0')),
    error: "MirrorTarget.networkInterface networkInterfaceId must be a network interface id like 'eni-0123456789abcdef0', got 'eth0'",
  },
  {
    category: 'resource id',
    name: 'ENI target id in upper case',
    build: mirrorTo(() => MirrorTarget.networkInterface('eni-0123456789ABCDEF0')),
    error: "MirrorTarget.networkInterface networkInterfaceId must be a network interface id like 'eni-0123456789abcdef0', got 'eni-0123456789ABCDEF0'",
  },
  {
    category: 'resource id',
    name: 'ENI target id too long',
    build: mirrorTo(() => MirrorTarget.networkInterface('eni-0123456789abcdef0123')),
    error: "MirrorTarget.networkInterface networkInterfaceId must be a network interface id like 'eni-0123456789abcdef0', got 'eni-0123456789abcdef0123'",
  },
  {
    category: 'resource id',
    name: 'GWLB endpoint given a VPC id',
    build: mirrorTo(() => MirrorTarget.gatewayLoadBalancerEndpoint('vpc-0123456789abcdef0')),
    error: "MirrorTarget.gatewayLoadBalancerEndpoint vpcEndpointId must be a VPC endpoint id like 'vpce-0123456789abcdef0', got 'vpc-0123456789abcdef0'",
  },
  {
    category: 'resource id',
    name: 'existing target given a filter id',
    build: mirrorTo(() => MirrorTarget.fromTrafficMirrorTargetId('tmf-0123456789abcdef0')),
    error: "MirrorTarget.fromTrafficMirrorTargetId trafficMirrorTargetId must be a traffic mirror target id like 'tmt-0123456789abcdef0', got 'tmf-0123456789abcdef0'",
  },
  {
    category: 'resource id',
    name: 'shared target owner given an account alias',
    build: mirrorTo(() => MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount: 'security-tooling' })),
    error: "MirrorTarget.fromTrafficMirrorTargetId ownerAccount must be a 12-digit AWS account id like '123456789012', got 'security-tooling'",
  },
  {
    category: 'resource id',
    name: 'shared target owner account one digit short',
    build: mirrorTo(() => MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount: '21098765432' })),
    error: "MirrorTarget.fromTrafficMirrorTargetId ownerAccount must be a 12-digit AWS account id like '123456789012', got '21098765432'",
  },
  {
    category: 'resource id',
    name: 'existing filter given a target id',
    build: () => {
      const { stack } = serviceStack();
      MirrorFilter.fromMirrorFilterId(stack, 'Filter', 'tmt-0123456789abcdef0');
    },
    error: "MirrorFilter.fromMirrorFilterId trafficMirrorFilterId must be a traffic mirror filter id like 'tmf-0123456789abcdef0', got 'tmt-0123456789abcdef0'",
  },

  // CIDR blocks.
  { category: 'CIDR', name: 'IPv4 prefix above 32', build: filter(ingress({ sourceCidr: '10.0.0.0/33' })), error: `${FILTER} rules[0].sourceCidr must be an IPv4 or IPv6 CIDR block like '10.0.0.0/16' or '2001:db8::/32', got '10.0.0.0/33'` },
  { category: 'CIDR', name: 'IPv4 octet above 255', build: filter(ingress({ destinationCidr: '300.1.2.3/8' })), error: `${FILTER} rules[0].destinationCidr must be an IPv4 or IPv6 CIDR block like '10.0.0.0/16' or '2001:db8::/32', got '300.1.2.3/8'` },
  { category: 'CIDR', name: 'address without a prefix', build: filter(ingress({ sourceCidr: '10.0.0.0' })), error: `${FILTER} rules[0].sourceCidr must be an IPv4 or IPv6 CIDR block like '10.0.0.0/16' or '2001:db8::/32', got '10.0.0.0'` },
  { category: 'CIDR', name: 'a word instead of a CIDR', build: filter(ingress({ sourceCidr: 'any' })), error: `${FILTER} rules[0].sourceCidr must be an IPv4 or IPv6 CIDR block like '10.0.0.0/16' or '2001:db8::/32', got 'any'` },
  { category: 'CIDR', name: 'IPv6 prefix above 128', build: filter(ingress({ destinationCidr: '2001:db8::/129' })), error: `${FILTER} rules[0].destinationCidr must be an IPv4 or IPv6 CIDR block like '10.0.0.0/16' or '2001:db8::/32', got '2001:db8::/129'` },
  { category: 'CIDR', name: 'IPv6 with a triple colon', build: filter(ingress({ destinationCidr: '2001:db8:::1/64' })), error: `${FILTER} rules[0].destinationCidr must be an IPv4 or IPv6 CIDR block like '10.0.0.0/16' or '2001:db8::/32', got '2001:db8:::1/64'` },
  { category: 'CIDR', name: 'two prefixes', build: filter(ingress({ sourceCidr: '10.0.0.0/8/16' })), error: `${FILTER} rules[0].sourceCidr must be an IPv4 or IPv6 CIDR block like '10.0.0.0/16' or '2001:db8::/32', got '10.0.0.0/8/16'` },

  // Protocols and ports.
  { category: 'port and protocol', name: 'protocol above 255', build: filter(ingress({ protocol: 256 })), error: `${FILTER} rules[0].protocol must be an integer between 0 and 255, got 256` },
  { category: 'port and protocol', name: 'negative protocol', build: filter(ingress({ protocol: -1 })), error: `${FILTER} rules[0].protocol must be an integer between 0 and 255, got -1` },
  { category: 'port and protocol', name: 'port above 65535', build: filter(tcp({ destinationPortRange: { from: 443, to: 65536 } })), error: `${FILTER} rules[0].destinationPortRange.to must be an integer between 0 and 65535, got 65536` },
  { category: 'port and protocol', name: 'negative port', build: filter(tcp({ sourcePortRange: { from: -1, to: 80 } })), error: `${FILTER} rules[0].sourcePortRange.from must be an integer between 0 and 65535, got -1` },
  { category: 'port and protocol', name: 'fractional port', build: filter(tcp({ sourcePortRange: { from: 80.5, to: 81 } })), error: `${FILTER} rules[0].sourcePortRange.from must be an integer between 0 and 65535, got 80.5` },
  { category: 'port and protocol', name: 'port range backwards', build: filter(tcp({ destinationPortRange: { from: 443, to: 80 } })), error: `${FILTER} rules[0].destinationPortRange.from (443) must not be greater than to (80)` },

  // Rule numbers and counts.
  {
    category: 'rule count',
    name: 'eleven rules in one filter',
    build: filter(...Array.from({ length: 11 }, (_, i) => ingress({ ruleNumber: i + 1 }))),
    error: `${FILTER} rules[10]: a traffic mirror filter holds at most 10 rules, got 11`,
  },
  {
    category: 'rule count',
    name: 'addRule beyond 10 on the default accept-all filter',
    build: () => {
      const { stack } = serviceStack();
      const f = new MirrorFilter(stack, 'Filter');
      for (let i = 0; i < 7; i++) f.addRule(ingress({ ruleNumber: 1000 + i }));
    },
    error: `${FILTER} rules[10]: a traffic mirror filter holds at most 10 rules, got 11`,
  },
  { category: 'rule count', name: 'ruleNumber 0', build: filter(ingress({ ruleNumber: 0 })), error: `${FILTER} rules[0].ruleNumber must be an integer between 1 and 32766, got 0` },
  { category: 'rule count', name: 'ruleNumber above the AWS maximum', build: filter(ingress({ ruleNumber: 32767 })), error: `${FILTER} rules[0].ruleNumber must be an integer between 1 and 32766, got 32767` },
  {
    category: 'rule count',
    name: 'ruleNumber used twice in one direction',
    build: filter(ingress({ ruleNumber: 100 }), ingress({ ruleNumber: 100, sourceCidr: '10.0.0.0/8' })),
    error: `${FILTER} rules[1].ruleNumber 100 is already used by another ingress rule; rule numbers must be unique per direction`,
  },
  {
    category: 'rule count',
    name: 'no rule number left to assign',
    build: filter(ingress({ ruleNumber: 32766 }), ingress()),
    error: `${FILTER} rules[1].ruleNumber could not be assigned: ingress rule numbers would exceed 32766; set ruleNumber explicitly`,
  },
  {
    category: 'wrong type',
    name: 'direction that is neither ingress nor egress',
    build: filter(ingress({ direction: 'sideways' as TrafficDirection })),
    error: `${FILTER} rules[0].direction must be 'ingress' or 'egress', got 'sideways'`,
  },
  // Pools and targets per Availability Zone (the stack is in us-east-1).
  { category: 'targets', name: 'an empty pool', build: () => MirrorTarget.pool([]), error: 'MirrorTarget.pool targets must hold at least one target, got an empty list' },
  {
    category: 'targets',
    name: 'no zone',
    build: () => MirrorTarget.perAvailabilityZone({}),
    error: 'MirrorTarget.perAvailabilityZone targets must name at least one Availability Zone, got none',
  },
  {
    category: 'targets',
    name: 'the same target twice in a pool',
    build: () => MirrorTarget.pool([eni(1), eni(2), eni(1)]),
    error: 'MirrorTarget.pool targets must name each target once, got eni-0123456789abcde01 twice',
  },
  {
    category: 'targets',
    name: 'the same target in two zones',
    build: () => MirrorTarget.perAvailabilityZone({ 'us-east-1a': existing(1), 'us-east-1b': MirrorTarget.pool([existing(2), existing(1)]) }),
    error: 'MirrorTarget.perAvailabilityZone targets must name each target once, got tmt-0123456789abcde01 twice',
  },
  {
    category: 'targets',
    name: 'a region instead of a zone',
    build: () => MirrorTarget.perAvailabilityZone({ 'us-east-1': existing(1) }),
    error: "MirrorTarget.perAvailabilityZone targets must be keyed by Availability Zone names like 'eu-west-1a' or 'us-west-2-lax-1a', got 'us-east-1'",
  },
  {
    category: 'targets',
    name: 'a zone id instead of its name',
    build: () => MirrorTarget.perAvailabilityZone({ 'use1-az1': existing(1) }),
    error: "MirrorTarget.perAvailabilityZone targets must be keyed by Availability Zone names like 'eu-west-1a' or 'us-west-2-lax-1a', got 'use1-az1' "
      + "(a zone id: use the zone's name, which ECS reports for each task)",
  },
  {
    category: 'targets',
    name: 'a zone of another region than the stack',
    build: mirrorTo(() => MirrorTarget.perAvailabilityZone({ 'us-east-1a': existing(1), 'eu-west-1b': existing(2) })),
    error: "MirrorTarget.perAvailabilityZone targets must be keyed by Availability Zones of the stack's region us-east-1, got 'eu-west-1b'",
  },
  {
    category: 'targets',
    name: 'zones inside a pool',
    build: () => MirrorTarget.pool([MirrorTarget.perAvailabilityZone({ 'us-east-1a': existing(1) })]),
    error: 'MirrorTarget.pool targets cannot hold MirrorTarget.perAvailabilityZone(); put the pools inside perAvailabilityZone instead',
  },
  {
    category: 'targets',
    name: 'zones inside zones',
    build: () => MirrorTarget.perAvailabilityZone({ 'us-east-1a': MirrorTarget.perAvailabilityZone({ 'us-east-1b': existing(1) }) }),
    error: "MirrorTarget.perAvailabilityZone targets['us-east-1a'] cannot be another perAvailabilityZone()",
  },
  {
    category: 'targets',
    name: 'a pool mixing packet-length limits',
    build: () => {
      const { stack, service, nlb } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.pool([MirrorTarget.networkLoadBalancer(nlb), eni(1)]) });
    },
    error: 'target mixes Network Load Balancer targets (packet length at most 8500 bytes, 8500 by default) with targets that take whole packets: '
      + "a task's mirrored packets would be cut or not depending on its target. Use targets of one kind.",
  },
  {
    category: 'targets',
    name: 'allowCrossZone without zones',
    build: mirrorTo(() => MirrorTarget.pool([eni(1), eni(2)]), { allowCrossZone: true }),
    error: 'allowCrossZone has an effect only with MirrorTarget.perAvailabilityZone() targets; remove it or give target a target per zone',
  },
  {
    category: 'targets',
    name: 'maxSources above the largest instance sizes\' 100',
    build: () => MirrorTarget.networkInterface(ENI, { maxSources: 101 }),
    error: 'MirrorTarget.networkInterface maxSources must be an integer between 1 and 100, got 101',
  },
  {
    category: 'targets',
    name: 'more than 21 targets',
    build: mirrorTo(() => MirrorTarget.pool(Array.from({ length: 22 }, (_, i) => existing(i)))),
    error: 'target must hold at most 21 targets (the configuration and IAM policies list each one), got 22',
  },
  {
    category: 'targets',
    name: 'more than the 4 KB of configuration its parameter holds',
    build: mirrorTo(() => MirrorTarget.pool(Array.from({ length: 21 }, (_, i) => existing(i))), { description: 'd'.repeat(3000) }),
    error: 'the configuration parameter would hold about 4256 bytes (21 targets, the description and the ids); '
      + 'at most 4096 fit: use fewer targets or a shorter description',
  },
];

function eni(n: number): MirrorTarget {
  return MirrorTarget.networkInterface(`eni-0123456789abcde${n.toString(16).padStart(2, '0')}`);
}

function existing(n: number): MirrorTarget {
  return MirrorTarget.fromTrafficMirrorTargetId(`tmt-0123456789abcde${n.toString(16).padStart(2, '0')}`);
}
