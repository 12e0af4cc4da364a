import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { SimClock, TokenBucket } from './clock';
import { hangUpIfFrozen } from './sim-endpoint';
import { OWNER_TAG_KEY } from '../../src/contract/ownership';
import { bodyText } from '../support/body-text';
import { Ec2MirrorModel, Ec2MirrorModelOptions, FakeSession, OtherSessions, SessionChecks, SessionMap } from '../support/ec2-model';
import { error, queryFilters } from '../support/ec2-query';

/** EC2 limits the simulator enforces (AWS quotas for traffic mirroring, not adjustable). */
export const EC2_LIMITS = {
  sessionsPerAccount: 10_000,
  sourcesPerEniTarget: 10,
  mutatingBurst: 50,
  mutatingPerSecond: 5,
  describeBurst: 100,
  describePerSecond: 20,
};

// Modify changes a resource, so it draws on the same bucket as Create and Delete.
const MUTATING = new Set(['CreateTrafficMirrorSession', 'DeleteTrafficMirrorSession', 'ModifyTrafficMirrorSession']);

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
  /** For DescribeTrafficMirrorSessions: the ENIs of a `network-interface-id` filter. */
  readonly networkInterfaceIds?: string[];
  /** For CreateTrafficMirrorSession: the source ENI. */
  readonly networkInterfaceId?: string;
}

/** A session an API call deleted or modified: as it was before, and after (modify only). */
export interface SessionWrite {
  readonly action: 'DeleteTrafficMirrorSession' | 'ModifyTrafficMirrorSession';
  readonly before: FakeSession;
  readonly after?: FakeSession;
  readonly caller: string;
}

/** Options of the simulated EC2 endpoint, and of the EC2 semantics it delegates to. */
export interface SimEc2Options extends Ec2MirrorModelOptions {
  /** Probability that a request gets an injected 500/503 (after passing the token bucket). */
  readonly faultRate?: number;
  /** Simulated latency of one API call, in ms. @default 30-90 ms */
  readonly latencyMs?: [number, number];
  /** Sources every target accepts (distinct source ENIs with a session to it); see also `targetSourceLimits`. */
  readonly targetSourceLimit?: number;
  /** The Availability Zone of each target, for the cross-zone figures. */
  readonly targetZones?: ReadonlyMap<string, string>;
}

/** The optional fields of a session put in place by {@link SimEc2.addSession}. */
export interface AddSessionExtras {
  readonly filterId?: string;
  readonly packetLength?: number;
  readonly virtualNetworkId?: number;
  readonly description?: string;
}

/**
 * The traffic mirroring part of EC2 as the simulator needs it: EC2's semantics come from the
 * shared {@link Ec2MirrorModel} (sessions, ClientToken memory, filters, error codes); this adds
 * which ENIs exist (sessions are deleted with their ENI), the account's session quota and an ENI
 * target's source limit, injected faults, latency, and the account's token buckets answering
 * `RequestLimitExceeded`. It speaks the EC2 Query protocol to real SDK clients.
 */
export class SimEc2 {
  public readonly enis = new Set<string>();
  public readonly model: Ec2MirrorModel;
  public readonly calls: Ec2Call[] = [];
  /** Every session id ever deleted, and by whom (`eni-deleted` when EC2 did it). */
  public readonly deletions = new Map<string, string>();
  /**
   * Called after every accepted delete or modify of an existing session, so invariants can judge
   * each write when it happens (a wrong delete healed later leaves no trace in the end state).
   */
  public onSessionWrite: (write: SessionWrite) => void;
  private readonly mutating: TokenBucket;
  private readonly describing: TokenBucket;
  private readonly checks: SessionChecks;

  constructor(private readonly clock: SimClock, public readonly options: SimEc2Options = {}) {
    this.model = new Ec2MirrorModel({ defaultTargetSourceLimit: options.targetSourceLimit, ...options });
    this.onSessionWrite = () => undefined;
    this.mutating = new TokenBucket(clock, EC2_LIMITS.mutatingBurst, EC2_LIMITS.mutatingPerSecond);
    this.describing = new TokenBucket(clock, EC2_LIMITS.describeBurst, EC2_LIMITS.describePerSecond);
    this.checks = {
      source: eni => this.enis.has(eni) ? undefined : error(400, 'InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${eni}' does not exist`),
      limits: (action, session, others) => this.limitError(action, session, others),
    };
  }

  /** The sessions that exist, by id (the model's indexed map: tests may add and remove entries). */
  public get sessions(): SessionMap {
    return this.model.sessions;
  }

  /** A smithy request handler for one caller. `alive()` false makes every request hang up. */
  public handlerFor(caller: string | (() => string), alive: () => boolean = () => true) {
    const who = typeof caller === 'string' ? () => caller : caller;
    return {
      handle: async (request: HttpRequest) => {
        hangUpIfFrozen(alive);
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
    for (const [id] of this.sessions.entriesOnInterface(eni)) {
      this.sessions.delete(id);
      this.deletions.set(id, 'eni-deleted');
    }
  }

  /**
   * A session put in place without an API call: another tool's (the default owner), or one the
   * scenario says existed before it started. `extras` sets the optional fields.
   */
  public addSession(
    eni: string,
    sessionNumber: number,
    targetId: string,
    tags: Record<string, string> = { [OWNER_TAG_KEY]: 'someone-else' },
    extras: AddSessionExtras = {},
  ): FakeSession {
    const { filterId = 'tmf-foreign', ...optional } = extras;
    return this.model.put({ networkInterfaceId: eni, targetId, filterId, sessionNumber, tags, ...optional });
  }

  /** An operator deletes a session in the console. */
  public deleteByHand(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.deletions.set(sessionId, 'by-hand');
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
      networkInterfaceIds: action === 'DescribeTrafficMirrorSessions' ? queryFilters(params).find(([name]) => name === 'network-interface-id')?.[1] : undefined,
      networkInterfaceId: action === 'CreateTrafficMirrorSession' ? params.get('NetworkInterfaceId') ?? undefined : undefined,
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
    const sessionId = params.get('TrafficMirrorSessionId') ?? '';
    const before = action === 'DeleteTrafficMirrorSession' || action === 'ModifyTrafficMirrorSession' ? this.sessions.get(sessionId) : undefined;
    const response = this.model.answer(params, this.checks);
    if (action === 'DeleteTrafficMirrorSession' && response.statusCode === 200) {
      this.deletions.set(sessionId, caller);
    }
    if (before && response.statusCode === 200) {
      this.onSessionWrite({ action: action as SessionWrite['action'], before, after: this.sessions.get(sessionId), caller });
    }
    record(response.statusCode === 200 ? 'ok' : 'error', response.statusCode === 200 ? undefined : 'client-error');
    return response;
  }

  /** The account's session quota (new sessions only); the model keeps each target's limit of sources. */
  private limitError(action: 'create' | 'modify', _session: FakeSession, others: OtherSessions): HttpResponse | undefined {
    return action === 'create' && others.size >= EC2_LIMITS.sessionsPerAccount ? error(400, 'TrafficMirrorSessionLimitExceeded') : undefined;
  }
}
