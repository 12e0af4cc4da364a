/**
 * Which traffic mirror target a task's session goes to when the mirror has several: targets per
 * Availability Zone, pools, or both. Pure: no SDK, no aws-cdk-lib, no I/O, no shared state. The layout
 * itself is the contract's (contract/target-layout.ts).
 *
 * Each task gets an order of its targets from rendezvous (highest random weight) hashing of its
 * ENI id over the target ids: deterministic, so the event path's one create keeps a
 * deterministic ClientToken and needs no read, and spread evenly over a zone's targets with no
 * shared state. The task's own zone comes first; other zones only with `allowCrossZone`.
 */
import { createHash } from 'crypto';
import { TargetLayout, TargetSpec, targetsOf } from '../../contract/target-layout';

/** A target a task may use, in the order it is tried. */
export interface TargetCandidate {
  readonly targetId: string;
  /**
   * True when the target is not known to be in the task's zone: a target of another zone, or any
   * zoned target for a task whose zone is unknown. Only with `allowCrossZone`.
   */
  readonly crossZone: boolean;
  readonly availabilityZone?: string;
}

/** Whether the target id is one of the layout's. */
export function isConfiguredTarget(layout: TargetLayout, targetId: string): boolean {
  return targetsOf(layout).some(t => t.targetId === targetId);
}

/** The rendezvous weight of a target for a key: the first 48 bits of a SHA-256 of both. */
function weight(key: string, targetId: string): number {
  return parseInt(createHash('sha256').update(`${key}\u0000${targetId}`).digest('hex').slice(0, 12), 16);
}

/** Targets in descending weight for the key (ties, which need a hash collision, by id). */
function ranked(key: string, targets: readonly TargetSpec[]): TargetSpec[] {
  const weights = new Map(targets.map(t => [t.targetId, weight(key, t.targetId)]));
  return [...targets].sort((a, b) => weights.get(b.targetId)! - weights.get(a.targetId)! || a.targetId.localeCompare(b.targetId));
}

/**
 * The targets a task may use, in the order to try them: its own zone's (or, in a layout without
 * zones, all of them) by rendezvous weight of `key` (the task's ENI id), then, with
 * `allowCrossZone`, every other zone's the same way. A zoned layout gives a task of an unknown
 * zone no local target.
 */
export function candidateTargets(layout: TargetLayout, key: string, availabilityZone?: string): TargetCandidate[] {
  const all = targetsOf(layout);
  const candidate = (crossZone: boolean) => (t: TargetSpec): TargetCandidate =>
    ({ targetId: t.targetId, crossZone, ...(t.availabilityZone ? { availabilityZone: t.availabilityZone } : {}) });
  if (!all.some(t => t.availabilityZone !== undefined)) {
    return ranked(key, all).map(candidate(false));
  }
  const local = availabilityZone === undefined ? [] : all.filter(t => t.availabilityZone === availabilityZone);
  const remote = all.filter(t => !local.includes(t));
  return [...ranked(key, local).map(candidate(false)), ...(layout.allowCrossZone ? ranked(key, remote).map(candidate(true)) : [])];
}

/** A session as the placement sees it. */
export interface PlacedSession {
  readonly networkInterfaceId: string;
  readonly targetId?: string;
}

/** Why the sweep moves a session to another target. */
export type MoveReason = 'unconfigured-target' | 'back-to-zone';

/** Where the sweep moves a session, and why. */
export interface TargetMove {
  readonly targetId: string;
  readonly reason: MoveReason;
}

/**
 * The sources on each target, from a listing of every session of the account (other tools'
 * count against a target's limit too), and the sweep's decision for each owned session: it moves
 * a session whose target left the configuration, and a session in another zone than its task
 * back to a target of the task's zone that has room. Nothing else moves, so the sweep causes no
 * churn. Each move is counted at once, so one sweep never fills a target past its limit.
 */
export class TargetLoad {
  private readonly sources = new Map<string, Set<string>>();
  private readonly specs: Map<string, TargetSpec>;

  constructor(private readonly layout: TargetLayout, sessions: readonly PlacedSession[]) {
    this.specs = new Map(targetsOf(layout).map(t => [t.targetId, t]));
    for (const s of sessions) {
      if (s.targetId !== undefined) this.add(s.targetId, s.networkInterfaceId);
    }
  }

  /** Whether the target takes one more source (by the listing and the moves planned since). */
  public hasRoom(targetId: string, networkInterfaceId?: string): boolean {
    const limit = this.specs.get(targetId)?.maxSources;
    const sources = this.sources.get(targetId);
    if (networkInterfaceId !== undefined && sources?.has(networkInterfaceId)) return true;
    return limit === undefined || (sources?.size ?? 0) < limit;
  }

  /** Whether the session's target is in another zone than its task (both known). */
  public isCrossZone(session: PlacedSession, availabilityZone: string | undefined): boolean {
    const zone = session.targetId === undefined ? undefined : this.specs.get(session.targetId)?.availabilityZone;
    return zone !== undefined && availabilityZone !== undefined && zone !== availabilityZone;
  }

  /**
   * Where the owned session of a task should move, or undefined to stay. A session on a target
   * that is no longer configured goes to the task's first candidate with room (its first
   * candidate when none has, for EC2 to refuse and the next sweep to retry); one in another
   * zone than its task goes back to the task's zone only when a target there has room.
   */
  public moveFor(session: PlacedSession, availabilityZone: string | undefined): TargetMove | undefined {
    if (session.targetId === undefined) return undefined;
    const candidates = candidateTargets(this.layout, session.networkInterfaceId, availabilityZone);
    let move: TargetMove | undefined;
    if (!this.specs.has(session.targetId)) {
      const to = candidates.find(c => this.hasRoom(c.targetId)) ?? candidates[0];
      if (to) move = { targetId: to.targetId, reason: 'unconfigured-target' };
    } else if (this.isCrossZone(session, availabilityZone)) {
      const to = candidates.find(c => !c.crossZone && this.hasRoom(c.targetId));
      if (to) move = { targetId: to.targetId, reason: 'back-to-zone' };
    }
    if (move) {
      this.remove(session.targetId, session.networkInterfaceId);
      this.add(move.targetId, session.networkInterfaceId);
    }
    return move;
  }

  private add(targetId: string, eni: string): void {
    const set = this.sources.get(targetId);
    if (set) set.add(eni);
    else this.sources.set(targetId, new Set([eni]));
  }

  private remove(targetId: string, eni: string): void {
    this.sources.get(targetId)?.delete(eni);
  }
}
