/**
 * Runtime entry: the Lambda handler; builds the clients once per container and routes each trigger.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { newEc2Client, newEcsClient } from './adapters/clients';
import { ConfigReader } from './adapters/config-reader';
import { eventBacklogOf, receiptCheckerOf } from './adapters/event-queue';
import { EmfMirrorMetrics, ignoredTriggersPublisher } from './adapters/metrics';
import { MirrorSessions } from './adapters/mirror-sessions';
import { RecentTasks } from './adapters/recent-tasks';
import { ServiceTasks } from './adapters/service-tasks';
import { StackStatus } from './adapters/stack-status';
import { sweepStarterOf } from './adapters/sweep-starter';
import { SwitchReader } from './adapters/switch-reader';
import { OperationDeps } from './operations/operation-deps';
import { InvocationContext } from './route-invocation';
import { routeTrigger } from './route-trigger';
import { ENV, SessionManagerConfig } from '../contract/session-manager-config';

// Built once per container, outside the handler, so warm invocations reuse the clients'
// connections. The SDK retries throttling and 5xx with backoff before we see an error. The
// functions are shared by every mirrored service of the stack: each trigger names its
// service, whose configuration is read from its parameter; the per-service pieces are made from it.
const logger = new Logger({ serviceName: 'fargate-traffic-mirror' });
const ec2 = newEc2Client();
const ecs = newEcsClient();
const recent = new RecentTasks();
const queueUrl = process.env[ENV.EVENT_QUEUE_URL];
const sqs = new SQSClient({});
const eventBacklog = queueUrl ? eventBacklogOf(sqs, queueUrl) : undefined;
// Records a function is handed are checked against the queue: a direct invoke cannot forge them.
const checkReceipts = queueUrl ? receiptCheckerOf(sqs, queueUrl) : undefined;
const ssm = new SSMClient({});
const switches = new SwitchReader(ssm);
// The one source of each service's configuration: its parameter under the stack's prefix, which
// only the deployment writes and which is all the functions may read there.
const configs = new ConfigReader(ssm, process.env[ENV.CONFIG_PREFIX] ?? '/fargate-traffic-mirror/unset/');
// The event function starts a flip's sweep on the reconciler; the reconciler (which has no such
// variable: it cannot name itself in its own template) starts the sweep's next chunk on itself.
const reconcilerName = process.env[ENV.RECONCILER_FUNCTION] ?? process.env.AWS_LAMBDA_FUNCTION_NAME;
const startSweep = reconcilerName ? sweepStarterOf(new LambdaClient({}), reconcilerName) : undefined;
// Only the reconciler has its stack's id: it asks CloudFormation before a custom resource's
// Delete removes sessions, and before a flip's sweep goes on. The event function has none, so
// it never acts on a Delete or chains a sweep.
const stackId = process.env[ENV.STACK_ID];
const stack = stackId ? new StackStatus(new CloudFormationClient({}), stackId) : undefined;
// Constant for the stack, from the deployment: every session carries it (IAM scopes Delete to it).
const stackTag = process.env[ENV.STACK_TAG] || undefined;

function depsFor(serviceConfig: SessionManagerConfig): OperationDeps {
  const config: SessionManagerConfig = { ...serviceConfig, stackTag };
  const log = logger.createChild({ persistentKeys: { owner: config.ownerId, serviceName: config.serviceName } });
  const name = config.switchParameter;
  return {
    config,
    currentConfig: () => configs.configOf(config.ownerId),
    logger: log,
    metrics: new EmfMirrorMetrics(config.ownerId),
    sessions: new MirrorSessions(ec2, config),
    tasks: new ServiceTasks(ecs, config.clusterArn, config.serviceName),
    recent,
    eventBacklog,
    switchState: name ? async (fresh?: boolean) => {
      const { state, unknownValue } = await switches.state(name, fresh);
      if (unknownValue !== undefined) log.warn('switch value not understood; mirroring stays on', { switchParameter: name, value: unknownValue });
      return state;
    } : undefined,
  };
}

/**
 * Lambda entry point for every trigger: SQS batches of task state changes, the periodic sweep
 * (the schedule's input), and the CloudFormation custom resource (through the provider framework).
 */
export async function handler(event: unknown, context?: InvocationContext): Promise<unknown> {
  return routeTrigger(event, depsFor, {
    log: (message, details) => logger.warn(message, { ...details }),
    configFor: (ownerId, fresh) => configs.configOf(ownerId, fresh),
    startSweep,
    stack,
    ignored: ignoredTriggersPublisher(stackTag),
    checkReceipts,
  }, context);
}
