import { CreateTrafficMirrorSessionCommand, DeleteTrafficMirrorSessionCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SimClock } from './clock';
import { Random } from './random';
import { EC2_LIMITS, SimEc2, SimEc2Options } from './sim-ec2';

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
const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: any) => e.name as string);

describe('simulated EC2', () => {
  test('mutating calls: a burst of 50, then 5 per second, answering RequestLimitExceeded', async () => {
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

  test('a ClientToken is remembered after its session is deleted, and refused with other parameters', async () => {
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

  test('session numbers are unique per ENI, at most 3 sessions per ENI, and ENI deletion removes them', async () => {
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

  test('an ENI target accepts a limited number of sources', async () => {
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
});
