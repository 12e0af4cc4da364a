/**
 * The integration test: does EC2 take Fargate task ENIs as mirror sources, and do the packets
 * arrive? `npx projen integ:deploy` deploys it to the account and region of your AWS credentials,
 * runs the assertions and destroys it; `npx projen integ:snapshot` (part of the build) only
 * compares the synthesized templates with the committed snapshot, without an account.
 *
 * Two test stacks and the assertions stack integ-tests adds:
 * - `ftm-integ-base`: a VPC with public subnets only (no NAT gateway), a cluster, a
 *   `MirrorReceiver` (its NLB's UDP 4789 listener takes the mirrored packets, its tasks write them
 *   to pcap files in its bucket), an HTTP sink the generators send to (one task behind an internal
 *   NLB on TCP 8080), a traffic generator service (two tasks, each an HTTP GET carrying the marker
 *   every 2 s to the sink),
 *   a second generator service captured by `CaptureMethod.sidecar()` (a `traffic-capture`
 *   container in its tasks sends VXLAN to the same NLB, VNI 4343; in this stack because the
 *   sidecar changes the service's task definition), and a checker function that counts the
 *   generator's running tasks and this test's sessions.
 * - `ftm-integ-mirror`: `FargateTrafficMirror` from the generator to the receiver, with
 *   `failDeploymentOnUnmirroredTasks` (a refused source fails this stack's deployment, naming EC2's
 *   error) and the enrollment report in the stack's outputs. A stack of its own, so the assertions
 *   can delete it and look at what the delete left.
 *
 * The assertions, one after the other: each running task has exactly one owned session; the
 * enrollment's report says so; the marker is in the receiver's pcap files in S3 under this test's
 * VNI, and under the sidecar's VNI; after scaling the generator to 4 tasks, 4 tasks with one session each;
 * after deleting `ftm-integ-mirror`, no owned session is left.
 *
 * The services pull `node:22-slim` from the ECR Public mirror of the Docker official images and
 * get their code on the command line; the one image asset is the capture agent's, built from
 * capture-agent/ at deploy (Docker is needed for integ:deploy, not for integ:snapshot).
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import {
  App, CfnOutput, Duration, RemovalPolicy, Stack, aws_ec2 as ec2, aws_ecs as ecs, aws_elasticloadbalancingv2 as elbv2, aws_iam as iam,
  aws_lambda as lambda, aws_logs as logs,
} from 'aws-cdk-lib';
import { CaptureMethod, FargateTrafficMirror, MirrorReceiver, MirrorTarget } from '../../src';
import { OWNER_TAG_KEY } from '../../src/contract/ownership';

/** What the generator sends and the receiver looks for inside the decapsulated packets. */
const MARKER = 'ftm-integ-marker-7f3c';
/** The sessions' VXLAN network identifier, which the receiver logs with each hit. */
const VNI = 4242;
/** The VNI of the sidecar-captured generator's capture container (it sends the same marker). */
const SIDECAR_VNI = 4343;
const NODE_IMAGE = 'public.ecr.aws/docker/library/node:22-slim';
const HTTP_PORT = 8080;

const app = new App();

// ---- ftm-integ-base: network, receiver, generator, checker --------------------------------------
const base = new Stack(app, 'BaseStack', { stackName: 'ftm-integ-base', description: 'cdk-fargate-traffic-mirror integration test: VPC, services, receiver' });
const vpc = new ec2.Vpc(base, 'Vpc', {
  maxAzs: 2,
  natGateways: 0,
  subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
});
const cluster = new ecs.Cluster(base, 'Cluster', { vpc });
const publicSubnets = { subnetType: ec2.SubnetType.PUBLIC };
const logGroup = (id: string) => new logs.LogGroup(base, id, { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });

// The receiver of the mirrored packets: pcap files in S3 (public subnets: its tasks reach S3 and
// ECR through the internet gateway).
const receiver = new MirrorReceiver(base, 'Receiver', {
  vpc,
  vpcSubnets: publicSubnets,
  assignPublicIp: true,
  cluster,
  cpu: 512,
  memoryLimitMiB: 1024,
  rotationInterval: Duration.seconds(30),
  logRetention: logs.RetentionDays.ONE_WEEK,
});

// The HTTP sink the generators send their marker to: any answer will do, the marker is in the
// request. Plain JavaScript passed to `node -e` (no image to build).
const sinkSource = 'require("node:http").createServer((q, r) => r.end("ok")).listen(' + HTTP_PORT + ');';
const sinkTask = new ecs.FargateTaskDefinition(base, 'SinkTask', { cpu: 256, memoryLimitMiB: 512 });
sinkTask.addContainer('sink', {
  image: ecs.ContainerImage.fromRegistry(NODE_IMAGE),
  command: ['node', '-e', sinkSource],
  portMappings: [{ containerPort: HTTP_PORT, protocol: ecs.Protocol.TCP }],
  logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'sink', logGroup: logGroup('SinkLogs') }),
});
const sinkGroup = new ec2.SecurityGroup(base, 'SinkSecurityGroup', { vpc, description: 'HTTP from the VPC' });
sinkGroup.addIngressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(HTTP_PORT), 'the generators and health checks');
const sink = new ecs.FargateService(base, 'Sink', {
  cluster,
  taskDefinition: sinkTask,
  desiredCount: 1,
  assignPublicIp: true, // pulls the image without a NAT gateway
  vpcSubnets: publicSubnets,
  securityGroups: [sinkGroup],
});
const nlb = new elbv2.NetworkLoadBalancer(base, 'SinkLoadBalancer', { vpc, internetFacing: false, crossZoneEnabled: true, vpcSubnets: publicSubnets });
nlb.addListener('Http', { port: HTTP_PORT, protocol: elbv2.Protocol.TCP }).addTargets('Sink', {
  port: HTTP_PORT,
  protocol: elbv2.Protocol.TCP,
  targets: [sink.loadBalancerTarget({ containerName: 'sink', containerPort: HTTP_PORT })],
  healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(10) },
});

// The traffic generator: the service under mirroring.
const generatorSource = [
  'const http = require("node:http");',
  `const url = "http://" + process.env.TARGET_HOST + ":${HTTP_PORT}/" + process.env.MARKER;`,
  'setInterval(() => http.get(url, r => r.resume()).on("error", e => console.log(JSON.stringify({ event: "error", error: String(e) }))), 2000);',
].join('\n');
/** A service of generator tasks sending the marker; `id` names its task definition, logs and service. */
function generatorService(id: string, size: { cpu: number; memoryLimitMiB: number }, desiredCount: number, streamPrefix: string) {
  const task = new ecs.FargateTaskDefinition(base, `${id}Task`, size);
  task.addContainer('generator', {
    image: ecs.ContainerImage.fromRegistry(NODE_IMAGE),
    command: ['node', '-e', generatorSource],
    environment: { TARGET_HOST: nlb.loadBalancerDnsName, MARKER },
    logging: ecs.LogDrivers.awsLogs({ streamPrefix, logGroup: logGroup(`${id}Logs`) }),
  });
  return new ecs.FargateService(base, id, { cluster, taskDefinition: task, desiredCount, assignPublicIp: true, vpcSubnets: publicSubnets });
}
const generator = generatorService('Generator', { cpu: 256, memoryLimitMiB: 512 }, 2, 'generator');

// The second generator, captured by a sidecar: its marker must reach the same receiver with the
// sidecar's VNI. Its tasks start only once the capture container is healthy.
const sidecarGenerator = generatorService('SidecarGenerator', { cpu: 512, memoryLimitMiB: 1024 }, 1, 'sidecar-generator');
new FargateTrafficMirror(base, 'SidecarMirror', {
  service: sidecarGenerator,
  target: MirrorTarget.receiver(receiver),
  virtualNetworkId: SIDECAR_VNI,
  captureMethod: CaptureMethod.sidecar(),
  logRetention: logs.RetentionDays.ONE_WEEK,
});

// The checker: for the generator's running tasks, how many owned sessions each ENI has.
const checker = new lambda.Function(base, 'Checker', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  timeout: Duration.minutes(1),
  logGroup: logGroup('CheckerLogs'),
  code: lambda.Code.fromInline(`
const { ECSClient, ListTasksCommand, DescribeTasksCommand } = require('@aws-sdk/client-ecs');
const { EC2Client, DescribeTrafficMirrorSessionsCommand } = require('@aws-sdk/client-ec2');
const { S3Client, ListObjectsV2Command, GetObjectCommand } = require('@aws-sdk/client-s3');
const ecs = new ECSClient({});
const ec2 = new EC2Client({});
const s3 = new S3Client({});
exports.handler = async event => (event.marker ? markerInPcaps(event) : coverage(event));
// How many of the receiver's pcap files of one VNI hold the marker (the newest 50 looked at).
async function markerInPcaps({ bucket, prefix, vni, marker }) {
  const keys = [];
  let token;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + 'vni=' + vni + '/', ContinuationToken: token }));
    keys.push(...(page.Contents || []).filter(o => o.Key.endsWith('.pcap')).map(o => o.Key));
    token = page.NextContinuationToken;
  } while (token && keys.length < 1000);
  let withMarker = 0;
  for (const key of keys.slice(-50)) {
    const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body.transformToByteArray());
    if (body.includes(Buffer.from(marker))) withMarker++;
  }
  return { vni, markerFound: withMarker > 0 };
}
async function coverage({ cluster, service, ownerId }) {
  const arns = [];
  let next;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING', nextToken: next }));
    arns.push(...page.taskArns);
    next = page.nextToken;
  } while (next);
  const enis = [];
  for (let i = 0; i < arns.length; i += 100) {
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
    for (const task of tasks.filter(t => t.lastStatus === 'RUNNING')) {
      const details = (task.attachments || []).flatMap(a => a.details || []);
      const eni = details.find(d => d.name === 'networkInterfaceId');
      if (eni) enis.push(eni.value);
    }
  }
  const owned = [];
  do {
    const page = await ec2.send(new DescribeTrafficMirrorSessionsCommand({ NextToken: next }));
    for (const s of page.TrafficMirrorSessions) {
      if ((s.Tags || []).some(t => t.Key === '${OWNER_TAG_KEY}' && t.Value === ownerId)) owned.push(s.NetworkInterfaceId);
    }
    next = page.NextToken;
  } while (next);
  const count = eni => owned.filter(o => o === eni).length;
  return {
    runningTasks: enis.length,
    tasksWithOneSession: enis.filter(e => count(e) === 1).length,
    tasksWithoutSession: enis.filter(e => count(e) === 0).length,
    tasksWithSeveral: enis.filter(e => count(e) > 1).length,
    ownedSessions: owned.length,
    strayOwnedSessions: owned.filter(o => !enis.includes(o)).length,
  };
}
`),
});
checker.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:ListTasks', 'ecs:DescribeTasks', 'ec2:DescribeTrafficMirrorSessions'], resources: ['*'] }));
receiver.bucket.grantRead(checker, `${receiver.keyPrefix}*`);

// ---- ftm-integ-mirror: the construct under test --------------------------------------------------
const mirrorStack = new Stack(app, 'MirrorStack', { stackName: 'ftm-integ-mirror', description: 'cdk-fargate-traffic-mirror integration test: the mirror' });
const mirror = new FargateTrafficMirror(mirrorStack, 'Mirror', {
  service: generator,
  target: MirrorTarget.receiver(receiver),
  virtualNetworkId: VNI,
  failDeploymentOnUnmirroredTasks: true,
  enrollmentReportOutputs: true,
  logRetention: logs.RetentionDays.ONE_WEEK,
});

// ---- assertions -----------------------------------------------------------------------------------
const integ = new IntegTest(app, 'FargateTrafficMirror', {
  testCases: [base, mirrorStack],
  // A new test: there is no earlier snapshot to deploy first.
  stackUpdateWorkflow: false,
  cdkCommandOptions: { destroy: { args: { force: true } } },
});
const assertions = integ.assertions;

/** The checker's answer, compared whole: running tasks, and how many have 1, 0 or several owned sessions; owned sessions, and on other ENIs. */
const coverage = (running: number, one: number, without: number, several: number, owned: number, stray: number) => assertions.invokeFunction({
  functionName: checker.functionName,
  payload: JSON.stringify({ cluster: cluster.clusterName, service: generator.serviceName, ownerId: mirror.ownerId }),
}).expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson({
    runningTasks: running,
    tasksWithOneSession: one,
    tasksWithoutSession: without,
    tasksWithSeveral: several,
    ownedSessions: owned,
    strayOwnedSessions: stray,
  }),
}));

// 1. Every running task has exactly one owned session, and no owned session is on anything else.
const twoTasks = coverage(2, 2, 0, 0, 2, 0)
  .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) });

// 2. The enrollment's report, as the stack's outputs show it (by name: the assertions stack must
// not import from the mirror stack, which step 6 deletes).
const summaryKey = mirrorStack.resolve((mirror.node.findChild('EnrollmentSummary') as CfnOutput).logicalId) as string;
const report = assertions.awsApiCall('CloudFormation', 'describeStacks', { StackName: mirrorStack.stackName })
  .expect(ExpectedResult.objectLike({
    Stacks: Match.arrayWith([Match.objectLike({
      Outputs: Match.arrayWith([Match.objectLike({ OutputKey: summaryKey, OutputValue: '2 of 2 running tasks mirrored; no failures' })]),
    })]),
  }));

// 3. The marker is in the receiver's pcap files in S3, under this test's VNI (Traffic Mirroring)
// and under the sidecar's VNI (CaptureMethod.sidecar()): both streams reached the same receiver.
const markerIn = (vni: number) => assertions.invokeFunction({
  functionName: checker.functionName,
  payload: JSON.stringify({ bucket: receiver.bucket.bucketName, prefix: receiver.keyPrefix, vni, marker: MARKER }),
}).expect(ExpectedResult.objectLike({ Payload: Match.serializedJson({ vni, markerFound: true }) }))
  .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) });
const marker = markerIn(VNI);
const sidecarMarker = markerIn(SIDECAR_VNI);

// 4. Scaled to 4 tasks: 4 sessions, one each.
const scale = assertions.awsApiCall('ECS', 'updateService', { cluster: cluster.clusterName, service: generator.serviceName, desiredCount: 4 });
const fourTasks = coverage(4, 4, 0, 0, 4, 0)
  .waitForAssertions({ totalTimeout: Duration.minutes(15), interval: Duration.seconds(30) });

// 5. Delete the mirror stack and wait until CloudFormation says it is gone (by stack id: a deleted
// stack is found by id, not by name).
const stackId = assertions.awsApiCall('CloudFormation', 'describeStacks', { StackName: mirrorStack.stackName });
const remove = assertions.awsApiCall('CloudFormation', 'deleteStack', { StackName: mirrorStack.stackName });
const gone = assertions.awsApiCall('CloudFormation', 'describeStacks', { StackName: stackId.getAttString('Stacks.0.StackId') })
  .expect(ExpectedResult.objectLike({ Stacks: Match.arrayWith([Match.objectLike({ StackStatus: 'DELETE_COMPLETE' })]) }))
  .waitForAssertions({ totalTimeout: Duration.minutes(30), interval: Duration.seconds(30) });

// 6. The stack delete left no owned session; the 4 tasks still run.
const none = coverage(4, 0, 4, 0, 0, 0);

twoTasks.next(report).next(marker).next(sidecarMarker).next(scale).next(fourTasks).next(stackId).next(remove).next(gone).next(none);

app.synth();
