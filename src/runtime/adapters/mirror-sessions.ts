/**
 * Adapter: EC2's traffic mirror session calls (list, create, modify, delete), owned sessions only.
 */
import { randomUUID } from 'crypto';
import {
  CreateTrafficMirrorSessionCommand,
  DeleteTrafficMirrorSessionCommand,
  EC2Client,
  Filter,
  ModifyTrafficMirrorSessionCommand,
  TrafficMirrorSession,
  paginateDescribeTrafficMirrorSessions,
} from '@aws-sdk/client-ec2';
import {
  CLUSTER_TAG_KEY, OWNER_TAG_KEY, REQUEST_TAG_KEY, SERVICE_TAG_KEY, STACK_TAG_KEY, TASK_TAG_KEY,
  clientTokenFor, tagValue, taskTagValue,
} from '../../contract/ownership';
import { SessionManagerConfig } from '../../contract/session-manager-config';
import { isSessionNotFound } from '../core/errors';
import { SessionChange } from '../core/session-parameters';

/** ENIs per DescribeTrafficMirrorSessions filter; keeps each request well inside API limits. */
const ENI_FILTER_BATCH = 200;

/** A traffic mirror session as the session manager sees it. */
export interface MirrorSession {
  readonly sessionId: string;
  readonly networkInterfaceId: string;
  readonly sessionNumber: number;
  readonly targetId?: string;
  readonly filterId?: string;
  readonly packetLength?: number;
  readonly virtualNetworkId?: number;
  readonly description?: string;
  /** The owner tag's value; undefined for sessions created by anything else. */
  readonly ownerId?: string;
  /** The task tag's value: the task ARN, or the task id when the ARN was too long for a tag. */
  readonly taskTag?: string;
}

/** What a create returned. */
export interface CreateResult {
  readonly sessionId: string;
  /**
   * True when EC2 answered with the result of an earlier request with the same ClientToken
   * (a retry or a duplicate event): the session was not created now, and may since have been
   * deleted.
   */
  readonly replayed: boolean;
}

/**
 * The EC2 side of the session manager: creates, finds, modifies and deletes the sessions one
 * construct instance owns. It lists only with the filters the DescribeTrafficMirrorSessions
 * reference documents (no `tag:` filters) and checks every tag it relies on itself; IAM allows
 * modifying and deleting only sessions carrying the owner tag.
 */
export class MirrorSessions {
  constructor(
    private readonly ec2: EC2Client,
    private readonly config: SessionManagerConfig,
    private readonly newRequestId: () => string = randomUUID,
  ) {}

  /**
   * Creates the session for one task's ENI with the configured parameters, to `targetId` (one of
   * the configured targets). Idempotent: the ClientToken covers every parameter, the target and
   * `tokenSalt`, so a repeat returns the earlier result.
   */
  public async create(
    networkInterfaceId: string, taskArn: string, sessionNumber = this.config.sessionNumber, tokenSalt = '', targetId = this.config.targetId,
  ): Promise<CreateResult> {
    const c = this.config;
    const requestId = this.newRequestId();
    const response = await this.ec2.send(new CreateTrafficMirrorSessionCommand({
      NetworkInterfaceId: networkInterfaceId,
      TrafficMirrorTargetId: targetId,
      TrafficMirrorFilterId: c.filterId,
      SessionNumber: sessionNumber,
      PacketLength: c.packetLength,
      VirtualNetworkId: c.virtualNetworkId,
      Description: c.description,
      ClientToken: clientTokenFor({ ...c, targetId, networkInterfaceId, sessionNumber }, tokenSalt),
      TagSpecifications: [{
        ResourceType: 'traffic-mirror-session',
        Tags: [
          { Key: OWNER_TAG_KEY, Value: c.ownerId },
          { Key: CLUSTER_TAG_KEY, Value: tagValue(c.clusterArn) },
          { Key: SERVICE_TAG_KEY, Value: tagValue(c.serviceName) },
          { Key: TASK_TAG_KEY, Value: taskTagValue(taskArn) },
          { Key: REQUEST_TAG_KEY, Value: requestId },
          ...(c.stackTag ? [{ Key: STACK_TAG_KEY, Value: c.stackTag }] : []),
        ],
      }],
    }));
    const session = response.TrafficMirrorSession;
    // EC2 returns the original result to a repeated token; its request tag is the original's.
    // An answer without tags cannot tell, and a first create is by far the likelier.
    const echoed = session?.Tags?.find(t => t.Key === REQUEST_TAG_KEY)?.Value;
    return { sessionId: session?.TrafficMirrorSessionId ?? '', replayed: echoed !== undefined && echoed !== requestId };
  }

  /**
   * Applies a change to an owned session in place (no gap in mirroring).
   *
   * @returns false when the session no longer exists
   */
  public async modify(sessionId: string, change: SessionChange): Promise<boolean> {
    try {
      await this.ec2.send(new ModifyTrafficMirrorSessionCommand({
        TrafficMirrorSessionId: sessionId,
        TrafficMirrorTargetId: change.targetId,
        TrafficMirrorFilterId: change.filterId,
        SessionNumber: change.sessionNumber,
        PacketLength: change.packetLength,
        VirtualNetworkId: change.virtualNetworkId,
        Description: change.description,
        RemoveFields: change.removeFields.length > 0 ? change.removeFields : undefined,
      }));
      return true;
    } catch (error) {
      if (isSessionNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Every session this construct owns, whatever its parameters. DescribeTrafficMirrorSessions
   * documents no tag filter, so this lists every session of the account and keeps those
   * carrying the owner tag.
   */
  public async listOwned(): Promise<MirrorSession[]> {
    return (await this.listAll()).filter(s => this.isOwned(s));
  }

  /** Every session of the account, whoever owns it (DescribeTrafficMirrorSessions without filters). */
  public async listAll(): Promise<MirrorSession[]> {
    return this.describe([]);
  }

  /** Every session on the given ENIs, whoever owns it (to see which session numbers are taken). */
  public async listOnInterfaces(networkInterfaceIds: readonly string[]): Promise<MirrorSession[]> {
    const sessions: MirrorSession[] = [];
    for (let i = 0; i < networkInterfaceIds.length; i += ENI_FILTER_BATCH) {
      const batch = networkInterfaceIds.slice(i, i + ENI_FILTER_BATCH);
      const wanted = new Set(batch);
      // `network-interface-id` is a documented filter; the check costs nothing and guards the
      // callers, which may delete what this returns.
      sessions.push(...(await this.describe([{ Name: 'network-interface-id', Values: batch }])).filter(s => wanted.has(s.networkInterfaceId)));
    }
    return sessions;
  }

  /** Whether this construct created the session (its owner tag). */
  public isOwned(session: MirrorSession): boolean {
    return session.ownerId === this.config.ownerId;
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
      if (isSessionNotFound(error)) return false;
      throw error;
    }
  }

  private async describe(filters: Filter[]): Promise<MirrorSession[]> {
    const sessions: MirrorSession[] = [];
    const pages = paginateDescribeTrafficMirrorSessions({ client: this.ec2, pageSize: 1000 }, { Filters: filters.length > 0 ? filters : undefined });
    for await (const page of pages) {
      for (const s of page.TrafficMirrorSessions ?? []) {
        const session = toMirrorSession(s);
        if (session) sessions.push(session);
      }
    }
    return sessions;
  }
}

function toMirrorSession(s: TrafficMirrorSession): MirrorSession | undefined {
  if (!s.TrafficMirrorSessionId || !s.NetworkInterfaceId) {
    return undefined;
  }
  const tags = new Map((s.Tags ?? []).map(t => [t.Key, t.Value]));
  return {
    sessionId: s.TrafficMirrorSessionId,
    networkInterfaceId: s.NetworkInterfaceId,
    sessionNumber: s.SessionNumber ?? 0,
    targetId: s.TrafficMirrorTargetId,
    filterId: s.TrafficMirrorFilterId,
    packetLength: s.PacketLength,
    virtualNetworkId: s.VirtualNetworkId,
    description: s.Description || undefined,
    ownerId: tags.get(OWNER_TAG_KEY),
    taskTag: tags.get(TASK_TAG_KEY),
  };
}
