/**
 * Construct side: the configuration of one mirrored service, built from the construct's props, in
 * the variables the runtime reads (contract/session-manager-config.ts): the value of the service's
 * configuration parameter (fleet/service-enrollment.ts). Triggers carry only the owner id.
 */
import { Tokenization } from 'aws-cdk-lib';
import { ENV } from '../contract/session-manager-config';
import { formatTargets } from '../contract/target-layout';
import { FargateTrafficMirrorProps } from '../fargate-traffic-mirror-props';
import { MirrorTargetConfig } from '../mirror-target';

/** What the construct has resolved by the time it builds the configuration. */
export interface ServiceConfigInputs {
  readonly ownerId: string;
  readonly clusterArn: string;
  readonly serviceName: string;
  /** The bound targets, in the order given. */
  readonly targets: readonly MirrorTargetConfig[];
  readonly filterId: string;
  readonly account: string;
  readonly region: string;
  readonly switchParameterName: string;
}

/**
 * The service's configuration as variable name -> value. The key order is the order the
 * templates show, so it stays fixed. Throws when it may not fit its parameter.
 */
export function serviceConfig(props: FargateTrafficMirrorProps, inputs: ServiceConfigInputs): Record<string, string> {
  const bound = inputs.targets;
  const config: Record<string, string> = {
    [ENV.OWNER_ID]: inputs.ownerId,
    [ENV.CLUSTER_ARN]: inputs.clusterArn,
    [ENV.SERVICE_NAME]: inputs.serviceName,
    // One target serving every zone keeps the plain id; several, or zones, are a layout.
    ...(bound.length === 1 && bound[0].availabilityZone === undefined
      ? { [ENV.TARGET_ID]: bound[0].trafficMirrorTargetId }
      : {
        [ENV.TARGETS]: formatTargets(bound.map(t => ({
          targetId: t.trafficMirrorTargetId, availabilityZone: t.availabilityZone, maxSources: t.maxSources,
        }))),
      }),
    ...(props.allowCrossZone ? { [ENV.ALLOW_CROSS_ZONE]: 'true' } : {}),
    [ENV.FILTER_ID]: inputs.filterId,
    [ENV.SESSION_NUMBER]: String(props.sessionNumber ?? 1),
    ...(props.packetLength !== undefined ? { [ENV.PACKET_LENGTH]: String(props.packetLength) } : {}),
    ...(props.virtualNetworkId !== undefined ? { [ENV.VIRTUAL_NETWORK_ID]: String(props.virtualNetworkId) } : {}),
    ...(props.description !== undefined ? { [ENV.DESCRIPTION]: props.description } : {}),
    ...(props.pickFreeSessionNumber ? { [ENV.PICK_FREE_SESSION_NUMBER]: 'true' } : {}),
    // Events from any other account or region are refused by the handler.
    [ENV.ACCOUNT]: inputs.account,
    [ENV.REGION]: inputs.region,
    [ENV.SWITCH_PARAMETER]: inputs.switchParameterName,
  };
  if (props.sampling !== undefined) config[ENV.SAMPLING] = String(props.sampling);
  validateConfigSize(config, bound.length);
  return config;
}

/**
 * The configuration is the value of a Standard SSM String parameter, which holds at most 4,096
 * characters (Systems Manager quotas), as JSON. Unresolved values count as this many characters:
 * a target id (`tmt-` and 17 hex digits) is 21, ARNs and names of the app's resources are longer.
 */
const MAX_CONFIG_BYTES = 4096;
const TARGET_ID_LENGTH = 21;
const UNRESOLVED_VALUE_LENGTH = 128;

/** Throws when the configuration parameter's value may grow too large (many targets, long names). */
function validateConfigSize(config: Record<string, string>, targetCount: number): void {
  // Braces, and per entry two pairs of quotes, a colon and a comma.
  let bytes = 2;
  for (const [key, value] of Object.entries(config)) {
    const placeholder = 'x'.repeat(key === ENV.TARGETS || key === ENV.TARGET_ID ? TARGET_ID_LENGTH : UNRESOLVED_VALUE_LENGTH);
    const estimate = Tokenization.reverseString(value).mapTokens({ mapToken: () => placeholder }).join({ join: (l: unknown, r: unknown) => `${l}${r}` });
    bytes += Buffer.byteLength(JSON.stringify(key)) + Buffer.byteLength(JSON.stringify(String(estimate))) + 2;
  }
  if (bytes > MAX_CONFIG_BYTES) {
    throw new Error(`the configuration parameter would hold about ${bytes} bytes (${targetCount} targets, the description and the ids); `
      + `at most ${MAX_CONFIG_BYTES} fit: use fewer targets or a shorter description`);
  }
}
