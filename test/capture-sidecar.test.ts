/**
 * CaptureMethod.sidecar(): the `traffic-capture` container, its configuration, the start order
 * of the task's other containers, what is not created (no Lambda, no sessions), and the synth
 * errors of what a sidecar cannot do.
 */
import { Stack, aws_ecs as ecs } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  CaptureMethod, CaptureMethodKind, FargateTrafficMirror, MirrorFilter, MirrorProtocol, MirrorRuleAction, MirrorTarget, TrafficDirection,
} from '../src';
import { serviceStack } from './support/service-stack';
import { AGENT_ENV, AGENT_HEALTH_COMMAND, CAPTURE_CONTAINER_NAME } from '../src/contract/capture-agent-env';
import { defaultVni } from '../src/fleet/capture-sidecar';

/** The container definitions of the stack's one task definition. */
function containers(stack: Stack): any[] {
  const [taskDefinition] = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'));
  return taskDefinition.Properties.ContainerDefinitions;
}
const capture = (stack: Stack) => containers(stack).find(c => c.Name === CAPTURE_CONTAINER_NAME);
const env = (container: any): Record<string, unknown> => Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
const resolved = (stack: Stack, value: unknown) => stack.resolve(value);

describe('CaptureMethod.sidecar()', () => {
  test('adds one traffic-capture container: not essential, restarted by ECS, health command, read-only, only NET_RAW kept', () => {
    const { stack, service, nlb } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: CaptureMethod.sidecar() });
    expect(mirror.captureMethod).toBe(CaptureMethodKind.SIDECAR);
    expect(mirror.captureContainer?.containerName).toBe(CAPTURE_CONTAINER_NAME);
    expect(containers(stack).filter(c => c.Name === CAPTURE_CONTAINER_NAME)).toHaveLength(1);
    const c = capture(stack);
    expect(c).toMatchObject({
      Essential: false,
      RestartPolicy: { Enabled: true, RestartAttemptPeriod: 60 },
      HealthCheck: { Command: AGENT_HEALTH_COMMAND, Interval: 5, Timeout: 2, Retries: 3, StartPeriod: 10 },
      ReadonlyRootFilesystem: true,
      User: '0',
      Cpu: 128,
      MemoryReservation: 64,
    });
    const dropped: string[] = c.LinuxParameters.Capabilities.Drop;
    expect(dropped).not.toContain('NET_RAW');
    expect(dropped).toEqual(expect.arrayContaining(['CHOWN', 'DAC_OVERRIDE', 'SETUID', 'SETGID', 'KILL', 'NET_BIND_SERVICE']));
    expect(c.LinuxParameters.Capabilities.Add).toBeUndefined();
    expect(c.Privileged).toBeUndefined();
  });

  test('every other container, also one added after the construct, starts once traffic-capture is HEALTHY', () => {
    const { stack, service, nlb } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: CaptureMethod.sidecar() });
    service.taskDefinition.addContainer('late', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable'), memoryReservationMiB: 32 });
    const others = containers(stack).filter(c => c.Name !== CAPTURE_CONTAINER_NAME);
    expect(others.map(c => c.Name).sort()).toEqual(['app', 'late']);
    for (const c of others) {
      expect(c.DependsOn).toEqual([{ ContainerName: CAPTURE_CONTAINER_NAME, Condition: 'HEALTHY' }]);
    }
    expect(capture(stack).DependsOn).toBeUndefined();
  });

  test('the environment is the agent\'s configuration: NLB DNS name on 4789 with zonal DNS, VNI, switch, owner', () => {
    const { stack, service, nlb } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', {
      service, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: CaptureMethod.sidecar(), packetLength: 128, sampling: 0.5,
    });
    const e = env(capture(stack));
    expect(e[AGENT_ENV.TARGETS]).toEqual(resolved(stack, `${nlb.loadBalancerDnsName}:4789`));
    expect(e[AGENT_ENV.ZONAL_DNS]).toBe('true');
    expect(e[AGENT_ENV.VNI]).toBe(String(defaultVni(mirror.ownerId)));
    expect(e[AGENT_ENV.PACKET_LENGTH]).toBe('128');
    expect(e[AGENT_ENV.SAMPLING]).toBe('0.5');
    expect(e[AGENT_ENV.SWITCH_PARAMETER]).toEqual(resolved(stack, mirror.switchParameter.parameterName));
    expect(e[AGENT_ENV.OWNER]).toBe(mirror.ownerId);
    expect(e[AGENT_ENV.FILTER]).toBeUndefined();
    expect(e[AGENT_ENV.INTERFACE]).toBeUndefined();
    expect(defaultVni(mirror.ownerId)).toBeLessThanOrEqual(16777215);
  });

  test('ENI targets by private address, per zone, with a pool and cross-zone; the filter\'s rules, also those added later', () => {
    const { stack, service } = serviceStack();
    const filter = new MirrorFilter(stack, 'Filter', {
      mirrorAmazonDns: true,
      rules: [{ direction: TrafficDirection.INGRESS, protocol: MirrorProtocol.TCP, destinationPortRange: { from: 443, to: 443 }, ruleNumber: 10 }],
    });
    const eni = (n: number) => MirrorTarget.networkInterface(`eni-0123456789abcdef${n}`, { privateIpAddress: `10.0.${n}.9` });
    new FargateTrafficMirror(stack, 'Mirror', {
      service,
      filter,
      target: MirrorTarget.perAvailabilityZone({ 'us-east-1a': eni(1), 'us-east-1b': MirrorTarget.pool([eni(2), eni(3)]) }),
      allowCrossZone: true,
      virtualNetworkId: 4242,
      captureMethod: CaptureMethod.sidecar({ networkInterface: 'eth1', cpu: 256, memoryReservationMiB: 32 }),
    });
    filter.addRule({ direction: TrafficDirection.EGRESS, sourceCidr: '::/0', destinationCidr: '2001:db8::/32', action: MirrorRuleAction.REJECT });
    const c = capture(stack);
    expect(c).toMatchObject({ Cpu: 256, MemoryReservation: 32 });
    const e = env(c);
    expect(e).toMatchObject({
      [AGENT_ENV.TARGETS]: '10.0.1.9:4789,10.0.2.9:4789,10.0.3.9:4789',
      [AGENT_ENV.TARGET_ZONES]: 'us-east-1a,us-east-1b,us-east-1b',
      [AGENT_ENV.ALLOW_CROSS_ZONE]: 'true',
      [AGENT_ENV.INTERFACE]: 'eth1',
      [AGENT_ENV.VNI]: '4242',
    });
    expect(e[AGENT_ENV.ZONAL_DNS]).toBeUndefined();
    expect(JSON.parse(resolved(stack, e[AGENT_ENV.FILTER]))).toEqual({
      amazonDns: true,
      rules: [
        { direction: 'ingress', ruleNumber: 10, action: 'accept', protocol: 6, sourceCidr: '0.0.0.0/0', destinationCidr: '0.0.0.0/0', destinationPortRange: { from: 443, to: 443 } },
        { direction: 'egress', ruleNumber: 100, action: 'reject', sourceCidr: '::/0', destinationCidr: '2001:db8::/32' },
      ],
    });
  });

  test('a sidecar-only stack has no Lambda, rule, queue, schedule, enrollment, target or session; the task role may only read the switch', () => {
    const { stack, service, nlb } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: CaptureMethod.sidecar() });
    const template = Template.fromStack(stack);
    for (const type of ['AWS::Lambda::Function', 'AWS::Events::Rule', 'AWS::SQS::Queue', 'AWS::Scheduler::Schedule', 'AWS::CloudFormation::CustomResource',
      'AWS::EC2::TrafficMirrorTarget', 'AWS::EC2::TrafficMirrorFilter', 'AWS::EC2::TrafficMirrorSession', 'AWS::IAM::ManagedPolicy']) {
      template.resourceCountIs(type, 0);
    }
    template.resourceCountIs('Custom::FargateTrafficMirrorEnrollment', 0);
    // The task role's policies (the execution role's pull the image and write the logs).
    const taskRole = resolved(stack, service.taskDefinition.taskRole.roleName);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => JSON.stringify(p.Properties.Roles) === JSON.stringify([taskRole]));
    const statements = policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: resolved(stack, mirror.switchParameter.parameterArn),
    }]);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(() => mirror.sessionManager).toThrow(/sessionManager exists only with CaptureMethod.trafficMirroring\(\)/);
    expect(() => mirror.trafficMirrorTargetId).toThrow(/CaptureMethod.sidecar\(\)/);
  });

  test('createAlarms: alarms on kernel drops and on restarts of the capture container', () => {
    const { stack, service, nlb } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', {
      service, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: CaptureMethod.sidecar(), createAlarms: true,
    });
    expect(mirror.alarms).toHaveLength(2);
    const template = Template.fromStack(stack);
    for (const metricName of ['KernelDrops', 'AgentRestarts']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'FargateTrafficMirror',
        MetricName: metricName,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: Match.arrayWith([{ Name: 'Owner', Value: mirror.ownerId }, { Name: 'service', Value: 'fargate-traffic-mirror' }]),
      });
    }
  });

  test('Traffic Mirroring stays the default', () => {
    const { stack, service, nlb } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
    expect(mirror.captureMethod).toBe(CaptureMethodKind.TRAFFIC_MIRRORING);
    expect(mirror.captureContainer).toBeUndefined();
    expect(containers(stack).map(c => c.Name)).toEqual(['app']);
    Template.fromStack(stack).resourceCountIs('AWS::EC2::TrafficMirrorTarget', 1);
  });
});

describe('CaptureMethod.sidecar() synth errors', () => {
  const sidecar = CaptureMethod.sidecar();

  test('an imported service', () => {
    const { stack, vpc } = serviceStack();
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'prod', vpc, securityGroups: [] });
    const service = ecs.FargateService.fromFargateServiceAttributes(stack, 'ImportedService', { cluster, serviceName: 'web' });
    expect(() => new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkInterface('eni-0123456789abcdef0', { privateIpAddress: '10.0.0.9' }), captureMethod: sidecar }))
      .toThrow(/captureMethod CaptureMethod.sidecar\(\) needs a service defined in this app.*CaptureMethod.trafficMirroring\(\)/);
  });

  test('an imported filter: its rules are unknown', () => {
    const { stack, service, nlb } = serviceStack();
    const filter = MirrorFilter.fromMirrorFilterId(stack, 'Filter', 'tmf-0123456789abcdef0');
    expect(() => new FargateTrafficMirror(stack, 'Mirror', { service, filter, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: sidecar }))
      .toThrow(/filter tmf-0123456789abcdef0 was imported.*rules are unknown.*new MirrorFilter\(\)/);
  });

  test('a Gateway Load Balancer endpoint names MirrorTarget.networkLoadBalancer as the alternative', () => {
    const { stack, service } = serviceStack();
    expect(() => new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0'), captureMethod: sidecar }))
      .toThrow(/Gateway Load Balancer endpoint cannot take packets from a capture sidecar.*MirrorTarget.networkLoadBalancer\(\)/);
  });

  test('an existing target id, and a network interface without its address', () => {
    const { stack, service } = serviceStack();
    expect(() => new FargateTrafficMirror(stack, 'A', { service, target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0'), captureMethod: sidecar }))
      .toThrow(/fromTrafficMirrorTargetId\('tmt-0123456789abcdef0'\) cannot take packets from a capture sidecar/);
    expect(() => new FargateTrafficMirror(stack, 'B', { service, target: MirrorTarget.networkInterface('eni-0123456789abcdef0'), captureMethod: sidecar }))
      .toThrow(/needs its privateIpAddress for CaptureMethod.sidecar\(\)/);
    expect(() => MirrorTarget.networkInterface('eni-0123456789abcdef0', { privateIpAddress: '10.0.0.300' }))
      .toThrow(/privateIpAddress must be an IPv4 address/);
  });

  test('a task definition without room for the sidecar\'s memory', () => {
    const { stack, cluster, nlb } = serviceStack();
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Full', { memoryLimitMiB: 512, cpu: 256 });
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), memoryLimitMiB: 480 });
    const service = new ecs.FargateService(stack, 'FullService', { cluster, taskDefinition });
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: sidecar });
    expect(() => Template.fromStack(stack)).toThrow(/reserves 64 MiB.*has 512 MiB.*reserve or are limited to 480 MiB.*at least 544/);
  });

  test('options of the Traffic Mirroring path, and out-of-range sidecar options', () => {
    const { stack, service, nlb } = serviceStack();
    const target = MirrorTarget.networkLoadBalancer(nlb);
    expect(() => new FargateTrafficMirror(stack, 'A', { service, target, captureMethod: sidecar, sessionNumber: 2 }))
      .toThrow(/sessionNumber has no effect with captureMethod CaptureMethod.sidecar\(\)/);
    expect(() => new FargateTrafficMirror(stack, 'B', { service, target, captureMethod: sidecar, failDeploymentOnUnmirroredTasks: true }))
      .toThrow(/failDeploymentOnUnmirroredTasks has no effect/);
    expect(() => new FargateTrafficMirror(stack, 'C', { service, target, captureMethod: CaptureMethod.sidecar({ memoryReservationMiB: 2 }) }))
      .toThrow(/memoryReservationMiB must be an integer between 6 and/);
    expect(() => new FargateTrafficMirror(stack, 'D', { service, target, captureMethod: sidecar, sampling: 0 }))
      .toThrow(/sampling must be greater than 0/);
  });

  test('two sidecar mirrors of one service', () => {
    const { stack, service, nlb } = serviceStack();
    new FargateTrafficMirror(stack, 'A', { service, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: sidecar });
    expect(() => new FargateTrafficMirror(stack, 'B', { service, target: MirrorTarget.networkLoadBalancer(nlb), captureMethod: sidecar }))
      .toThrow(/already has a 'traffic-capture' container/);
  });
});
