import { Logger } from '@aws-lambda-powertools/logger';
import { CreateTrafficMirrorSessionCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { EVENT_CASES, SCOPE } from './events.cases';
import { SessionManagerConfig } from '../../src/contract/session-manager-config';
import { MAX_EVENT_BODY_LENGTH } from '../../src/runtime/core/parse-task-event';
import { OperationDeps } from '../../src/runtime/operations/operation-deps';
import { routeInvocation } from '../../src/runtime/route-invocation';
import { SERVICE_NAME, taskEvent } from '../fixtures/task-events';
import { mockedDeps } from '../support/mocked-deps';
import { RecordingMetrics } from '../support/recording-metrics';

const config: SessionManagerConfig = {
  ...SCOPE,
  ownerId: 'ftm-0123456789abcdef01234567',
  serviceName: SERVICE_NAME,
  targetId: 'tmt-0123456789abcdef0',
  filterId: 'tmf-0123456789abcdef0',
  sessionNumber: 1,
};

// Every SDK call of every client instance is intercepted: a case passes only if none is made.
const ec2Mock = mockClient(EC2Client);
const ecsMock = mockClient(ECSClient);
let logger: Logger;
let metrics: RecordingMetrics;
let deps: OperationDeps;

beforeEach(() => {
  ec2Mock.reset();
  ecsMock.reset();
  ({ deps, logger, metrics } = mockedDeps(config));
});

/** Asserts that exactly one skip was logged, with this reason and level, and that nothing else happened. */
function expectLoggedSkipWithoutAwsCalls(reason: string, level: 'warn' | 'info') {
  const other = level === 'warn' ? 'info' : 'warn';
  expect(logger[level]).toHaveBeenCalledTimes(1);
  expect(logger[level]).toHaveBeenCalledWith('event skipped', expect.objectContaining({ action: 'skip', outcome: 'skipped', reason }));
  expect(logger[other]).not.toHaveBeenCalled();
  expect(logger.error).not.toHaveBeenCalled();
  expect(ec2Mock.calls()).toHaveLength(0);
  expect(ecsMock.calls()).toHaveLength(0);
  expect(metrics).toMatchObject({ created: 0, deleted: 0, failures: [] });
}

const catalogue = EVENT_CASES.map(c => [`${c.category}: ${c.name}`, c] as const);
// A case given as an event is also sent through the queue, when it fits in an SQS message.
const asBody = EVENT_CASES
  .filter(c => c.body !== undefined || (c.event !== undefined && JSON.stringify(c.event).length <= MAX_EVENT_BODY_LENGTH))
  .map(c => [`${c.category}: ${c.name}`, { ...c, body: c.body ?? JSON.stringify(c.event) }] as const);

describe('bad input to the session manager is skipped, logged, and makes no AWS call', () => {
  test('the catalogue covers every category and has at least 40 cases', () => {
    expect(new Set(EVENT_CASES.map(c => c.category))).toEqual(new Set([
      'wrong source', 'another account or region', 'missing detail', 'wrong type', 'attachment of another type',
      'ENI id of a wrong shape', 'huge payload', 'unknown fields', 'broken body',
    ]));
    expect(EVENT_CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(EVENT_CASES.map(c => c.name)).size).toBe(EVENT_CASES.length);
  });

  describe('delivered directly', () => {
    test.each(catalogue.filter(([, c]) => c.event !== undefined || c.body === undefined))('%s', async (_name, c) => {
      const outcome = await routeInvocation(c.event, deps);
      expect(outcome).toEqual(expect.objectContaining({ action: 'skip', outcome: 'skipped', reason: c.reason }));
      expectLoggedSkipWithoutAwsCalls(c.reason, c.level);
    });
  });

  describe('delivered through the queue: acknowledged, never retried', () => {
    test.each(asBody)('%s', async (_name, c) => {
      const response = await routeInvocation({ Records: [{ messageId: 'm-1', body: c.body }] }, deps);
      // Not a batch item failure: a message that can never succeed must not loop until the DLQ.
      expect(response).toEqual({ batchItemFailures: [] });
      expectLoggedSkipWithoutAwsCalls(c.reason, c.level);
    });
  });

  test('a prototype-pollution key pollutes nothing', async () => {
    await routeInvocation({ Records: [{ messageId: 'm-1', body: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}' }] }, deps);
    expect(({} as any).polluted).toBeUndefined();
  });
});

describe('bad records next to good ones', () => {
  const good = (taskId: string) => JSON.stringify(taskEvent({ taskId, lastStatus: 'PENDING' }));

  test('malformed records are acknowledged while the valid one in the batch is applied', async () => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand).resolves({ TrafficMirrorSession: { TrafficMirrorSessionId: 'tms-1' } });
    const response = await routeInvocation({
      Records: [
        { messageId: 'bad-json', body: '{' },
        { messageId: 'good', body: good('0d2a4b8c3e1f4a5b9c7d6e5f4a3b2c1d') },
        { messageId: 'foreign', body: JSON.stringify({ ...taskEvent(), account: '210987654321' }) },
        'not a record',
        { messageId: 'no-body' },
      ],
    }, deps);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ec2Mock.commandCalls(CreateTrafficMirrorSessionCommand)).toHaveLength(1);
    expect(metrics.created).toBe(1);
    expect(logger.warn).toHaveBeenCalledTimes(3);
  });

  test('a transient failure returns only the valid record for retry, never the malformed ones', async () => {
    ec2Mock.on(CreateTrafficMirrorSessionCommand).rejects(Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } }));
    const response = await routeInvocation({
      Records: [
        { messageId: 'bad-json', body: 'nope' },
        { messageId: 'good', body: good('0d2a4b8c3e1f4a5b9c7d6e5f4a3b2c1d') },
        { messageId: 'huge', body: 'x'.repeat(MAX_EVENT_BODY_LENGTH + 1) },
      ],
    }, deps);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'good' }] });
  });
});
