/**
 * MirrorReceiver's template: the NLB's UDP 4789 listener and target group, the security group,
 * the bucket and its policy, the receiver task (stop timeout, spool, environment), autoscaling,
 * least privilege; MirrorTarget.receiver() with both capture methods and per-zone layouts; synth
 * errors.
 */
import { Duration, Size, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CaptureMethod, FargateTrafficMirror, MirrorReceiver, MirrorTarget } from '../src';
import { serviceStack } from './support/service-stack';
import { AGENT_ENV } from '../src/contract/capture-agent-env';
import { RECEIVER_CONTAINER_NAME, RECEIVER_ENTRY_POINT, RECEIVER_ENV, RECEIVER_HEALTH_COMMAND } from '../src/contract/receiver-env';

const receiverContainer = (stack: Stack) => {
  const defs = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'))
    .flatMap((t: any) => t.Properties.ContainerDefinitions);
  return defs.find((c: any) => c.Name === RECEIVER_CONTAINER_NAME);
};
const env = (container: any): Record<string, unknown> => Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));

describe('MirrorReceiver', () => {
  test('an internal NLB, cross-zone, with a UDP 4789 listener to the receiver tasks and a TCP health check', () => {
    const { stack, vpc } = serviceStack();
    new MirrorReceiver(stack, 'Receiver', { vpc });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Type: 'network',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 4789, Protocol: 'UDP' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 4789,
      Protocol: 'UDP',
      TargetType: 'ip',
      HealthCheckProtocol: 'TCP',
      HealthCheckPort: '8080',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      LoadBalancers: [{ ContainerName: RECEIVER_CONTAINER_NAME, ContainerPort: 4789, TargetGroupArn: Match.anyValue() }],
    });
  });

  test('the receiver tasks admit UDP 4789 and the health check from the VPC only', () => {
    const { stack, vpc } = serviceStack();
    const receiver = new MirrorReceiver(stack, 'Receiver', { vpc });
    const [group] = Object.values(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('VXLAN') },
    })) as any[];
    const cidr = stack.resolve(vpc.vpcCidrBlock);
    expect(group.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ IpProtocol: 'udp', FromPort: 4789, ToPort: 4789, CidrIp: cidr }),
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, CidrIp: cidr }),
    ]);
    expect(receiver.securityGroup.connections.securityGroups).toHaveLength(1);
  });

  test('a created bucket: encrypted, public access blocked, TLS only, objects expire, retained', () => {
    const { stack, vpc } = serviceStack();
    new MirrorReceiver(stack, 'Receiver', { vpc, expiration: Duration.days(7) });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 7, Status: 'Enabled' })] },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the task role may put objects under the prefix and nothing else', () => {
    const { stack, vpc } = serviceStack();
    const bucket = new s3.Bucket(stack, 'Captures');
    const receiver = new MirrorReceiver(stack, 'Receiver', { vpc, bucket, keyPrefix: 'mirror/' });
    const role = stack.resolve((receiver.service.taskDefinition.taskRole.node.defaultChild as any).ref);
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles) === JSON.stringify([role]));
    expect(policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement)).toEqual([{
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
      Resource: { 'Fn::Join': ['', [stack.resolve(bucket.bucketArn), '/mirror/*']] },
    }]);
  });

  test('the receiver container: its program, configuration, spool volume, stop timeout and logs', () => {
    const { stack, vpc } = serviceStack();
    const receiver = new MirrorReceiver(stack, 'Receiver', { vpc, rotationInterval: Duration.seconds(30), rotationSize: Size.mebibytes(16) });
    const c = receiverContainer(stack);
    expect(c).toMatchObject({
      EntryPoint: RECEIVER_ENTRY_POINT,
      HealthCheck: { Command: RECEIVER_HEALTH_COMMAND },
      Essential: true,
      StopTimeout: 120,
      ReadonlyRootFilesystem: true,
      MountPoints: [{ ContainerPath: '/spool', SourceVolume: 'spool', ReadOnly: false }],
      PortMappings: [{ ContainerPort: 4789, Protocol: 'udp' }, { ContainerPort: 8080, Protocol: 'tcp' }],
    });
    expect(env(c)).toMatchObject({
      [RECEIVER_ENV.BUCKET]: stack.resolve(receiver.bucket.bucketName),
      [RECEIVER_ENV.PREFIX]: 'pcap/',
      [RECEIVER_ENV.ROTATE_SECONDS]: '30',
      [RECEIVER_ENV.ROTATE_BYTES]: String(16 * 1024 * 1024),
      [RECEIVER_ENV.LISTEN]: ':4789',
      [RECEIVER_ENV.HEALTH_PORT]: '8080',
      [RECEIVER_ENV.SPOOL_DIR]: '/spool',
      [RECEIVER_ENV.NAME]: 'TestStack/Receiver',
      [RECEIVER_ENV.READ]: 'packet',
    });
    expect(c.User).toBe('0');
    expect(c.LinuxParameters.Capabilities.Drop).not.toContain('NET_RAW');
    expect(c.LinuxParameters.Capabilities.Drop).toEqual(expect.arrayContaining(['CHOWN', 'SETUID', 'KILL']));
    // The files are flushed within the stop timeout.
    expect(Number(env(c)[RECEIVER_ENV.STOP_SECONDS])).toBeLessThan(c.StopTimeout);
  });

  test('autoscaling on CPU between the bounds given', () => {
    const { stack, vpc } = serviceStack();
    new MirrorReceiver(stack, 'Receiver', { vpc, minCapacity: 2, maxCapacity: 6, targetCpuUtilizationPercent: 50 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6, ScalableDimension: 'ecs:service:DesiredCount' });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
  });

  test('createAlarms: failed uploads and unhealthy receivers', () => {
    const { stack, vpc } = serviceStack();
    const receiver = new MirrorReceiver(stack, 'Receiver', { vpc, createAlarms: true });
    expect(receiver.alarms).toHaveLength(2);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'FargateTrafficMirror',
      MetricName: 'UploadFailures',
      Dimensions: Match.arrayWith([{ Name: 'Receiver', Value: 'TestStack/Receiver' }, { Name: 'service', Value: 'fargate-traffic-mirror' }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/NetworkELB', MetricName: 'UnHealthyHostCount' });
  });

  test('MirrorTarget.receiver with Traffic Mirroring: an NLB target for the sessions', () => {
    const { stack, vpc, service } = serviceStack();
    const receiver = new MirrorReceiver(stack, 'Receiver', { vpc });
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.receiver(receiver) });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::TrafficMirrorTarget', {
      NetworkLoadBalancerArn: stack.resolve(receiver.loadBalancer.loadBalancerArn),
    });
  });

  test('MirrorTarget.receiver with the sidecar, alone and per zone', () => {
    const { stack, vpc, service } = serviceStack();
    const a = new MirrorReceiver(stack, 'ReceiverA', { vpc });
    const b = new MirrorReceiver(stack, 'ReceiverB', { vpc });
    new FargateTrafficMirror(stack, 'Mirror', {
      service,
      target: MirrorTarget.perAvailabilityZone({ 'us-east-1a': MirrorTarget.receiver(a), 'us-east-1b': MirrorTarget.receiver(b) }),
      captureMethod: CaptureMethod.sidecar(),
    });
    const defs = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition')).flatMap((t: any) => t.Properties.ContainerDefinitions);
    const capture = env(defs.find((c: any) => c.Name === 'traffic-capture'));
    expect(capture[AGENT_ENV.TARGETS]).toEqual(stack.resolve(`${a.loadBalancer.loadBalancerDnsName}:4789,${b.loadBalancer.loadBalancerDnsName}:4789`));
    expect(capture[AGENT_ENV.TARGET_ZONES]).toBe('us-east-1a,us-east-1b');
    expect(capture[AGENT_ENV.ZONAL_DNS]).toBe('true');
  });

  test('synth errors name the prop and its range', () => {
    const { stack, vpc } = serviceStack();
    const bucket = new s3.Bucket(stack, 'Captures');
    expect(() => new MirrorReceiver(stack, 'A', { vpc, bucket, expiration: Duration.days(1) })).toThrow(/expiration applies only to the bucket the receiver creates/);
    expect(() => new MirrorReceiver(stack, 'B', { vpc, minCapacity: 3, maxCapacity: 2 })).toThrow(/maxCapacity must be an integer between 3 and 100/);
    expect(() => new MirrorReceiver(stack, 'C', { vpc, rotationInterval: Duration.seconds(5) })).toThrow(/rotationInterval must be between 10 seconds and 1 hour/);
    expect(() => new MirrorReceiver(stack, 'D', { vpc, rotationSize: Size.gibibytes(2) })).toThrow(/rotationSize must be between 1 MiB and 1 GiB/);
    expect(() => new MirrorReceiver(stack, 'E', { vpc, keyPrefix: 'no-slash' })).toThrow(/keyPrefix must be empty or path segments each ending in '\/'/);
    expect(() => new MirrorReceiver(stack, 'F', { vpc, targetCpuUtilizationPercent: 95 })).toThrow(/targetCpuUtilizationPercent must be an integer between 10 and 90/);
  });
});
