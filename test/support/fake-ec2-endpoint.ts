import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { bodyText } from './body-text';
import { Ec2MirrorModel, Ec2MirrorModelOptions, FakeSession } from './ec2-model';
import { error } from './ec2-query';

// Kept importable from here: tests import these from this module.
export type { FakeSession } from './ec2-model';
export { interfaceRuleError } from './ec2-model';
export { error, queryFilters, requestTags, xml } from './ec2-query';

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
 * EC2's behaviour is the shared {@link Ec2MirrorModel}'s; this adds scripted failures, ENIs
 * that are gone or refused, and a record of the calls.
 */
export class FakeEc2Endpoint {
  /** The EC2 semantics: sessions, ClientToken memory, filter and error-spelling modes. */
  public readonly model: Ec2MirrorModel;
  /** Every request, by action, in order. */
  public readonly calls: string[] = [];
  /** Every request's parameters, in order (the Query API's form fields). */
  public readonly requests: URLSearchParams[] = [];
  /** Answers to return before normal processing, consumed one per request of that action. */
  public readonly failures = new Map<string, FakeFailure[]>();
  /** Sessions per DescribeTrafficMirrorSessions page at most (MaxResults may ask for fewer). */
  public describePageSize = 1000;
  /** ENIs that no longer exist: creating a session on one fails like EC2 does. */
  public readonly deletedEnis = new Set<string>();
  /** ENIs EC2 refuses as mirror sources. */
  public readonly unsupportedEnis = new Set<string>();
  /** ENIs EC2 refuses with a given error, on every create, for as long as they are in here. */
  public readonly refusedEnis = new Map<string, FakeFailure>();

  /** The smithy request handler interface the SDK calls. */
  public readonly requestHandler = {
    handle: async (request: HttpRequest) => ({ response: this.answer(new URLSearchParams(bodyText(request))) }),
  };

  constructor(options: Ec2MirrorModelOptions = {}) {
    this.model = new Ec2MirrorModel(options);
  }

  /** The sessions that exist, by id (the model's map: tests may add and remove entries). */
  public get sessions(): Map<string, FakeSession> {
    return this.model.sessions;
  }

  /** Queues `count` failures for the next requests of `action`. */
  public failNext(action: string, failure: FakeFailure, count = 1): void {
    const queue = this.failures.get(action) ?? [];
    for (let i = 0; i < count; i++) queue.push(failure);
    this.failures.set(action, queue);
  }

  /** How many requests of `action` arrived, scripted failures included. */
  public count(action: string): number {
    return this.calls.filter(c => c === action).length;
  }

  private answer(params: URLSearchParams): HttpResponse {
    const action = params.get('Action') ?? '';
    this.calls.push(action);
    this.requests.push(params);
    const failure = this.failures.get(action)?.shift();
    if (failure) {
      return error(failure.status, failure.code, failure.message ?? failure.code);
    }
    return this.model.answer(params, {
      source: eni => {
        if (this.deletedEnis.has(eni)) return error(400, 'InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${eni}' does not exist`);
        const refused = this.refusedEnis.get(eni);
        if (refused) return error(refused.status, refused.code, refused.message ?? refused.code);
        return this.unsupportedEnis.has(eni) ? error(400, 'NetworkInterfaceNotSupported') : undefined;
      },
      pageSize: this.describePageSize,
    });
  }
}
