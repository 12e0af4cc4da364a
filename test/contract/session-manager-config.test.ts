import { ENV, configFromEnv, configToEnv } from '../../src/contract/session-manager-config';
import { CONFIG_ENV } from '../fixtures/config-env';

const base = CONFIG_ENV;

describe('configFromEnv', () => {
  test('reads every setting', () => {
    expect(configFromEnv({ ...base, [ENV.SESSION_NUMBER]: '3', [ENV.PACKET_LENGTH]: '100', [ENV.VIRTUAL_NETWORK_ID]: '0', [ENV.DESCRIPTION]: 'd', [ENV.PICK_FREE_SESSION_NUMBER]: 'true' })).toEqual({
      ownerId: 'ftm-1',
      clusterArn: base[ENV.CLUSTER_ARN],
      serviceName: 'web',
      targetId: 'tmt-0123456789abcdef0',
      filterId: 'tmf-0123456789abcdef0',
      sessionNumber: 3,
      packetLength: 100,
      virtualNetworkId: 0,
      pickFreeSessionNumber: true,
      description: 'd',
      account: '123456789012',
      region: 'us-east-1',
    });
  });

  test('defaults the session number and leaves the rest to AWS', () => {
    expect(configFromEnv(base)).toMatchObject({ sessionNumber: 1, packetLength: undefined, virtualNetworkId: undefined, description: undefined });
  });

  test('falls back to the Lambda region and requires the account', () => {
    expect(configFromEnv({ ...base, [ENV.REGION]: undefined, AWS_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
    expect(() => configFromEnv({ ...base, [ENV.REGION]: undefined })).toThrow(/AWS_REGION is not set/);
    expect(() => configFromEnv({ ...base, [ENV.ACCOUNT]: undefined })).toThrow(/MIRROR_ACCOUNT is not set/);
  });

  test('fails loudly when misconfigured', () => {
    expect(() => configFromEnv({ ...base, [ENV.TARGET_ID]: undefined })).toThrow(/MIRROR_TARGET_ID is not set/);
    expect(() => configFromEnv({ ...base, [ENV.PACKET_LENGTH]: 'big' })).toThrow(/MIRROR_PACKET_LENGTH must be an integer, got 'big'/);
  });

  test('sampling is a share greater than 0 and at most 1; the switch is a parameter name', () => {
    expect(configFromEnv({ ...base, [ENV.SAMPLING]: '0.25', [ENV.SWITCH_PARAMETER]: '/switch' })).toMatchObject({ sampling: 0.25, switchParameter: '/switch' });
    for (const bad of ['0', '1.5', 'half', '-1']) {
      expect(() => configFromEnv({ ...base, [ENV.SAMPLING]: bad })).toThrow(/MIRROR_SAMPLING must be a number greater than 0 and at most 1/);
    }
  });

  test('configToEnv is what configFromEnv reads back', () => {
    const config = configFromEnv({ ...base, [ENV.PACKET_LENGTH]: '128', [ENV.DESCRIPTION]: 'd', [ENV.PICK_FREE_SESSION_NUMBER]: 'true', [ENV.SAMPLING]: '0.5' });
    expect(configFromEnv(configToEnv(config))).toEqual(config);
    // A target layout and allowCrossZone survive the trip too (a switch's sweep carries them).
    const layout = configFromEnv({ ...base, [ENV.TARGET_ID]: undefined, [ENV.TARGETS]: 'us-east-1a=tmt-0123456789abcdef0:10,us-east-1b=tmt-0fedcba9876543210', [ENV.ALLOW_CROSS_ZONE]: 'true' });
    expect(layout.targets).toHaveLength(2);
    expect(configFromEnv(configToEnv(layout))).toEqual(layout);
  });
});
