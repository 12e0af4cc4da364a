import { FailureReason } from '../../../src/contract/failure-reason';
import { classifyError } from '../../../src/runtime/core/errors';

function awsError(name: string, status: number, message = name) {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

describe('classifyError', () => {
  test.each([
    ['RequestLimitExceeded', 503],
    ['Throttling', 400],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['SomethingNew', 502],
  ])('%s (%d) is transient', (name, status) => {
    expect(classifyError(awsError(name, status))).toEqual({ code: name, transient: true, reason: FailureReason.TRANSIENT });
  });

  test('a network error without a response is transient', () => {
    expect(classifyError(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })).transient).toBe(true);
  });

  test.each([
    ['InvalidNetworkInterfaceID.NotFound', FailureReason.SOURCE_NOT_FOUND],
    ['InvalidNetworkInterfaceId.NotFound', FailureReason.SOURCE_NOT_FOUND],
    ['NetworkInterfaceNotSupported', FailureReason.SOURCE_UNSUPPORTED],
    ['TrafficMirrorSourcesPerTargetLimitExceeded', FailureReason.TARGET_SOURCES_LIMIT],
    ['TrafficMirrorSessionsPerInterfaceLimitExceeded', FailureReason.SOURCE_SESSION_LIMIT],
    ['TrafficMirrorSessionLimitExceeded', FailureReason.ACCOUNT_SESSION_LIMIT],
    ['InvalidTrafficMirrorTargetId.NotFound', FailureReason.TARGET_NOT_FOUND],
    ['InvalidTrafficMirrorFilterId.NotFound', FailureReason.FILTER_NOT_FOUND],
    ['UnauthorizedOperation', FailureReason.ACCESS_DENIED],
    ['IdempotentParameterMismatch', FailureReason.IDEMPOTENCY_MISMATCH],
    ['InvalidParameterValue', FailureReason.OTHER],
  ])('%s is permanent (%s)', (name, reason) => {
    expect(classifyError(awsError(name, 400))).toEqual({ code: name, transient: false, reason });
  });

  test('a taken session number is recognised from the parameter error message', () => {
    expect(classifyError(awsError('InvalidParameterValue', 400, 'The session number 1 is already in use on eni-1')).reason)
      .toBe(FailureReason.SESSION_NUMBER_IN_USE);
  });

  test('a programming error is permanent, so it is not retried in a loop', () => {
    expect(classifyError(new TypeError('x is undefined'))).toEqual({ code: 'TypeError', transient: false, reason: FailureReason.OTHER });
    expect(classifyError(undefined)).toEqual({ code: 'UnknownError', transient: false, reason: FailureReason.OTHER });
  });
});
