import { FailureReason } from '../../../src/contract/failure-reason';
import { routeInvocation } from '../../../src/runtime/route-invocation';
import { SERVICE_NAME, taskArnOf } from '../../fixtures/task-events';
import { harness } from '../../support/harness';

afterEach(() => jest.restoreAllMocks());

const SCHEDULED = { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} };
const eniOf = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;

// EC2 evaluates a source's sessions in session-number order; the first whose filter matches a
// packet mirrors it (Traffic Mirroring guide). A session of ours behind another tool's
// lower-numbered one may get no packet.
describe('a session of ours behind another tool\'s lower-numbered session on the same ENI', () => {
  test('is reported as shadowed, in the report and the metrics, not as mirrored', async () => {
    const h = harness({ sessionNumber: 5 });
    for (let i = 0; i < 3; i++) {
      const taskArn = taskArnOf(`task${i}`);
      h.ecs.tasks.set(taskArn, { taskArn, group: `service:${SERVICE_NAME}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', networkInterfaceId: eniOf(i) });
    }
    expect(await routeInvocation(SCHEDULED, h.deps)).toMatchObject({ created: 3, mirroredTasks: 3 });
    // Another tool mirrors task 0's ENI with session number 2, and task 1's with 9 (after ours).
    h.ec2.sessions.set('tms-other0', {
      id: 'tms-other0', networkInterfaceId: eniOf(0), targetId: 'tmt-other', filterId: 'tmf-other', sessionNumber: 2, tags: { owner: 'another-tool' },
    } as any);
    h.ec2.sessions.set('tms-other1', {
      id: 'tms-other1', networkInterfaceId: eniOf(1), targetId: 'tmt-other', filterId: 'tmf-other', sessionNumber: 9, tags: { owner: 'another-tool' },
    } as any);
    const warn = jest.spyOn(h.logger, 'warn');
    const result = await routeInvocation(SCHEDULED, h.deps);
    expect(result).toMatchObject({ runningTasks: 3, mirroredTasks: 2, unmirroredByReason: { [FailureReason.SHADOWED]: 1 }, created: 0, deleted: 0 });
    expect(h.metrics.failures).toContain(FailureReason.SHADOWED);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('lower-numbered session'), expect.objectContaining({
      tasks: 1, examples: [expect.objectContaining({ networkInterfaceId: eniOf(0), sessionNumber: 5, before: ['tms-other0'] })],
    }));
    // The deploy-time report says so too, and a shadowed task does not fail the deployment.
    const report = await routeInvocation({
      RequestType: 'Create', ResourceProperties: { FailOnUnmirroredTasks: 'true' }, Data: { StartedAt: String(Date.now()) },
    }, h.deps) as any;
    expect(report.Data).toMatchObject({ MirroredTasks: '2', UnmirroredTasks: '1' });
    expect(report.Data.Summary).toContain('Shadowed=1');
  });
});
