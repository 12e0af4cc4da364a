import { HttpResponse } from '@smithy/protocol-http';
import { describeSessions } from './ec2-describe';
import {
  ErrorSpelling, ERROR_SPELLINGS, FakeSession, interfaceRuleError, invalidValue, missing, modeFromEnv, NLB_PACKET_LENGTH, notFound,
  packetLengthError, REMOVABLE_SESSION_FIELDS, sessionNumberError, sessionNumberInUse, TagFilterMode, TAG_FILTER_MODES, targetFull,
  TargetLimitCode, TARGET_LIMIT_CODES, VNI_SPACE, vniError,
} from './ec2-mirror-rules';
import { element, error, optionalInt, queryList, requestTags, xml } from './ec2-query';

export * from './ec2-mirror-rules';

/** Options of the EC2 traffic mirroring model. */
export interface Ec2MirrorModelOptions {
  /** The account owning every session (`ownerId`, the `owner-id` filter). @default '123456789012' */
  readonly accountId?: string;
  /** How `tag:` filters are treated. @default env FAKE_EC2_TAG_FILTERS, else 'honour' */
  readonly tagFilters?: TagFilterMode;
  /** How "does not exist" codes are spelt. @default env FAKE_EC2_ERROR_SPELLING, else 'documented' */
  readonly errorSpelling?: ErrorSpelling;
  /** The targets that exist; others are refused as not found. @default any id is accepted */
  readonly knownTargets?: Set<string>;
  /** The filters that exist; others are refused as not found. @default any id is accepted */
  readonly knownFilters?: Set<string>;
  /** Targets that are Network Load Balancers (PacketLength defaults to, and is at most, 8500). */
  readonly nlbTargets?: Set<string>;
  /**
   * Distinct source ENIs each target accepts (Traffic Mirroring quotas: an ENI target 10, or 100
   * on the largest instance sizes; NLB and GWLB endpoint targets no limit). @default no limit
   */
  readonly targetSourceLimits?: ReadonlyMap<string, number>;
  /** The limit of every target not in `targetSourceLimits`. @default no limit */
  readonly defaultTargetSourceLimit?: number;
  /** Which documented code a full target answers. @default env FAKE_EC2_TARGET_LIMIT_CODE, else 'sources' */
  readonly targetLimitCode?: TargetLimitCode;
}

/** What a fake may refuse on top of the model's rules, for Create and Modify. */
export interface SessionChecks {
  /** Refuses a source ENI (it does not exist, or cannot be mirrored); asked before the per-interface rules. */
  readonly source?: (eni: string) => HttpResponse | undefined;
  /**
   * Refuses on quotas the fake keeps; asked last, for Modify only when the target changes.
   * `session` is the session as it would be (on Create still without an id); `others`: every other session.
   */
  readonly limits?: (action: 'create' | 'modify', session: FakeSession, others: OtherSessions) => HttpResponse | undefined;
  /** Sessions per DescribeTrafficMirrorSessions page at most (a fake's knob for testing pagination). @default 1000 */
  readonly pageSize?: number;
}

/** The CreateTrafficMirrorSession parameters EC2 compares when a ClientToken is repeated. */
type CreateParameters = Pick<FakeSession, 'networkInterfaceId' | 'targetId' | 'filterId' | 'sessionNumber' | 'packetLength' | 'virtualNetworkId' | 'description'>;

const COMPARED: ReadonlyArray<keyof CreateParameters> = [
  'networkInterfaceId', 'targetId', 'filterId', 'sessionNumber', 'packetLength', 'virtualNetworkId', 'description',
];

/**
 * Every session but the one being created or modified, as a quota check needs them: answered
 * from {@link SessionMap}'s indexes, so a check costs the same with 10 sessions or 10,000.
 */
export interface OtherSessions {
  /** How many there are. */
  readonly size: number;
  /** How many distinct source ENIs have a session to the target. */
  sourceCount(targetId: string): number;
  /** Whether the ENI has a session to the target. */
  isSource(targetId: string, eni: string): boolean;
}

/** Sessions grouped by one of their fields: each group by session id (the map's key). */
class SessionGroups<K> {
  private readonly groups = new Map<K, Map<string, FakeSession>>();

  /** The group of a key; empty when no session has it. */
  public get(key: K): ReadonlyMap<string, FakeSession> {
    return this.groups.get(key) ?? EMPTY_GROUP;
  }

  public add(key: K, id: string, session: FakeSession): void {
    const group = this.groups.get(key);
    if (group) group.set(id, session);
    else this.groups.set(key, new Map([[id, session]]));
  }

  public remove(key: K, id: string): void {
    const group = this.groups.get(key);
    group?.delete(id);
    if (group?.size === 0) this.groups.delete(key);
  }

  public clear(): void {
    this.groups.clear();
  }
}

const EMPTY_GROUP: ReadonlyMap<string, FakeSession> = new Map();

/** How many times each key occurs: a multiset. */
class Counts<K> {
  private readonly counts = new Map<K, number>();

  /** Distinct keys. */
  public get size(): number {
    return this.counts.size;
  }

  public get(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  public add(key: K): void {
    this.counts.set(key, this.get(key) + 1);
  }

  public remove(key: K): void {
    const left = this.get(key) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }

  public clear(): void {
    this.counts.clear();
  }
}

/**
 * The sessions by id, in the order a `Map` keeps (insertion; replacing a value keeps its place),
 * with indexes that `set`, `delete` and `clear` keep up to date — so tests may still add and
 * remove entries directly, and the model answers a request without scanning every session:
 * by source ENI, by ClientToken, the source ENIs of each target, and the VXLAN ids in use.
 * Lists drawn from an index come in the map's own order, so answers do not depend on it.
 * Sessions are immutable (changes replace them), so a value's fields never change under an index.
 */
export class SessionMap extends Map<string, FakeSession> {
  /** Each key's place in the map's order: a counter value taken when the key was inserted. */
  private readonly rank = new Map<string, number>();
  private nextRank = 0;
  private readonly byInterface = new SessionGroups<string>();
  private readonly byToken = new SessionGroups<string>();
  /** Per target: how many sessions each source ENI has to it. */
  private readonly sources = new Map<string, Counts<string>>();
  /** Explicit VXLAN ids (`virtualNetworkId`) of the sessions, with how many have each. */
  private readonly vnis = new Counts<number>();

  /** An empty map (filled through `set`, once the indexes exist). */
  constructor() {
    super();
  }

  public override set(id: string, session: FakeSession): this {
    if (super.has(id)) this.unindex(id, super.get(id)!);
    else this.rank.set(id, this.nextRank++);
    super.set(id, session);
    this.index(id, session);
    return this;
  }

  public override delete(id: string): boolean {
    if (!super.has(id)) return false;
    this.unindex(id, super.get(id)!);
    this.rank.delete(id);
    return super.delete(id);
  }

  public override clear(): void {
    super.clear();
    this.rank.clear();
    this.byInterface.clear();
    this.byToken.clear();
    this.sources.clear();
    this.vnis.clear();
  }

  /** The sessions on a source ENI, as `[id, session]` in the map's order. */
  public entriesOnInterface(eni: string): Array<[string, FakeSession]> {
    return this.ordered(this.byInterface.get(eni).entries());
  }

  /** The sessions on a source ENI, in the map's order. */
  public onInterface(eni: string): FakeSession[] {
    return this.entriesOnInterface(eni).map(([, s]) => s);
  }

  /** The sessions on any of the ENIs, each once, in the map's order. */
  public onInterfaces(enis: readonly string[]): FakeSession[] {
    const found = new Map<string, FakeSession>();
    for (const eni of new Set(enis)) for (const [id, s] of this.byInterface.get(eni)) found.set(id, s);
    return this.ordered(found.entries()).map(([, s]) => s);
  }

  /** The first session, in the map's order, with the ClientToken. */
  public withToken(token: string): FakeSession | undefined {
    return this.ordered(this.byToken.get(token).entries())[0]?.[1];
  }

  /** Whether a session has the VXLAN id explicitly (`virtualNetworkId`). */
  public hasVni(vni: number): boolean {
    return this.vnis.get(vni) > 0;
  }

  /**
   * Every session but the one with the id (none left out when undefined), for quota checks.
   * Like a filter on `s.id !== id`, assuming each session is stored under its own id.
   */
  public othersThan(id: string | undefined): OtherSessions {
    const left = id === undefined ? undefined : this.get(id);
    /** How many sessions of the ENI to the target are left out: 0 or 1. */
    const leftOut = (targetId: string, eni: string) => (left?.targetId === targetId && left.networkInterfaceId === eni ? 1 : 0);
    return {
      size: this.size - (left ? 1 : 0),
      sourceCount: targetId => {
        const counts = this.sources.get(targetId);
        if (!counts) return 0;
        const gone = left?.targetId === targetId && counts.get(left.networkInterfaceId) === 1 ? 1 : 0;
        return counts.size - gone;
      },
      isSource: (targetId, eni) => (this.sources.get(targetId)?.get(eni) ?? 0) - leftOut(targetId, eni) > 0,
    };
  }

  /** Entries sorted into the map's order (groups are small: sessions of one ENI or token). */
  private ordered(entries: Iterable<[string, FakeSession]>): Array<[string, FakeSession]> {
    return [...entries].sort(([a], [b]) => this.rank.get(a)! - this.rank.get(b)!);
  }

  private index(id: string, s: FakeSession): void {
    this.byInterface.add(s.networkInterfaceId, id, s);
    if (s.clientToken !== undefined) this.byToken.add(s.clientToken, id, s);
    let counts = this.sources.get(s.targetId);
    if (!counts) this.sources.set(s.targetId, counts = new Counts());
    counts.add(s.networkInterfaceId);
    if (s.virtualNetworkId !== undefined) this.vnis.add(s.virtualNetworkId);
  }

  private unindex(id: string, s: FakeSession): void {
    this.byInterface.remove(s.networkInterfaceId, id);
    if (s.clientToken !== undefined) this.byToken.remove(s.clientToken, id);
    const counts = this.sources.get(s.targetId)!;
    counts.remove(s.networkInterfaceId);
    if (counts.size === 0) this.sources.delete(s.targetId);
    if (s.virtualNetworkId !== undefined) this.vnis.remove(s.virtualNetworkId);
  }
}

/**
 * The traffic mirroring sessions of one EC2 account and region, answering Create, Delete, Modify
 * and Describe requests as EC2 Query protocol responses. Both fakes delegate their EC2 semantics
 * here; they add only what is theirs (scripted failures, throttling, which ENIs exist, quotas).
 */
export class Ec2MirrorModel {
  /** The sessions by id, indexed; tests may add and remove entries directly. */
  public readonly sessions = new SessionMap();
  public readonly accountId: string;
  public tagFilters: TagFilterMode;
  public errorSpelling: ErrorSpelling;
  public readonly knownTargets?: Set<string>;
  public readonly knownFilters?: Set<string>;
  public readonly nlbTargets: Set<string>;
  public targetLimitCode: TargetLimitCode;
  /** Every successful create with a ClientToken: its parameters and the session as created. */
  private readonly tokens = new Map<string, { readonly request: CreateParameters; readonly session: FakeSession }>();
  /** VXLAN ids handed to sessions that were put in the map without one. */
  private readonly lateVnis = new Map<string, number>();
  private nextId = 1;
  private nextVni = 1;

  constructor(private readonly options: Ec2MirrorModelOptions = {}) {
    this.accountId = options.accountId ?? '123456789012';
    this.tagFilters = options.tagFilters ?? modeFromEnv('FAKE_EC2_TAG_FILTERS', TAG_FILTER_MODES, 'honour');
    this.errorSpelling = options.errorSpelling ?? modeFromEnv('FAKE_EC2_ERROR_SPELLING', ERROR_SPELLINGS, 'documented');
    this.knownTargets = options.knownTargets;
    this.knownFilters = options.knownFilters;
    this.nlbTargets = options.nlbTargets ?? new Set();
    this.targetLimitCode = options.targetLimitCode ?? modeFromEnv('FAKE_EC2_TARGET_LIMIT_CODE', TARGET_LIMIT_CODES, 'sources');
  }

  /** The sources a target accepts, if it has a limit. */
  public targetSourceLimit(targetId: string): number | undefined {
    return this.options.targetSourceLimits?.get(targetId) ?? this.options.defaultTargetSourceLimit;
  }

  /** A full target's answer when the session would add a source to it, or undefined. */
  private targetLimitError(session: FakeSession, others: OtherSessions): HttpResponse | undefined {
    const limit = this.targetSourceLimit(session.targetId);
    if (limit === undefined || others.isSource(session.targetId, session.networkInterfaceId)) return undefined;
    return others.sourceCount(session.targetId) >= limit ? targetFull(this.targetLimitCode, session.targetId, limit) : undefined;
  }

  /** The answer to one request of any traffic mirror session action. */
  public answer(params: URLSearchParams, checks: SessionChecks = {}): HttpResponse {
    const action = params.get('Action') ?? '';
    switch (action) {
      case 'CreateTrafficMirrorSession': return this.create(params, checks);
      case 'DeleteTrafficMirrorSession': return this.delete(params);
      case 'ModifyTrafficMirrorSession': return this.modify(params, checks);
      case 'DescribeTrafficMirrorSessions': return describeSessions(this, params, checks.pageSize);
      default: return error(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  /**
   * CreateTrafficMirrorSession. A ClientToken seen before (EC2 "Ensuring idempotency") returns the
   * original result when every parameter is the same — even after that session was modified or
   * deleted — and `IdempotentParameterMismatch` when any differs.
   */
  public create(params: URLSearchParams, checks: SessionChecks = {}): HttpResponse {
    const parsed = this.createParameters(params);
    if (parsed instanceof HttpResponse) return parsed;
    const token = params.get('ClientToken') ?? undefined;
    const remembered = token === undefined ? undefined : this.remembered(token, parsed);
    if (remembered) {
      // Tags (TagSpecification) are not compared: the docs do not say they take part, and
      // leaving them out lets a replay that carries a per-request tag still get the original.
      const same = COMPARED.every(key => remembered.request[key] === parsed[key]);
      return same ? xml(200, this.createXml(remembered.session)) : error(400, 'IdempotentParameterMismatch', 'The client token was already used with different parameters.');
    }
    const { networkInterfaceId: eni, sessionNumber } = parsed;
    const refused = this.unknownTargetOrFilter(parsed.targetId, parsed.filterId)
      ?? checks.source?.(eni)
      ?? interfaceRuleError(this.sessions.onInterface(eni), eni, sessionNumber);
    if (refused) return refused;
    // Ids are handed out only to sessions that are created, so refusals do not shift them.
    const draft: FakeSession = { ...parsed, id: '', clientToken: token, tags: requestTags(params) };
    const others = this.sessions.othersThan(undefined);
    const limited = checks.limits?.('create', draft, others) ?? this.targetLimitError(draft, others);
    if (limited) return limited;
    const session: FakeSession = {
      ...draft,
      id: this.newSessionId(),
      // CreateTrafficMirrorSession API reference: NLB targets default to 8500; others mirror the whole packet.
      packetLength: parsed.packetLength ?? (this.nlbTargets.has(parsed.targetId) ? NLB_PACKET_LENGTH : undefined),
      // "If you do not specify a VirtualNetworkId, an account-wide unique id is chosen at random."
      virtualNetworkId: parsed.virtualNetworkId ?? this.newVni(),
    };
    this.sessions.set(session.id, session);
    if (token !== undefined) this.tokens.set(token, { request: parsed, session: { ...session, tags: { ...session.tags } } });
    return xml(200, this.createXml(session));
  }

  /** DeleteTrafficMirrorSession: a missing session is "not found" in the configured spelling. */
  public delete(params: URLSearchParams): HttpResponse {
    const id = params.get('TrafficMirrorSessionId');
    if (id === null) return missing('TrafficMirrorSessionId');
    if (!this.sessions.delete(id)) return notFound('session', this.errorSpelling, id);
    return xml(200, `<DeleteTrafficMirrorSessionResponse><requestId>r</requestId>${element('trafficMirrorSessionId', id)}</DeleteTrafficMirrorSessionResponse>`);
  }

  /**
   * ModifyTrafficMirrorSession (API reference): sets any of target, filter, packet length,
   * session number, VXLAN id and description; RemoveField.N sets a field back to its default.
   */
  public modify(params: URLSearchParams, checks: SessionChecks = {}): HttpResponse {
    const id = params.get('TrafficMirrorSessionId');
    if (id === null) return missing('TrafficMirrorSessionId');
    const current = this.sessions.get(id);
    if (!current) return notFound('session', this.errorSpelling, id);
    const remove = new Set(queryList(params, 'RemoveField'));
    const wrongField = [...remove].find(f => !(REMOVABLE_SESSION_FIELDS as readonly string[]).includes(f));
    if (wrongField !== undefined) return invalidValue(`The field '${wrongField}' cannot be removed. Valid values are ${REMOVABLE_SESSION_FIELDS.join(', ')}.`);
    const packetLength = optionalInt(params, 'PacketLength');
    const virtualNetworkId = optionalInt(params, 'VirtualNetworkId');
    const description = params.get('Description') ?? undefined;
    const given = { 'packet-length': packetLength, 'virtual-network-id': virtualNetworkId, 'description': description };
    // Not documented either way; refusing a field that is both set and removed keeps a client
    // from relying on whichever order EC2 might apply them in.
    const both = REMOVABLE_SESSION_FIELDS.find(f => remove.has(f) && given[f] !== undefined);
    if (both) return error(400, 'InvalidParameterCombination', `The field '${both}' cannot be both set and removed.`);
    const targetId = params.get('TrafficMirrorTargetId') ?? current.targetId;
    const filterId = params.get('TrafficMirrorFilterId') ?? current.filterId;
    const sessionNumber = optionalInt(params, 'SessionNumber') ?? current.sessionNumber;
    const refused = this.unknownTargetOrFilter(targetId, filterId)
      ?? sessionNumberError(sessionNumber)
      ?? packetLengthError(packetLength, this.nlbTargets.has(targetId))
      ?? vniError(virtualNetworkId)
      ?? (this.sessions.onInterface(current.networkInterfaceId).some(s => s.id !== id && s.sessionNumber === sessionNumber)
        ? sessionNumberInUse(current.networkInterfaceId, sessionNumber) : undefined);
    if (refused) return refused;
    const nlbDefault = this.nlbTargets.has(targetId) ? NLB_PACKET_LENGTH : undefined;
    const updated: FakeSession = {
      ...current,
      targetId,
      filterId,
      sessionNumber,
      // "When you remove a property from a Traffic Mirror session, the property is set to the default."
      packetLength: remove.has('packet-length') ? nlbDefault : packetLength ?? current.packetLength,
      virtualNetworkId: remove.has('virtual-network-id') ? this.newVni() : virtualNetworkId ?? this.vniOf(current),
      description: remove.has('description') ? undefined : description ?? current.description,
    };
    const others = this.sessions.othersThan(id);
    const limited = targetId === current.targetId ? undefined : checks.limits?.('modify', updated, others) ?? this.targetLimitError(updated, others);
    if (limited) return limited;
    this.sessions.set(id, updated);
    return xml(200, `<ModifyTrafficMirrorSessionResponse><requestId>r</requestId><trafficMirrorSession>${this.sessionXml(updated)}</trafficMirrorSession></ModifyTrafficMirrorSessionResponse>`);
  }

  /**
   * A session put in place without an API call (another tool's, or one that existed before a
   * test began). It gets an id and a VXLAN id unless given.
   */
  public put(fields: Omit<FakeSession, 'id'> & { readonly id?: string }): FakeSession {
    const session: FakeSession = { ...fields, id: fields.id ?? this.newSessionId(), virtualNetworkId: fields.virtualNetworkId ?? this.newVni() };
    this.sessions.set(session.id, session);
    return session;
  }

  /** A session's VXLAN id; one put in the map without one gets a unique id the first time. */
  public vniOf(session: FakeSession): number {
    if (session.virtualNetworkId !== undefined) return session.virtualNetworkId;
    let vni = this.lateVnis.get(session.id);
    if (vni === undefined) {
      vni = this.newVni();
      this.lateVnis.set(session.id, vni);
    }
    return vni;
  }

  /** A session id in EC2's format, never handed out before by this model. */
  public newSessionId(): string {
    return `tms-${(this.nextId++).toString(16).padStart(17, '0')}`;
  }

  /** The `<trafficMirrorSession>` members, with the element names the SDK's deserializer reads. */
  public sessionXml(s: FakeSession): string {
    const tags = Object.entries(s.tags).map(([k, v]) => `<item>${element('key', k)}${element('value', v)}</item>`).join('');
    return element('trafficMirrorSessionId', s.id) + element('trafficMirrorTargetId', s.targetId)
      + element('trafficMirrorFilterId', s.filterId) + element('networkInterfaceId', s.networkInterfaceId)
      + element('ownerId', this.accountId) + element('packetLength', s.packetLength) + element('sessionNumber', s.sessionNumber)
      + element('virtualNetworkId', this.vniOf(s)) + element('description', s.description) + `<tagSet>${tags}</tagSet>`;
  }

  private createXml(s: FakeSession): string {
    return `<CreateTrafficMirrorSessionResponse><requestId>r</requestId><trafficMirrorSession>${this.sessionXml(s)}</trafficMirrorSession>`
      + `${element('clientToken', s.clientToken)}</CreateTrafficMirrorSessionResponse>`;
  }

  /** The request's parameters, or the answer refusing a missing or malformed one. */
  private createParameters(params: URLSearchParams): CreateParameters | HttpResponse {
    for (const name of ['NetworkInterfaceId', 'TrafficMirrorTargetId', 'TrafficMirrorFilterId', 'SessionNumber']) {
      if (!params.has(name)) return missing(name);
    }
    const request: CreateParameters = {
      networkInterfaceId: params.get('NetworkInterfaceId')!,
      targetId: params.get('TrafficMirrorTargetId')!,
      filterId: params.get('TrafficMirrorFilterId')!,
      sessionNumber: optionalInt(params, 'SessionNumber')!,
      packetLength: optionalInt(params, 'PacketLength'),
      virtualNetworkId: optionalInt(params, 'VirtualNetworkId'),
      description: params.get('Description') ?? undefined,
    };
    return sessionNumberError(request.sessionNumber)
      ?? packetLengthError(request.packetLength, this.nlbTargets.has(request.targetId))
      ?? vniError(request.virtualNetworkId)
      ?? request;
  }

  /**
   * The remembered create for a token. A session put in place with a token counts as one; its
   * optional request parameters are unknown, so only the required ones are compared.
   */
  private remembered(token: string, request: CreateParameters): { readonly request: CreateParameters; readonly session: FakeSession } | undefined {
    const known = this.tokens.get(token);
    if (known) return known;
    const live = this.sessions.withToken(token);
    if (!live) return undefined;
    const { networkInterfaceId, targetId, filterId, sessionNumber } = live;
    return { request: { ...request, networkInterfaceId, targetId, filterId, sessionNumber }, session: live };
  }

  private unknownTargetOrFilter(targetId: string, filterId: string): HttpResponse | undefined {
    if (this.knownTargets && !this.knownTargets.has(targetId)) return notFound('target', this.errorSpelling, targetId);
    if (this.knownFilters && !this.knownFilters.has(filterId)) return notFound('filter', this.errorSpelling, filterId);
    return undefined;
  }

  /**
   * A fresh VXLAN id: a counter through an odd multiplier modulo 2^24, which visits every 24-bit
   * value once in a random-looking order, skipping 0 and any id a session was given explicitly.
   */
  private newVni(): number {
    for (;;) {
      const vni = (this.nextVni++ * 2_654_435 + 7_340_033) % VNI_SPACE;
      if (vni !== 0 && !this.sessions.hasVni(vni)) return vni;
    }
  }
}
