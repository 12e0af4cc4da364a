/**
 * The deploy-time report: when EC2 refuses the tasks' network interfaces as mirror sources (AWS
 * documents only RDS and ElastiCache requester-managed interfaces as sources), the summary and the
 * failing deployment's error name CaptureMethod.sidecar(); other refusals do not.
 */
import { REPORT_ATTRIBUTE } from '../../../src/contract/enrollment-attributes';
import { enrollmentReport, unmirroredError } from '../../../src/runtime/operations/enrollment-report';
import { SweepResult } from '../../../src/runtime/operations/operation-deps';

function result(unmirroredByReason: Record<string, number>): SweepResult {
  const unmirrored = Object.values(unmirroredByReason).reduce((a, b) => a + b, 0);
  return {
    runningTasks: 3,
    mirroredTasks: 3 - unmirrored,
    created: 3 - unmirrored,
    modified: 0,
    deleted: 0,
    conflicts: 0,
    failures: unmirrored,
    createFailures: unmirrored,
    modifyFailures: 0,
    deleteFailures: 0,
    transientFailures: 0,
    unfinished: 0,
    deferred: 0,
    failuresByReason: unmirroredByReason,
    unmirroredByReason,
    unmirroredErrors: unmirrored > 0 ? ['task 1 eni-0123456789abcdef0: NetworkInterfaceNotSupported'] : [],
  };
}

describe('enrollment report', () => {
  test('a refused source names the capture sidecar in the summary and in the deployment error', () => {
    const refused = result({ SourceUnsupported: 2 });
    expect(enrollmentReport(refused)[REPORT_ATTRIBUTE.SUMMARY]).toMatch(/1 of 3 running tasks mirrored; unmirrored: SourceUnsupported=2.*CaptureMethod\.sidecar\(\)/);
    expect(unmirroredError(refused, 'web')?.message).toMatch(/2 of 3 running tasks of ECS service web could not be mirrored.*CaptureMethod\.sidecar\(\)/);
  });

  test('other refusals and full coverage do not', () => {
    expect(enrollmentReport(result({ SourceSessionLimit: 1 }))[REPORT_ATTRIBUTE.SUMMARY]).not.toMatch(/sidecar/);
    expect(unmirroredError(result({ SourceSessionLimit: 1 }), 'web')?.message).not.toMatch(/sidecar/);
    expect(enrollmentReport(result({}))[REPORT_ATTRIBUTE.SUMMARY]).toBe('3 of 3 running tasks mirrored; no failures');
    expect(unmirroredError(result({}), 'web')).toBeUndefined();
  });
});
