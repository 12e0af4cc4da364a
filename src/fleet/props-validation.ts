/**
 * Construct side: checks a `FargateTrafficMirror`'s props at synth, naming the prop, the value and
 * the allowed range. Unresolved tokens are skipped (their values are known only at deploy).
 */
import { Token } from 'aws-cdk-lib';
import { MAX_TARGETS_PER_SERVICE } from './service-policies';
import { switchStateOf } from '../contract/mirror-switch';
import { EVENT_SOURCE_MAX_CONCURRENCY } from '../contract/timing';
import { FargateTrafficMirrorProps } from '../fargate-traffic-mirror-props';
import { MirrorTargetConfig, MirrorTargetKind } from '../mirror-target';
import { validateIntegerRange } from '../private/validation';

const MAX_SESSION_NUMBER = 32766;
const MAX_VNI = 16777215;
const MAX_NLB_PACKET_LENGTH = 8500;
// AWS documents no limit for other targets; packets never exceed the largest jumbo frame
// plus headers, and the API field is an integer, so the 16-bit bound is the honest one.
const MAX_PACKET_LENGTH = 65535;
// More than 100 reserved executions are never used.
const MAX_RESERVED_CONCURRENCY = 100;
/** Throws when a prop is out of its range or contradicts another, or the targets do not fit together. */
export function validateProps(props: FargateTrafficMirrorProps, bound: readonly MirrorTargetConfig[]): void {
  // Each target is in the configuration every trigger carries and twice in each function's IAM
  // policy; a service's statements must fit in one managed policy (6,144 characters).
  if (bound.length > MAX_TARGETS_PER_SERVICE) {
    throw new Error(`target must hold at most ${MAX_TARGETS_PER_SERVICE} targets (the configuration and IAM policies list each one), got ${bound.length}`);
  }
  const nlb = bound.filter(t => t.kind === MirrorTargetKind.NETWORK_LOAD_BALANCER).length;
  const known = bound.filter(t => t.kind !== MirrorTargetKind.UNKNOWN).length;
  if (nlb > 0 && nlb < known) {
    throw new Error('target mixes Network Load Balancer targets (packet length at most 8500 bytes, 8500 by default) with targets that take '
      + 'whole packets: a task\'s mirrored packets would be cut or not depending on its target. Use targets of one kind.');
  }
  validateCaptureProps(props, bound.some(t => t.availabilityZone !== undefined),
    nlb > 0 ? { max: MAX_NLB_PACKET_LENGTH, context: ' for a Network Load Balancer target' } : undefined);
  const interval = props.reconcileInterval;
  if (interval && !interval.isUnresolved()) {
    const seconds = interval.toSeconds();
    if (seconds < 60 || seconds % 60 !== 0) {
      throw new Error(`reconcileInterval must be a whole number of minutes, at least 1, got ${interval.toHumanString()}`);
    }
  }
  if (props.initialSwitch !== undefined && !Token.isUnresolved(props.initialSwitch) && /^\s*on\s+until\b/i.test(props.initialSwitch)
    && props.periodicReconcile === false) {
    throw new Error(`initialSwitch '${props.initialSwitch}' expires at the first scheduled sweep after its time, and periodicReconcile is false: `
      + 'nothing would remove the sessions at the expiry; turn periodicReconcile on, or use \'on\' and write \'off\' when mirroring should end');
  }
  if (props.reconcileInterval && props.periodicReconcile === false) {
    throw new Error('reconcileInterval has no effect when periodicReconcile is false; remove one of them');
  }
  validateIntegerRange('reservedConcurrentExecutions', props.reservedConcurrentExecutions, EVENT_SOURCE_MAX_CONCURRENCY, MAX_RESERVED_CONCURRENCY,
    ' (the queue runs up to 2 session managers at once)');
  validateIntegerRange('sessionNumber', props.sessionNumber, 1, MAX_SESSION_NUMBER);
}

/**
 * The checks both capture methods share: what the mirrored packets look like (VNI, packet
 * length), which tasks are mirrored (sampling, the switch) and the zones of the targets.
 *
 * @param zoned whether any target serves one Availability Zone only
 * @param packetLength the largest packet length the targets take, and why, when below 65535
 */
export function validateCaptureProps(
  props: FargateTrafficMirrorProps, zoned: boolean, packetLength = { max: MAX_PACKET_LENGTH, context: '' },
): void {
  if (props.allowCrossZone && !zoned) {
    throw new Error('allowCrossZone has an effect only with MirrorTarget.perAvailabilityZone() targets; remove it or give target a target per zone');
  }
  if (props.sampling !== undefined && !Token.isUnresolved(props.sampling) && !(props.sampling > 0 && props.sampling <= 1)) {
    throw new Error(`sampling must be greater than 0 and at most 1, got ${props.sampling}`);
  }
  if (props.initialSwitch !== undefined && !Token.isUnresolved(props.initialSwitch)
    && !switchStateOf(props.initialSwitch, Date.now()).understood) {
    throw new Error(`initialSwitch must be 'on', 'off' or 'on until <ISO 8601 time>', got '${props.initialSwitch}'`);
  }
  validateIntegerRange('virtualNetworkId', props.virtualNetworkId, 0, MAX_VNI);
  validateIntegerRange('packetLength', props.packetLength, 1, packetLength.max, packetLength.context);
}
