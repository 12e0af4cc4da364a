/** Contract: one service's configuration, the variables the construct writes and the runtime reads. Pure. */
import { TargetSpec, formatTargets, parseTargets } from './target-layout';

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
  /** Every target, with its zone and source limit (target-layout.ts formatTargets); replaces TARGET_ID when set. */
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
  /** Share of the tasks mirrored, 0 < p <= 1. */
  SAMPLING: 'MIRROR_SAMPLING',
  /** The SSM parameter that turns mirroring of the service on and off. */
  SWITCH_PARAMETER: 'MIRROR_SWITCH_PARAMETER',
  /** The function environment's, not a trigger's: the stack tag every session carries (ownership.ts STACK_TAG_KEY). */
  STACK_TAG: 'MIRROR_STACK_TAG',
  /** The function environment's: where the services' configuration parameters are (ownership.ts configParameterPrefix). */
  CONFIG_PREFIX: 'MIRROR_CONFIG_PREFIX',
  /**
   * The reconciler's environment: its stack's id, which it asks CloudFormation about before a
   * custom resource's Delete removes sessions, and before a flip's sweep starts its next chunk.
   */
  STACK_ID: 'MIRROR_STACK_ID',
  /** The function environment's, not a trigger's: the reconciler a switch change starts. */
  RECONCILER_FUNCTION: 'MIRROR_RECONCILER_FUNCTION',
  /**
   * The event queue: its depth tells a sweep whether events are still on their way, and the event
   * function checks each record's receipt handle against it.
   */
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
  /** Share of the tasks mirrored (by a hash of the task id), 0 < p <= 1. @default 1 */
  readonly sampling?: number;
  /** Name of the SSM parameter that switches mirroring on and off. @default always on */
  readonly switchParameter?: string;
  /**
   * The stack tag's value, from the function's environment (never from a trigger): sessions
   * carry it, and IAM allows deleting and modifying only sessions that do. @default no stack tag
   */
  readonly stackTag?: string;
  /**
   * When the deployment last wrote this configuration (epoch ms, the parameter's
   * LastModifiedDate). A scheduled sweep leaves changes younger than the settle time to the
   * deployment's own sweep. @default unknown: old enough
   */
  readonly configuredAt?: number;
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
    sampling: optionalSampling(env[ENV.SAMPLING]),
    switchParameter: env[ENV.SWITCH_PARAMETER] || undefined,
  };
}

/**
 * The configuration as the ENV-keyed record triggers carry (the inverse of `configFromEnv`).
 * The construct builds the record itself; tests and the simulator use this.
 */
export function configToEnv(config: SessionManagerConfig): Record<string, string> {
  const optional = (key: string, value: unknown) => (value === undefined ? {} : { [key]: String(value) });
  return {
    [ENV.OWNER_ID]: config.ownerId,
    [ENV.CLUSTER_ARN]: config.clusterArn,
    [ENV.SERVICE_NAME]: config.serviceName,
    ...(config.targets ? { [ENV.TARGETS]: formatTargets(config.targets) } : { [ENV.TARGET_ID]: config.targetId }),
    ...(config.allowCrossZone ? { [ENV.ALLOW_CROSS_ZONE]: 'true' } : {}),
    [ENV.FILTER_ID]: config.filterId,
    [ENV.SESSION_NUMBER]: String(config.sessionNumber),
    ...optional(ENV.PACKET_LENGTH, config.packetLength),
    ...optional(ENV.VIRTUAL_NETWORK_ID, config.virtualNetworkId),
    ...optional(ENV.DESCRIPTION, config.description),
    ...(config.pickFreeSessionNumber ? { [ENV.PICK_FREE_SESSION_NUMBER]: 'true' } : {}),
    ...optional(ENV.ACCOUNT, config.account),
    ...optional(ENV.REGION, config.region),
    ...optional(ENV.SAMPLING, config.sampling),
    ...optional(ENV.SWITCH_PARAMETER, config.switchParameter),
  };
}

function optionalSampling(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const p = Number(value);
  if (!(p > 0 && p <= 1)) {
    throw new Error(`session manager misconfigured: ${ENV.SAMPLING} must be a number greater than 0 and at most 1, got '${value}'`);
  }
  return p;
}
