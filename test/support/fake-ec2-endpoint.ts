import { Readable } from 'stream';
import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { bodyText } from './body-text';

/** A session as the fake EC2 endpoint stores it. */
export interface FakeSession {
  readonly id: string;
  readonly networkInterfaceId: string;
  readonly targetId: string;
  readonly filterId: string;
  readonly sessionNumber: number;
  readonly clientToken?: string;
  readonly tags: Record<string, string>;
}

/** A scripted answer: an AWS error code and HTTP status, returned instead of the real result. */
export interface FakeFailure {
  readonly code: string;
  readonly status: number;
  readonly message?: string;
}

/**
 * An in-process stand-in for the EC2 Query API's traffic mirroring calls, plugged into a real
 * `EC2Client` as its request handler. The real SDK serializes every request, parses every XML
 * answer and applies its own retry policy, so tests exercise the same code paths as in Lambda.
 */
export class FakeEc2Endpoint {
  public readonly sessions = new Map<string, FakeSession>();
  /** Every request, by action, in order. */
  public readonly calls: string[] = [];
  /** Answers to return before normal processing, consumed one per request of that action. */
  public readonly failures = new Map<string, FakeFailure[]>();
  public describePageSize = 1000;
  /** ENIs that no longer exist: creating a session on one fails like EC2 does. */
  public readonly deletedEnis = new Set<string>();
  /** ENIs EC2 refuses as mirror sources. */
  public readonly unsupportedEnis = new Set<string>();
  private nextId = 1;

  /** The smithy request handler interface the SDK calls. */
  public readonly requestHandler = {
    handle: async (request: HttpRequest) => ({ response: this.answer(new URLSearchParams(bodyText(request))) }),
  };

  /** Queues `count` failures for the next requests of `action`. */
  public failNext(action: string, failure: FakeFailure, count = 1): void {
    const queue = this.failures.get(action) ?? [];
    for (let i = 0; i < count; i++) queue.push(failure);
    this.failures.set(action, queue);
  }

  public count(action: string): number {
    return this.calls.filter(c => c === action).length;
  }

  private answer(params: URLSearchParams): HttpResponse {
    const action = params.get('Action') ?? '';
    this.calls.push(action);
    const failure = this.failures.get(action)?.shift();
    if (failure) {
      return xml(failure.status, `<Response><Errors><Error><Code>${failure.code}</Code><Message>${failure.message ?? failure.code}</Message></Error></Errors><RequestID>req-${this.calls.length}</RequestID></Response>`);
    }
    switch (action) {
      case 'CreateTrafficMirrorSession': return this.create(params);
      case 'DeleteTrafficMirrorSession': return this.delete(params);
      case 'DescribeTrafficMirrorSessions': return this.describe(params);
      default: return xml(400, `<Response><Errors><Error><Code>InvalidAction</Code><Message>${action}</Message></Error></Errors></Response>`);
    }
  }

  private create(params: URLSearchParams): HttpResponse {
    const token = params.get('ClientToken') ?? undefined;
    const eni = params.get('NetworkInterfaceId')!;
    const sessionNumber = Number(params.get('SessionNumber'));
    const existing = token ? [...this.sessions.values()].find(s => s.clientToken === token) : undefined;
    if (existing) {
      if (existing.networkInterfaceId !== eni || existing.sessionNumber !== sessionNumber) {
        return error(400, 'IdempotentParameterMismatch');
      }
      return xml(200, createResponse(existing));
    }
    if (this.deletedEnis.has(eni)) {
      return error(400, 'InvalidNetworkInterfaceID.NotFound');
    }
    if (this.unsupportedEnis.has(eni)) {
      return error(400, 'NetworkInterfaceNotSupported');
    }
    const refused = interfaceRuleError([...this.sessions.values()], eni, sessionNumber);
    if (refused) {
      return refused;
    }
    const tags = requestTags(params);
    const session: FakeSession = {
      id: `tms-${(this.nextId++).toString(16).padStart(17, '0')}`,
      networkInterfaceId: eni,
      targetId: params.get('TrafficMirrorTargetId')!,
      filterId: params.get('TrafficMirrorFilterId')!,
      sessionNumber,
      clientToken: token,
      tags,
    };
    this.sessions.set(session.id, session);
    return xml(200, createResponse(session));
  }

  private delete(params: URLSearchParams): HttpResponse {
    const id = params.get('TrafficMirrorSessionId')!;
    if (!this.sessions.delete(id)) {
      return error(400, 'InvalidTrafficMirrorSessionId.NotFound');
    }
    return xml(200, `<DeleteTrafficMirrorSessionResponse><requestId>r</requestId><trafficMirrorSessionId>${id}</trafficMirrorSessionId></DeleteTrafficMirrorSessionResponse>`);
  }

  private describe(params: URLSearchParams): HttpResponse {
    return describeResponse([...this.sessions.values()], params, this.describePageSize);
  }
}

/**
 * EC2's per-interface rules for a new session: at most 3 sessions per source ENI, each with its
 * own session number. The error answer, or undefined when the session may be created.
 */
export function interfaceRuleError(sessions: readonly FakeSession[], eni: string, sessionNumber: number): HttpResponse | undefined {
  const onEni = sessions.filter(s => s.networkInterfaceId === eni);
  if (onEni.length >= 3) {
    return error(400, 'TrafficMirrorSessionsPerInterfaceLimitExceeded');
  }
  if (onEni.some(s => s.sessionNumber === sessionNumber)) {
    return error(400, 'InvalidParameterValue', `The session number ${sessionNumber} is already in use on ${eni}.`);
  }
  return undefined;
}

/** The Filter.N.Name / Filter.N.Value.M pairs of an EC2 Query request. */
export function queryFilters(params: URLSearchParams): Array<[string, string[]]> {
  const filters: Array<[string, string[]]> = [];
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
    const values: string[] = [];
    for (let j = 1; params.has(`Filter.${i}.Value.${j}`); j++) values.push(params.get(`Filter.${i}.Value.${j}`)!);
    filters.push([params.get(`Filter.${i}.Name`)!, values]);
  }
  return filters;
}

/** A DescribeTrafficMirrorSessions answer: the sessions matching every filter, one page of them. */
export function describeResponse(sessions: readonly FakeSession[], params: URLSearchParams, pageSize: number): HttpResponse {
  const filters = queryFilters(params);
  const field = (s: FakeSession, name: string): string | undefined => {
    if (name.startsWith('tag:')) return s.tags[name.slice(4)];
    return ({
      'traffic-mirror-target-id': s.targetId,
      'network-interface-id': s.networkInterfaceId,
      'traffic-mirror-session-id': s.id,
      'traffic-mirror-filter-id': s.filterId,
    } as Record<string, string>)[name];
  };
  const matching = sessions.filter(s => filters.every(([name, values]) => values.includes(field(s, name) ?? '\u0000')));
  const start = Number(params.get('NextToken') ?? 0);
  const page = matching.slice(start, start + pageSize);
  const next = start + page.length < matching.length ? `<nextToken>${start + page.length}</nextToken>` : '';
  return xml(200, `<DescribeTrafficMirrorSessionsResponse><requestId>r</requestId><trafficMirrorSessionSet>${page.map(s => `<item>${sessionXml(s)}</item>`).join('')}</trafficMirrorSessionSet>${next}</DescribeTrafficMirrorSessionsResponse>`);
}

/** The tags of a CreateTrafficMirrorSession request's first TagSpecification. */
export function requestTags(params: URLSearchParams): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 1; params.has(`TagSpecification.1.Tag.${i}.Key`); i++) {
    tags[params.get(`TagSpecification.1.Tag.${i}.Key`)!] = params.get(`TagSpecification.1.Tag.${i}.Value`) ?? '';
  }
  return tags;
}

function sessionXml(s: FakeSession): string {
  const tags = Object.entries(s.tags).map(([k, v]) => `<item><key>${escape(k)}</key><value>${escape(v)}</value></item>`).join('');
  return `<trafficMirrorSessionId>${s.id}</trafficMirrorSessionId><networkInterfaceId>${s.networkInterfaceId}</networkInterfaceId>`
    + `<trafficMirrorTargetId>${s.targetId}</trafficMirrorTargetId><trafficMirrorFilterId>${s.filterId}</trafficMirrorFilterId>`
    + `<sessionNumber>${s.sessionNumber}</sessionNumber><tagSet>${tags}</tagSet>`;
}

/** A CreateTrafficMirrorSession answer for the session. */
export function createResponse(s: FakeSession): string {
  return `<CreateTrafficMirrorSessionResponse><requestId>r</requestId><trafficMirrorSession>${sessionXml(s)}</trafficMirrorSession><clientToken>${s.clientToken ?? ''}</clientToken></CreateTrafficMirrorSessionResponse>`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An EC2 Query API error answer. */
export function error(status: number, code: string, message = code): HttpResponse {
  return xml(status, `<Response><Errors><Error><Code>${code}</Code><Message>${escape(message)}</Message></Error></Errors><RequestID>r</RequestID></Response>`);
}

/** An XML answer with the given status. */
export function xml(statusCode: number, body: string): HttpResponse {
  return new HttpResponse({ statusCode, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body: Readable.from([Buffer.from(body)]) });
}
