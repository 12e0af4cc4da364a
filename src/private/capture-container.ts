/**
 * Construct-side helper: what the capture agent's and the receiver's containers share, the image
 * built from the package's capture-agent/ directory, VXLAN's port and the one capability they
 * keep. Imports nothing else in src/.
 */
import * as path from 'path';
import { aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** VXLAN's UDP port, where Traffic Mirroring and the capture sidecar send and targets listen. */
export const VXLAN_PORT = 4789;

/** The package's capture-agent/ directory: one image carries both programs. */
const CAPTURE_AGENT_DIR = path.join(__dirname, '..', '..', 'capture-agent');

/** The image of the capture agent and the receiver, built at deploy with `ContainerImage.fromAsset`. */
export function captureAgentImage(): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(CAPTURE_AGENT_DIR);
}

/** Fargate's default capabilities but NET_RAW, which AF_PACKET needs. */
const DROPPED_CAPABILITIES = [
  ecs.Capability.AUDIT_WRITE, ecs.Capability.CHOWN, ecs.Capability.DAC_OVERRIDE, ecs.Capability.FOWNER, ecs.Capability.FSETID,
  ecs.Capability.KILL, ecs.Capability.MKNOD, ecs.Capability.NET_BIND_SERVICE, ecs.Capability.SETFCAP, ecs.Capability.SETGID,
  ecs.Capability.SETPCAP, ecs.Capability.SETUID, ecs.Capability.SYS_CHROOT,
];

/** Linux parameters that keep NET_RAW alone of Fargate's default capabilities. */
export function netRawOnly(scope: Construct, id = 'LinuxParameters'): ecs.LinuxParameters {
  const linux = new ecs.LinuxParameters(scope, id);
  linux.dropCapabilities(...DROPPED_CAPABILITIES);
  return linux;
}
