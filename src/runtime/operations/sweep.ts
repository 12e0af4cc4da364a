/**
 * Reconcile the whole service: the periodic sweep and the deploy-time enrollment.
 */
import { OperationDeps, SweepOptions, SweepResult, planFor, wantedTasks } from './operation-deps';
import { ModifyAction, runActions } from './run-actions';
import { FailureReason } from '../../contract/failure-reason';
import { configToEnv } from '../../contract/session-manager-config';
import { KEEPING_UP_BACKLOG, SETTLE_MS } from '../../contract/timing';
import { MirrorSession } from '../adapters/mirror-sessions';
import { StartingTask } from '../adapters/service-tasks';
import { DesiredTask } from '../core/plan-sessions';
import { changeFor } from '../core/session-parameters';
import { TargetLoad } from '../core/target-placement';
import { taskIdOf } from '../core/task-id';

/** Lines of unmirrored tasks kept in a sweep's summary (its log line and the enrollment's error). */
const MAX_ERROR_LINES = 10;

/**
 * Creates the sessions running tasks lack, brings every owned session to the current
 * configuration in place (ModifyTrafficMirrorSession: no gap in mirroring), and deletes the
 * owned sessions whose task is gone. Per-session failures are logged and counted, not thrown,
 * so one bad ENI cannot stop the rest; listing failures are thrown. Stops starting actions at
 * the deadline; the next run picks up what is left, since it starts from a fresh listing.
 */
export async function sweep(deps: OperationDeps, limits: SweepOptions = {}): Promise<SweepResult> {
  return (await sweepService(deps, limits)).summary;
}

/** What {@link sweepService} did, and the young tasks it left to their events. */
export interface SweepOutcome {
  readonly summary: SweepResult;
  /** Unmirrored tasks created at or after `createdBefore`, whose creates were left to their PENDING events. */
  readonly deferredTasks: readonly DesiredTask[];
  /** Whether more of the service's tasks wait for their events than one round of polls takes (its own burst). */
  readonly busy: boolean;
  /** Wanted tasks created at or after `createdBefore` that are still PROVISIONING. */
  readonly startingTasks: readonly StartingTask[];
}

/** {@link sweep}, also returning the tasks it left to their events (scheduled-sweep.ts looks at them again). */
export async function sweepService(deps: OperationDeps, limits: SweepOptions = {}): Promise<SweepOutcome> {
  const { config, sessions, tasks, logger, metrics } = deps;
  // Sessions first, then tasks: a session created after this listing belongs to a task the task
  // listing is at least as likely to show. With no tag filter documented, the listing holds
  // every session of the account, other tools' included: one listing serves both.
  const all = await sessions.listAll();
  const listed = all.filter(s => sessions.isOwned(s));
  // Switched off, no task is to be mirrored: every owned session goes. Otherwise the sampled ones.
  const wanted = await wantedTasks(deps, limits.freshSwitch);
  const listedTasks = await tasks.listLive();
  const desired = listedTasks.active.filter(wanted);
  const desiredEnis = new Set(desired.map(t => t.networkInterfaceId));

  // ListTasks can lag behind a task that just started. Before deleting a session, ask ECS
  // directly about its task; if it is active, it stays desired; if it is draining, its
  // session is left alone (EC2 deletes it with the ENI); if ECS still says PROVISIONING, its
  // PENDING event made the session before DescribeTasks caught up: it stays too.
  const orphanTasks = listed.filter(s => !desiredEnis.has(s.networkInterfaceId)).map(s => s.taskTag).filter((t): t is string => !!t);
  const live = orphanTasks.length ? await tasks.describeLive(orphanTasks) : { active: [], draining: new Set<string>(), starting: [] };
  for (const task of live.active.filter(wanted)) {
    if (!desiredEnis.has(task.networkInterfaceId)) {
      desired.push(task);
      desiredEnis.add(task.networkInterfaceId);
    }
  }
  const kept = new Set([...live.draining, ...live.starting.map(t => taskIdOf(t.taskArn))]);
  const leftAlone = (s: MirrorSession) => !desiredEnis.has(s.networkInterfaceId) && !!s.taskTag && kept.has(taskIdOf(s.taskTag));
  const owned = listed.filter(s => !leftAlone(s));

  // Other tools' sessions matter only on ENIs that are to be mirrored (their numbers are taken).
  const foreign = all.filter(s => !sessions.isOwned(s) && desiredEnis.has(s.networkInterfaceId));

  const planned = planFor(deps, desired, [...owned, ...foreign]);
  // A young task's PENDING event may still be on its way: its create is left to it. While the
  // shared queue holds a backlog (busyCreatedBefore is set), a task is young for longer only if
  // this service has events in it: more of its tasks wait for a session than one round of polls
  // takes. Another service's backlog alone would otherwise hold every service's healing back.
  const after = (time: number | undefined) => (t: StartingTask) => time !== undefined && t.createdAt !== undefined && t.createdAt >= time;
  const busy = limits.busyCreatedBefore !== undefined && planned.creates.filter(after(limits.busyCreatedBefore)).length > KEEPING_UP_BACKLOG;
  const isYoung = after(busy ? limits.busyCreatedBefore : limits.createdBefore);
  // Every sweep runs the current configuration (read from the service's parameter, never from
  // a trigger). A deployment's or a flip's sweep and a scheduled one may run at once: they take
  // the work from opposite ends, creates by ENI id and the rest by session id, so neither redoes
  // what the other did since its listing (each write spends one of EC2's tokens, which they share).
  const byId = <T>(id: (x: T) => string) => (a: T, b: T) => {
    const [x, y] = limits.fromTheEnd ? [id(b), id(a)] : [id(a), id(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const plan = {
    ...planned,
    creates: planned.creates.filter(c => !isYoung(c)).sort(byId(c => c.networkInterfaceId)),
    deletes: [...planned.deletes].sort(byId(d => d.sessionId)),
  };
  const deferredTasks = planned.creates.filter(isYoung);
  const startingTasks = listedTasks.starting.filter(t => wanted(t) && isYoung(t));
  const deferred = deferredTasks.length;
  const deleting = new Set(plan.deletes.map(d => d.sessionId));
  const modifies: ModifyAction[] = [];
  // Which target each session is on changes only when its target left the configuration, or
  // when it is in another zone than its task and the task's zone has room again (no churn).
  const load = new TargetLoad(config, all);
  const zones = new Map(desired.map(t => [t.networkInterfaceId, t.availabilityZone]));
  let crossZone = 0;
  for (const session of owned) {
    if (deleting.has(session.sessionId) || !desiredEnis.has(session.networkInterfaceId)) continue;
    const zone = zones.get(session.networkInterfaceId);
    const move = load.moveFor(session, zone);
    const change = changeFor(session, config, limits.removedFields, { targetId: move?.targetId });
    if (change) modifies.push({ session, change, ...(move ? { why: move.reason } : {}) });
    if (load.isCrossZone({ ...session, targetId: move?.targetId ?? session.targetId }, zone)) crossZone++;
  }
  if (crossZone > 0) {
    logger.warn('tasks mirrored to a target in another Availability Zone: their zone has no target with room', { action: 'sweep', crossZoneTasks: crossZone });
  }
  // Whatever differs from the configuration is brought to it, however many.
  const modifyNow = [...modifies].sort(byId(m => m.session.sessionId));
  // A configuration the deployment wrote less than the settle time ago is its enrollment's to
  // apply (CloudFormation writes the parameter just before the enrollment's Update): a scheduled
  // sweep beside it would spend EC2's writes on the same sessions a second time. Later sweeps
  // apply it when the deployment did not.
  const young = limits.deferYoungConfiguration && config.configuredAt !== undefined && Date.now() - config.configuredAt < SETTLE_MS;
  if (young && modifyNow.length > 0) {
    logger.info('the configuration is younger than the settle time; its deployment brings the sessions to it', { action: 'sweep', sessions: modifyNow.length });
    modifyNow.length = 0;
  }
  if (modifyNow.length > 0) {
    logger.info('bringing owned sessions to the current configuration', { action: 'sweep', sessions: modifyNow.length });
  }
  // A task without a session at this point either never got one or lost it to a hand delete;
  // a fresh token per sweep makes EC2 create a new session in the second case too.
  const running = JSON.stringify(configToEnv(config));
  const stillCurrent = deps.currentConfig
    ? async () => {
      const current = await deps.currentConfig!();
      return current === undefined || JSON.stringify(configToEnv({ ...current, stackTag: config.stackTag })) === running;
    }
    : undefined;
  const result = await runActions(deps, plan, modifyNow, `sweep-${Date.now()}-${Math.random()}`, { ...limits, stillCurrent });
  // Among the tasks mirrored before this sweep; those it creates now are looked at by the next.
  const shadowed = shadowedTasks(deps, desired, owned, foreign);
  const mirrored = plan.alreadyMirrored + result.created + result.raced - shadowed.length;
  metrics.coverage(desired.length, mirrored);
  const failuresByReason = { ...result.failuresByReason };
  const unmirroredByReason = { ...result.createFailuresByReason };
  if (shadowed.length > 0) {
    unmirroredByReason[FailureReason.SHADOWED] = shadowed.length;
    for (const _ of shadowed) metrics.failure(FailureReason.SHADOWED);
    logger.warn('tasks whose session sits behind another tool\'s lower-numbered session on the same ENI: it may get no packet', {
      action: 'sweep', outcome: 'shadowed', reason: FailureReason.SHADOWED, tasks: shadowed.length, examples: shadowed.slice(0, 10),
    });
  }
  for (const conflict of plan.conflicts) {
    failuresByReason[conflict.reason] = (failuresByReason[conflict.reason] ?? 0) + 1;
    unmirroredByReason[conflict.reason] = (unmirroredByReason[conflict.reason] ?? 0) + 1;
  }
  const summary: SweepResult = {
    runningTasks: desired.length,
    mirroredTasks: mirrored,
    created: result.created,
    modified: result.modified,
    deleted: result.deleted,
    conflicts: plan.conflicts.length,
    failures: result.createFailures + result.modifyFailures + result.deleteFailures + plan.conflicts.length,
    createFailures: result.createFailures,
    modifyFailures: result.modifyFailures,
    deleteFailures: result.deleteFailures,
    transientFailures: result.transientFailures,
    unfinished: result.unfinished,
    deferred,
    failuresByReason,
    unmirroredByReason,
    unmirroredErrors: [
      ...result.errors.filter(e => e.startsWith('create ')),
      ...plan.conflicts.map(c => `create ${JSON.stringify({ taskArn: c.taskArn, networkInterfaceId: c.networkInterfaceId })}: ${c.reason}: `
        + `session numbers ${c.usedSessionNumbers.join(', ')} are taken on the ENI`),
    ].slice(0, MAX_ERROR_LINES),
  };
  for (const conflict of plan.conflicts) {
    metrics.failure(conflict.reason);
    logger.error('task cannot be mirrored with the configured session number', {
      action: 'start',
      outcome: 'failed',
      reason: conflict.reason,
      taskArn: conflict.taskArn,
      networkInterfaceId: conflict.networkInterfaceId,
      usedSessionNumbers: conflict.usedSessionNumbers,
      hint: conflict.reason === 'SessionNumberInUse' ? 'another tool uses this session number on the ENI; set pickFreeSessionNumber or another sessionNumber' : 'the ENI already has 3 sessions',
    });
  }
  logger.info('sweep finished', { action: 'sweep', ...summary, crossZoneTasks: crossZone });
  return { summary, deferredTasks, startingTasks, busy };
}

/**
 * The tasks whose session of ours sits behind another tool's session with a lower number on the
 * same ENI. EC2 evaluates a source's sessions in session-number order and the first session whose
 * filter matches a packet mirrors it (Traffic Mirroring guide, "Traffic mirror sessions"), so
 * ours may get none of the packets. The other session's filter is not read (that would need
 * ec2:DescribeTrafficMirrorFilters on filters of other tools): any lower-numbered foreign
 * session may match, so it is reported.
 */
function shadowedTasks(
  deps: OperationDeps, desired: readonly DesiredTask[], owned: readonly MirrorSession[], foreign: readonly MirrorSession[],
): Array<{ taskArn: string; networkInterfaceId: string; sessionNumber: number; before: string[] }> {
  if (foreign.length === 0) return [];
  const ours = new Map<string, number>();
  const keep = (eni: string, n: number) => ours.set(eni, Math.min(n, ours.get(eni) ?? Infinity));
  for (const s of owned) keep(s.networkInterfaceId, s.sessionNumber);
  const out = [];
  for (const task of desired) {
    const n = ours.get(task.networkInterfaceId);
    if (n === undefined) continue;
    const before = foreign.filter(s => s.networkInterfaceId === task.networkInterfaceId && s.sessionNumber < n && !deps.sessions.isOwned(s));
    if (before.length > 0) {
      out.push({ taskArn: task.taskArn, networkInterfaceId: task.networkInterfaceId, sessionNumber: n, before: before.map(s => s.sessionId) });
    }
  }
  return out;
}
