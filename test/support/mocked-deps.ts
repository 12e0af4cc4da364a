import { Logger } from '@aws-lambda-powertools/logger';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { RecordingMetrics } from './recording-metrics';
import { SessionManagerConfig } from '../../src/contract/session-manager-config';
import { MirrorSessions } from '../../src/runtime/adapters/mirror-sessions';
import { ServiceTasks } from '../../src/runtime/adapters/service-tasks';
import { OperationDeps } from '../../src/runtime/operations/operation-deps';

/**
 * The session manager's real modules on plain SDK clients, for tests that intercept the clients
 * with `aws-sdk-client-mock`. The logger is silent, with every level spied on.
 */
export function mockedDeps(config: SessionManagerConfig) {
  const logger = new Logger({ logLevel: 'SILENT' });
  for (const level of ['debug', 'info', 'warn', 'error'] as const) jest.spyOn(logger, level);
  const metrics = new RecordingMetrics();
  const deps: OperationDeps = {
    config,
    logger,
    metrics,
    sessions: new MirrorSessions(new EC2Client({ region: 'us-east-1' }), config),
    tasks: new ServiceTasks(new ECSClient({ region: 'us-east-1' }), config.clusterArn, config.serviceName),
  };
  return { deps, logger, metrics };
}
