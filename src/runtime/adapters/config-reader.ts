/** Adapter: reads each service's configuration from its SSM parameter (written by CloudFormation only), cached per container. */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { OWNER_ID_PATTERN } from '../../contract/ownership';
import { SessionManagerConfig, configFromEnv } from '../../contract/session-manager-config';

/** How long a container trusts a configuration it read: a deploy's change reaches every trigger within this. */
export const CONFIG_CACHE_MS = 5_000;

/**
 * The one source of a service's configuration: the String parameter `<prefix><ownerId>` holding
 * the ENV-keyed record as JSON, which only the deployment writes. Triggers name the service (its
 * owner id); whatever configuration they carry is never read. An owner id of the wrong shape, or
 * one without a parameter under the prefix (the functions may read nothing else), names no
 * service of the stack: `undefined`. A parameter whose owner id differs from its name is refused
 * the same way.
 */
export class ConfigReader {
  private readonly cache = new Map<string, { config?: SessionManagerConfig; at: number }>();

  constructor(private readonly ssm: SSMClient, private readonly prefix: string, private readonly now: () => number = Date.now) {}

  /** The service's current configuration, or undefined when `ownerId` names no service of the stack. */
  public async configOf(ownerId: unknown, fresh = false): Promise<SessionManagerConfig | undefined> {
    if (typeof ownerId !== 'string' || !OWNER_ID_PATTERN.test(ownerId)) return undefined;
    const cached = this.cache.get(ownerId);
    if (!fresh && cached && this.now() - cached.at < CONFIG_CACHE_MS) return cached.config;
    const config = await this.read(ownerId);
    this.cache.set(ownerId, { config, at: this.now() });
    return config;
  }

  private async read(ownerId: string): Promise<SessionManagerConfig | undefined> {
    let text: string | undefined;
    let modified: Date | undefined;
    try {
      const { Parameter } = await this.ssm.send(new GetParameterCommand({ Name: `${this.prefix}${ownerId}` }));
      text = Parameter?.Value;
      modified = Parameter?.LastModifiedDate;
    } catch (error) {
      if ((error as { name?: string }).name === 'ParameterNotFound') return undefined;
      throw error;
    }
    if (text === undefined) return undefined;
    const record = JSON.parse(text) as Record<string, unknown>;
    const config = configFromEnv(Object.fromEntries(Object.entries(record).map(([k, v]) => [k, String(v)])));
    if (config.ownerId !== ownerId) throw new Error(`configuration parameter ${this.prefix}${ownerId} names owner ${config.ownerId}`);
    return modified ? { ...config, configuredAt: modified.getTime() } : config;
  }
}
