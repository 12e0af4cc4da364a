import { HttpResponse } from '@smithy/protocol-http';
import { error } from './ec2-query';

/**
 * EC2's documented rules for traffic mirror sessions, as pure values and checks, shared by the
 * model (`ec2-model.ts`). Each rule names the EC2 documentation page it comes from.
 */

/** A traffic mirror session as the fakes store it. Treated as immutable: changes replace it. */
export interface FakeSession {
  readonly id: string;
  readonly networkInterfaceId: string;
  readonly targetId: string;
  readonly filterId: string;
  readonly sessionNumber: number;
  /** Bytes of each packet to mirror; undefined mirrors the whole packet. */
  readonly packetLength?: number;
  /**
   * The VXLAN id. EC2 always has one; optional here only so sessions written as literals by
   * tests still compile. The model hands such a session a unique id when it first shows it.
   */
  readonly virtualNetworkId?: number;
  readonly description?: string;
  readonly clientToken?: string;
  readonly tags: Record<string, string>;
}

/**
 * How the model treats `tag:KEY` filters of DescribeTrafficMirrorSessions, which its API
 * reference does not document: filter by the tag, drop the filter, or refuse it.
 */
export const TAG_FILTER_MODES = ['honour', 'ignore', 'reject'] as const;
export type TagFilterMode = typeof TAG_FILTER_MODES[number];

/**
 * How "does not exist" errors are spelt: as EC2's error-code reference does (`documented`,
 * including its `InvalidTrafficMirrorTargetNoFound` typo) or in the `…Id.NotFound` form other
 * sources report (`dotted`). The fakes can play either so the code under test handles both.
 */
export const ERROR_SPELLINGS = ['documented', 'dotted'] as const;
export type ErrorSpelling = typeof ERROR_SPELLINGS[number];

/**
 * What EC2 answers when a target already has as many sources as it accepts (Traffic Mirroring
 * quotas: 10 per network interface target, 100 on the largest instance sizes). EC2's error-code
 * reference lists both `TrafficMirrorSourcesPerTargetLimitExceeded` ("The maximum number of
 * Traffic Mirror sources for the specified Traffic Mirror target has been exceeded") and
 * `TrafficMirrorSessionsPerTargetLimitExceeded` ("... sessions for the specified Traffic Mirror
 * target ...") and does not say which a full target gets; public reports show the first. The
 * fakes play either (`sources`, `sessions`), so the code under test handles both.
 */
export const TARGET_LIMIT_CODES = ['sources', 'sessions'] as const;
export type TargetLimitCode = typeof TARGET_LIMIT_CODES[number];

/** The answer of a full target, in the given mode. */
export function targetFull(mode: TargetLimitCode, targetId: string, limit: number): HttpResponse {
  return mode === 'sources'
    ? error(400, 'TrafficMirrorSourcesPerTargetLimitExceeded', `Sources per interface-target limit reached (${limit + 1}) for ${targetId}`)
    : error(400, 'TrafficMirrorSessionsPerTargetLimitExceeded', `The maximum number of Traffic Mirror sessions for ${targetId} has been exceeded.`);
}

/** What a "does not exist" error is about. */
export type NotFoundKind = 'target' | 'filter' | 'session';

const NOT_FOUND_CODES: Record<ErrorSpelling, Record<NotFoundKind, string>> = {
  // EC2 API reference, "Error codes for the Amazon EC2 API" (client error codes), verbatim.
  documented: {
    target: 'InvalidTrafficMirrorTargetNoFound',
    filter: 'InvalidTrafficMirrorFilterNotFound',
    session: 'InvalidTrafficMirrorSessionNotFound',
  },
  dotted: {
    target: 'InvalidTrafficMirrorTargetId.NotFound',
    filter: 'InvalidTrafficMirrorFilterId.NotFound',
    session: 'InvalidTrafficMirrorSessionId.NotFound',
  },
};

/** The error code EC2 answers when a traffic mirror target, filter or session does not exist. */
export function notFoundCode(kind: NotFoundKind, spelling: ErrorSpelling): string {
  return NOT_FOUND_CODES[spelling][kind];
}

/** The "does not exist" answer (messages as in the error-code reference). */
export function notFound(kind: NotFoundKind, spelling: ErrorSpelling, id: string): HttpResponse {
  const what = { target: 'Traffic Mirror target', filter: 'Traffic Mirror filter', session: 'Traffic Mirror session' }[kind];
  return error(400, notFoundCode(kind, spelling), `The specified ${what} '${id}' does not exist.`);
}

/** DescribeTrafficMirrorSessions API reference, Filter.N: the only filter names it documents. */
export const DOCUMENTED_SESSION_FILTERS = [
  'description', 'network-interface-id', 'owner-id', 'packet-length', 'session-number',
  'traffic-mirror-filter-id', 'traffic-mirror-session-id', 'traffic-mirror-target-id', 'virtual-network-id',
] as const;

/** ModifyTrafficMirrorSession API reference, RemoveField.N: its valid values. */
export const REMOVABLE_SESSION_FIELDS = ['packet-length', 'description', 'virtual-network-id'] as const;

/** CreateTrafficMirrorSession / ModifyTrafficMirrorSession API reference: "Valid values are 1-32766". */
export const SESSION_NUMBER_RANGE = [1, 32766] as const;
/**
 * CreateTrafficMirrorSession API reference, PacketLength: for Network Load Balancer targets the
 * default is 8500 and valid values are 1-8500. No upper bound is documented for other targets.
 */
export const NLB_PACKET_LENGTH = 8500;
/** The VXLAN network identifier is 24 bits (RFC 7348, which the VirtualNetworkId docs cite). */
export const VNI_SPACE = 2 ** 24;
/** Amazon VPC quotas for traffic mirroring: sessions per source network interface. */
export const SESSIONS_PER_INTERFACE = 3;
/** DescribeTrafficMirrorSessions API reference, MaxResults: "Minimum value of 5. Maximum value of 1000." */
export const MAX_RESULTS_RANGE = [5, 1000] as const;

/** An `InvalidParameterValue` answer. */
export function invalidValue(message: string): HttpResponse {
  return error(400, 'InvalidParameterValue', message);
}

/** A `MissingParameter` answer for a required request parameter that was not sent. */
export function missing(name: string): HttpResponse {
  return error(400, 'MissingParameter', `The request must contain the parameter ${name}`);
}

/** Why a session number is refused (range or not an integer), or undefined when valid. */
export function sessionNumberError(n: number): HttpResponse | undefined {
  const [min, max] = SESSION_NUMBER_RANGE;
  return Number.isInteger(n) && n >= min && n <= max ? undefined : invalidValue(`The session number ${n} is not valid. Valid values are ${min}-${max}.`);
}

/** Why a packet length is refused for a target (NLB targets: at most 8500), or undefined. */
export function packetLengthError(n: number | undefined, nlbTarget: boolean): HttpResponse | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 1) return invalidValue(`The packet length ${n} is not valid.`);
  return nlbTarget && n > NLB_PACKET_LENGTH ? invalidValue(`The packet length ${n} is not valid. Valid values are 1-${NLB_PACKET_LENGTH}.`) : undefined;
}

/** Why a VXLAN id is refused (outside 24 bits), or undefined. */
export function vniError(n: number | undefined): HttpResponse | undefined {
  if (n === undefined) return undefined;
  return Number.isInteger(n) && n >= 0 && n < VNI_SPACE ? undefined : invalidValue(`The virtual network ID ${n} is not valid.`);
}

/** The answer when another session on the ENI already has the number (the same for create and modify). */
export function sessionNumberInUse(eni: string, sessionNumber: number): HttpResponse {
  return invalidValue(`The session number ${sessionNumber} is already in use on ${eni}.`);
}

/**
 * EC2's per-interface rules for a new session: at most 3 sessions per source ENI, each with its
 * own session number. The error answer, or undefined when the session may be created.
 */
export function interfaceRuleError(sessions: readonly FakeSession[], eni: string, sessionNumber: number): HttpResponse | undefined {
  const onEni = sessions.filter(s => s.networkInterfaceId === eni);
  if (onEni.length >= SESSIONS_PER_INTERFACE) {
    return error(400, 'TrafficMirrorSessionsPerInterfaceLimitExceeded');
  }
  return onEni.some(s => s.sessionNumber === sessionNumber) ? sessionNumberInUse(eni, sessionNumber) : undefined;
}

/** A mode from an environment variable, so a whole jest run can be switched; a typo fails loudly. */
export function modeFromEnv<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}, not '${value}'`);
  }
  return value as T;
}
