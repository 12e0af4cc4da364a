import { ENV, configFromEnv } from '../../../src/contract/session-manager-config';
import { TargetSpec, formatTargets, parseTargets } from '../../../src/contract/target-layout';
import { TargetLoad, candidateTargets } from '../../../src/runtime/core/target-placement';
import { CONFIG_ENV } from '../../fixtures/config-env';

const T = (n: number) => `tmt-${n.toString(16).padStart(17, '0')}`;
const eni = (n: number) => `eni-${n.toString(16).padStart(17, '0')}`;
const layout = (targets: TargetSpec[], allowCrossZone = false) => ({ targetId: targets[0].targetId, targets, allowCrossZone });

describe('the target layout in the environment', () => {
  const targets: TargetSpec[] = [
    { targetId: T(1), availabilityZone: 'eu-west-1a', maxSources: 10 },
    { targetId: T(2), availabilityZone: 'eu-west-1a' },
    { targetId: T(3), availabilityZone: 'us-west-2-lax-1a', maxSources: 100 },
    { targetId: T(4) },
  ];

  test('round-trips, compactly', () => {
    const text = formatTargets(targets);
    expect(text).toBe(`eu-west-1a=${T(1)}:10,eu-west-1a=${T(2)},us-west-2-lax-1a=${T(3)}:100,${T(4)}`);
    expect(parseTargets(text)).toEqual(targets);
  });

  test.each(['', 'eu-west-1a=', '=tmt-1', 'tmt-1:ten', 'EU=tmt-1', 'a=b=tmt-1', 'tmt-1:1:2', 'tmt 1'])('%p is refused', text => {
    expect(() => parseTargets(text)).toThrow(/malformed target/);
  });

  test('configFromEnv reads it instead of MIRROR_TARGET_ID, with allowCrossZone', () => {
    const { [ENV.TARGET_ID]: _, ...rest } = CONFIG_ENV;
    const config = configFromEnv({ ...rest, [ENV.TARGETS]: formatTargets(targets), [ENV.ALLOW_CROSS_ZONE]: 'true' });
    expect(config).toMatchObject({ targetId: T(1), targets, allowCrossZone: true });
    expect(configFromEnv(CONFIG_ENV)).not.toHaveProperty('targets');
    expect(configFromEnv(CONFIG_ENV)).not.toHaveProperty('allowCrossZone');
    expect(() => configFromEnv({ ...rest, [ENV.TARGETS]: 'x=' })).toThrow(/MIRROR_TARGETS: malformed target 'x='/);
  });
});

describe('candidateTargets: which target a task tries first, and next', () => {
  const pool = layout([1, 2, 3].map(n => ({ targetId: T(n) })));

  test('is deterministic per task, and one target alone is always first', () => {
    expect(candidateTargets(pool, eni(7))).toEqual(candidateTargets(pool, eni(7)));
    expect(candidateTargets({ targetId: T(9) }, eni(7))).toEqual([{ targetId: T(9), crossZone: false }]);
  });

  test('spreads tasks evenly over a pool (rendezvous hashing), every target in each order', () => {
    const first = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const order = candidateTargets(pool, eni(i)).map(c => c.targetId);
      expect([...order].sort()).toEqual([T(1), T(2), T(3)]);
      first.set(order[0], (first.get(order[0]) ?? 0) + 1);
    }
    for (const n of first.values()) expect(n).toBeGreaterThan(900);
  });

  test('removing a target moves only the tasks that had it first (no churn)', () => {
    const smaller = layout([1, 2].map(n => ({ targetId: T(n) })));
    for (let i = 0; i < 300; i++) {
      const before = candidateTargets(pool, eni(i))[0].targetId;
      if (before !== T(3)) expect(candidateTargets(smaller, eni(i))[0].targetId).toBe(before);
    }
  });

  const zoned = [
    { targetId: T(1), availabilityZone: 'eu-west-1a' }, { targetId: T(2), availabilityZone: 'eu-west-1a' },
    { targetId: T(3), availabilityZone: 'eu-west-1b' }, { targetId: T(4), availabilityZone: 'eu-west-1c' },
  ];

  test('a task\'s own zone only, unless crossing zones is allowed; then its zone first', () => {
    expect(candidateTargets(layout(zoned), eni(1), 'eu-west-1a').map(c => c.targetId).sort()).toEqual([T(1), T(2)]);
    expect(candidateTargets(layout(zoned), eni(1), 'eu-west-1b')).toEqual([{ targetId: T(3), crossZone: false, availabilityZone: 'eu-west-1b' }]);
    const crossing = candidateTargets(layout(zoned, true), eni(1), 'eu-west-1b');
    expect(crossing.map(c => c.crossZone)).toEqual([false, true, true, true]);
    expect(crossing[0].targetId).toBe(T(3));
  });

  test('a zone without targets, or a task of unknown zone, has no local target', () => {
    expect(candidateTargets(layout(zoned), eni(1), 'eu-west-1d')).toEqual([]);
    expect(candidateTargets(layout(zoned), eni(1))).toEqual([]);
    expect(candidateTargets(layout(zoned, true), eni(1)).every(c => c.crossZone)).toBe(true);
  });
});

describe('TargetLoad: the sweep moves a session only when it must', () => {
  const zoned = layout([
    { targetId: T(1), availabilityZone: 'eu-west-1a', maxSources: 2 },
    { targetId: T(2), availabilityZone: 'eu-west-1b', maxSources: 2 },
  ], true);

  test('a session in its task\'s zone stays, whatever the hash prefers', () => {
    const pool = layout([{ targetId: T(1), maxSources: 10 }, { targetId: T(2), maxSources: 10 }]);
    const load = new TargetLoad(pool, []);
    for (let i = 0; i < 20; i++) {
      for (const targetId of [T(1), T(2)]) expect(load.moveFor({ networkInterfaceId: eni(i), targetId }, 'eu-west-1a')).toBeUndefined();
    }
  });

  test('a cross-zone session goes back to its zone only when a target there has room, and each move is counted', () => {
    // Target 1 (zone a) has two sources; two zone-a tasks wait on target 2 (zone b).
    const sessions = [
      { networkInterfaceId: eni(1), targetId: T(1) }, { networkInterfaceId: eni(2), targetId: T(1) },
      { networkInterfaceId: eni(3), targetId: T(2) }, { networkInterfaceId: eni(4), targetId: T(2) },
    ];
    const full = new TargetLoad(zoned, sessions);
    expect(full.isCrossZone(sessions[2], 'eu-west-1a')).toBe(true);
    expect(full.moveFor(sessions[2], 'eu-west-1a')).toBeUndefined();
    // One zone-a task stopped: room for one, not two.
    const freed = new TargetLoad(zoned, sessions.slice(1));
    expect(freed.moveFor(sessions[2], 'eu-west-1a')).toEqual({ targetId: T(1), reason: 'back-to-zone' });
    expect(freed.moveFor(sessions[3], 'eu-west-1a')).toBeUndefined();
  });

  test('a session on a target no longer configured moves to its task\'s first target with room', () => {
    const load = new TargetLoad(zoned, [{ networkInterfaceId: eni(1), targetId: T(1) }, { networkInterfaceId: eni(2), targetId: T(1) }]);
    expect(load.moveFor({ networkInterfaceId: eni(3), targetId: T(9) }, 'eu-west-1a')).toEqual({ targetId: T(2), reason: 'unconfigured-target' });
    expect(load.moveFor({ networkInterfaceId: eni(4), targetId: T(9) }, 'eu-west-1b')).toEqual({ targetId: T(2), reason: 'unconfigured-target' });
    // Everything full: the first candidate, for EC2 to refuse and a later sweep to retry.
    expect(load.moveFor({ networkInterfaceId: eni(5), targetId: T(9) }, 'eu-west-1a')).toEqual({ targetId: T(1), reason: 'unconfigured-target' });
  });

  test('a source already on a target does not count twice', () => {
    const load = new TargetLoad(zoned, [{ networkInterfaceId: eni(1), targetId: T(1) }, { networkInterfaceId: eni(2), targetId: T(1) }]);
    expect(load.hasRoom(T(1))).toBe(false);
    expect(load.hasRoom(T(1), eni(1))).toBe(true);
  });
});
