import { App, Duration, Size, Stack, aws_ecs as ecs, aws_logs as logs, aws_s3 as s3 } from 'aws-cdk-lib';
import { ServiceStackOptions, serviceStack } from './service-stack';
import { CaptureMethod, FargateTrafficMirror, FargateTrafficMirrorProps, MirrorFilter, MirrorReceiver, MirrorProtocol, MirrorRuleAction, MirrorTarget, TrafficDirection } from '../../src';

/** One way of using the construct, in a stack of its own. */
export interface Variant {
  readonly name: string;
  /** Builds a fresh app whose stack uses the construct this way. */
  readonly build: () => { readonly app: App; readonly stack: Stack };
}

/** A variant with one mirror of the test service, given the props other than the service. */
function oneMirror(
  name: string, props: (s: ReturnType<typeof serviceStack>) => Omit<FargateTrafficMirrorProps, 'service'>, options?: ServiceStackOptions,
): Variant {
  return {
    name,
    build: () => {
      const s = options ? serviceStack(options) : serviceStack();
      new FargateTrafficMirror(s.stack, 'Mirror', { service: s.service, ...props(s) });
      return { app: s.app, stack: s.stack };
    },
  };
}

/**
 * Every target kind and every option set, each in its own stack. The security tests (cdk-nag,
 * IAM, hygiene) and the cfn-lint run (`test/support/synth-variants.ts`) all walk this list, so a
 * new option added here is checked by all of them.
 */
export const VARIANTS: Variant[] = [
  oneMirror('nlb-target-defaults', ({ nlb }) => ({ target: MirrorTarget.networkLoadBalancer(nlb) })),
  oneMirror('eni-target', () => ({ target: MirrorTarget.networkInterface('eni-0123456789abcdef0') })),
  oneMirror('gwlb-endpoint-target', () => ({ target: MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0') })),
  oneMirror('eni-target-pool', () => ({
    target: MirrorTarget.pool([1, 2, 3].map(n => MirrorTarget.networkInterface(`eni-0123456789abcdef${n}`))),
  })),
  oneMirror('gwlb-endpoint-per-zone', () => ({
    target: MirrorTarget.perAvailabilityZone({
      'us-east-1a': MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef1'),
      'us-east-1b': MirrorTarget.pool([
        MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef2'),
        MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef3', { ownerAccount: '210987654321' }),
        MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef4'),
      ]),
    }),
    allowCrossZone: true,
  })),
  {
    name: 'existing-target-and-filter',
    build: () => {
      const { app, stack, service } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', {
        service,
        target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0'),
        filter: MirrorFilter.fromMirrorFilterId(stack, 'Filter', 'tmf-0123456789abcdef0'),
      });
      return { app, stack };
    },
  },
  oneMirror('target-shared-through-ram', () => ({
    target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount: '210987654321' }),
  })),
  {
    name: 'all-options',
    build: () => {
      const { app, stack, service, nlb } = serviceStack();
      const filter = new MirrorFilter(stack, 'Filter', {
        description: 'web and dns',
        mirrorAmazonDns: true,
        rules: [
          { direction: TrafficDirection.INGRESS, protocol: MirrorProtocol.TCP, destinationPortRange: { from: 443, to: 443 }, ruleNumber: 10 },
          { direction: TrafficDirection.INGRESS, protocol: MirrorProtocol.UDP, sourceCidr: '10.0.0.0/8', action: MirrorRuleAction.REJECT },
          { direction: TrafficDirection.EGRESS, sourceCidr: '::/0', destinationCidr: '2001:db8::/32', description: 'ipv6 out' },
        ],
      });
      new FargateTrafficMirror(stack, 'Mirror', {
        service,
        target: MirrorTarget.networkLoadBalancer(nlb),
        filter,
        sessionNumber: 2,
        packetLength: 8500,
        virtualNetworkId: 4242,
        description: 'ids feed',
        logRetention: logs.RetentionDays.ONE_YEAR,
        pickFreeSessionNumber: true,
        reconcileInterval: Duration.minutes(10),
        createAlarms: true,
        reservedConcurrentExecutions: 5,
        failDeploymentOnUnmirroredTasks: true,
        enrollmentReportOutputs: true,
      });
      return { app, stack };
    },
  },
  oneMirror('no-periodic-reconcile', ({ nlb }) => ({ target: MirrorTarget.networkLoadBalancer(nlb), periodicReconcile: false })),
  {
    name: 'imported-service',
    build: () => {
      const { app, stack, vpc } = serviceStack();
      const cluster = ecs.Cluster.fromClusterAttributes(stack, 'ImportedCluster', { clusterName: 'prod', vpc, securityGroups: [] });
      const service = ecs.FargateService.fromFargateServiceAttributes(stack, 'ImportedService', { cluster, serviceName: 'web' });
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0') });
      return { app, stack };
    },
  },
  oneMirror('environment-agnostic', ({ nlb }) => ({ target: MirrorTarget.networkLoadBalancer(nlb) }), { env: undefined }),
  {
    name: 'two-mirrors-one-stack',
    build: () => {
      const { app, stack, service, nlb } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
      new FargateTrafficMirror(stack, 'SecondMirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), sessionNumber: 2 });
      return { app, stack };
    },
  },
];

/**
 * The capture sidecar's ways, each in its own stack. They create no Lambda, queue or session
 * resources, so the session manager's security tests (IAM, hygiene) do not walk them; cdk-nag and
 * cfn-lint do.
 */
export const SIDECAR_VARIANTS: Variant[] = [
  oneMirror('sidecar-nlb', ({ nlb }) => ({ target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: CaptureMethod.sidecar() })),
  {
    name: 'sidecar-all-options',
    build: () => {
      const { app, stack, service } = serviceStack();
      const filter = new MirrorFilter(stack, 'Filter', {
        mirrorAmazonDns: true,
        rules: [
          { direction: TrafficDirection.INGRESS, protocol: MirrorProtocol.TCP, destinationPortRange: { from: 443, to: 443 } },
          { direction: TrafficDirection.EGRESS, sourceCidr: '::/0', destinationCidr: '2001:db8::/32', action: MirrorRuleAction.REJECT },
        ],
      });
      const eni = (n: number) => MirrorTarget.networkInterface(`eni-0123456789abcdef${n}`, { privateIpAddress: `10.0.${n}.9` });
      new FargateTrafficMirror(stack, 'Mirror', {
        service,
        filter,
        target: MirrorTarget.perAvailabilityZone({ 'us-east-1a': eni(1), 'us-east-1b': MirrorTarget.pool([eni(2), eni(3)]) }),
        allowCrossZone: true,
        packetLength: 8500,
        virtualNetworkId: 4242,
        sampling: 0.5,
        initialSwitch: 'off',
        createAlarms: true,
        logRetention: logs.RetentionDays.ONE_YEAR,
        captureMethod: CaptureMethod.sidecar({ cpu: 256, memoryReservationMiB: 96, essential: true, networkInterface: 'eth1' }),
      });
      return { app, stack };
    },
  },
];

/** MirrorReceiver with both capture methods; cdk-nag and cfn-lint walk them. */
export const RECEIVER_VARIANTS: Variant[] = [
  {
    name: 'receiver-traffic-mirroring',
    build: () => {
      const { app, stack, service, vpc } = serviceStack();
      const receiver = new MirrorReceiver(stack, 'Receiver', { vpc, createAlarms: true });
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.receiver(receiver) });
      return { app, stack };
    },
  },
  {
    name: 'receiver-sidecar-per-zone',
    build: () => {
      const { app, stack, service, vpc } = serviceStack();
      const bucket = new s3.Bucket(stack, 'Captures', { enforceSSL: true });
      const options = {
        vpc,
        bucket,
        keyPrefix: 'mirror/',
        rotationInterval: Duration.seconds(30),
        rotationSize: Size.mebibytes(16),
        minCapacity: 2,
        maxCapacity: 8,
        targetCpuUtilizationPercent: 50,
        cpu: 2048,
        memoryLimitMiB: 4096,
        logRetention: logs.RetentionDays.ONE_YEAR,
      };
      const a = new MirrorReceiver(stack, 'ReceiverA', options);
      const b = new MirrorReceiver(stack, 'ReceiverB', options);
      new FargateTrafficMirror(stack, 'Mirror', {
        service,
        target: MirrorTarget.perAvailabilityZone({ 'us-east-1a': MirrorTarget.receiver(a), 'us-east-1b': MirrorTarget.receiver(b) }),
        captureMethod: CaptureMethod.sidecar(),
      });
      return { app, stack };
    },
  },
];
