/**
 * What a session should look like under this deployment's configuration, and what must change
 * on an existing one to get there. Pure: no SDK. Only the sweep applies these changes; the
 * event path never rewrites a session, because an in-flight invocation may still run the
 * previous deployment's configuration.
 */
import { isConfiguredTarget } from './target-placement';
import { ENV, SessionManagerConfig, SessionSetting } from '../../contract/session-manager-config';
import { targetsOf } from '../../contract/target-layout';

/** The configurable parameters of a session as EC2 describes it (any but the number may be missing). */
export type SessionState = Pick<SessionManagerConfig, 'sessionNumber'> & Partial<Pick<SessionManagerConfig, SessionSetting>>;

/** A field ModifyTrafficMirrorSession can remove (its `RemoveFields` values). */
export type RemovableField = 'packet-length' | 'description' | 'virtual-network-id';

/** The ModifyTrafficMirrorSession fields that bring a session to the configuration. */
export interface SessionChange {
  readonly targetId?: string;
  readonly filterId?: string;
  readonly sessionNumber?: number;
  readonly packetLength?: number;
  readonly virtualNetworkId?: number;
  readonly description?: string;
  readonly removeFields: RemovableField[];
}

/**
 * Whether a session's number is acceptable: the configured one, or, when the user allowed
 * picking a free one, any number after it (EC2 evaluates sessions in number order, so a number
 * after the configured one never takes packets from a session that comes first).
 */
export function acceptableSessionNumber(config: SessionManagerConfig, sessionNumber: number): boolean {
  return sessionNumber === config.sessionNumber || (!!config.pickFreeSessionNumber && sessionNumber > config.sessionNumber);
}

/**
 * The change that makes an owned session match the configuration, or undefined when it does.
 * A field EC2 did not return is not evidence of a difference. A field the configuration leaves
 * out is whatever EC2 made of it (a VNI AWS picked, the 8500-byte default packet length of a
 * Network Load Balancer target, ...), unless `removed` names it: the deployment at hand took it
 * out of the configuration, and only then is it removed from the session (once, not on every
 * sweep, which would rewrite a default EC2 puts back).
 */
export function changeFor(
  session: SessionState, config: SessionManagerConfig, removed: readonly RemovableField[] = [], target: TargetChoice = defaultTarget(session, config),
): SessionChange | undefined {
  const change: { -readonly [K in keyof SessionChange]: SessionChange[K] } = { removeFields: [] };
  if (target.targetId !== undefined && session.targetId !== undefined && target.targetId !== session.targetId) change.targetId = target.targetId;
  if (session.filterId !== undefined && session.filterId !== config.filterId) change.filterId = config.filterId;
  if (!acceptableSessionNumber(config, session.sessionNumber)) change.sessionNumber = config.sessionNumber;
  if (config.packetLength !== undefined) {
    if (session.packetLength !== config.packetLength) change.packetLength = config.packetLength;
  } else if (removed.includes('packet-length') && session.packetLength !== undefined) {
    change.removeFields.push('packet-length');
  }
  if (config.virtualNetworkId !== undefined) {
    if (session.virtualNetworkId !== config.virtualNetworkId) change.virtualNetworkId = config.virtualNetworkId;
  } else if (removed.includes('virtual-network-id') && session.virtualNetworkId !== undefined) {
    change.removeFields.push('virtual-network-id');
  }
  if (config.description !== undefined) {
    if (session.description !== config.description) change.description = config.description;
  } else if (removed.includes('description') && session.description) {
    change.removeFields.push('description');
  }
  const { removeFields, ...fields } = change;
  return Object.keys(fields).length > 0 || removeFields.length > 0 ? change : undefined;
}

/**
 * The target an owned session should have: `targetId` to move it there, none to leave it where
 * it is. The sweep decides per session (target-placement.ts TargetLoad): which of several targets a
 * session is on is not configuration, only whether that target is still configured and in the
 * task's zone.
 */
export interface TargetChoice {
  readonly targetId?: string;
}

/** Without the sweep's decision: a session on a target that is not configured goes to the first target. */
function defaultTarget(session: SessionState, config: SessionManagerConfig): TargetChoice {
  return session.targetId !== undefined && !isConfiguredTarget(config, session.targetId) ? { targetId: targetsOf(config)[0].targetId } : {};
}

/** The environment variable (and custom resource property) behind each removable field. */
const REMOVABLE_SETTINGS: ReadonlyArray<[string, RemovableField]> = [
  [ENV.PACKET_LENGTH, 'packet-length'],
  [ENV.VIRTUAL_NETWORK_ID, 'virtual-network-id'],
  [ENV.DESCRIPTION, 'description'],
];

/**
 * The fields a configuration change took out: set in the previous properties of the enrollment
 * (the functions' environment), absent from the new ones.
 */
export function removedFields(previous: Record<string, unknown>, current: Record<string, unknown>): RemovableField[] {
  const set = (properties: Record<string, unknown>, key: string) => properties[key] !== undefined && properties[key] !== '';
  return REMOVABLE_SETTINGS.filter(([key]) => set(previous, key) && !set(current, key)).map(([, field]) => field);
}

/** The names of what a change touches, for logs. */
export function describeChange(change: SessionChange): string[] {
  const { removeFields, ...fields } = change;
  return [...Object.keys(fields), ...removeFields.map(f => `remove ${f}`)];
}
