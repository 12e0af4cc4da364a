import {
  CreateTrafficMirrorSessionCommand, CreateTrafficMirrorSessionCommandInput, DeleteTrafficMirrorSessionCommand, DescribeTrafficMirrorSessionsCommand,
  DescribeTrafficMirrorSessionsCommandInput, EC2Client, Filter, ModifyTrafficMirrorSessionCommand, ModifyTrafficMirrorSessionCommandInput,
  paginateDescribeTrafficMirrorSessions, TrafficMirrorSession,
} from '@aws-sdk/client-ec2';
import {
  DOCUMENTED_SESSION_FILTERS, Ec2MirrorModelOptions, ERROR_SPELLINGS, notFoundCode, OtherSessions, SessionMap, TAG_FILTER_MODES,
} from './ec2-model';
import { FakeEc2Endpoint, FakeSession } from './fake-ec2-endpoint';

/**
 * The fake EC2 endpoint, driven only through a real EC2Client, against the EC2 documentation.
 * Each test names the page it checks. Every mode is passed explicitly, so the suite passes
 * whatever FAKE_EC2_TAG_FILTERS / FAKE_EC2_ERROR_SPELLING say.
 */

const BASE = { NetworkInterfaceId: 'eni-a', TrafficMirrorTargetId: 'tmt-1', TrafficMirrorFilterId: 'tmf-1', SessionNumber: 1 };

function setup(options: Ec2MirrorModelOptions = {}) {
  const ec2 = new FakeEc2Endpoint({ tagFilters: 'honour', errorSpelling: 'documented', ...options });
  const client = new EC2Client({
    region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1, requestHandler: ec2.requestHandler as any,
  });
  const create = async (input: Partial<CreateTrafficMirrorSessionCommandInput> = {}) =>
    (await client.send(new CreateTrafficMirrorSessionCommand({ ...BASE, ...input }))).TrafficMirrorSession!;
  const modify = async (input: Omit<ModifyTrafficMirrorSessionCommandInput, 'TrafficMirrorSessionId'> & { TrafficMirrorSessionId: string }) =>
    (await client.send(new ModifyTrafficMirrorSessionCommand(input))).TrafficMirrorSession!;
  const remove = (id: string) => client.send(new DeleteTrafficMirrorSessionCommand({ TrafficMirrorSessionId: id }));
  /** Every page, as the session manager reads them (the paginator sends MaxResults). */
  const list = async (Filters?: Filter[], input: DescribeTrafficMirrorSessionsCommandInput = {}) => {
    const sessions: TrafficMirrorSession[] = [];
    for await (const page of paginateDescribeTrafficMirrorSessions({ client, pageSize: 1000 }, { ...input, Filters })) {
      sessions.push(...page.TrafficMirrorSessions ?? []);
    }
    return sessions;
  };
  return { ec2, client, create, modify, remove, list };
}

/** The AWS error an SDK call failed with (code, message, HTTP status), or 'ok'. */
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; status?: number } | 'ok'> {
  return p.then(() => 'ok' as const, (e: any) => ({ code: e.name, message: e.message, status: e.$metadata?.httpStatusCode }));
}
const codeOf = async (p: Promise<unknown>) => failure(p).then(f => f === 'ok' ? f : f.code);
const ids = (sessions: TrafficMirrorSession[]) => sessions.map(s => s.TrafficMirrorSessionId).sort();

describe('DescribeTrafficMirrorSessions API reference: documented filters', () => {
  /** Two sessions that differ in every filterable field. */
  async function twoSessions(options: Ec2MirrorModelOptions = {}) {
    const h = setup(options);
    const a = await h.create({ PacketLength: 100, VirtualNetworkId: 11, Description: 'alpha' });
    const b = await h.create({
      NetworkInterfaceId: 'eni-b',
      TrafficMirrorTargetId: 'tmt-2',
      TrafficMirrorFilterId: 'tmf-2',
      SessionNumber: 2,
      PacketLength: 200,
      VirtualNetworkId: 22,
      Description: 'beta',
    });
    return { ...h, a, b };
  }
  const valueOf: Record<typeof DOCUMENTED_SESSION_FILTERS[number], (s: TrafficMirrorSession) => unknown> = {
    'description': s => s.Description,
    'network-interface-id': s => s.NetworkInterfaceId,
    'owner-id': s => s.OwnerId,
    'packet-length': s => s.PacketLength,
    'session-number': s => s.SessionNumber,
    'traffic-mirror-filter-id': s => s.TrafficMirrorFilterId,
    'traffic-mirror-session-id': s => s.TrafficMirrorSessionId,
    'traffic-mirror-target-id': s => s.TrafficMirrorTargetId,
    'virtual-network-id': s => s.VirtualNetworkId,
  };

  test.each(DOCUMENTED_SESSION_FILTERS.filter(n => n !== 'owner-id'))('DescribeTrafficMirrorSessions API reference: filter %s selects by its value, compared as a string', async name => {
    const h = await twoSessions();
    expect(ids(await h.list([{ Name: name, Values: [String(valueOf[name](h.a))] }]))).toEqual([h.a.TrafficMirrorSessionId]);
    expect(ids(await h.list([{ Name: name, Values: [String(valueOf[name](h.a)), String(valueOf[name](h.b))] }]))).toHaveLength(2);
    expect(await h.list([{ Name: name, Values: ['no-such-value'] }])).toEqual([]);
  });

  test('DescribeTrafficMirrorSessions API reference: filter owner-id is the account that owns the sessions', async () => {
    const h = await twoSessions({ accountId: '111122223333' });
    expect(h.a.OwnerId).toBe('111122223333');
    expect(await h.list([{ Name: 'owner-id', Values: ['111122223333'] }])).toHaveLength(2);
    expect(await h.list([{ Name: 'owner-id', Values: ['123456789012'] }])).toEqual([]);
  });

  test('DescribeTrafficMirrorSessions API reference: every filter must match, and TrafficMirrorSessionId.N narrows too', async () => {
    const h = await twoSessions();
    expect(await h.list([{ Name: 'network-interface-id', Values: ['eni-a'] }, { Name: 'session-number', Values: ['2'] }])).toEqual([]);
    expect(ids(await h.list(undefined, { TrafficMirrorSessionIds: [h.b.TrafficMirrorSessionId!] }))).toEqual([h.b.TrafficMirrorSessionId]);
  });

  test('DescribeTrafficMirrorSessions API reference: a session without a packet length or description matches no value of those filters', async () => {
    const h = setup();
    await h.create();
    expect(await h.list([{ Name: 'packet-length', Values: ['0', ''] }])).toEqual([]);
    expect(await h.list([{ Name: 'description', Values: [''] }])).toEqual([]);
  });

  describe.each(TAG_FILTER_MODES)('with tag filters in mode %s', mode => {
    test('DescribeTrafficMirrorSessions API reference: a filter name it does not document is rejected', async () => {
      const h = await twoSessions({ tagFilters: mode });
      for (const name of ['tag-key', 'state', 'resource-id', 'SESSION-NUMBER']) {
        expect(await failure(h.list([{ Name: name, Values: ['x'] }]))).toEqual({ code: 'InvalidParameterValue', message: `The filter '${name}' is invalid`, status: 400 });
      }
    });

    test('DescribeTrafficMirrorSessions API reference: tag:KEY is undocumented, so it follows the mode', async () => {
      const h = setup({ tagFilters: mode });
      const owned = await h.create({ TagSpecifications: [{ ResourceType: 'traffic-mirror-session', Tags: [{ Key: 'owner', Value: 'me' }] }] });
      await h.create({ NetworkInterfaceId: 'eni-b', TagSpecifications: [{ ResourceType: 'traffic-mirror-session', Tags: [{ Key: 'owner', Value: 'other' }] }] });
      await h.create({ NetworkInterfaceId: 'eni-c' });
      const answer = await failure(h.list([{ Name: 'tag:owner', Values: ['me'] }]));
      if (mode === 'reject') {
        expect(answer).toEqual({ code: 'InvalidParameterValue', message: "The filter 'tag:owner' is invalid", status: 400 });
      } else {
        const found = await h.list([{ Name: 'tag:owner', Values: ['me'] }, { Name: 'traffic-mirror-target-id', Values: ['tmt-1'] }]);
        expect(ids(found)).toEqual(mode === 'honour' ? [owned.TrafficMirrorSessionId] : ids(await h.list()));
      }
    });
  });

  test('DescribeTrafficMirrorSessions API reference: the modes default to FAKE_EC2_TAG_FILTERS, then honour; a wrong value throws', () => {
    const saved = process.env.FAKE_EC2_TAG_FILTERS;
    try {
      delete process.env.FAKE_EC2_TAG_FILTERS;
      expect(new FakeEc2Endpoint().model.tagFilters).toBe('honour');
      process.env.FAKE_EC2_TAG_FILTERS = 'ignore';
      expect(new FakeEc2Endpoint().model.tagFilters).toBe('ignore');
      expect(new FakeEc2Endpoint({ tagFilters: 'reject' }).model.tagFilters).toBe('reject');
      process.env.FAKE_EC2_TAG_FILTERS = 'honor';
      expect(() => new FakeEc2Endpoint()).toThrow(/FAKE_EC2_TAG_FILTERS/);
    } finally {
      if (saved === undefined) delete process.env.FAKE_EC2_TAG_FILTERS; else process.env.FAKE_EC2_TAG_FILTERS = saved;
    }
  });

  test('DescribeTrafficMirrorSessions API reference: NextToken pages, MaxResults is honoured within 5-1000', async () => {
    const h = setup();
    for (let i = 0; i < 12; i++) await h.create({ NetworkInterfaceId: `eni-${i}` });
    const first = await h.client.send(new DescribeTrafficMirrorSessionsCommand({ MaxResults: 5 }));
    expect(first.TrafficMirrorSessions).toHaveLength(5);
    const second = await h.client.send(new DescribeTrafficMirrorSessionsCommand({ MaxResults: 1000, NextToken: first.NextToken }));
    expect(second.TrafficMirrorSessions).toHaveLength(7);
    expect(second.NextToken).toBeUndefined();
    for (const MaxResults of [4, 1001]) {
      expect(await codeOf(h.client.send(new DescribeTrafficMirrorSessionsCommand({ MaxResults })))).toBe('InvalidParameterValue');
    }
    expect(await codeOf(h.client.send(new DescribeTrafficMirrorSessionsCommand({ NextToken: 'garbage' })))).toBe('InvalidPaginationToken');
    h.ec2.describePageSize = 2;
    expect(await h.list()).toHaveLength(12);
    expect(h.ec2.count('DescribeTrafficMirrorSessions')).toBe(5 + 6);
  });

  test('TrafficMirrorSession API reference: describe returns packetLength, virtualNetworkId, description, ownerId, sessionNumber and tags', async () => {
    const h = setup();
    await h.create({ PacketLength: 128, VirtualNetworkId: 4242, Description: 'ids <feed>', TagSpecifications: [{ ResourceType: 'traffic-mirror-session', Tags: [{ Key: 'k', Value: 'v&w' }] }] });
    expect(await h.list()).toEqual([expect.objectContaining({
      NetworkInterfaceId: 'eni-a',
      TrafficMirrorTargetId: 'tmt-1',
      TrafficMirrorFilterId: 'tmf-1',
      SessionNumber: 1,
      OwnerId: '123456789012',
      PacketLength: 128,
      VirtualNetworkId: 4242,
      Description: 'ids <feed>',
      Tags: [{ Key: 'k', Value: 'v&w' }],
    })]);
  });

  test('TrafficMirrorSession API reference: a session put in the map without a VXLAN id shows a unique one, the same every time', async () => {
    const h = setup();
    const created = await h.create();
    h.ec2.sessions.set('tms-by-hand', { id: 'tms-by-hand', networkInterfaceId: 'eni-z', targetId: 'tmt-1', filterId: 'tmf-1', sessionNumber: 1, tags: {} });
    const first = (await h.list([{ Name: 'traffic-mirror-session-id', Values: ['tms-by-hand'] }]))[0].VirtualNetworkId;
    expect(first).toEqual(expect.any(Number));
    expect(first).not.toBe(created.VirtualNetworkId);
    expect(ids(await h.list([{ Name: 'virtual-network-id', Values: [String(first)] }]))).toEqual(['tms-by-hand']);
  });
});

describe.each(ERROR_SPELLINGS)('Error codes for the Amazon EC2 API, %s spelling', spelling => {
  const known = { knownTargets: new Set(['tmt-1', 'tmt-2']), knownFilters: new Set(['tmf-1', 'tmf-2']), errorSpelling: spelling };

  test('Error codes reference: the codes of each spelling', () => {
    expect(['target', 'filter', 'session'].map(k => notFoundCode(k as any, spelling))).toEqual(spelling === 'documented'
      ? ['InvalidTrafficMirrorTargetNoFound', 'InvalidTrafficMirrorFilterNotFound', 'InvalidTrafficMirrorSessionNotFound']
      : ['InvalidTrafficMirrorTargetId.NotFound', 'InvalidTrafficMirrorFilterId.NotFound', 'InvalidTrafficMirrorSessionId.NotFound']);
  });

  test('DeleteTrafficMirrorSession / ModifyTrafficMirrorSession API reference: a missing session is not found', async () => {
    const h = setup({ errorSpelling: spelling });
    const s = await h.create();
    await h.remove(s.TrafficMirrorSessionId!);
    expect(await failure(h.remove(s.TrafficMirrorSessionId!))).toMatchObject({ code: notFoundCode('session', spelling), status: 400 });
    expect(await codeOf(h.modify({ TrafficMirrorSessionId: s.TrafficMirrorSessionId!, Description: 'x' }))).toBe(notFoundCode('session', spelling));
  });

  test('CreateTrafficMirrorSession / ModifyTrafficMirrorSession API reference: a target or filter the account does not have is not found', async () => {
    const h = setup(known);
    expect(await codeOf(h.create({ TrafficMirrorTargetId: 'tmt-nope' }))).toBe(notFoundCode('target', spelling));
    expect(await codeOf(h.create({ TrafficMirrorFilterId: 'tmf-nope' }))).toBe(notFoundCode('filter', spelling));
    const s = await h.create();
    expect(await codeOf(h.modify({ TrafficMirrorSessionId: s.TrafficMirrorSessionId!, TrafficMirrorTargetId: 'tmt-nope' }))).toBe(notFoundCode('target', spelling));
    expect(await codeOf(h.modify({ TrafficMirrorSessionId: s.TrafficMirrorSessionId!, TrafficMirrorFilterId: 'tmf-nope' }))).toBe(notFoundCode('filter', spelling));
    expect((await h.modify({ TrafficMirrorSessionId: s.TrafficMirrorSessionId!, TrafficMirrorTargetId: 'tmt-2' })).TrafficMirrorTargetId).toBe('tmt-2');
  });

  test('CreateTrafficMirrorSession API reference: without known targets and filters, any id is accepted', async () => {
    const h = setup({ errorSpelling: spelling });
    expect(await codeOf(h.create({ TrafficMirrorTargetId: 'tmt-anything', TrafficMirrorFilterId: 'tmf-anything' }))).toBe('ok');
  });
});

test('Error codes reference: the spelling defaults to FAKE_EC2_ERROR_SPELLING, then documented', () => {
  const saved = process.env.FAKE_EC2_ERROR_SPELLING;
  try {
    delete process.env.FAKE_EC2_ERROR_SPELLING;
    expect(new FakeEc2Endpoint().model.errorSpelling).toBe('documented');
    process.env.FAKE_EC2_ERROR_SPELLING = 'dotted';
    expect(new FakeEc2Endpoint().model.errorSpelling).toBe('dotted');
    process.env.FAKE_EC2_ERROR_SPELLING = 'Dotted';
    expect(() => new FakeEc2Endpoint()).toThrow(/FAKE_EC2_ERROR_SPELLING/);
  } finally {
    if (saved === undefined) delete process.env.FAKE_EC2_ERROR_SPELLING; else process.env.FAKE_EC2_ERROR_SPELLING = saved;
  }
});

describe('Ensuring idempotency in Amazon EC2 API requests: ClientToken', () => {
  const tagged = (value: string) => ({ TagSpecifications: [{ ResourceType: 'traffic-mirror-session' as const, Tags: [{ Key: 'attempt', Value: value }] }] });
  const FULL = { ClientToken: 'tok', PacketLength: 100, VirtualNetworkId: 7, Description: 'd' };

  test('Ensuring idempotency: a replay after the session is deleted returns the original id and tags, and creates nothing', async () => {
    const h = setup();
    const first = await h.create({ ...FULL, ...tagged('1') });
    await h.remove(first.TrafficMirrorSessionId!);
    const again = await h.create({ ...FULL, ...tagged('2') });
    expect(again).toEqual(first);
    expect(again.Tags).toEqual([{ Key: 'attempt', Value: '1' }]);
    expect(h.ec2.sessions.size).toBe(0);
  });

  test('Ensuring idempotency: a replay after the session was modified returns it as created', async () => {
    const h = setup();
    const first = await h.create(FULL);
    await h.modify({ TrafficMirrorSessionId: first.TrafficMirrorSessionId!, Description: 'changed', SessionNumber: 9 });
    expect(await h.create(FULL)).toEqual(first);
    expect((await h.list())[0]).toMatchObject({ Description: 'changed', SessionNumber: 9 });
  });

  test('Ensuring idempotency: a replay with an omitted VirtualNetworkId gets the one EC2 chose', async () => {
    const h = setup();
    const first = await h.create({ ClientToken: 'tok' });
    expect((await h.create({ ClientToken: 'tok' })).VirtualNetworkId).toBe(first.VirtualNetworkId);
    expect(await codeOf(h.create({ ClientToken: 'tok', VirtualNetworkId: first.VirtualNetworkId }))).toBe('IdempotentParameterMismatch');
  });

  test.each<[string, Partial<CreateTrafficMirrorSessionCommandInput>]>([
    ['NetworkInterfaceId', { NetworkInterfaceId: 'eni-b' }],
    ['TrafficMirrorTargetId', { TrafficMirrorTargetId: 'tmt-2' }],
    ['TrafficMirrorFilterId', { TrafficMirrorFilterId: 'tmf-2' }],
    ['SessionNumber', { SessionNumber: 2 }],
    ['PacketLength', { PacketLength: 101 }],
    ['PacketLength omitted', { PacketLength: undefined }],
    ['VirtualNetworkId', { VirtualNetworkId: 8 }],
    ['Description', { Description: 'other' }],
    ['Description omitted', { Description: undefined }],
  ])('Ensuring idempotency: the same token with a different %s is IdempotentParameterMismatch, even after delete', async (_, change) => {
    const h = setup();
    const first = await h.create(FULL);
    expect(await failure(h.create({ ...FULL, ...change }))).toMatchObject({ code: 'IdempotentParameterMismatch', status: 400 });
    await h.remove(first.TrafficMirrorSessionId!);
    expect(await codeOf(h.create({ ...FULL, ...change }))).toBe('IdempotentParameterMismatch');
  });

  test('Ensuring idempotency: a create that failed is not remembered', async () => {
    const h = setup();
    h.ec2.deletedEnis.add('eni-a');
    expect(await codeOf(h.create({ ClientToken: 'tok' }))).toBe('InvalidNetworkInterfaceID.NotFound');
    h.ec2.deletedEnis.delete('eni-a');
    expect(await codeOf(h.create({ ClientToken: 'tok', SessionNumber: 2 }))).toBe('ok');
  });
});

describe('CreateTrafficMirrorSession API reference', () => {
  test('CreateTrafficMirrorSession API reference: PacketLength, VirtualNetworkId and Description are stored and returned', async () => {
    const h = setup();
    const s = await h.create({ PacketLength: 64, VirtualNetworkId: 0, Description: 'x' });
    expect(s).toMatchObject({ PacketLength: 64, VirtualNetworkId: 0, Description: 'x', OwnerId: '123456789012', SessionNumber: 1 });
    expect(h.ec2.sessions.get(s.TrafficMirrorSessionId!)).toMatchObject({ packetLength: 64, virtualNetworkId: 0, description: 'x' });
  });

  test('CreateTrafficMirrorSession API reference: omitted PacketLength mirrors the whole packet; omitted VirtualNetworkId is a unique 24-bit id', async () => {
    const h = setup();
    const sessions = [];
    for (let i = 0; i < 60; i++) sessions.push(await h.create({ NetworkInterfaceId: `eni-${i}` }));
    expect(sessions.every(s => s.PacketLength === undefined && s.Description === undefined)).toBe(true);
    const vnis = sessions.map(s => s.VirtualNetworkId!);
    expect(new Set(vnis).size).toBe(60);
    expect(vnis.every(v => Number.isInteger(v) && v > 0 && v < 2 ** 24)).toBe(true);
    // Random-looking, not 1, 2, 3.
    expect(vnis.slice(0, 3)).not.toEqual([1, 2, 3]);
  });

  test('CreateTrafficMirrorSession API reference: SessionNumber valid values are 1-32766', async () => {
    const h = setup();
    expect(await codeOf(h.create({ SessionNumber: 0 }))).toBe('InvalidParameterValue');
    expect(await codeOf(h.create({ SessionNumber: 32767 }))).toBe('InvalidParameterValue');
    expect(await codeOf(h.create({ SessionNumber: 1 }))).toBe('ok');
    expect(await codeOf(h.create({ SessionNumber: 32766 }))).toBe('ok');
    expect(await codeOf(h.create({ SessionNumber: undefined as any }))).toBe('MissingParameter');
  });

  test('CreateTrafficMirrorSession API reference: PacketLength is at least 1; NLB targets default to 8500 and refuse more', async () => {
    const h = setup({ nlbTargets: new Set(['tmt-nlb']) });
    expect(await codeOf(h.create({ PacketLength: 0 }))).toBe('InvalidParameterValue');
    expect(await codeOf(h.create({ PacketLength: 9001 }))).toBe('ok');
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-b', TrafficMirrorTargetId: 'tmt-nlb', PacketLength: 8501 }))).toBe('InvalidParameterValue');
    expect((await h.create({ NetworkInterfaceId: 'eni-b', TrafficMirrorTargetId: 'tmt-nlb' })).PacketLength).toBe(8500);
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-c', VirtualNetworkId: 2 ** 24 }))).toBe('InvalidParameterValue');
  });

  test('CreateTrafficMirrorSession API reference and VPC quotas: 3 sessions per ENI, each with its own session number', async () => {
    const h = setup();
    expect(await codeOf(h.create())).toBe('ok');
    expect(await failure(h.create())).toMatchObject({ code: 'InvalidParameterValue', message: 'The session number 1 is already in use on eni-a.' });
    await h.create({ SessionNumber: 2 });
    await h.create({ SessionNumber: 3 });
    expect(await codeOf(h.create({ SessionNumber: 4 }))).toBe('TrafficMirrorSessionsPerInterfaceLimitExceeded');
  });

  test('CreateTrafficMirrorSession: the fake refuses ENIs that are gone or unsupported, and scripted failures come first', async () => {
    const h = setup();
    h.ec2.deletedEnis.add('eni-gone');
    h.ec2.unsupportedEnis.add('eni-odd');
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-gone' }))).toBe('InvalidNetworkInterfaceID.NotFound');
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-odd' }))).toBe('NetworkInterfaceNotSupported');
    h.ec2.failNext('ModifyTrafficMirrorSession', { code: 'RequestLimitExceeded', status: 503 });
    expect(await codeOf(h.modify({ TrafficMirrorSessionId: 'tms-x' }))).toBe('RequestLimitExceeded');
    expect(h.ec2.calls).toEqual(['CreateTrafficMirrorSession', 'CreateTrafficMirrorSession', 'ModifyTrafficMirrorSession']);
  });
});

describe('the model\'s indexes follow the session map, however it is changed', () => {
  const byHand = (id: string, fields: Partial<FakeSession> = {}): FakeSession =>
    ({ id, networkInterfaceId: 'eni-z', targetId: 'tmt-1', filterId: 'tmf-1', sessionNumber: 1, tags: {}, ...fields });

  test('CreateTrafficMirrorSession API reference: sessions set, replaced, deleted and cleared by hand count for the per-interface rules', async () => {
    const h = setup();
    h.ec2.sessions.set('tms-hand', byHand('tms-hand'));
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-z' }))).toBe('InvalidParameterValue');
    h.ec2.sessions.set('tms-hand', byHand('tms-hand', { sessionNumber: 2 }));
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-z', SessionNumber: 2 }))).toBe('InvalidParameterValue');
    const one = await h.create({ NetworkInterfaceId: 'eni-z' });
    h.ec2.sessions.set('tms-hand-3', byHand('tms-hand-3', { sessionNumber: 3 }));
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-z', SessionNumber: 4 }))).toBe('TrafficMirrorSessionsPerInterfaceLimitExceeded');
    h.ec2.sessions.delete('tms-hand');
    expect(await codeOf(h.modify({ TrafficMirrorSessionId: one.TrafficMirrorSessionId!, SessionNumber: 3 }))).toBe('InvalidParameterValue');
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-z', SessionNumber: 2 }))).toBe('ok');
    h.ec2.sessions.clear();
    expect(await codeOf(h.create({ NetworkInterfaceId: 'eni-z', SessionNumber: 2 }))).toBe('ok');
  });

  test('Ensuring idempotency: a ClientToken of a session set by hand is remembered until the session is deleted', async () => {
    const h = setup();
    h.ec2.sessions.set('tms-hand', byHand('tms-hand', { clientToken: 'tok' }));
    expect((await h.create({ NetworkInterfaceId: 'eni-z', ClientToken: 'tok' })).TrafficMirrorSessionId).toBe('tms-hand');
    expect(await codeOf(h.create({ ClientToken: 'tok' }))).toBe('IdempotentParameterMismatch');
    h.ec2.sessions.delete('tms-hand');
    expect((await h.create({ NetworkInterfaceId: 'eni-z', ClientToken: 'tok' })).TrafficMirrorSessionId).not.toBe('tms-hand');
  });

  test('CreateTrafficMirrorSession API reference: a chosen VXLAN id skips one a session set by hand has, and not one it no longer has', async () => {
    const chosen = (await setup().create()).VirtualNetworkId!;
    const h = setup();
    h.ec2.sessions.set('tms-hand', byHand('tms-hand', { virtualNetworkId: chosen }));
    expect((await h.create()).VirtualNetworkId).not.toBe(chosen);
    const other = setup();
    other.ec2.sessions.set('tms-hand', byHand('tms-hand', { virtualNetworkId: chosen }));
    other.ec2.sessions.set('tms-hand', byHand('tms-hand', { virtualNetworkId: 1 }));
    expect((await other.create()).VirtualNetworkId).toBe(chosen);
  });

  test('quota checks see every session but the one being changed', () => {
    const sessions = new SessionMap();
    sessions.set('tms-1', byHand('tms-1', { networkInterfaceId: 'eni-a' }));
    sessions.set('tms-2', byHand('tms-2', { networkInterfaceId: 'eni-a', sessionNumber: 2 }));
    sessions.set('tms-3', byHand('tms-3', { networkInterfaceId: 'eni-b' }));
    const view = (others: OtherSessions) => [others.size, others.sourceCount('tmt-1'), others.isSource('tmt-1', 'eni-a'), others.isSource('tmt-1', 'eni-b')];
    expect(view(sessions.othersThan(undefined))).toEqual([3, 2, true, true]);
    expect(view(sessions.othersThan('tms-1'))).toEqual([2, 2, true, true]);
    expect(view(sessions.othersThan('tms-3'))).toEqual([2, 1, true, false]);
    expect(view(sessions.othersThan('tms-none'))).toEqual([3, 2, true, true]);
    expect(sessions.othersThan(undefined).sourceCount('tmt-none')).toBe(0);
  });

  test('DescribeTrafficMirrorSessions API reference: a network-interface-id filter lists its sessions in the map\'s order, each once', async () => {
    const h = setup();
    const a = (await h.create()).TrafficMirrorSessionId!;
    const b = (await h.create({ NetworkInterfaceId: 'eni-b' })).TrafficMirrorSessionId!;
    const c = (await h.create({ SessionNumber: 2 })).TrafficMirrorSessionId!;
    // Replacing a value keeps its place; deleting and setting again moves it last.
    h.ec2.sessions.set(b, { ...h.ec2.sessions.get(b)!, description: 'replaced' });
    const first = h.ec2.sessions.get(a)!;
    h.ec2.sessions.delete(a);
    h.ec2.sessions.set(a, first);
    const filtered = await h.list([{ Name: 'network-interface-id', Values: ['eni-a', 'eni-b', 'eni-a'] }]);
    expect(filtered.map(s => s.TrafficMirrorSessionId)).toEqual([b, c, a]);
    expect(filtered).toEqual(await h.list());
    expect(ids(await h.list([{ Name: 'network-interface-id', Values: ['eni-a'] }, { Name: 'network-interface-id', Values: ['eni-b'] }]))).toEqual([]);
  });
});

describe('ModifyTrafficMirrorSession API reference', () => {
  test.each<[string, Partial<ModifyTrafficMirrorSessionCommandInput>, Partial<TrafficMirrorSession>]>([
    ['TrafficMirrorTargetId', { TrafficMirrorTargetId: 'tmt-2' }, { TrafficMirrorTargetId: 'tmt-2' }],
    ['TrafficMirrorFilterId', { TrafficMirrorFilterId: 'tmf-2' }, { TrafficMirrorFilterId: 'tmf-2' }],
    ['PacketLength', { PacketLength: 300 }, { PacketLength: 300 }],
    ['SessionNumber', { SessionNumber: 5 }, { SessionNumber: 5 }],
    ['VirtualNetworkId', { VirtualNetworkId: 99 }, { VirtualNetworkId: 99 }],
    ['Description', { Description: 'new' }, { Description: 'new' }],
  ])('ModifyTrafficMirrorSession API reference: %s changes, the rest stays', async (_, change, expected) => {
    const h = setup();
    const s = await h.create({ PacketLength: 100, VirtualNetworkId: 7, Description: 'old' });
    const answer = await h.modify({ TrafficMirrorSessionId: s.TrafficMirrorSessionId!, ...change });
    expect(answer).toEqual({ ...s, ...expected });
    expect(await h.list()).toEqual([answer]);
  });

  test('ModifyTrafficMirrorSession API reference: RemoveField.N sets packet-length, description and virtual-network-id to their defaults', async () => {
    const h = setup({ nlbTargets: new Set(['tmt-nlb']) });
    const s = await h.create({ PacketLength: 100, VirtualNetworkId: 7, Description: 'old' });
    const removed = await h.modify({ TrafficMirrorSessionId: s.TrafficMirrorSessionId!, RemoveFields: ['packet-length', 'description', 'virtual-network-id'] });
    expect(removed.PacketLength).toBeUndefined();
    expect(removed.Description).toBeUndefined();
    expect(removed.VirtualNetworkId).toEqual(expect.any(Number));
    expect(removed.VirtualNetworkId).not.toBe(7);
    const nlb = await h.modify({ TrafficMirrorSessionId: s.TrafficMirrorSessionId!, TrafficMirrorTargetId: 'tmt-nlb', PacketLength: 50 });
    expect(nlb.PacketLength).toBe(50);
    expect((await h.modify({ TrafficMirrorSessionId: s.TrafficMirrorSessionId!, RemoveFields: ['packet-length'] })).PacketLength).toBe(8500);
  });

  test('ModifyTrafficMirrorSession API reference: invalid RemoveField values and values out of range are InvalidParameterValue', async () => {
    const h = setup({ nlbTargets: new Set(['tmt-nlb']) });
    const id = (await h.create()).TrafficMirrorSessionId!;
    for (const change of [
      { RemoveFields: ['session-number' as any] }, { SessionNumber: 0 }, { SessionNumber: 32767 }, { PacketLength: 0 },
      { TrafficMirrorTargetId: 'tmt-nlb', PacketLength: 8501 }, { VirtualNetworkId: -1 },
    ]) {
      expect(await codeOf(h.modify({ TrafficMirrorSessionId: id, ...change }))).toBe('InvalidParameterValue');
    }
    expect(await codeOf(h.modify({ TrafficMirrorSessionId: id, Description: 'x', RemoveFields: ['description'] }))).toBe('InvalidParameterCombination');
  });

  test('ModifyTrafficMirrorSession API reference: a session number another session on the ENI uses is refused as on create', async () => {
    const h = setup();
    await h.create();
    const second = await h.create({ SessionNumber: 2 });
    await h.create({ NetworkInterfaceId: 'eni-b', SessionNumber: 3 });
    expect(await failure(h.modify({ TrafficMirrorSessionId: second.TrafficMirrorSessionId!, SessionNumber: 1 })))
      .toMatchObject({ code: 'InvalidParameterValue', message: 'The session number 1 is already in use on eni-a.' });
    expect((await h.modify({ TrafficMirrorSessionId: second.TrafficMirrorSessionId!, SessionNumber: 3 })).SessionNumber).toBe(3);
    expect((await h.modify({ TrafficMirrorSessionId: second.TrafficMirrorSessionId!, SessionNumber: 3 })).SessionNumber).toBe(3);
    expect(await codeOf(h.modify({ TrafficMirrorSessionId: undefined as any }))).toBe('MissingParameter');
    expect(h.ec2.count('ModifyTrafficMirrorSession')).toBe(4);
  });
});
