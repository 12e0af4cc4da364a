import { HttpResponse } from '@smithy/protocol-http';
import { describeSessions } from './ec2-describe';
import {
  ErrorSpelling, ERROR_SPELLINGS, FakeSession, interfaceRuleError, invalidValue, missing, modeFromEnv, NLB_PACKET_LENGTH, notFound,
  packetLengthError, REMOVABLE_SESSION_FIELDS, sessionNumberError, sessionNumberInUse, TagFilterMode, TAG_FILTER_MODES, VNI_SPACE, vniError,
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
}

/** What a fake may refuse on top of the model's rules, for Create and Modify. */
export interface SessionChecks {
  /** Refuses a source ENI (it does not exist, or cannot be mirrored); asked before the per-interface rules. */
  readonly source?: (eni: string) => HttpResponse | undefined;
  /**
   * Refuses on quotas the fake keeps; asked last, for Modify only when the target changes.
   * `session` is the session as it would be (on Create still without an id); `others`: every other session.
   */
  readonly limits?: (action: 'create' | 'modify', session: FakeSession, others: readonly FakeSession[]) => HttpResponse | undefined;
  /** Sessions per DescribeTrafficMirrorSessions page at most (a fake's knob for testing pagination). @default 1000 */
  readonly pageSize?: number;
}

/** The CreateTrafficMirrorSession parameters EC2 compares when a ClientToken is repeated. */
interface CreateParameters {
  readonly networkInterfaceId: string;
  readonly targetId: string;
  readonly filterId: string;
  readonly sessionNumber: number;
  readonly packetLength?: number;
  readonly virtualNetworkId?: number;
  readonly description?: string;
}

const COMPARED: ReadonlyArray<keyof CreateParameters> = [
  'networkInterfaceId', 'targetId', 'filterId', 'sessionNumber', 'packetLength', 'virtualNetworkId', 'description',
];

/**
 * The traffic mirroring sessions of one EC2 account and region, answering Create, Delete, Modify
 * and Describe requests as EC2 Query protocol responses. Both fakes delegate their EC2 semantics
 * here; they add only what is theirs (scripted failures, throttling, which ENIs exist, quotas).
 */
export class Ec2MirrorModel {
  public readonly sessions = new Map<string, FakeSession>();
  public readonly accountId: string;
  public tagFilters: TagFilterMode;
  public errorSpelling: ErrorSpelling;
  public readonly knownTargets?: Set<string>;
  public readonly knownFilters?: Set<string>;
  public readonly nlbTargets: Set<string>;
  /** Every successful create with a ClientToken: its parameters and the session as created. */
  private readonly tokens = new Map<string, { readonly request: CreateParameters; readonly session: FakeSession }>();
  /** VXLAN ids handed to sessions that were put in the map without one. */
  private readonly lateVnis = new Map<string, number>();
  private nextId = 1;
  private nextVni = 1;

  constructor(options: Ec2MirrorModelOptions = {}) {
    this.accountId = options.accountId ?? '123456789012';
    this.tagFilters = options.tagFilters ?? modeFromEnv('FAKE_EC2_TAG_FILTERS', TAG_FILTER_MODES, 'honour');
    this.errorSpelling = options.errorSpelling ?? modeFromEnv('FAKE_EC2_ERROR_SPELLING', ERROR_SPELLINGS, 'documented');
    this.knownTargets = options.knownTargets;
    this.knownFilters = options.knownFilters;
    this.nlbTargets = options.nlbTargets ?? new Set();
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
      ?? interfaceRuleError([...this.sessions.values()], eni, sessionNumber);
    if (refused) return refused;
    // Ids are handed out only to sessions that are created, so refusals do not shift them.
    const draft: FakeSession = { ...parsed, id: '', clientToken: token, tags: requestTags(params) };
    const limited = checks.limits?.('create', draft, [...this.sessions.values()]);
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
    const others = [...this.sessions.values()].filter(s => s.id !== id);
    const refused = this.unknownTargetOrFilter(targetId, filterId)
      ?? sessionNumberError(sessionNumber)
      ?? packetLengthError(packetLength, this.nlbTargets.has(targetId))
      ?? vniError(virtualNetworkId)
      ?? (others.some(s => s.networkInterfaceId === current.networkInterfaceId && s.sessionNumber === sessionNumber)
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
    const limited = targetId === current.targetId ? undefined : checks.limits?.('modify', updated, others);
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
    const live = [...this.sessions.values()].find(s => s.clientToken === token);
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
      if (vni !== 0 && ![...this.sessions.values()].some(s => s.virtualNetworkId === vni)) return vni;
    }
  }
}
