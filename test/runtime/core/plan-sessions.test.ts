import * as fc from 'fast-check';
import { ExistingSession, MAX_SESSIONS_PER_ENI, chooseSessionNumber, planSessions } from '../../../src/runtime/core/plan-sessions';

const task = (n: number) => ({ taskArn: `arn:aws:ecs:us-east-1:123456789012:task/prod/t${n}`, networkInterfaceId: `eni-${n}` });
const owned = (id: string, eni: string, sessionNumber = 1): ExistingSession =>
  ({ sessionId: id, networkInterfaceId: eni, sessionNumber, owned: true });
const foreign = (id: string, eni: string, sessionNumber: number): ExistingSession =>
  ({ sessionId: id, networkInterfaceId: eni, sessionNumber, owned: false });
const base = { sessionNumber: 1, pickFreeSessionNumber: false };

describe('planSessions', () => {
  test('enrolls N pre-existing tasks that have no session', () => {
    const plan = planSessions({ ...base, desired: [1, 2, 3].map(task), sessions: [] });
    expect(plan.creates).toEqual([1, 2, 3].map(n => ({ ...task(n), sessionNumber: 1 })));
    expect(plan.deletes).toEqual([]);
  });

  test('keeps mirrored tasks, creates missing ones, deletes orphaned owned sessions, ignores foreign ones', () => {
    const plan = planSessions({
      ...base,
      desired: [task(1), task(2)],
      sessions: [owned('tms-1', 'eni-1'), owned('tms-dead', 'eni-9'), foreign('tms-f', 'eni-8', 1), foreign('tms-g', 'eni-2', 2)],
    });
    expect(plan.alreadyMirrored).toBe(1);
    expect(plan.creates).toEqual([{ ...task(2), sessionNumber: 1 }]);
    expect(plan.deletes).toEqual([{ sessionId: 'tms-dead', networkInterfaceId: 'eni-9', reason: 'orphaned' }]);
  });

  test('two owned sessions on one ENI: keeps the lowest number, deletes the duplicate', () => {
    const plan = planSessions({ ...base, desired: [task(1)], sessions: [owned('tms-b', 'eni-1', 2), owned('tms-a', 'eni-1', 1)] });
    expect(plan.deletes).toEqual([{ sessionId: 'tms-b', networkInterfaceId: 'eni-1', reason: 'duplicate' }]);
    expect(plan.creates).toEqual([]);
  });

  test('configured number taken by another tool: reported, or the lowest free number when allowed', () => {
    const sessions = [foreign('tms-x', 'eni-1', 1), foreign('tms-y', 'eni-1', 2)];
    expect(planSessions({ ...base, desired: [task(1)], sessions }).conflicts).toEqual([
      { ...task(1), reason: 'SessionNumberInUse', usedSessionNumbers: [1, 2] },
    ]);
    expect(planSessions({ ...base, pickFreeSessionNumber: true, desired: [task(1)], sessions }).creates).toEqual([{ ...task(1), sessionNumber: 3 }]);
  });

  test('an ENI with 3 foreign sessions is at its limit', () => {
    const sessions = [1, 2, 3].map(n => foreign(`tms-${n}`, 'eni-1', n + 10));
    expect(planSessions({ ...base, pickFreeSessionNumber: true, desired: [task(1)], sessions }).conflicts[0].reason).toBe('SourceSessionLimit');
  });

  // EC2 evaluates sessions in number order and the first matching one mirrors the packet
  // (Traffic Mirroring user guide): a number before the configured one would take packets from
  // another tool's session, so only numbers after it are free to pick.
  test('chooseSessionNumber picks the lowest free number after the configured one, never before', () => {
    expect(chooseSessionNumber([], 5, false)).toBe(5);
    expect(chooseSessionNumber([5], 5, true)).toBe(6);
    expect(chooseSessionNumber([1, 5], 5, true)).toBe(6);
    expect(chooseSessionNumber([5, 6], 5, true)).toBe(7);
    expect(chooseSessionNumber([1, 5], 5, false)).toBe('SessionNumberInUse');
    expect(chooseSessionNumber([32766], 32766, true)).toBe('SessionNumberInUse');
  });

  test('chooseSessionNumber never picks a number before the configured one (property)', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 2 }), fc.integer({ min: 1, max: 40 }),
      (used, configured) => {
        const choice = chooseSessionNumber(used, configured, true);
        return typeof choice !== 'number' || (choice >= configured && !used.includes(choice));
      },
    ));
  });

  describe('invariants (property-based)', () => {
    const eniArb = fc.integer({ min: 0, max: 15 }).map(n => `eni-${n}`);
    const sessionArb = fc.record({
      sessionId: fc.integer({ min: 0, max: 200 }).map(n => `tms-${n}`),
      networkInterfaceId: eniArb,
      sessionNumber: fc.integer({ min: 1, max: 6 }),
      owned: fc.boolean(),
    });
    const inputArb = fc.record({
      desired: fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { maxLength: 12 }).map(ns => ns.map(task)),
      // EC2 session ids are unique.
      sessions: fc.uniqueArray(sessionArb, { maxLength: 30, selector: s => s.sessionId }),
      sessionNumber: fc.integer({ min: 1, max: 6 }),
      pickFreeSessionNumber: fc.boolean(),
    });

    /** Applies a plan to the session list the way EC2 would. */
    function apply(input: fc.RecordValue<any>, plan: ReturnType<typeof planSessions>): ExistingSession[] {
      const deleted = new Set(plan.deletes.map(d => d.sessionId));
      const unique = [...new Map(input.sessions.map((s: ExistingSession) => [s.sessionId, s])).values()] as ExistingSession[];
      return [
        ...unique.filter(s => !deleted.has(s.sessionId)),
        ...plan.creates.map((c, i) => ({ sessionId: `new-${i}`, networkInterfaceId: c.networkInterfaceId, sessionNumber: c.sessionNumber, owned: true })),
      ];
    }

    test('never deletes a session it does not own', () => {
      fc.assert(fc.property(inputArb, input => {
        const plan = planSessions(input);
        const ownedIds = new Set(input.sessions.filter(s => s.owned).map(s => s.sessionId));
        return plan.deletes.every(d => ownedIds.has(d.sessionId));
      }));
    });

    test('after applying the plan: every desired task without a conflict is mirrored exactly once, and no owned session is elsewhere', () => {
      fc.assert(fc.property(inputArb, input => {
        const plan = planSessions(input);
        const after = apply(input, plan);
        const conflicted = new Set(plan.conflicts.map(c => c.networkInterfaceId));
        const desiredEnis = new Set(input.desired.map(t => t.networkInterfaceId));
        for (const eni of desiredEnis) {
          const ours = after.filter(s => s.owned && s.networkInterfaceId === eni).length;
          if (ours !== (conflicted.has(eni) ? 0 : 1)) return false;
        }
        return after.filter(s => s.owned).every(s => desiredEnis.has(s.networkInterfaceId));
      }));
    });

    test('creates respect EC2 rules: a free session number on an ENI with fewer than 3 sessions', () => {
      fc.assert(fc.property(inputArb, input => {
        const plan = planSessions(input);
        const unique = [...new Map(input.sessions.map(s => [s.sessionId, s])).values()];
        return plan.creates.every(c => {
          const onEni = unique.filter(s => s.networkInterfaceId === c.networkInterfaceId);
          return onEni.length < MAX_SESSIONS_PER_ENI && !onEni.some(s => s.sessionNumber === c.sessionNumber)
            && (input.pickFreeSessionNumber || c.sessionNumber === input.sessionNumber);
        });
      }));
    });

    test('is idempotent: reconciling the result again plans nothing new', () => {
      fc.assert(fc.property(inputArb, input => {
        const after = apply(input, planSessions(input));
        const again = planSessions({ ...input, sessions: after });
        return again.creates.length === 0 && again.deletes.length === 0;
      }));
    });
  });
});
