import { App, Stack, StackProps, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CaptureMethod, FargateTrafficMirror, MirrorFilter, MirrorProtocol, MirrorReceiver, MirrorTarget, TrafficDirection } from '../src';

/**
 * A web service on Fargate whose every task is mirrored, within its own Availability Zone, to a
 * Gateway Load Balancer endpoint in that zone (sensors such as Suricata or Zeek behind the Gateway
 * Load Balancer): mirrored packets never cross zones.
 */
export class ExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'WebTask', { cpu: 256, memoryLimitMiB: 512 });
    taskDefinition.addContainer('web', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
      portMappings: [{ containerPort: 80 }],
    });
    const service = new ecs.FargateService(this, 'WebService', { cluster, taskDefinition, desiredCount: 2 });

    // The sensors' Gateway Load Balancer has an endpoint in each zone of the service: each task is
    // mirrored to the one in its own zone.
    const target = MirrorTarget.perAvailabilityZone({
      'eu-central-1a': MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0a1b2c3d4e5f6a001'),
      'eu-central-1b': MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0a1b2c3d4e5f6a002'),
    });

    // Mirror HTTP in both directions, and everything else the tasks send out.
    const filter = new MirrorFilter(this, 'Filter', {
      description: 'HTTP in, everything out',
      rules: [
        { direction: TrafficDirection.INGRESS, protocol: MirrorProtocol.TCP, destinationPortRange: { from: 80, to: 80 } },
        { direction: TrafficDirection.EGRESS, destinationCidr: '0.0.0.0/0' },
      ],
    });

    new FargateTrafficMirror(this, 'Mirror', {
      service,
      target,
      filter,
      packetLength: 8500,
    });

    // Another team's service in the same cluster, mirrored to a central sensor: a quarter of its
    // tasks, chosen by task id. Both mirrors share the stack's one session manager.
    const worker = ecs.FargateService.fromFargateServiceAttributes(this, 'WorkerService', { cluster, serviceName: 'worker' });
    new FargateTrafficMirror(this, 'WorkerMirror', {
      service: worker,
      target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0'),
      filter,
      sampling: 0.25,
    });

    // A payments service captured by a sidecar: a traffic-capture container in each task sends the
    // same VXLAN stream, whatever EC2 accepts as a mirror source, from the task's first packet, to a
    // receiver that writes pcap files to S3. No Lambda and no sessions for this one.
    const paymentsTask = new ecs.FargateTaskDefinition(this, 'PaymentsTask', { cpu: 512, memoryLimitMiB: 1024 });
    paymentsTask.addContainer('payments', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
      portMappings: [{ containerPort: 80 }],
    });
    const payments = new ecs.FargateService(this, 'PaymentsService', { cluster, taskDefinition: paymentsTask });
    const receiver = new MirrorReceiver(this, 'Receiver', { vpc });
    new FargateTrafficMirror(this, 'PaymentsMirror', {
      service: payments,
      target: MirrorTarget.receiver(receiver),
      filter,
      captureMethod: CaptureMethod.sidecar(),
    });
  }
}

/** Builds the example app; `synth.ts` and the tests use it. */
export function buildExampleApp(outdir?: string): { app: App; stack: ExampleStack } {
  const app = new App({ outdir });
  const stack = new ExampleStack(app, 'FargateTrafficMirrorExample', {
    env: { account: '123456789012', region: 'eu-central-1' },
  });
  return { app, stack };
}
