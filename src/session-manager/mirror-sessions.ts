import {
  CreateTrafficMirrorSessionCommand,
  DeleteTrafficMirrorSessionCommand,
  EC2Client,
  paginateDescribeTrafficMirrorSessions,
} from '@aws-sdk/client-ec2';
import { SessionManagerConfig } from './config';
import { CLUSTER_TAG_KEY, OWNER_TAG_KEY, SERVICE_TAG_KEY, TASK_TAG_KEY, clientTokenFor } from './ownership';

/** A traffic mirror session as the session manager sees it. */
export interface MirrorSession {
  readonly sessionId: string;
  readonly networkInterfaceId: string;
  readonly sessionNumber: number;
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
   * ENI and session number, so a repeat returns the session created the first time.
   */
  public async create(networkInterfaceId: string, taskArn: string): Promise<string> {
    const c = this.config;
    const response = await this.ec2.send(new CreateTrafficMirrorSessionCommand({
      NetworkInterfaceId: networkInterfaceId,
      TrafficMirrorTargetId: c.targetId,
      TrafficMirrorFilterId: c.filterId,
      SessionNumber: c.sessionNumber,
      PacketLength: c.packetLength,
      VirtualNetworkId: c.virtualNetworkId,
      Description: c.description,
      ClientToken: clientTokenFor(c.ownerId, networkInterfaceId, c.sessionNumber),
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
    return this.describe([{ Name: `tag:${TASK_TAG_KEY}`, Values: [taskArn] }]);
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

  private async describe(extraFilters: Array<{ Name: string; Values: string[] }>): Promise<MirrorSession[]> {
    const sessions: MirrorSession[] = [];
    const pages = paginateDescribeTrafficMirrorSessions({ client: this.ec2 }, {
      Filters: [
        { Name: 'traffic-mirror-target-id', Values: [this.config.targetId] },
        { Name: `tag:${OWNER_TAG_KEY}`, Values: [this.config.ownerId] },
        ...extraFilters,
      ],
    });
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
          ownerId: tags.get(OWNER_TAG_KEY),
          taskArn: tags.get(TASK_TAG_KEY),
        });
      }
    }
    // The tag filter is the API's; the check here is ours, so a filter bug can never make us
    // delete a session another tool owns.
    return sessions.filter(s => s.ownerId === this.config.ownerId);
  }
}
