/**
 * Construct side: what `CaptureMethod.sidecar()` needs from a mirror's props, checked at synth:
 * a service of this app, a filter whose rules are known, and options that mean something without
 * sessions. Each error names the prop and what to do.
 */
import { Token, aws_ecs as ecs } from 'aws-cdk-lib';
import { switchStateOf } from '../contract/mirror-switch';
import { FargateTrafficMirrorProps } from '../fargate-traffic-mirror-props';
import { AgentFilter, agentFilterOf } from '../private/agent-filters';
import { validateIntegerRange } from '../private/validation';

const MAX_VNI = 16777215;
const MAX_PACKET_LENGTH = 65535;

/** Props of the Traffic Mirroring path that have no meaning for the sidecar, and why. */
const SESSION_ONLY_PROPS: ReadonlyArray<[keyof FargateTrafficMirrorProps, string]> = [
  ['sessionNumber', 'there are no sessions'],
  ['pickFreeSessionNumber', 'there are no sessions'],
  ['reconcileInterval', 'there is nothing to reconcile'],
  ['periodicReconcile', 'there is nothing to reconcile'],
  ['reservedConcurrentExecutions', 'the sidecar runs no Lambda function'],
  ['failDeploymentOnUnmirroredTasks', 'there is no enrollment: every task captures from its start'],
  ['enrollmentReportOutputs', 'there is no enrollment'],
];

/** The service's task definition, after every check of the props; throws naming the prop. */
export function validateSidecarProps(path: string, props: FargateTrafficMirrorProps): ecs.TaskDefinition {
  const at = `FargateTrafficMirror '${path}'`;
  if (!(props.service instanceof ecs.BaseService)) {
    throw new Error(`${at}: captureMethod CaptureMethod.sidecar() needs a service defined in this app (its task definition gets the capture container); `
      + 'an imported service can use CaptureMethod.trafficMirroring()');
  }
  const taskDefinition = props.service.taskDefinition;
  if (!taskDefinition.isFargateCompatible || taskDefinition.networkMode !== ecs.NetworkMode.AWS_VPC) {
    throw new Error(`${at}: captureMethod CaptureMethod.sidecar() needs a Fargate task definition (awsvpc network mode)`);
  }
  for (const [prop, why] of SESSION_ONLY_PROPS) {
    if (props[prop] !== undefined) {
      throw new Error(`${at}: ${prop} has no effect with captureMethod CaptureMethod.sidecar() (${why}); remove it`);
    }
  }
  if (props.sampling !== undefined && !Token.isUnresolved(props.sampling) && !(props.sampling > 0 && props.sampling <= 1)) {
    throw new Error(`sampling must be greater than 0 and at most 1, got ${props.sampling}`);
  }
  if (props.initialSwitch !== undefined && !Token.isUnresolved(props.initialSwitch)
    && !switchStateOf(props.initialSwitch, Date.now()).understood) {
    throw new Error(`initialSwitch must be 'on', 'off' or 'on until <ISO 8601 time>', got '${props.initialSwitch}'`);
  }
  validateIntegerRange('virtualNetworkId', props.virtualNetworkId, 0, MAX_VNI);
  validateIntegerRange('packetLength', props.packetLength, 1, MAX_PACKET_LENGTH);
  return taskDefinition;
}

/** The filter's rules for the agent; undefined: the default filter (everything, both ways). */
export function sidecarFilter(path: string, props: FargateTrafficMirrorProps): AgentFilter | undefined {
  if (props.filter === undefined) return undefined;
  const filter = agentFilterOf(props.filter);
  if (!filter) {
    throw new Error(`FargateTrafficMirror '${path}': filter ${props.filter.trafficMirrorFilterId} was imported (MirrorFilter.fromMirrorFilterId), so its rules are unknown here, `
      + 'and the capture sidecar applies the rules itself: define the filter with new MirrorFilter() for CaptureMethod.sidecar()');
  }
  return filter;
}
