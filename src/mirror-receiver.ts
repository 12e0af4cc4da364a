/** Public API: `MirrorReceiver`, mirrored packets to rotating pcap files in S3 with an index. */
import {
  Duration, RemovalPolicy, Size, Stack, Token,
  aws_cloudwatch as cloudwatch, aws_ec2 as ec2, aws_ecs as ecs, aws_elasticloadbalancingv2 as elbv2, aws_iam as iam, aws_logs as logs, aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  RECEIVER_CONTAINER_NAME, RECEIVER_DIMENSION, RECEIVER_ENTRY_POINT, RECEIVER_ENV, RECEIVER_HEALTH_COMMAND, RECEIVER_METRIC,
} from './contract/receiver-env';
import { VXLAN_PORT, captureAgentImage, netRawOnly } from './private/capture-container';
import { libraryMetric } from './private/library-metric';
import { suppressNagFindings } from './private/nag-suppressions';
import { validateIntegerRange } from './private/validation';

/** Properties of a `MirrorReceiver`. */
export interface MirrorReceiverProps {
  /** The VPC the receiver's load balancer and tasks run in: the VPC of the mirrored services. */
  readonly vpc: ec2.IVpc;
  /**
   * Where the load balancer and the receiver tasks go. The tasks upload to S3 and pull their
   * image, so the subnets need a route to both (a NAT gateway, or VPC endpoints for S3, ECR and
   * CloudWatch Logs).
   * @default - the VPC's private subnets (with egress when it has them, else isolated), as ECS and Elastic Load Balancing choose
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Give the receiver tasks public IP addresses, for subnets whose route to S3 and ECR is an
   * internet gateway (public subnets without a NAT gateway). Their security group still admits
   * only the VPC.
   * @default false
   */
  readonly assignPublicIp?: boolean;
  /**
   * The ECS cluster of the receiver tasks.
   * @default - a new cluster in `vpc` with Container Insights
   */
  readonly cluster?: ecs.ICluster;
  /**
   * The bucket the pcap files and the index go to.
   * @default - a new bucket: S3-managed encryption, public access blocked, TLS only, objects expire after `expiration`, retained when the stack is deleted
   */
  readonly bucket?: s3.IBucket;
  /**
   * How long objects live in the bucket the receiver creates (a lifecycle rule). Only without `bucket`.
   * @default Duration.days(30)
   */
  readonly expiration?: Duration;
  /**
   * The key prefix of every object the receiver writes.
   * @default 'pcap/'
   */
  readonly keyPrefix?: string;
  /**
   * A pcap file is closed and uploaded after this long (10 seconds to 1 hour).
   * @default Duration.seconds(60)
   */
  readonly rotationInterval?: Duration;
  /**
   * ... or once it holds this much (1 MiB to 1 GiB), whichever comes first.
   * @default Size.mebibytes(64)
   */
  readonly rotationSize?: Size;
  /**
   * The fewest receiver tasks.
   * @default 1
   */
  readonly minCapacity?: number;
  /**
   * The most receiver tasks autoscaling may run.
   * @default 4
   */
  readonly maxCapacity?: number;
  /**
   * The average CPU utilization autoscaling keeps the receiver tasks at (10..90 percent).
   * @default 60
   */
  readonly targetCpuUtilizationPercent?: number;
  /**
   * CPU units of each receiver task (a Fargate task size: 256, 512, 1024, 2048 or 4096).
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * Memory of each receiver task, in MiB (a size Fargate allows for `cpu`).
   * @default 2048
   */
  readonly memoryLimitMiB?: number;
  /**
   * The receiver's image. The default builds it from this package's `capture-agent/` directory
   * (the capture agent's image, which carries the receiver too) with `ContainerImage.fromAsset`:
   * a deploy needs Docker, as for any CDK image asset.
   * @default - built from the package's capture-agent/ directory
   */
  readonly image?: ecs.ContainerImage;
  /**
   * Alarms on failed uploads and on unhealthy receiver tasks (see `alarms`).
   * @default false
   */
  readonly createAlarms?: boolean;
  /**
   * How long the receiver's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The TCP port of the receiver's health check. */
const HEALTH_PORT = 8080;
/**
 * Fargate lets a container take up to 120 s to stop after SIGTERM; the receiver closes and uploads
 * its files within STOP_SECONDS, which leaves it a margin.
 */
const STOP_TIMEOUT = Duration.seconds(120);
const STOP_SECONDS = 100;
/** The receiver writes each pcap file here before it uploads it (the task's ephemeral storage). */
const SPOOL_PATH = '/spool';

/**
 * Receives mirrored packets (VXLAN on UDP 4789, from VPC Traffic Mirroring sessions or from the
 * capture sidecar, the same format) and writes them to pcap files in S3, rotated by time and
 * size, keyed by VNI, source address, date and hour, each with an index line (JSON Lines) of its
 * time range, counts and 5-tuples. An internal Network Load Balancer with a UDP 4789 listener
 * (cross-zone, as AWS recommends for mirror targets) in front of an autoscaled Fargate service
 * of receiver tasks. Use it as a target with `MirrorTarget.receiver(receiver)`.
 *
 * @example
 * declare const vpc: ec2.Vpc;
 * declare const service: ecs.FargateService;
 *
 * const receiver = new MirrorReceiver(this, 'Receiver', { vpc });
 * new FargateTrafficMirror(this, 'Mirror', { service, target: MirrorTarget.receiver(receiver) });
 */
export class MirrorReceiver extends Construct {
  /** The internal Network Load Balancer mirrored packets are sent to (UDP 4789). */
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The load balancer's UDP 4789 target group of receiver tasks. */
  public readonly targetGroup: elbv2.NetworkTargetGroup;
  /** The Fargate service of receiver tasks. */
  public readonly service: ecs.FargateService;
  /** The bucket the pcap files and the index go to. */
  public readonly bucket: s3.IBucket;
  /** The key prefix of every object. */
  public readonly keyPrefix: string;
  /** The security group of the receiver tasks: UDP 4789 and the health check from the VPC only. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The receiver's log group, where its metrics are written too (Embedded Metric Format). */
  public readonly logGroup: logs.LogGroup;
  /** Alarms created when `createAlarms` is true; empty otherwise. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  /**
   * @param scope The construct to add the receiver to, usually a stack
   * @param id The id of this construct, unique within `scope`
   * @param props The VPC, the bucket and options
   */
  constructor(scope: Construct, id: string, props: MirrorReceiverProps) {
    super(scope, id);
    validateReceiverProps(props);
    const subnets = props.vpcSubnets;
    this.keyPrefix = props.keyPrefix ?? 'pcap/';
    this.bucket = props.bucket ?? this.createBucket(props.expiration ?? Duration.days(30));
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });

    const cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsights: true });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 2048,
      volumes: [{ name: 'spool' }],
    });
    const container = taskDefinition.addContainer(RECEIVER_CONTAINER_NAME, {
      containerName: RECEIVER_CONTAINER_NAME,
      image: props.image ?? captureAgentImage(),
      entryPoint: RECEIVER_ENTRY_POINT,
      essential: true,
      environment: {
        [RECEIVER_ENV.BUCKET]: this.bucket.bucketName,
        [RECEIVER_ENV.PREFIX]: this.keyPrefix,
        [RECEIVER_ENV.REGION]: Stack.of(this).region,
        [RECEIVER_ENV.ROTATE_SECONDS]: String((props.rotationInterval ?? Duration.seconds(60)).toSeconds()),
        [RECEIVER_ENV.ROTATE_BYTES]: String((props.rotationSize ?? Size.mebibytes(64)).toBytes()),
        [RECEIVER_ENV.LISTEN]: `:${VXLAN_PORT}`,
        [RECEIVER_ENV.HEALTH_PORT]: String(HEALTH_PORT),
        [RECEIVER_ENV.STOP_SECONDS]: String(STOP_SECONDS),
        [RECEIVER_ENV.SPOOL_DIR]: SPOOL_PATH,
        [RECEIVER_ENV.NAME]: this.node.path,
        // A socket's receive buffer is capped by net.core.rmem_max, which a task cannot raise (the
        // benchmark measured 37-75k packets per second with Linux's default); the AF_PACKET ring is
        // sized by the receiver (250-300k, bench/receiver-results.json).
        [RECEIVER_ENV.READ]: 'packet',
        ...(this.bucket.encryptionKey ? { [RECEIVER_ENV.KMS_KEY_ID]: this.bucket.encryptionKey.keyArn } : {}),
      },
      portMappings: [
        { containerPort: VXLAN_PORT, protocol: ecs.Protocol.UDP },
        { containerPort: HEALTH_PORT, protocol: ecs.Protocol.TCP },
      ],
      readonlyRootFilesystem: true,
      // Root with NET_RAW for the AF_PACKET ring; every other default capability is dropped.
      user: '0',
      linuxParameters: netRawOnly(this),
      healthCheck: {
        command: RECEIVER_HEALTH_COMMAND, interval: Duration.seconds(10), timeout: Duration.seconds(2), retries: 3, startPeriod: Duration.seconds(10),
      },
      // Time to close and upload every open file after SIGTERM (scale-in, deployments).
      stopTimeout: STOP_TIMEOUT,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: RECEIVER_CONTAINER_NAME, logGroup: this.logGroup }),
    });
    container.addMountPoints({ containerPath: SPOOL_PATH, sourceVolume: 'spool', readOnly: false });
    this.grantUploads(taskDefinition.taskRole);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Mirrored packets (VXLAN, UDP 4789) and health checks from the VPC only',
      allowAllOutbound: true,
    });
    // A UDP target group keeps the client's address: packets come from the mirrored tasks' ENIs.
    this.securityGroup.addIngressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.udp(VXLAN_PORT), 'mirrored packets (VXLAN) from the VPC');
    this.securityGroup.addIngressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(HEALTH_PORT), 'load balancer health checks');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: props.minCapacity ?? 1,
      vpcSubnets: subnets,
      assignPublicIp: props.assignPublicIp ?? false,
      securityGroups: [this.securityGroup],
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
    });
    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minCapacity ?? 1, maxCapacity: props.maxCapacity ?? 4 });
    scaling.scaleOnCpuUtilization('CpuScaling', {
      targetUtilizationPercent: props.targetCpuUtilizationPercent ?? 60,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: subnets,
      internetFacing: false,
      // AWS recommends cross-zone load balancing for mirror targets: a zone's sources reach
      // receivers of every zone, so a zone without a healthy receiver loses nothing.
      crossZoneEnabled: true,
    });
    this.targetGroup = this.loadBalancer.addListener('Vxlan', { port: VXLAN_PORT, protocol: elbv2.Protocol.UDP }).addTargets('Receivers', {
      port: VXLAN_PORT,
      protocol: elbv2.Protocol.UDP,
      targets: [this.service.loadBalancerTarget({ containerName: RECEIVER_CONTAINER_NAME, containerPort: VXLAN_PORT, protocol: ecs.Protocol.UDP })],
      healthCheck: {
        protocol: elbv2.Protocol.TCP, port: String(HEALTH_PORT), interval: Duration.seconds(10), healthyThresholdCount: 2, unhealthyThresholdCount: 2,
      },
      // Flows move to other receivers before ECS sends SIGTERM to a task leaving the group.
      deregistrationDelay: Duration.seconds(30),
    });

    if (props.createAlarms) {
      this.alarms.push(
        this.metricUploadFailures().createAlarm(this, 'UploadFailuresAlarm', {
          alarmDescription: `The mirror receiver ${this.node.path} failed to upload pcap files to S3 (it keeps them on its disk and retries)`,
          threshold: 0,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        this.targetGroup.metrics.unHealthyHostCount({ period: Duration.minutes(1) }).createAlarm(this, 'UnhealthyReceiversAlarm', {
          alarmDescription: `A receiver task of ${this.node.path} failed the load balancer's health check`,
          threshold: 0,
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    this.suppressNagFindings(taskDefinition);
  }

  /**
   * A metric the receiver publishes (namespace `FargateTrafficMirror`, dimensions `service` and
   * `Receiver`).
   *
   * @param metricName The metric's name, for example `ReceivedPackets`
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return libraryMetric(metricName, { [RECEIVER_DIMENSION]: this.node.path }, props);
  }

  /**
   * Mirrored frames the receiver decoded (sum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricReceivedPackets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(RECEIVER_METRIC.RECEIVED_PACKETS, props);
  }

  /**
   * Datagrams that were not VXLAN as Traffic Mirroring sends it, counted and skipped (sum over 5
   * minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricMalformedDatagrams(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(RECEIVER_METRIC.MALFORMED_DATAGRAMS, props);
  }

  /**
   * pcap files uploaded to S3 (sum over 5 minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricFilesUploaded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(RECEIVER_METRIC.FILES_UPLOADED, props);
  }

  /**
   * Uploads to S3 that failed; the file stays on the task's disk and is tried again (sum over 5
   * minutes unless `props` say otherwise).
   * @param props Period, statistic, dimensions and other options that override the defaults
   */
  public metricUploadFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(RECEIVER_METRIC.UPLOAD_FAILURES, props);
  }

  private createBucket(expiration: Duration): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    suppressNagFindings(bucket, [{
      id: 'AwsSolutions-S1',
      reason: 'Server access logs need a log bucket of the user\'s choosing; give MirrorReceiver a bucket with access logging to have them',
    }]);
    return bucket;
  }

  /** The receiver uploads objects under its prefix, nothing else. */
  private grantUploads(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: [this.bucket.arnForObjects(`${this.keyPrefix}*`)],
    }));
    this.bucket.encryptionKey?.grantEncrypt(role);
  }

  private suppressNagFindings(taskDefinition: ecs.FargateTaskDefinition): void {
    suppressNagFindings(taskDefinition, [{
      id: 'AwsSolutions-ECS2',
      reason: 'The receiver\'s environment is its configuration (bucket, prefix, rotation, ports); it holds no secret',
    }]);
    const prefix = this.keyPrefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    suppressNagFindings(taskDefinition.taskRole.node.findChild('DefaultPolicy'), [{
      id: 'AwsSolutions-IAM5',
      reason: 'The receiver writes objects of new, time-named keys under its own prefix of the bucket, and nothing else',
      appliesTo: [{ regex: `/^Resource::.*\\/${prefix}\\*$/` }],
    }], true);
    const execution = taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
    if (execution) {
      suppressNagFindings(execution, [{
        id: 'AwsSolutions-IAM5',
        reason: 'ecr:GetAuthorizationToken takes no resource (ECR\'s authorization reference): the execution role pulls the receiver image',
        appliesTo: ['Resource::*'],
      }], true);
    }
    suppressNagFindings(this.securityGroup, [{
      id: 'CdkNagValidationFailure',
      reason: 'AwsSolutions-EC23 cannot read the VPC CIDR token; the ingress is limited to that CIDR (the VPC), never 0.0.0.0/0',
      appliesTo: ['AwsSolutions-EC23'],
    }]);
    suppressNagFindings(this.loadBalancer, [{
      id: 'AwsSolutions-ELB2',
      reason: 'A Network Load Balancer writes access logs for TLS listeners only; this one has a UDP listener',
    }]);
  }
}

/** Throws naming the prop and its range when an option is out of range. */
function validateReceiverProps(props: MirrorReceiverProps): void {
  if (props.bucket && props.expiration) {
    throw new Error('expiration applies only to the bucket the receiver creates; set a lifecycle rule on your bucket instead, or remove bucket');
  }
  validateIntegerRange('minCapacity', props.minCapacity, 1, 100);
  validateIntegerRange('maxCapacity', props.maxCapacity, props.minCapacity ?? 1, 100, ' (and at least minCapacity)');
  validateIntegerRange('targetCpuUtilizationPercent', props.targetCpuUtilizationPercent, 10, 90);
  const interval = props.rotationInterval;
  if (interval && !interval.isUnresolved() && (interval.toSeconds() < 10 || interval.toSeconds() > 3600)) {
    throw new Error(`rotationInterval must be between 10 seconds and 1 hour, got ${interval.toHumanString()}`);
  }
  const size = props.rotationSize;
  if (size && !Token.isUnresolved(size.toBytes()) && (size.toBytes() < 1024 ** 2 || size.toBytes() > 1024 ** 3)) {
    throw new Error(`rotationSize must be between 1 MiB and 1 GiB, got ${size.toBytes()} bytes`);
  }
  if (props.keyPrefix !== undefined && !/^([A-Za-z0-9!_.*'()-]+\/)*$/.test(props.keyPrefix)) {
    throw new Error(`keyPrefix must be empty or path segments each ending in '/' (letters, digits and !_.*'()-), got '${props.keyPrefix}'`);
  }
}
