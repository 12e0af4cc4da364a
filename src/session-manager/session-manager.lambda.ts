import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { newEc2Client, newEcsClient } from './clients';
import { ENV, configFromEnv } from './config';
import { InvocationContext, route } from './entry';
import { eventBacklogOf } from './event-queue';
import { EmfMirrorMetrics } from './metrics';
import { MirrorSessions } from './mirror-sessions';
import { RecentTasks } from './recent-tasks';
import { ServiceTasks } from './service-tasks';

// Built once per container, outside the handler, so warm invocations reuse the clients'
// connections. The SDK retries throttling and 5xx with backoff before we see an error.
const config = configFromEnv();
const deps = {
  config,
  logger: new Logger({ serviceName: 'fargate-traffic-mirror' }),
  metrics: new EmfMirrorMetrics(config.ownerId),
  sessions: new MirrorSessions(newEc2Client(), config),
  tasks: new ServiceTasks(newEcsClient(), config.clusterArn, config.serviceName),
  recent: new RecentTasks(),
  eventBacklog: process.env[ENV.EVENT_QUEUE_URL] ? eventBacklogOf(new SQSClient({}), process.env[ENV.EVENT_QUEUE_URL]!) : undefined,
};

/**
 * Lambda entry point for all three triggers: SQS batches of task state changes, the periodic
 * sweep, and the CloudFormation custom resource (through the provider framework).
 */
export async function handler(event: unknown, context?: InvocationContext): Promise<unknown> {
  return route(event, deps, context);
}
