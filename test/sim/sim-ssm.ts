import { SIM_EPOCH_MS, SimClock, TokenBucket } from './clock';
import { simJsonHandler } from './sim-endpoint';
import { json, jsonError } from '../support/json-protocol';

/**
 * Parameter Store's default throughput: 40 transactions per second per account and region,
 * shared by GetParameter, GetParameters and GetParametersByPath (Systems Manager quotas); other
 * callers of the account are not modelled. A bucket of one second's worth.
 */
export const SSM_GET_PARAMETER_PER_SECOND = 40;

/** One SSM call as the simulator saw it. */
export interface SsmCall {
  readonly at: number;
  readonly action: string;
  readonly caller: string;
  readonly result: 'ok' | 'throttled' | 'not-found';
}

/**
 * The part of SSM Parameter Store the session manager reads: GetParameter of the services'
 * switch parameters, over the JSON protocol, so the production SwitchReader runs on a real
 * SSMClient (its retries included) against it.
 */
export class SimSsm {
  public readonly parameters = new Map<string, string>();
  /** When each parameter was last written (simulated ms), for GetParameter's LastModifiedDate. */
  public readonly modifiedAt = new Map<string, number>();
  public readonly calls: SsmCall[] = [];
  private readonly bucket: TokenBucket;

  constructor(private readonly clock: SimClock) {
    this.bucket = new TokenBucket(clock, SSM_GET_PARAMETER_PER_SECOND, SSM_GET_PARAMETER_PER_SECOND);
  }

  /** A smithy request handler for one caller; `alive()` false makes every request hang up. */
  public handlerFor(caller: string, alive: () => boolean = () => true) {
    return simJsonHandler(this.clock, [10, 30], alive, (action, input) => this.answer(action, input, caller));
  }

  private answer(action: string, input: any, caller: string) {
    const record = (result: SsmCall['result']) => this.calls.push({ at: this.clock.now, action, caller, result });
    if (action !== 'GetParameter') return jsonError('UnknownOperationException');
    if (!this.bucket.take()) {
      record('throttled');
      return jsonError('ThrottlingException', 'Rate exceeded');
    }
    const value = this.parameters.get(input.Name);
    if (value === undefined) {
      record('not-found');
      return jsonError('ParameterNotFound');
    }
    record('ok');
    // The JSON protocol's timestamps are epoch seconds.
    const modified = (SIM_EPOCH_MS + (this.modifiedAt.get(input.Name) ?? 0)) / 1000;
    return json(200, { Parameter: { Name: input.Name, Type: 'String', Value: value, Version: 1, LastModifiedDate: modified } });
  }
}
