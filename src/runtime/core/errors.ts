/**
 * Sorts AWS errors into the ones worth retrying and the ones that will fail the same way every
 * time. Pure: reads only the error's name and HTTP status.
 */

import { FailureReason } from '../../contract/failure-reason';

/** How the session manager should treat an error. */
export interface ErrorClass {
  /** The AWS error code, or the JavaScript error name when there is none. */
  readonly code: string;
  /** True when trying again later may succeed; the invocation then fails so it is retried. */
  readonly transient: boolean;
  readonly reason: FailureReason;
}

const TRANSIENT_CODES = new Set([
  'RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException',
  'ServiceUnavailable', 'Unavailable', 'InternalError', 'InternalFailure', 'ServerException',
  'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'NetworkingError',
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE',
]);

// Keys are lower case: EC2 is not consistent about "Id" versus "ID" in its codes.
const PERMANENT_REASONS: Record<string, FailureReason> = {
  'invalidnetworkinterfaceid.notfound': FailureReason.SOURCE_NOT_FOUND,
  'invalidnetworkinterface.notfound': FailureReason.SOURCE_NOT_FOUND,
  'networkinterfacenotsupported': FailureReason.SOURCE_UNSUPPORTED,
  'interfaceinusebytrafficmirrortarget': FailureReason.SOURCE_UNSUPPORTED,
  'trafficmirrorsourcespertargetlimitexceeded': FailureReason.TARGET_SOURCES_LIMIT,
  'trafficmirrorsessionspertargetlimitexceeded': FailureReason.TARGET_SOURCES_LIMIT,
  'trafficmirrorsessionsperinterfacelimitexceeded': FailureReason.SOURCE_SESSION_LIMIT,
  'trafficmirrorsessionlimitexceeded': FailureReason.ACCOUNT_SESSION_LIMIT,
  // EC2's error-code reference spells these InvalidTrafficMirrorTargetNoFound (sic) and
  // InvalidTrafficMirrorFilterNotFound; other sources use the dotted ...Id.NotFound forms.
  'invalidtrafficmirrortargetnofound': FailureReason.TARGET_NOT_FOUND,
  'invalidtrafficmirrortargetnotfound': FailureReason.TARGET_NOT_FOUND,
  'invalidtrafficmirrortargetid.notfound': FailureReason.TARGET_NOT_FOUND,
  'invalidtrafficmirrorfilternotfound': FailureReason.FILTER_NOT_FOUND,
  'invalidtrafficmirrorfilterid.notfound': FailureReason.FILTER_NOT_FOUND,
  'unauthorizedoperation': FailureReason.ACCESS_DENIED,
  'accessdenied': FailureReason.ACCESS_DENIED,
  'accessdeniedexception': FailureReason.ACCESS_DENIED,
  'idempotentparametermismatch': FailureReason.IDEMPOTENCY_MISMATCH,
};

/**
 * The codes that say a traffic mirror session does not exist: EC2's error-code reference spells
 * it `InvalidTrafficMirrorSessionNotFound`, other sources `InvalidTrafficMirrorSessionId.NotFound`.
 */
const SESSION_NOT_FOUND_CODES = new Set(['invalidtrafficmirrorsessionnotfound', 'invalidtrafficmirrorsessionid.notfound']);

/**
 * Whether EC2 refused a create or a move because of the target alone (it is full, or it no
 * longer exists), so another target may still take the session.
 */
export function isTargetUnusable(cls: ErrorClass): boolean {
  return cls.reason === FailureReason.TARGET_SOURCES_LIMIT || cls.reason === FailureReason.TARGET_NOT_FOUND;
}

/** Whether an error says the session is gone (success for a delete). */
export function isSessionNotFound(error: unknown): boolean {
  return SESSION_NOT_FOUND_CODES.has(classifyError(error).code.toLowerCase());
}

/** The error's message, for logs (never under the key `message`, which the logger reserves). */
export function errorMessageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Classifies an error thrown by an AWS SDK v3 client. */
export function classifyError(error: unknown): ErrorClass {
  const err = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown; Code?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number };
  };
  const code = [err.Code, err.name, err.code].find((c): c is string => typeof c === 'string' && c !== 'Error') ?? 'UnknownError';
  const status = err.$metadata?.httpStatusCode;
  if (TRANSIENT_CODES.has(code) || (status !== undefined && status >= 500)) {
    return { code, transient: true, reason: FailureReason.TRANSIENT };
  }
  const known = PERMANENT_REASONS[code.toLowerCase()];
  if (known) {
    return { code, transient: false, reason: known };
  }
  const message = typeof err.message === 'string' ? err.message : '';
  // EC2 has no dedicated code for a taken session number; it answers with a parameter error
  // whose message names the session number.
  if (code.startsWith('InvalidParameter') && /session ?number/i.test(message)) {
    return { code, transient: false, reason: FailureReason.SESSION_NUMBER_IN_USE };
  }
  return { code, transient: false, reason: FailureReason.OTHER };
}
