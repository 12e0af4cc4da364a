import { Logger } from '@aws-lambda-powertools/logger';
import { newEc2Client } from './clients';
import { configFromEnv } from './config';
import { TaskEventOutcome, handleTaskEvent } from './handle-task-event';
import { MirrorSessions } from './mirror-sessions';

// Built once per container, outside the handler, so warm invocations reuse the client's
// connections. The SDK retries throttling and 5xx with backoff before we see an error.
const logger = new Logger({ serviceName: 'fargate-traffic-mirror' });
const config = configFromEnv();
const sessions = new MirrorSessions(newEc2Client(), config);

/** Lambda entry point: one ECS task state change event from EventBridge. */
export async function handler(event: unknown): Promise<TaskEventOutcome> {
  return handleTaskEvent(event, { config, sessions, logger });
}
