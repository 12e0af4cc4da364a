import { App, CfnParameter, Stack } from 'aws-cdk-lib';
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
      trafficMirrorTargetId: 'tmt-0123456789abcdef0', kind: MirrorTargetKind.UNKNOWN, ownerAccount: '*',
    });
  });

  describe('owner account', () => {
    test('a target shared through AWS RAM binds to the account that owns it', () => {
      const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'us-east-1' } });
      expect(MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount: '210987654321' }).bind(stack)).toEqual({
        trafficMirrorTargetId: 'tmt-0123456789abcdef0', kind: MirrorTargetKind.UNKNOWN, ownerAccount: '210987654321',
      });
    });

    test('an imported target without ownerAccount may belong to any account', () => {
      const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'us-east-1' } });
      expect(MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', {}).bind(stack).ownerAccount).toBe('*');
    });

    test('a target the construct creates belongs to the stack\'s account', () => {
      const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'us-east-1' } });
      expect(MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0').bind(stack).ownerAccount).toBe('123456789012');
      const agnostic = new Stack(new App(), 'A');
      expect(agnostic.resolve(MirrorTarget.networkInterface('eni-0123456789abcdef0').bind(agnostic).ownerAccount)).toEqual({ Ref: 'AWS::AccountId' });
    });

    test.each(['12345678901', '1234567890123', 'my-account', '12345678901a', ''])('ownerAccount %p is rejected', ownerAccount => {
      expect(() => MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount }))
        .toThrow(`MirrorTarget.fromTrafficMirrorTargetId ownerAccount must be a 12-digit AWS account id like '123456789012', got '${ownerAccount}'`);
    });

    test('an unresolved ownerAccount is not validated', () => {
      const stack = new Stack(new App(), 'S');
      const ownerAccount = new CfnParameter(stack, 'Owner').valueAsString;
      expect(stack.resolve(MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount }).bind(stack).ownerAccount)).toEqual({ Ref: 'Owner' });
    });
  });
});
