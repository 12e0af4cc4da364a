import { FAIL_ON_UNMIRRORED_PROPERTY } from '../../src/contract/enrollment-attributes';
import { configToEnv } from '../../src/contract/session-manager-config';
import { REASON_BUDGET_BYTES, fitFailureReason } from '../../src/runtime/core/failure-text';
import { routeTrigger } from '../../src/runtime/route-trigger';
import { SERVICE_NAME, taskArnOf } from '../fixtures/task-events';
import { harness } from '../support/harness';

afterEach(() => jest.restoreAllMocks());

const T = (n: number) => `tmt-${n.toString(16).padStart(17, '0')}`;
const eniOf = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;

/**
 * The body the provider framework PUTs to CloudFormation for a failed resource (aws-cdk-lib
 * custom-resources provider-framework runtime, cfn-response.js submitResponse: the reason is the
 * error's stack), with ids of the longest lengths CloudFormation allows.
 */
function responseBody(error: Error): string {
  return JSON.stringify({
    Status: 'FAILED',
    Reason: error.stack ?? error.message,
    StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/${'s'.repeat(128)}/0d2a4b8c-3e1f-4a5b-9c7d-6e5f4a3b2c1d`,
    RequestId: '0d2a4b8c-3e1f-4a5b-9c7d-6e5f4a3b2c1d',
    PhysicalResourceId: 'fargate-traffic-mirror-ftm-aaaaaaaaaaaaaaaaaaaaaaaa',
    LogicalResourceId: 'L'.repeat(255),
    Data: { StartedAt: String(Date.now()) },
  });
}

describe('failure reasons fit CloudFormation\'s 4,096-byte response whatever EC2 answers', () => {
  test('21 refusing targets with 2 KB messages each, for every running task: the reason keeps counts and codes and fits', async () => {
    const targets = Array.from({ length: 21 }, (_, i) => ({ targetId: T(i + 1) }));
    const h = harness({ targetId: targets[0].targetId, targets });
    for (let i = 0; i < 3; i++) {
      const taskArn = taskArnOf(`task${i}`);
      h.ecs.tasks.set(taskArn, { taskArn, group: `service:${SERVICE_NAME}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i) });
    }
    // "TrafficMirrorSourcesPerTargetLimitExceeded" (EC2 API error codes), with a long message
    // and quotes that JSON escapes.
    const message = `The "target" is full. ${'x'.repeat(2048)}`;
    h.ec2.failNext('CreateTrafficMirrorSession', { code: 'TrafficMirrorSourcesPerTargetLimitExceeded', status: 400, message }, 21 * 3);
    const logged: object[] = [];
    const event = {
      RequestType: 'Create', ResourceProperties: { ...configToEnv(h.config), [FAIL_ON_UNMIRRORED_PROPERTY]: 'true' }, Data: { StartedAt: String(Date.now()) },
    };
    const error = await routeTrigger(event, () => h.deps, { log: (_m, d) => logged.push(d), configFor: async () => h.config })
      .then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const body = responseBody(error!);
    expect(Buffer.byteLength(body)).toBeLessThan(4096);
    // Counts and codes are kept; the whole text is in the log.
    expect(error!.message).toMatch(/^3 of 3 running tasks of ECS service web could not be mirrored .*\(NoUsableTarget=3\)/);
    expect(error!.message).toContain('TrafficMirrorSourcesPerTargetLimitExceeded');
    expect(JSON.stringify(logged)).toContain('x'.repeat(2048));
  });

  test('a reason that fits is left as it is; encoded authorization messages go; any text is cut to the budget', () => {
    expect(fitFailureReason('short: reason')).toBe('short: reason');
    const encoded = `create {"taskArn":"t"}: UnauthorizedOperation: You are not authorized. Encoded authorization failure message: ${'A'.repeat(3000)}`;
    expect(fitFailureReason(encoded)).toMatch(/UnauthorizedOperation: You are not authorized\. Encoded authorization failure message: \(in the log\)$/);
    for (const text of ['"'.repeat(20_000), 'é'.repeat(20_000), Array.from({ length: 500 }, (_, i) => `part ${i}`).join('; ')]) {
      expect(Buffer.byteLength(JSON.stringify(fitFailureReason(text)))).toBeLessThanOrEqual(REASON_BUDGET_BYTES + 2);
    }
  });
});
