import {
  CreateTrafficMirrorSessionCommand, DeleteTrafficMirrorSessionCommand, DescribeTrafficMirrorSessionsCommand, EC2Client,
  ModifyTrafficMirrorSessionCommand, ModifyTrafficMirrorSessionCommandInput,
} from '@aws-sdk/client-ec2';
import { SimClock } from './clock';
import { Random } from './random';
import { EC2_LIMITS, SimEc2, SimEc2Options } from './sim-ec2';
import { OWNER_TAG_KEY } from '../../src/contract/ownership';
import { ERROR_SPELLINGS, notFoundCode, TAG_FILTER_MODES } from '../support/ec2-model';

/** Runs `fn` on a fresh simulated clock until it settles. */
async function simulate<T>(options: SimEc2Options, fn: (ec2: SimEc2, client: EC2Client, clock: SimClock) => Promise<T>): Promise<T> {
  const clock = new SimClock(new Random(1));
  const ec2 = new SimEc2(clock, options);
  const client = new EC2Client({
    region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1, requestHandler: ec2.handlerFor('test') as any,
  });
  let out: { value?: T; error?: unknown } | undefined;
  clock.schedule(0, () => { fn(ec2, client, clock).then(value => { out = { value }; }, error => { out = { error }; }); });
  await clock.run(3_600_000, () => out !== undefined);
  if (!out) throw new Error('did not settle');
  if ('error' in out) throw out.error;
  return out.value as T;
}

const create = (eni: string, sessionNumber = 1, token?: string, targetId = 'tmt-1') => new CreateTrafficMirrorSessionCommand({
  NetworkInterfaceId: eni, TrafficMirrorTargetId: targetId, TrafficMirrorFilterId: 'tmf-1', SessionNumber: sessionNumber, ClientToken: token,
});
const modify = (input: ModifyTrafficMirrorSessionCommandInput) => new ModifyTrafficMirrorSessionCommand(input);
const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: any) => e.name as string);

describe('simulated EC2', () => {
  test('Request throttling for the Amazon EC2 API: mutating calls, a burst of 50, then 5 per second, answering RequestLimitExceeded', async () => {
    const results = await simulate({}, async (ec2, client, clock) => {
      for (let i = 0; i < 60; i++) ec2.createEni(`eni-${i}`);
      const burst = await Promise.all(Array.from({ length: 51 }, (_, i) => codeOf(client.send(create(`eni-${i}`)))));
      await clock.sleep(1000);
      const refilled = await Promise.all(Array.from({ length: 7 }, (_, i) => codeOf(client.send(create(`eni-${51 + i}`)))));
      return { burst, refilled };
    });
    expect(results.burst.filter(r => r === 'ok')).toHaveLength(EC2_LIMITS.mutatingBurst);
    expect(results.burst.filter(r => r === 'RequestLimitExceeded')).toHaveLength(1);
    // One second (plus a few ms of request latency) refills five tokens.
    expect(results.refilled.filter(r => r === 'ok')).toHaveLength(5);
  });

  test('Ensuring idempotency: a ClientToken is remembered after its session is deleted, and refused with other parameters', async () => {
    const out = await simulate({}, async (ec2, client) => {
      ec2.createEni('eni-a');
      ec2.createEni('eni-b');
      const first = await client.send(create('eni-a', 1, 'tok'));
      const id = first.TrafficMirrorSession!.TrafficMirrorSessionId!;
      await client.send(new DeleteTrafficMirrorSessionCommand({ TrafficMirrorSessionId: id }));
      const again = await client.send(create('eni-a', 1, 'tok'));
      const mismatch = await codeOf(client.send(create('eni-b', 1, 'tok')));
      return { id, againId: again.TrafficMirrorSession!.TrafficMirrorSessionId, sessions: ec2.sessions.size, mismatch };
    });
    expect(out.againId).toBe(out.id);
    expect(out.sessions).toBe(0);
    expect(out.mismatch).toBe('IdempotentParameterMismatch');
  });

  test('CreateTrafficMirrorSession API reference and Traffic Mirroring quotas: session numbers are unique per ENI, at most 3 sessions per ENI, and ENI deletion removes them', async () => {
    const out = await simulate({}, async (ec2, client) => {
      ec2.createEni('eni-a');
      const codes = [
        await codeOf(client.send(create('eni-a', 1))),
        await codeOf(client.send(create('eni-a', 1))),
        await codeOf(client.send(create('eni-a', 2))),
        await codeOf(client.send(create('eni-a', 3))),
        await codeOf(client.send(create('eni-a', 4))),
        await codeOf(client.send(create('eni-gone', 1))),
      ];
      const before = ec2.sessions.size;
      ec2.deleteEni('eni-a');
      return { codes, before, after: ec2.sessions.size };
    });
    expect(out.codes).toEqual(['ok', 'InvalidParameterValue', 'ok', 'ok', 'TrafficMirrorSessionsPerInterfaceLimitExceeded', 'InvalidNetworkInterfaceID.NotFound']);
    expect(out).toMatchObject({ before: 3, after: 0 });
  });

  test('Traffic Mirroring quotas: an ENI target accepts a limited number of sources', async () => {
    const codes = await simulate({ targetSourceLimit: 2 }, async (ec2, client) => {
      for (const eni of ['eni-a', 'eni-b', 'eni-c']) ec2.createEni(eni);
      return [
        await codeOf(client.send(create('eni-a'))),
        await codeOf(client.send(create('eni-b'))),
        await codeOf(client.send(create('eni-c'))),
        await codeOf(client.send(create('eni-a', 2))),
      ];
    });
    expect(codes).toEqual(['ok', 'ok', 'TrafficMirrorSourcesPerTargetLimitExceeded', 'ok']);
  });

  // Traffic Mirroring quotas: 10 sources per ENI target (100 on the largest sizes), none for NLB and
  // GWLB endpoint targets. EC2's error-code reference lists TrafficMirrorSourcesPerTargetLimitExceeded
  // and TrafficMirrorSessionsPerTargetLimitExceeded without saying which a full target answers.
  test.each([
    ['sources', 'TrafficMirrorSourcesPerTargetLimitExceeded'],
    ['sessions', 'TrafficMirrorSessionsPerTargetLimitExceeded'],
  ] as const)('each target has its own source limit; a full one answers in the %s mode with %s', async (targetLimitCode, code) => {
    const codes = await simulate({ targetSourceLimits: new Map([['tmt-1', 1]]), targetLimitCode }, async (ec2, client) => {
      for (const eni of ['eni-a', 'eni-b']) ec2.createEni(eni);
      return [
        await codeOf(client.send(create('eni-a'))),
        await codeOf(client.send(create('eni-b'))),
        await codeOf(client.send(create('eni-b', 1, undefined, 'tmt-2'))),
        await codeOf(client.send(create('eni-a', 2, undefined, 'tmt-2'))),
      ];
    });
    expect(codes).toEqual(['ok', code, 'ok', 'ok']);
  });

  test('Traffic Mirroring quotas: sessions set and deleted directly in the map count for the source limit and the account quota', async () => {
    const codes = await simulate({ targetSourceLimit: 1 }, async (ec2, client) => {
      ec2.createEni('eni-a');
      const foreign = { networkInterfaceId: 'eni-x', targetId: 'tmt-1', filterId: 'tmf-1', sessionNumber: 1, tags: {} };
      ec2.sessions.set('tms-x', { ...foreign, id: 'tms-x' });
      const refused = await codeOf(client.send(create('eni-a')));
      ec2.sessions.delete('tms-x');
      const allowed = await codeOf(client.send(create('eni-a')));
      ec2.createEni('eni-b');
      for (let i = ec2.sessions.size; i < EC2_LIMITS.sessionsPerAccount; i++) ec2.addSession(`eni-f${i}`, 1, `tmt-f${i}`);
      const full = await codeOf(client.send(create('eni-b', 1, undefined, 'tmt-2')));
      ec2.deleteEni('eni-f1');
      return [refused, allowed, full, await codeOf(client.send(create('eni-b', 1, undefined, 'tmt-2')))];
    });
    expect(codes).toEqual(['TrafficMirrorSourcesPerTargetLimitExceeded', 'ok', 'TrafficMirrorSessionLimitExceeded', 'ok']);
  });

  test('deleting an ENI deletes its sessions, however they were made, in the order they were made', async () => {
    const deletions = await simulate({}, async (ec2, client) => {
      ec2.createEni('eni-a');
      const made = (await client.send(create('eni-a', 2))).TrafficMirrorSession!.TrafficMirrorSessionId!;
      ec2.addSession('eni-b', 1, 'tmt-1');
      ec2.sessions.set('tms-hand', { id: 'tms-hand', networkInterfaceId: 'eni-a', targetId: 'tmt-1', filterId: 'tmf-1', sessionNumber: 1, tags: {} });
      const put = ec2.addSession('eni-a', 3, 'tmt-1').id;
      ec2.deleteEni('eni-a');
      return { order: [...ec2.deletions], expected: [made, 'tms-hand', put], left: ec2.sessions.size };
    });
    expect(deletions.order).toEqual(deletions.expected.map(id => [id, 'eni-deleted']));
    expect(deletions.left).toBe(1);
  });

  test('ModifyTrafficMirrorSession API reference: a mutating call, drawing on the same token bucket as create and delete', async () => {
    const out = await simulate({}, async (ec2, client) => {
      ec2.createEni('eni-a');
      const id = (await client.send(create('eni-a'))).TrafficMirrorSession!.TrafficMirrorSessionId!;
      while (ec2.spendMutatingToken()) { /* a neighbour empties the bucket */ }
      const throttled = await codeOf(client.send(modify({ TrafficMirrorSessionId: id, Description: 'x' })));
      const describe = await codeOf(client.send(new DescribeTrafficMirrorSessionsCommand({})));
      return { throttled, describe, calls: ec2.calls.map(c => [c.action, c.result]) };
    });
    expect(out.throttled).toBe('RequestLimitExceeded');
    expect(out.describe).toBe('ok');
    expect(out.calls).toEqual([
      ['CreateTrafficMirrorSession', 'ok'], ['ModifyTrafficMirrorSession', 'throttled'], ['DescribeTrafficMirrorSessions', 'ok'],
    ]);
  });

  test('ModifyTrafficMirrorSession API reference: an ENI target\'s source limit applies when the target changes', async () => {
    const out = await simulate({ targetSourceLimit: 1 }, async (ec2, client) => {
      ec2.createEni('eni-a');
      ec2.createEni('eni-b');
      await client.send(create('eni-a', 1, undefined, 'tmt-1'));
      const b = (await client.send(create('eni-b', 1, undefined, 'tmt-2'))).TrafficMirrorSession!.TrafficMirrorSessionId!;
      return [
        await codeOf(client.send(modify({ TrafficMirrorSessionId: b, TrafficMirrorTargetId: 'tmt-1' }))),
        await codeOf(client.send(modify({ TrafficMirrorSessionId: b, TrafficMirrorTargetId: 'tmt-2', Description: 'same target' }))),
        await codeOf(client.send(modify({ TrafficMirrorSessionId: b, TrafficMirrorTargetId: 'tmt-3' }))),
        ec2.sessions.get(b)!.targetId,
      ];
    });
    expect(out).toEqual(['TrafficMirrorSourcesPerTargetLimitExceeded', 'ok', 'ok', 'tmt-3']);
  });

  test('Ensuring idempotency: a replay after the ENI (and with it the session) is gone returns the original id and tags', async () => {
    const out = await simulate({}, async (ec2, client) => {
      ec2.createEni('eni-a');
      const tagged = (value: string) => new CreateTrafficMirrorSessionCommand({
        NetworkInterfaceId: 'eni-a',
        TrafficMirrorTargetId: 'tmt-1',
        TrafficMirrorFilterId: 'tmf-1',
        SessionNumber: 1,
        ClientToken: 'tok',
        TagSpecifications: [{ ResourceType: 'traffic-mirror-session', Tags: [{ Key: 'try', Value: value }] }],
      });
      const first = (await client.send(tagged('1'))).TrafficMirrorSession!;
      ec2.deleteEni('eni-a');
      const again = (await client.send(tagged('2'))).TrafficMirrorSession!;
      return { first, again, deletions: [...ec2.deletions.values()], sessions: ec2.sessions.size };
    });
    expect(out.again).toEqual(out.first);
    expect(out.again.Tags).toEqual([{ Key: 'try', Value: '1' }]);
    expect(out).toMatchObject({ deletions: ['eni-deleted'], sessions: 0 });
  });

  test('CreateTrafficMirrorSession API reference: addSession takes packet length, VXLAN id and description, positionally as before', async () => {
    const out = await simulate({}, async (ec2, client) => {
      const plain = ec2.addSession('eni-a', 1, 'tmt-1');
      const full = ec2.addSession('eni-a', 2, 'tmt-1', { owner: 'me' }, { packetLength: 96, virtualNetworkId: 5, description: 'seeded' });
      const listed = (await client.send(new DescribeTrafficMirrorSessionsCommand({}))).TrafficMirrorSessions!;
      return { plain, full, listed };
    });
    expect(out.plain).toMatchObject({ filterId: 'tmf-foreign', tags: { [OWNER_TAG_KEY]: 'someone-else' }, virtualNetworkId: expect.any(Number) });
    expect(out.plain.packetLength).toBeUndefined();
    expect(out.listed[1]).toMatchObject({ PacketLength: 96, VirtualNetworkId: 5, Description: 'seeded', SessionNumber: 2, Tags: [{ Key: 'owner', Value: 'me' }] });
  });

  describe.each(TAG_FILTER_MODES)('with tag filters in mode %s', tagFilters => {
    test('DescribeTrafficMirrorSessions API reference: tag filters follow the mode, undocumented filters are rejected', async () => {
      const out = await simulate({ tagFilters }, async (ec2, client) => {
        ec2.addSession('eni-a', 1, 'tmt-1', { owner: 'me' });
        ec2.addSession('eni-b', 1, 'tmt-1', { owner: 'you' });
        const describe = (Name: string) => client.send(new DescribeTrafficMirrorSessionsCommand({ Filters: [{ Name, Values: ['me'] }] }));
        return {
          tag: await describe('tag:owner').then(r => r.TrafficMirrorSessions!.length, (e: any) => e.name),
          unknown: await codeOf(describe('tag-value')),
          recorded: ec2.calls.map(c => c.filters),
        };
      });
      expect(out.tag).toBe({ honour: 1, ignore: 2, reject: 'InvalidParameterValue' }[tagFilters]);
      expect(out.unknown).toBe('InvalidParameterValue');
      expect(out.recorded).toEqual([['tag:owner'], ['tag-value']]);
    });
  });

  describe.each(ERROR_SPELLINGS)('with the %s error spelling', errorSpelling => {
    test('DeleteTrafficMirrorSession / ModifyTrafficMirrorSession API reference and error codes: a missing session is not found', async () => {
      const out = await simulate({ errorSpelling }, async (ec2, client) => {
        const id = ec2.addSession('eni-a', 1, 'tmt-1').id;
        const deleted = await codeOf(client.send(new DeleteTrafficMirrorSessionCommand({ TrafficMirrorSessionId: id })));
        return {
          deleted,
          again: await codeOf(client.send(new DeleteTrafficMirrorSessionCommand({ TrafficMirrorSessionId: id }))),
          modified: await codeOf(client.send(modify({ TrafficMirrorSessionId: id, Description: 'x' }))),
          by: ec2.deletions.get(id),
        };
      });
      const code = notFoundCode('session', errorSpelling);
      expect(out).toEqual({ deleted: 'ok', again: code, modified: code, by: 'test' });
    });
  });
});
