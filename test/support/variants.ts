import { App, Duration, Stack, aws_ecs as ecs, aws_logs as logs } from 'aws-cdk-lib';
import { serviceStack } from './service-stack';
import { FargateTrafficMirror, MirrorFilter, MirrorProtocol, MirrorRuleAction, MirrorTarget, TrafficDirection } from '../../src';

/** One way of using the construct, in a stack of its own. */
export interface Variant {
  readonly name: string;
  /** Builds a fresh app whose stack uses the construct this way. */
  readonly build: () => { readonly app: App; readonly stack: Stack };
}

/**
 * Every target kind and every option set, each in its own stack. The security tests (cdk-nag,
 * IAM, hygiene) and the cfn-lint run (`test/support/synth-variants.ts`) all walk this list, so a
 * new option added here is checked by all of them.
 */
export const VARIANTS: Variant[] = [
  {
    name: 'nlb-target-defaults',
    build: () => {
      const { app, stack, service, nlb } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
      return { app, stack };
    },
  },
  {
    name: 'eni-target',
    build: () => {
      const { app, stack, service } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkInterface('eni-0123456789abcdef0') });
      return { app, stack };
    },
  },
  {
    name: 'gwlb-endpoint-target',
    build: () => {
      const { app, stack, service } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0') });
      return { app, stack };
    },
  },
  {
    name: 'eni-target-pool',
    build: () => {
      const { app, stack, service } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', {
        service,
        target: MirrorTarget.pool([1, 2, 3].map(n => MirrorTarget.networkInterface(`eni-0123456789abcdef${n}`))),
      });
      return { app, stack };
    },
  },
  {
    name: 'gwlb-endpoint-per-zone',
    build: () => {
      const { app, stack, service } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', {
        service,
        target: MirrorTarget.perAvailabilityZone({
          'us-east-1a': MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef1'),
          'us-east-1b': MirrorTarget.pool([
            MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef2'),
            MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef3', { ownerAccount: '210987654321' }),
            MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef4'),
          ]),
        }),
        allowCrossZone: true,
      });
      return { app, stack };
    },
  },
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
  {
    name: 'target-shared-through-ram',
    build: () => {
      const { app, stack, service } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', {
        service,
        target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount: '210987654321' }),
      });
      return { app, stack };
    },
  },
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
  {
    name: 'no-periodic-reconcile',
    build: () => {
      const { app, stack, service, nlb } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), periodicReconcile: false });
      return { app, stack };
    },
  },
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
  {
    name: 'environment-agnostic',
    build: () => {
      const { app, stack, service, nlb } = serviceStack({ env: undefined });
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
      return { app, stack };
    },
  },
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
