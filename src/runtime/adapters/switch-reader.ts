/** Adapter: reads the run-time switch from SSM, cached per container. */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SwitchState, switchStateOf } from '../../contract/mirror-switch';

/** How long a container trusts a switch value it read: a flip takes effect within this. */
export const SWITCH_CACHE_MS = 5_000;

/**
 * Reads switch parameters, each at most once per {@link SWITCH_CACHE_MS} per container, so a
 * batch of events costs one GetParameter, not one per event. A parameter that does not exist
 * (yet, or any more) counts as on: mirroring is the default.
 */
export class SwitchReader {
  private readonly cache = new Map<string, { value?: string; at: number }>();

  constructor(private readonly ssm: SSMClient, private readonly now: () => number = Date.now) {}

  /** The switch's state, and its raw value when it was not understood (for the caller to log). */
  public async state(name: string, fresh = false): Promise<{ state: SwitchState; unknownValue?: string }> {
    const cached = this.cache.get(name);
    let value = cached?.value;
    if (fresh || !cached || this.now() - cached.at >= SWITCH_CACHE_MS) {
      value = await this.read(name);
      this.cache.set(name, { value, at: this.now() });
    }
    const { state, understood } = switchStateOf(value, this.now());
    return understood || value === undefined ? { state } : { state, unknownValue: value };
  }

  private async read(name: string): Promise<string | undefined> {
    try {
      return (await this.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (error) {
      if ((error as { name?: string }).name === 'ParameterNotFound') return undefined;
      throw error;
    }
  }
}
