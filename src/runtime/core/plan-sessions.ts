/**
 * The pure core of the session manager: from what should be mirrored (the ENIs of the service's
 * running tasks) and what is (the sessions on those ENIs and the sessions we own), decide which
 * sessions to create and which to delete. No SDK, no I/O, no clock: the event path, the
 * periodic sweep and the deploy-time custom resource all call this, so they share invariants.
 */

/** EC2 allows at most this many sessions on one source network interface (not adjustable). */
export const MAX_SESSIONS_PER_ENI = 3;
/** Session numbers EC2 accepts. */
export const MAX_SESSION_NUMBER = 32766;

/** A running (or starting) task of the service and its network interface. */
export interface DesiredTask {
  readonly taskArn: string;
  readonly networkInterfaceId: string;
  /** When ECS created the task (epoch ms), when the caller knows it. */
  readonly createdAt?: number;
  /** The task's Availability Zone, when ECS named it: its session goes to a target there. */
  readonly availabilityZone?: string;
}

/** A session that exists, ours or not. */
export interface ExistingSession {
  readonly sessionId: string;
  readonly networkInterfaceId: string;
  readonly sessionNumber: number;
  /** True when the session carries this construct's owner tag. */
  readonly owned: boolean;
}

/** Inputs of {@link reconcile}. */
export interface ReconcileInput {
  readonly desired: readonly DesiredTask[];
  /**
   * Every session this construct owns, plus every session (any owner) on the desired ENIs.
   * Foreign sessions elsewhere are irrelevant and may be left out.
   */
  readonly sessions: readonly ExistingSession[];
  /** The configured session number. */
  readonly sessionNumber: number;
  /** When the configured number is taken on an ENI, use the lowest free one instead of reporting. */
  readonly pickFreeSessionNumber: boolean;
}

/** A session to create. */
export interface CreateAction extends DesiredTask {
  readonly sessionNumber: number;
}

/** A session to delete, and why. */
export interface DeleteAction {
  readonly sessionId: string;
  readonly networkInterfaceId: string;
  readonly reason: 'orphaned' | 'duplicate';
}

/** A desired task that cannot be mirrored as configured. */
export interface Conflict {
  readonly taskArn: string;
  readonly networkInterfaceId: string;
  readonly reason: 'SessionNumberInUse' | 'SourceSessionLimit';
  /** The session numbers already used on the ENI. */
  readonly usedSessionNumbers: number[];
}

/** What {@link reconcile} decided. */
export interface ReconcilePlan {
  readonly creates: CreateAction[];
  readonly deletes: DeleteAction[];
  readonly conflicts: Conflict[];
  /** Desired tasks that already have exactly one owned session. */
  readonly alreadyMirrored: number;
}

/**
 * Decides the actions that make "every desired task mirrored exactly once by us, and no owned
 * session anywhere else" true, touching no session we do not own.
 */
export function planSessions(input: ReconcileInput): ReconcilePlan {
  const desiredByEni = new Map<string, DesiredTask>();
  for (const task of input.desired) {
    // A task has one ENI; if two tasks claim one ENI (stale data), the first one wins.
    if (!desiredByEni.has(task.networkInterfaceId)) {
      desiredByEni.set(task.networkInterfaceId, task);
    }
  }

  const sessionsByEni = new Map<string, ExistingSession[]>();
  const seen = new Set<string>();
  for (const session of input.sessions) {
    if (seen.has(session.sessionId)) continue;
    seen.add(session.sessionId);
    const list = sessionsByEni.get(session.networkInterfaceId) ?? [];
    list.push(session);
    sessionsByEni.set(session.networkInterfaceId, list);
  }

  const creates: CreateAction[] = [];
  const deletes: DeleteAction[] = [];
  const conflicts: Conflict[] = [];
  let alreadyMirrored = 0;

  for (const [eni, sessions] of sessionsByEni) {
    const owned = sessions.filter(s => s.owned).sort(bySessionNumberThenId);
    if (!desiredByEni.has(eni)) {
      owned.forEach(s => deletes.push({ sessionId: s.sessionId, networkInterfaceId: eni, reason: 'orphaned' }));
      continue;
    }
    // Keep the owned session with the lowest number; any other owned one is a duplicate.
    owned.slice(1).forEach(s => deletes.push({ sessionId: s.sessionId, networkInterfaceId: eni, reason: 'duplicate' }));
  }

  for (const [eni, task] of desiredByEni) {
    const sessions = sessionsByEni.get(eni) ?? [];
    if (sessions.some(s => s.owned)) {
      alreadyMirrored++;
      continue;
    }
    const used = sessions.map(s => s.sessionNumber).sort((a, b) => a - b);
    const decision = chooseSessionNumber(used, input.sessionNumber, input.pickFreeSessionNumber);
    if (typeof decision === 'number') {
      creates.push({ ...task, networkInterfaceId: eni, sessionNumber: decision });
    } else {
      conflicts.push({ taskArn: task.taskArn, networkInterfaceId: eni, reason: decision, usedSessionNumbers: used });
    }
  }

  return { creates, deletes, conflicts, alreadyMirrored };
}

/**
 * The session number to use on an ENI whose sessions (none of them ours) use `used`, or why
 * there is none. EC2 evaluates an ENI's sessions in number order and the first whose filter
 * matches mirrors the packet, so a free number is looked for only after the configured one: a
 * lower number would take packets from the session that comes first.
 */
export function chooseSessionNumber(used: readonly number[], configured: number, pickFree: boolean): number | Conflict['reason'] {
  if (used.length >= MAX_SESSIONS_PER_ENI) {
    return 'SourceSessionLimit';
  }
  if (!used.includes(configured)) {
    return configured;
  }
  if (!pickFree) {
    return 'SessionNumberInUse';
  }
  for (let n = configured + 1; n <= MAX_SESSION_NUMBER; n++) {
    if (!used.includes(n)) return n;
  }
  return 'SessionNumberInUse';
}

function bySessionNumberThenId(a: ExistingSession, b: ExistingSession): number {
  return a.sessionNumber - b.sessionNumber || a.sessionId.localeCompare(b.sessionId);
}
