import {
  CreateTrafficMirrorSessionCommand,
  DeleteTrafficMirrorSessionCommand,
  EC2Client,
  Filter,
  paginateDescribeTrafficMirrorSessions,
} from '@aws-sdk/client-ec2';
import { SessionManagerConfig } from './config';
import { CLUSTER_TAG_KEY, OWNER_TAG_KEY, SERVICE_TAG_KEY, TASK_TAG_KEY, clientTokenFor } from './ownership';

/** ENIs per DescribeTrafficMirrorSessions filter; keeps each request well inside API limits. */
const ENI_FILTER_BATCH = 200;

/** A traffic mirror session as the session manager sees it. */
export interface MirrorSession {
  readonly sessionId: string;
  readonly networkInterfaceId: string;
  readonly sessionNumber: number;
  readonly targetId?: string;
  readonly filterId?: string;
  /** The owner tag's value; undefined for sessions created by anything else. */
  readonly ownerId?: string;
  readonly taskArn?: string;
}

/**
 * The EC2 side of the session manager: creates, finds and deletes the sessions one construct
 * instance owns. Every session it creates carries the owner tag, and it deletes only by id
 * after finding the session through that tag (IAM enforces the same rule).
 */
export class MirrorSessions {
  constructor(private readonly ec2: EC2Client, private readonly config: SessionManagerConfig) {}

  /**
   * Creates the session for one task's ENI. Idempotent: the ClientToken is derived from owner,
   * ENI, session number and `tokenSalt`, so a repeat returns the session created the first time.
   */
  public async create(networkInterfaceId: string, taskArn: string, sessionNumber = this.config.sessionNumber, tokenSalt = ''): Promise<string> {
    const c = this.config;
    const response = await this.ec2.send(new CreateTrafficMirrorSessionCommand({
      NetworkInterfaceId: networkInterfaceId,
      TrafficMirrorTargetId: c.targetId,
      TrafficMirrorFilterId: c.filterId,
      SessionNumber: sessionNumber,
      PacketLength: c.packetLength,
      VirtualNetworkId: c.virtualNetworkId,
      Description: c.description,
      ClientToken: clientTokenFor(c.ownerId, networkInterfaceId, sessionNumber, tokenSalt),
      TagSpecifications: [{
        ResourceType: 'traffic-mirror-session',
        Tags: [
          { Key: OWNER_TAG_KEY, Value: c.ownerId },
          { Key: CLUSTER_TAG_KEY, Value: c.clusterArn },
          { Key: SERVICE_TAG_KEY, Value: c.serviceName },
          { Key: TASK_TAG_KEY, Value: taskArn },
        ],
      }],
    }));
    return response.TrafficMirrorSession?.TrafficMirrorSessionId ?? '';
  }

  /** The sessions this construct owns that mirror the given task. */
  public async findOwnedByTask(taskArn: string): Promise<MirrorSession[]> {
    return this.ownedOnly(await this.describe([...this.ownerFilters(), { Name: `tag:${TASK_TAG_KEY}`, Values: [taskArn] }]));
  }

  /**
   * Every session this construct owns, whatever its target and filter: after a deployment
   * changes either, the sessions made for the old ones must still be found to be replaced.
   */
  public async listOwned(): Promise<MirrorSession[]> {
    return this.ownedOnly(await this.describe(this.ownerFilters()));
  }

  /** Every session on the given ENIs, whoever owns it (to see which session numbers are taken). */
  public async listOnInterfaces(networkInterfaceIds: readonly string[]): Promise<MirrorSession[]> {
    const sessions: MirrorSession[] = [];
    for (let i = 0; i < networkInterfaceIds.length; i += ENI_FILTER_BATCH) {
      sessions.push(...await this.describe([{ Name: 'network-interface-id', Values: networkInterfaceIds.slice(i, i + ENI_FILTER_BATCH) }]));
    }
    return sessions;
  }

  /**
   * Deletes one session. A session that no longer exists counts as deleted: EC2 deletes
   * sessions together with their ENI, which usually happens before the stop event arrives.
   *
   * @returns false when the session was already gone
   */
  public async delete(sessionId: string): Promise<boolean> {
    try {
      await this.ec2.send(new DeleteTrafficMirrorSessionCommand({ TrafficMirrorSessionId: sessionId }));
      return true;
    } catch (error) {
      if (String((error as { name?: unknown }).name).toLowerCase() === 'invalidtrafficmirrorsessionid.notfound') {
        return false;
      }
      throw error;
    }
  }

  /** Whether an owned session mirrors to the configured target through the configured filter. */
  public isCurrent(session: MirrorSession): boolean {
    // A field EC2 did not return is not evidence of a change.
    return (session.targetId === undefined || session.targetId === this.config.targetId)
      && (session.filterId === undefined || session.filterId === this.config.filterId);
  }

  private ownerFilters(): Filter[] {
    return [{ Name: `tag:${OWNER_TAG_KEY}`, Values: [this.config.ownerId] }];
  }

  /**
   * The tag filter is the API's; this check is ours, so a filter bug can never make us delete
   * a session another tool owns.
   */
  private ownedOnly(sessions: MirrorSession[]): MirrorSession[] {
    return sessions.filter(s => s.ownerId === this.config.ownerId);
  }

  private async describe(filters: Filter[]): Promise<MirrorSession[]> {
    const sessions: MirrorSession[] = [];
    const pages = paginateDescribeTrafficMirrorSessions({ client: this.ec2, pageSize: 1000 }, { Filters: filters });
    for await (const page of pages) {
      for (const s of page.TrafficMirrorSessions ?? []) {
        const tags = new Map((s.Tags ?? []).map(t => [t.Key, t.Value]));
        if (!s.TrafficMirrorSessionId || !s.NetworkInterfaceId) {
          continue;
        }
        sessions.push({
          sessionId: s.TrafficMirrorSessionId,
          networkInterfaceId: s.NetworkInterfaceId,
          sessionNumber: s.SessionNumber ?? 0,
          targetId: s.TrafficMirrorTargetId,
          filterId: s.TrafficMirrorFilterId,
          ownerId: tags.get(OWNER_TAG_KEY),
          taskArn: tags.get(TASK_TAG_KEY),
        });
      }
    }
    return sessions;
  }
}
