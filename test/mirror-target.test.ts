import { App, Stack } from 'aws-cdk-lib';
import { MirrorTarget, MirrorTargetKind } from '../src';

describe('MirrorTarget', () => {
  test.each([
    ['networkInterface', () => MirrorTarget.networkInterface('eni-12'), /networkInterfaceId must be a network interface id like 'eni-0123456789abcdef0', got 'eni-12'/],
    ['gatewayLoadBalancerEndpoint', () => MirrorTarget.gatewayLoadBalancerEndpoint('eni-0123456789abcdef0'), /vpcEndpointId must be a VPC endpoint id like 'vpce-0123456789abcdef0', got 'eni-0123456789abcdef0'/],
    ['fromTrafficMirrorTargetId', () => MirrorTarget.fromTrafficMirrorTargetId('target'), /trafficMirrorTargetId must be a traffic mirror target id like 'tmt-0123456789abcdef0', got 'target'/],
  ])('%s rejects a malformed id', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('bind reports the kind', () => {
    const stack = new Stack(new App(), 'S');
    expect(MirrorTarget.networkInterface('eni-0123456789abcdef0').bind(stack).kind).toBe(MirrorTargetKind.NETWORK_INTERFACE);
    expect(MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0').bind(stack)).toEqual({
      trafficMirrorTargetId: 'tmt-0123456789abcdef0', kind: MirrorTargetKind.UNKNOWN,
    });
  });
});
