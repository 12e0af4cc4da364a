import { App, Environment, Stack, aws_ec2 as ec2, aws_ecs as ecs, aws_elasticloadbalancingv2 as elbv2 } from 'aws-cdk-lib';

/** Options for {@link serviceStack}. */
export interface ServiceStackOptions {
  /** The stack's environment; `undefined` for an environment-agnostic stack. */
  readonly env?: Environment;
}

/** A stack with a VPC, a cluster, a Fargate service and an NLB, for construct tests. */
export function serviceStack(options: ServiceStackOptions = { env: { account: '123456789012', region: 'us-east-1' } }) {
  const app = new App();
  const stack = new Stack(app, 'TestStack', { env: options.env });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
  taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') });
  const service = new ecs.FargateService(stack, 'Service', { cluster, taskDefinition });
  const nlb = new elbv2.NetworkLoadBalancer(stack, 'Nlb', { vpc });
  return { app, stack, vpc, cluster, service, nlb };
}
