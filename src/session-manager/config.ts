import { TargetSpec, parseTargets } from './targets';

/**
 * The session manager's configuration, passed from the construct as environment variables.
 * The construct imports the variable names from here, so both sides agree on them.
 */
export const ENV = {
  OWNER_ID: 'MIRROR_OWNER_ID',
  CLUSTER_ARN: 'MIRROR_CLUSTER_ARN',
  SERVICE_NAME: 'MIRROR_SERVICE_NAME',
  /** The one target of a one-target mirror. */
  TARGET_ID: 'MIRROR_TARGET_ID',
  /** Every target, with its zone and source limit (targets.ts formatTargets); replaces TARGET_ID when set. */
  TARGETS: 'MIRROR_TARGETS',
  ALLOW_CROSS_ZONE: 'MIRROR_ALLOW_CROSS_ZONE',
  FILTER_ID: 'MIRROR_FILTER_ID',
  SESSION_NUMBER: 'MIRROR_SESSION_NUMBER',
  PACKET_LENGTH: 'MIRROR_PACKET_LENGTH',
  VIRTUAL_NETWORK_ID: 'MIRROR_VIRTUAL_NETWORK_ID',
  DESCRIPTION: 'MIRROR_DESCRIPTION',
  PICK_FREE_SESSION_NUMBER: 'MIRROR_PICK_FREE_SESSION_NUMBER',
  ACCOUNT: 'MIRROR_ACCOUNT',
  REGION: 'MIRROR_REGION',
  /** The reconciler's only: the event queue, whose depth tells a sweep whether events are still on their way. */
  EVENT_QUEUE_URL: 'MIRROR_EVENT_QUEUE_URL',
} as const;

/** The configuration's settings that a session carries (CreateTrafficMirrorSession parameters). */
export type SessionSetting = 'targetId' | 'filterId' | 'sessionNumber' | 'packetLength' | 'virtualNetworkId' | 'description';

/** What the session manager needs to know about the construct that deployed it. */
export interface SessionManagerConfig {
  readonly ownerId: string;
  readonly clusterArn: string;
  readonly serviceName: string;
  /** The target of a one-target mirror; with several, the first of `targets`. */
  readonly targetId: string;
  /** Every target, with its zone and source limit. @default `targetId` alone, serving every zone */
  readonly targets?: readonly TargetSpec[];
  /** Use another zone's target when the task's zone has none that accepts it. @default false */
  readonly allowCrossZone?: boolean;
  readonly filterId: string;
  readonly sessionNumber: number;
  readonly packetLength?: number;
  readonly virtualNetworkId?: number;
  readonly description?: string;
  /** Use the lowest free session number when the configured one is taken on an ENI. */
  readonly pickFreeSessionNumber?: boolean;
  /** The account the function runs in; events from any other account are refused. */
  readonly account?: string;
  /** The region the function runs in; events from any other region are refused. */
  readonly region?: string;
}

/** Reads and checks the configuration; a broken deployment fails loudly at cold start. */
export function configFromEnv(env: Record<string, string | undefined> = process.env): SessionManagerConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) {
      throw new Error(`session manager misconfigured: environment variable ${name} is not set`);
    }
    return value;
  };
  const optionalInt = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') {
      return undefined;
    }
    const parsed = Number(value);
    if (!Number.isInteger(parsed)) {
      throw new Error(`session manager misconfigured: ${name} must be an integer, got '${value}'`);
    }
    return parsed;
  };
  const targets = (() => {
    const text = env[ENV.TARGETS];
    if (!text) return undefined;
    try {
      return parseTargets(text);
    } catch (error) {
      throw new Error(`session manager misconfigured: ${ENV.TARGETS}: ${(error as Error).message}`);
    }
  })();
  return {
    ownerId: required(ENV.OWNER_ID),
    clusterArn: required(ENV.CLUSTER_ARN),
    serviceName: required(ENV.SERVICE_NAME),
    ...(targets ? { targetId: targets[0].targetId, targets } : { targetId: required(ENV.TARGET_ID) }),
    ...(env[ENV.ALLOW_CROSS_ZONE] === 'true' ? { allowCrossZone: true } : {}),
    filterId: required(ENV.FILTER_ID),
    sessionNumber: optionalInt(ENV.SESSION_NUMBER) ?? 1,
    packetLength: optionalInt(ENV.PACKET_LENGTH),
    virtualNetworkId: optionalInt(ENV.VIRTUAL_NETWORK_ID),
    description: env[ENV.DESCRIPTION] || undefined,
    pickFreeSessionNumber: env[ENV.PICK_FREE_SESSION_NUMBER] === 'true',
    account: required(ENV.ACCOUNT),
    // Lambda sets AWS_REGION; the construct's value wins so a misrouted event is still refused.
    region: env[ENV.REGION] || required('AWS_REGION'),
  };
}
