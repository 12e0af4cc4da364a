import { mirrorTask } from '../../../src/runtime/operations/mirror-task';
import { SERVICE_NAME, taskArnOf } from '../../fixtures/task-events';
import { harness } from '../../support/harness';

afterEach(() => jest.restoreAllMocks());

const task = { taskArn: taskArnOf('task0'), networkInterfaceId: 'eni-0123456789abcdef0', group: `service:${SERVICE_NAME}` };

describe('every refusal EC2 answers is logged with its code and message; at most one more create follows it', () => {
  test('an unrecognised client error, then a create that succeeds: the first answer is still logged', async () => {
    const h = harness();
    const warn = jest.spyOn(h.logger, 'warn');
    // InvalidParameterValue is a documented EC2 client error (EC2 API error codes).
    h.ec2.failNext('CreateTrafficMirrorSession', { code: 'InvalidParameterValue', status: 400, message: 'The packet length is not valid here' });
    const result = await mirrorTask(h.deps, task as any);
    expect(result).toMatchObject({ created: true });
    expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(2);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('EC2 refused the create'), expect.objectContaining({
      errorCode: 'InvalidParameterValue', errorMessage: 'The packet length is not valid here', networkInterfaceId: task.networkInterfaceId,
    }));
  });

  test('refused twice: no third create; both answers reach the log (the second as the failure)', async () => {
    const h = harness();
    const warn = jest.spyOn(h.logger, 'warn');
    h.ec2.failNext('CreateTrafficMirrorSession', { code: 'InvalidParameterValue', status: 400, message: 'first refusal' }, 5);
    await expect(mirrorTask(h.deps, task as any)).rejects.toMatchObject({ name: 'InvalidParameterValue', message: 'first refusal' });
    expect(h.ec2.count('CreateTrafficMirrorSession')).toBe(2);
    expect(warn).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ errorCode: 'InvalidParameterValue', errorMessage: 'first refusal' }));
  });

  test('a full target\'s refusal is logged with EC2\'s message before the next target is tried', async () => {
    const targets = [{ targetId: 'tmt-00000000000000001' }, { targetId: 'tmt-00000000000000002' }];
    const h = harness({ targetId: targets[0].targetId, targets });
    const warn = jest.spyOn(h.logger, 'warn');
    h.ec2.failNext('CreateTrafficMirrorSession', { code: 'TrafficMirrorSourcesPerTargetLimitExceeded', status: 400, message: 'target full' });
    expect(await mirrorTask(h.deps, task as any)).toMatchObject({ created: true });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('EC2 refused the create'), expect.objectContaining({
      errorCode: 'TrafficMirrorSourcesPerTargetLimitExceeded', errorMessage: 'target full',
    }));
  });
});
