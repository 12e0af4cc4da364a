import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { SimClock, TokenBucket } from './clock';
import { OWNER_TAG_KEY } from '../../src/session-manager/ownership';
import { bodyText } from '../support/body-text';
import { FakeSession, createResponse, describeResponse, error, interfaceRuleError, queryFilters, requestTags, xml } from '../support/fake-ec2-endpoint';

/** EC2 limits the simulator enforces (AWS quotas for traffic mirroring, not adjustable). */
export const EC2_LIMITS = {
  sessionsPerAccount: 10_000,
  sourcesPerEniTarget: 10,
  mutatingBurst: 50,
  mutatingPerSecond: 5,
  describeBurst: 100,
  describePerSecond: 20,
};

const MUTATING = new Set(['CreateTrafficMirrorSession', 'DeleteTrafficMirrorSession']);

/** One API request as the simulator saw it. */
export interface Ec2Call {
  readonly at: number;
  readonly action: string;
  /** Who sent it: the label of the Lambda container (or tool) whose client made the call. */
  readonly caller: string;
  /** `throttled`, `fault` (injected 5xx), `error` (4xx answer) or `ok`. */
  readonly result: 'ok' | 'throttled' | 'fault' | 'error';
  readonly code?: string;
  /** For DescribeTrafficMirrorSessions: the filter names used. */
  readonly filters?: string[];
}

/** Options of the simulated EC2 endpoint. */
export interface SimEc2Options {
  /** Probability that a request gets an injected 500/503 (after passing the token bucket). */
  readonly faultRate?: number;
  /** Simulated latency of one API call, in ms. @default 30-90 ms */
  readonly latencyMs?: [number, number];
  /** Sources an ENI target accepts (distinct source ENIs with a session to it). */
  readonly targetSourceLimit?: number;
}

/**
 * The traffic mirroring part of EC2: ENIs, sessions with the real quotas, ClientToken
 * idempotency (a token is remembered after its session is deleted, as EC2 does for its
 * idempotent APIs), session deletion with the ENI, and the account's token buckets answering
 * `RequestLimitExceeded`. It speaks the EC2 Query protocol to real SDK clients.
 */
export class SimEc2 {
  public readonly enis = new Set<string>();
  public readonly sessions = new Map<string, FakeSession>();
  public readonly calls: Ec2Call[] = [];
  /** Every session id ever deleted, and by whom (`eni-deleted` when EC2 did it). */
  public readonly deletions = new Map<string, string>();
  private readonly tokens = new Map<string, { eni: string; sessionNumber: number; targetId: string; filterId: string; sessionId: string }>();
  private readonly mutating: TokenBucket;
  private readonly describing: TokenBucket;
  private nextId = 1;

  constructor(private readonly clock: SimClock, private readonly options: SimEc2Options = {}) {
    this.mutating = new TokenBucket(clock, EC2_LIMITS.mutatingBurst, EC2_LIMITS.mutatingPerSecond);
    this.describing = new TokenBucket(clock, EC2_LIMITS.describeBurst, EC2_LIMITS.describePerSecond);
  }

  /** A smithy request handler for one caller. `alive()` false makes every request hang up. */
  public handlerFor(caller: string | (() => string), alive: () => boolean = () => true) {
    const who = typeof caller === 'string' ? () => caller : caller;
    return {
      handle: async (request: HttpRequest) => {
        if (!alive()) throw Object.assign(new Error('the Lambda container is frozen'), { name: 'TimeoutError' });
        const params = new URLSearchParams(bodyText(request));
        const [min, max] = this.options.latencyMs ?? [30, 90];
        await this.clock.sleep(this.clock.random.between(min, max) / 2);
        const response = this.answer(params, who());
        await this.clock.sleep(this.clock.random.between(min, max) / 2);
        return { response };
      },
    };
  }

  /** Another tool in the same account spends mutating tokens (a noisy neighbour). */
  public spendMutatingToken(): boolean {
    return this.mutating.take();
  }

  /** ECS created a task's ENI. */
  public createEni(eni: string): void {
    this.enis.add(eni);
  }

  /** ECS deleted a task's ENI: EC2 deletes its sessions with it. */
  public deleteEni(eni: string): void {
    this.enis.delete(eni);
    for (const [id, s] of this.sessions) {
      if (s.networkInterfaceId === eni) {
        this.sessions.delete(id);
        this.deletions.set(id, 'eni-deleted');
      }
    }
  }

  /**
   * A session put in place without an API call: another tool's (the default owner), or one the
   * scenario says existed before it started.
   */
  public addSession(eni: string, sessionNumber: number, targetId: string, tags: Record<string, string> = { [OWNER_TAG_KEY]: 'someone-else' }): FakeSession {
    const session: FakeSession = { id: this.newId(), networkInterfaceId: eni, targetId, filterId: 'tmf-foreign', sessionNumber, tags };
    this.sessions.set(session.id, session);
    return session;
  }

  /** An operator deletes a session in the console. */
  public deleteByHand(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.deletions.set(sessionId, 'by-hand');
  }

  private newId(): string {
    return `tms-${(this.nextId++).toString(16).padStart(17, '0')}`;
  }

  private answer(params: URLSearchParams, caller: string): HttpResponse {
    this.clock.activity++;
    const action = params.get('Action') ?? '';
    const record = (result: Ec2Call['result'], code?: string) => this.calls.push({
      at: this.clock.now,
      action,
      caller,
      result,
      code,
      filters: action === 'DescribeTrafficMirrorSessions' ? queryFilters(params).map(([name]) => name) : undefined,
    });
    const bucket = MUTATING.has(action) ? this.mutating : this.describing;
    if (!bucket.take()) {
      record('throttled', 'RequestLimitExceeded');
      return error(503, 'RequestLimitExceeded', 'Request limit exceeded.');
    }
    if (this.clock.random.chance(this.options.faultRate ?? 0)) {
      const status = this.clock.random.chance(0.5) ? 500 : 503;
      const code = status === 500 ? 'InternalError' : 'Unavailable';
      record('fault', code);
      return error(status, code);
    }
    let response: HttpResponse;
    switch (action) {
      case 'CreateTrafficMirrorSession': response = this.create(params); break;
      case 'DeleteTrafficMirrorSession': response = this.delete(params, caller); break;
      case 'DescribeTrafficMirrorSessions': response = describeResponse([...this.sessions.values()], params, 1000); break;
      default: response = error(400, 'InvalidAction');
    }
    record(response.statusCode === 200 ? 'ok' : 'error', response.statusCode === 200 ? undefined : 'client-error');
    return response;
  }

  private create(params: URLSearchParams): HttpResponse {
    const token = params.get('ClientToken') ?? undefined;
    const eni = params.get('NetworkInterfaceId')!;
    const sessionNumber = Number(params.get('SessionNumber'));
    const targetId = params.get('TrafficMirrorTargetId')!;
    const filterId = params.get('TrafficMirrorFilterId')!;
    const remembered = token ? this.tokens.get(token) : undefined;
    if (remembered) {
      const same = remembered.eni === eni && remembered.sessionNumber === sessionNumber
        && remembered.targetId === targetId && remembered.filterId === filterId;
      if (!same) {
        return error(400, 'IdempotentParameterMismatch');
      }
      // The same answer as the first time, even if that session is gone since.
      const session = this.sessions.get(remembered.sessionId) ?? {
        id: remembered.sessionId, networkInterfaceId: eni, targetId, filterId, sessionNumber, clientToken: token, tags: requestTags(params),
      };
      return xml(200, createResponse(session));
    }
    if (!this.enis.has(eni)) {
      return error(400, 'InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${eni}' does not exist`);
    }
    const all = [...this.sessions.values()];
    const refused = interfaceRuleError(all, eni, sessionNumber);
    if (refused) {
      return refused;
    }
    if (all.length >= EC2_LIMITS.sessionsPerAccount) {
      return error(400, 'TrafficMirrorSessionLimitExceeded');
    }
    const limit = this.options.targetSourceLimit;
    if (limit !== undefined) {
      const sources = new Set(all.filter(s => s.targetId === targetId).map(s => s.networkInterfaceId));
      if (!sources.has(eni) && sources.size >= limit) {
        return error(400, 'TrafficMirrorSourcesPerTargetLimitExceeded');
      }
    }
    const session: FakeSession = {
      id: this.newId(), networkInterfaceId: eni, targetId, filterId, sessionNumber, clientToken: token, tags: requestTags(params),
    };
    this.sessions.set(session.id, session);
    if (token) this.tokens.set(token, { eni, sessionNumber, targetId, filterId, sessionId: session.id });
    return xml(200, createResponse(session));
  }

  private delete(params: URLSearchParams, caller: string): HttpResponse {
    const id = params.get('TrafficMirrorSessionId')!;
    if (!this.sessions.delete(id)) {
      return error(400, 'InvalidTrafficMirrorSessionId.NotFound');
    }
    this.deletions.set(id, caller);
    return xml(200, `<DeleteTrafficMirrorSessionResponse><requestId>r</requestId><trafficMirrorSessionId>${id}</trafficMirrorSessionId></DeleteTrafficMirrorSessionResponse>`);
  }
}
