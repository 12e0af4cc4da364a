/**
 * Construct side: what `CaptureMethod.sidecar()` needs from a mirror's props, checked at synth:
 * a service of this app, a filter whose rules are known, and options that mean something without
 * sessions. Each error names the prop and what to do.
 */
import { aws_ecs as ecs } from 'aws-cdk-lib';
import { FargateTrafficMirrorProps } from '../fargate-traffic-mirror-props';
import { AgentFilter, agentFilterOf } from '../private/agent-filters';

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
