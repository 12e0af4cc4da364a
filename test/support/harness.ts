import { Logger } from '@aws-lambda-powertools/logger';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { Ec2MirrorModelOptions } from './ec2-model';
import { FakeEc2Endpoint } from './fake-ec2-endpoint';
import { FakeEcsEndpoint } from './fake-ecs-endpoint';
import { RecordingMetrics } from './recording-metrics';
import { SessionManagerConfig } from '../../src/contract/session-manager-config';
import { EC2_MAX_ATTEMPTS, newEc2Client } from '../../src/runtime/adapters/clients';
import { MirrorSessions } from '../../src/runtime/adapters/mirror-sessions';
import { RecentTasks } from '../../src/runtime/adapters/recent-tasks';
import { ServiceTasks } from '../../src/runtime/adapters/service-tasks';
import { OperationDeps } from '../../src/runtime/operations/operation-deps';
import { CLUSTER_ARN, SERVICE_NAME } from '../fixtures/task-events';

export const TEST_CONFIG: SessionManagerConfig = {
  ownerId: 'ftm-aaaaaaaaaaaaaaaaaaaaaaaa',
  clusterArn: CLUSTER_ARN,
  serviceName: SERVICE_NAME,
  targetId: 'tmt-0123456789abcdef0',
  filterId: 'tmf-0123456789abcdef0',
  sessionNumber: 1,
};

/** Date.now as it was before any harness replaced it. */
const REAL_NOW = Date.now.bind(Date);

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

/**
 * The session manager's real modules and real SDK clients, wired to in-process fake EC2 and
 * ECS endpoints. Only the backoff delay is zero, so retries happen without sleeping, and waits
 * of the reconciler advance the clock it reads instead of sleeping. `ec2` and `ecs` are the fake
 * endpoints; `ec2Client` is the SDK client through which `deps.sessions` reaches the fake EC2, for
 * building more `MirrorSessions` (say, with another service's configuration) on the same endpoint.
 */
export function harness(config: Partial<SessionManagerConfig> = {}, ec2Options: Ec2MirrorModelOptions = {}) {
  const cfg = { ...TEST_CONFIG, ...config };
  // Waits move Date.now forward instead of sleeping. Real time still passes underneath, so the
  // SDK's adaptive rate limiter, which also reads Date.now, keeps refilling.
  let skipped = 0;
  jest.spyOn(Date, 'now').mockImplementation(() => REAL_NOW() + skipped);
  const advance = (ms: number) => {
    skipped += ms;
  };
  const ec2 = new FakeEc2Endpoint(ec2Options);
  const ecs = new FakeEcsEndpoint(cfg.clusterArn);
  const retryStrategy = new ConfiguredRetryStrategy(EC2_MAX_ATTEMPTS, () => 0);
  const ec2Client = newEc2Client({ region: 'us-east-1', credentials, requestHandler: ec2.requestHandler as any, retryStrategy });
  const ecsClient = new ECSClient({ region: 'us-east-1', credentials, requestHandler: ecs.requestHandler as any, retryStrategy });
  const metrics = new RecordingMetrics();
  const logger = new Logger({ logLevel: 'SILENT' });
  const deps: OperationDeps = {
    config: cfg,
    logger,
    metrics,
    sessions: new MirrorSessions(ec2Client, cfg),
    tasks: new ServiceTasks(ecsClient, cfg.clusterArn, cfg.serviceName),
    // As in the Lambda: one container's memory of the tasks it saw mirrored.
    recent: new RecentTasks(),
    // Removal passes, sweep rounds and settle times wait in production; here time jumps.
    sleep: async (ms: number) => advance(ms),
  };
  return { ec2, ecs, ec2Client, metrics, logger, deps, config: cfg, advance };
}
