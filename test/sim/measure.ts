import { EC2_LIMITS, Ec2Call, SessionWrite } from './sim-ec2';
import { SimTask } from './sim-ecs';
import { MirroredService, World } from './world';
import { OWNER_TAG_KEY } from '../../src/contract/ownership';
import { isConfiguredTarget } from '../../src/runtime/core/target-placement';
import { DOCUMENTED_SESSION_FILTERS, FakeSession } from '../support/ec2-model';

/** What a scenario expects once the system has settled. */
export interface Expectation {
  /** Sources the target accepts; running tasks beyond it cannot be mirrored. */
  readonly targetSourceLimit?: number;
  /** The stack was deleted: nothing owned may remain. */
  readonly stackDeleted?: boolean;
  /** Sessions of other tools that must survive (unless EC2 removed them with their ENI). */
  readonly foreignSessionIds?: readonly string[];
}

/** One run's figures, in the shape bench/results.json publishes. */
export interface Figures {
  readonly tasks: number;
  readonly taskStarts: number;
  readonly taskStops: number;
  readonly invariantViolations: number;
  readonly violations: string[];
  readonly ec2WritesPerTaskStart: number | null;
  readonly ec2ReadsPerTaskStart: number | null;
  readonly ec2WritesPerTaskStop: number | null;
  readonly ec2ReadsPerTaskStop: number | null;
  readonly apiCallsPerTaskStart: Record<string, number>;
  readonly apiCallsPerTaskStop: Record<string, number>;
  readonly sweepApiCalls: Record<string, number>;
  readonly throttledCalls: number;
  readonly lambdaInvocationsPerTask: number;
  readonly timeToFullCoverageSec: number | null;
  /**
   * Running tasks without an owned session, summed over every simulated second after the
   * trigger: the mirroring the scenario lost. A task counts from its RUNNING state on.
   */
  readonly unmirroredTaskSeconds: number;
  /**
   * Per task start: seconds from the moment its ENI was attached (the first packet it could
   * send) to the moment its session existed. Percentiles by nearest rank; null without starts.
   */
  readonly blindWindowSec: { p50: number; p99: number; max: number } | null;
  /** Task starts whose ENI never had a session of ours (not in blindWindowSec). */
  readonly startsNeverMirrored: number;
  /** How the custom resource's operations ended (the provider framework's answers). */
  readonly enrollmentResults: string[];
  /**
   * DescribeTrafficMirrorSessions requests, over the whole run, with a filter the API reference
   * does not document (`tag:` filters among them).
   */
  readonly undocumentedFilterRequests: number;
  readonly tokenBucketBoundSec: number | null;
  readonly ratioToBound: number | null;
  readonly deadLetters: number;
  readonly eventsPublished: number;
  readonly eventsDelivered: number;
  readonly eventsLost: number;
  readonly eventsDropped: number;
  readonly invocationFailures: number;
  /** Failures the session manager reported, by reason (its SessionFailures metric). */
  readonly failureReasons: Record<string, number>;
  /**
   * Of the owned sessions' seconds after the trigger (sampled every simulated second), every
   * service's together, the fraction whose target is in another Availability Zone than the task:
   * mirrored traffic billed as inter-AZ data transfer. Null when no session existed.
   */
  readonly crossZoneSessionFraction: number | null;
  /** Mirrored services in the stack (only when more than one). */
  readonly services?: number;
  /**
   * At the end, over every service: running tasks, those to be mirrored (sampled, switch on),
   * those mirrored, and those mirrored that are not to be. Only with sampling or a switch.
   */
  readonly tasksAtEnd?: { running: number; wanted: number; mirrored: number; mirroredUnwanted: number };
  /** GetParameter calls of the switch parameters since the trigger, by function, and throttled ones. Only with a switch. */
  readonly switchReads?: { event: number; sweep: number; throttled: number };
  /** Sweeps the event function started at once for a flipped switch, since the trigger. Only with a switch. */
  readonly immediateSweeps?: number;
  /** Sweeps' EC2 reads per simulated minute since the trigger, all services together (only with more than one). */
  readonly sweepEc2ReadsPerMinute?: number | null;
  /** switch-off-on: seconds from switching off to the first moment no owned session is left. */
  readonly timeToZeroSessionsSec?: number | null;
  /** switch-off-on: the token-bucket bound for those deletes. */
  readonly zeroSessionsBoundSec?: number | null;
  /** switch-off-on: scheduled sweeps that ran after the first flip (none when unscheduled). */
  readonly scheduledSweepsAfterFlip?: number;
  /** Chunks of flips' sweeps after their first, each started by the chunk before. */
  readonly sweepChunks?: number;
}

/** The token-bucket bound of `writes` creates, modifies or deletes: EC2's burst, then its refill rate. */
export function tokenBucketBoundSec(writes: number): number {
  return Math.max(0, (writes - EC2_LIMITS.mutatingBurst) / EC2_LIMITS.mutatingPerSecond);
}

/**
 * Watches a world from a trigger on: samples coverage every simulated second, then checks the
 * invariants and turns the API call log into per-task figures.
 */
export class Measure {
  private t0 = 0;
  private ec2Mark = 0;
  private ecsMark = 0;
  private invocationMark = 0;
  private coveredAt: number | undefined;
  private unmirroredTaskSeconds = 0;
  private sessionSeconds = 0;
  private crossZoneSessionSeconds = 0;
  private probing = false;
  private ready: () => boolean;
  /** Writes that were wrong when EC2 accepted them, by kind (see {@link judgeWrite}). */
  private readonly wrongWrites = new Map<string, number>();
  private ssmMark = 0;
  private immediateMark = 0;

  constructor(private readonly world: World, private readonly expectation: Expectation = {}) {
    this.ready = () => true;
    world.ec2.onSessionWrite = write => this.judgeWrite(write);
  }

  /** Seconds from the trigger to the first moment coverage held; null while it has not. */
  public get coverageSec(): number | null {
    return this.coveredAt === undefined ? null : (this.coveredAt - this.t0) / 1000;
  }

  /**
   * Marks the start of what is measured and starts the coverage probe. Coverage is reached the
   * first time `ready()` holds (the scenario's tasks are where it sends them) and every
   * invariant holds.
   */
  public trigger(ready: () => boolean = () => true): void {
    this.ready = ready;
    const w = this.world;
    this.t0 = w.clock.now;
    this.ec2Mark = w.ec2.calls.length;
    this.ecsMark = w.ecs.calls.length;
    this.invocationMark = w.eventFunction.invocations + (w.reconciler?.invocations ?? 0);
    this.ssmMark = w.ssm.calls.length;
    this.immediateMark = w.immediateSweeps;
    this.coveredAt = undefined;
    this.unmirroredTaskSeconds = 0;
    this.sessionSeconds = 0;
    this.crossZoneSessionSeconds = 0;
    if (!this.probing) {
      this.probing = true;
      const probe = () => {
        // One pass over sessions and tasks per simulated second; the full invariant check only
        // once no running task lacks a session (before that it cannot pass anyway).
        const { byOwner: owned, zones } = w.owned();
        const unmirrored = this.expectation.stackDeleted ? 0 : this.unmirrored(owned);
        this.unmirroredTaskSeconds += unmirrored;
        this.sessionSeconds += zones.sessions;
        this.crossZoneSessionSeconds += zones.crossing;
        const mayHold = unmirrored === 0 || this.expectation.targetSourceLimit !== undefined;
        if (this.coveredAt === undefined && mayHold && this.ready() && this.violations().length === 0) this.coveredAt = w.clock.now;
        w.clock.schedule(1000, probe);
      };
      w.clock.schedule(0, probe);
    }
  }

  /** Running tasks that are to be mirrored and have no session of their service's owner. */
  private unmirrored(sessions: ReadonlyMap<string, ReadonlyMap<string, number>>): number {
    const w = this.world;
    const running = byService(w.ecs.running());
    let n = 0;
    for (const service of w.services) {
      const owned = sessions.get(service.config.ownerId) ?? new Map<string, number>();
      n += (running.get(service.name) ?? []).filter(t => !owned.has(t.eni) && w.wanted(service, t)).length;
    }
    return n;
  }

  /**
   * What is wrong with the world right now; empty when every invariant holds. Each service is
   * checked on its own (with several, each finding names its service): its tasks against the
   * sessions its owner tag marks.
   */
  public violations(final = false): string[] {
    const w = this.world;
    const out: string[] = [];
    const sessions = byOwner([...w.ec2.sessions.values()]);
    const running = byService(w.ecs.running());
    const live = byService(w.ecs.live());
    for (const service of w.services) {
      const prefix = w.services.length > 1 ? `${service.name}: ` : '';
      const owned = sessions.get(service.config.ownerId) ?? [];
      const found = this.serviceViolations(service, owned, running.get(service.name) ?? [], live.get(service.name) ?? []);
      out.push(...found.map(v => prefix + v));
    }
    for (const [kind, n] of this.wrongWrites) out.push(`${n} ${kind}`);
    const e = this.expectation;
    for (const id of e.foreignSessionIds ?? []) {
      const how = w.ec2.deletions.get(id);
      if (!w.ec2.sessions.has(id) && how !== 'eni-deleted') out.push(`foreign session ${id} deleted by ${how}`);
    }
    if (final) {
      const failed = w.enrollmentResults.filter(r => !r.endsWith('SUCCESS'));
      if (failed.length > 0) out.push(`custom resource failed: ${failed.join(', ')}`);
      const stuck = w.queue.messages.length;
      if (stuck > 0) out.push(`${stuck} events still in the queue`);
      if (w.droppedEvents > 0) out.push(`${w.droppedEvents} events dropped after the function's retries`);
    }
    return out;
  }

  /** One service's invariants: `owned` are the sessions its owner tag marks. */
  private serviceViolations(
    service: MirroredService, owned: readonly FakeSession[], running: readonly SimTask[], live: readonly SimTask[],
  ): string[] {
    const w = this.world;
    const e = this.expectation;
    const out: string[] = [];
    if (e.stackDeleted) {
      if (owned.length > 0) out.push(`${owned.length} owned sessions left after stack delete`);
      return out;
    }
    const onEni = countByEni(owned);
    let mirrored = 0;
    let wanted = 0;
    let unwantedMirrored = 0;
    for (const t of running) {
      const n = onEni.get(t.eni) ?? 0;
      if (!w.wanted(service, t)) {
        // Not sampled, or switched off: it must have no session of ours.
        if (n > 0) unwantedMirrored++;
        continue;
      }
      wanted++;
      if (n > 1) out.push(`task ${t.id} has ${n} sessions`);
      if (n >= 1) mirrored++;
    }
    const reachable = e.targetSourceLimit === undefined ? wanted : Math.min(wanted, e.targetSourceLimit);
    if (mirrored < reachable) out.push(`${reachable - mirrored} running tasks unmirrored`);
    if (unwantedMirrored > 0) out.push(`${unwantedMirrored} running tasks mirrored that are not to be (not sampled, or switched off)`);
    const c = service.config;
    const stale = owned.filter(s => !isConfiguredTarget(c, s.targetId) || s.filterId !== c.filterId
      || (c.packetLength !== undefined && s.packetLength !== c.packetLength)
      || (c.virtualNetworkId !== undefined && s.virtualNetworkId !== c.virtualNetworkId) || (s.description || undefined) !== c.description);
    if (stale.length > 0) out.push(`${stale.length} owned sessions have a previous configuration`);
    // Draining tasks may keep their session until EC2 deletes it with the ENI. An ENI of
    // another service's task counts as dead for this one.
    const liveEnis = new Set(live.map(t => t.eni));
    for (const eni of onEni.keys()) {
      if (!liveEnis.has(eni)) out.push(`owned session on dead ENI ${eni}`);
    }
    return out;
  }

  /**
   * Judges a delete or modify of a service's session when EC2 accepts it, since a wrong write
   * may be healed before the end: deleting the only session of a running task that is to be
   * mirrored (unless the stack is being deleted), or modifying a session to a target or filter
   * its service never had (another service's configuration, say).
   */
  private judgeWrite(write: SessionWrite): void {
    const w = this.world;
    const service = w.services.find(s => s.config.ownerId === write.before.tags[OWNER_TAG_KEY]);
    if (!service) return; // Other tools' sessions: the foreign-session expectation covers them.
    const wrong = (kind: string) => this.wrongWrites.set(kind, (this.wrongWrites.get(kind) ?? 0) + 1);
    if (write.action === 'DeleteTrafficMirrorSession') {
      if (this.expectation.stackDeleted) return;
      const eni = write.before.networkInterfaceId;
      const task = w.ecs.running(service.name).find(t => t.eni === eni);
      const othersLeft = w.ec2.sessions.entriesOnInterface(eni).some(([, s]) => s.tags[OWNER_TAG_KEY] === service.config.ownerId);
      if (task && w.wanted(service, task) && !othersLeft) wrong('sessions of running tasks to be mirrored deleted');
      return;
    }
    const after = write.after!;
    const known = [service.config, service.scheduleConfig];
    if (!known.some(c => isConfiguredTarget(c, after.targetId) && c.filterId === after.filterId)) wrong('sessions modified to another service\'s target or filter');
  }

  /**
   * Blind windows of the task starts since the trigger: from ENI attachment to the first
   * accepted CreateTrafficMirrorSession of the ENI (a repeat of a token is accepted too, but
   * comes after the first).
   */
  private blindWindows(ec2: readonly Ec2Call[]): { windows: number[]; never: number } {
    const createdAt = new Map<string, number>();
    for (const c of ec2) {
      if (c.action === 'CreateTrafficMirrorSession' && c.result === 'ok' && c.networkInterfaceId && !createdAt.has(c.networkInterfaceId)) {
        createdAt.set(c.networkInterfaceId, c.at);
      }
    }
    const windows: number[] = [];
    let never = 0;
    const services = new Map(this.world.services.map(s => [s.name, s]));
    for (const t of this.world.ecs.tasks.values()) {
      if (t.preexisting || t.eniAttachedAt === undefined || t.eniAttachedAt < this.t0) continue;
      // A task that is not to be mirrored (not sampled) has no blind window.
      if (!this.world.wanted(services.get(t.serviceName)!, t)) continue;
      const at = createdAt.get(t.eni);
      if (at === undefined) never++;
      else windows.push(round(Math.max(0, at - t.eniAttachedAt) / 1000));
    }
    return { windows, never };
  }

  /** The figures since the trigger. `writesNeeded`: creates or deletes the scenario requires. */
  public figures(tasks: number, writesNeeded: number): Figures {
    const w = this.world;
    const ec2 = w.ec2.calls.slice(this.ec2Mark);
    const ecs = w.ecs.calls.slice(this.ecsMark);
    const starts = [...w.ecs.tasks.values()].filter(t => !t.preexisting && t.runningAt !== undefined && t.runningAt >= this.t0);
    const stops = [...w.ecs.tasks.values()].filter(t => t.stoppedAt !== undefined && t.stoppedAt >= this.t0).length;
    const ours = w.options.strategy === 'ours';
    // Our event path reads by ENI both on a start (a taken number, a repeated token) and on a
    // stop: the ENI's task tells which.
    const stoppedEnis = new Set([...w.ecs.tasks.values()].filter(t => t.stoppedAt !== undefined).map(t => t.eni));
    const byPhase = (phase: 'start' | 'stop') => {
      const counts: Record<string, number> = {};
      const add = (action: string) => { counts[action] = (counts[action] ?? 0) + 1; };
      for (const c of ec2) {
        if (!c.caller.startsWith('event')) continue;
        const p = ours
          ? (c.action === 'CreateTrafficMirrorSession' || (c.networkInterfaceIds ?? []).some(eni => !stoppedEnis.has(eni)) ? 'start' : 'stop')
          : (c.caller.endsWith(':start') ? 'start' : c.caller.endsWith(':stop') ? 'stop' : 'other');
        if (p === phase) add(c.result === 'throttled' ? `${c.action}(throttled)` : c.action);
      }
      for (const c of ecs) {
        if (c.caller.startsWith('event') && phase === 'start') add(c.action);
      }
      return counts;
    };
    const sweepApiCalls: Record<string, number> = {};
    for (const c of [...ec2, ...ecs]) {
      if (c.caller.startsWith('sweep')) sweepApiCalls[c.action] = (sweepApiCalls[c.action] ?? 0) + 1;
    }
    const startCalls = byPhase('start');
    const stopCalls = byPhase('stop');
    const per = (n: number, d: number) => (d > 0 ? round(n / d) : null);
    const accepted = (action: string) => ec2.filter(c => c.action === action && c.result !== 'throttled').length;
    const readsOf = (calls: Record<string, number>) => Object.entries(calls)
      .filter(([a]) => !a.endsWith('(throttled)') && (a.startsWith('Describe') || a.startsWith('List')))
      .reduce((sum, [, n]) => sum + n, 0);
    const violations = this.violations(true);
    const blind = this.blindWindows(ec2);
    // Mirroring acts on RUNNING: coverage cannot come before the last task it covers is running.
    const covered = this.coveredAt ?? Infinity;
    const lastRunning = Math.max(0, ...starts.filter(t => t.runningAt! <= covered).map(t => t.runningAt! - this.t0)) / 1000;
    const bucketBound = tokenBucketBoundSec(writesNeeded);
    const bound = writesNeeded > 0 ? Math.max(bucketBound, lastRunning) : null;
    const coverage = this.coveredAt !== undefined ? (this.coveredAt - this.t0) / 1000 : null;
    return {
      tasks,
      taskStarts: starts.length,
      taskStops: stops,
      invariantViolations: violations.length,
      violations: violations.slice(0, 10),
      ec2WritesPerTaskStart: per(accepted('CreateTrafficMirrorSession'), starts.length),
      ec2ReadsPerTaskStart: per(readsOf(startCalls), starts.length),
      ec2WritesPerTaskStop: per(accepted('DeleteTrafficMirrorSession'), stops),
      ec2ReadsPerTaskStop: per(readsOf(stopCalls), stops),
      apiCallsPerTaskStart: perEach(startCalls, starts.length),
      apiCallsPerTaskStop: perEach(stopCalls, stops),
      sweepApiCalls,
      throttledCalls: ec2.filter(c => c.result === 'throttled').length,
      lambdaInvocationsPerTask: round((w.eventFunction.invocations + (w.reconciler?.invocations ?? 0) - this.invocationMark) / Math.max(1, tasks)),
      timeToFullCoverageSec: coverage,
      unmirroredTaskSeconds: this.unmirroredTaskSeconds,
      blindWindowSec: blind.windows.length > 0
        ? { p50: percentile(blind.windows, 50), p99: percentile(blind.windows, 99), max: Math.max(...blind.windows) }
        : null,
      startsNeverMirrored: blind.never,
      enrollmentResults: [...w.enrollmentResults],
      undocumentedFilterRequests: w.ec2.calls.filter(c => (c.filters ?? []).some(f => !DOCUMENTED.has(f))).length,
      tokenBucketBoundSec: bound,
      ratioToBound: coverage !== null && bound ? round(coverage / bound) : null,
      deadLetters: w.queue.deadLetters.length,
      eventsPublished: w.bus.published,
      eventsDelivered: w.bus.delivered,
      eventsLost: w.bus.lost,
      eventsDropped: w.droppedEvents,
      invocationFailures: w.eventFunction.failures + (w.reconciler?.failures ?? 0),
      failureReasons: w.metrics.failures.reduce((acc, r) => ({ ...acc, [r]: (acc[r] ?? 0) + 1 }), {} as Record<string, number>),
      crossZoneSessionFraction: this.sessionSeconds > 0 ? round(this.crossZoneSessionSeconds / this.sessionSeconds) : null,
      ...this.fleetFigures(ec2),
      ...this.switchFigures(),
    };
  }

  /** With several services: how many, and what their sweeps read per minute together. */
  private fleetFigures(ec2: readonly Ec2Call[]): Partial<Figures> {
    const w = this.world;
    if (w.services.length < 2) return {};
    const minutes = (w.clock.now - this.t0) / 60_000;
    const reads = ec2.filter(c => c.caller.startsWith('sweep') && c.action.startsWith('Describe')).length;
    return { services: w.services.length, sweepEc2ReadsPerMinute: minutes > 0 ? round(reads / minutes) : null };
  }

  /** With sampling or a switch: which tasks are to be mirrored and which are, and the switch's costs. */
  private switchFigures(): Partial<Figures> {
    const w = this.world;
    const switched = w.services.some(s => s.config.switchParameter);
    if (!switched && w.services.every(s => s.config.sampling === undefined)) return {};
    const sessions = w.ownedByOwner();
    const end = { running: 0, wanted: 0, mirrored: 0, mirroredUnwanted: 0 };
    for (const service of w.services) {
      const owned = sessions.get(service.config.ownerId) ?? new Map<string, number>();
      for (const t of w.ecs.running(service.name)) {
        const wanted = w.wanted(service, t);
        end.running++;
        if (wanted) end.wanted++;
        if (owned.has(t.eni)) end[wanted ? 'mirrored' : 'mirroredUnwanted']++;
      }
    }
    if (!switched) return { tasksAtEnd: end };
    const calls = w.ssm.calls.slice(this.ssmMark);
    const switchReads = {
      event: calls.filter(c => c.caller.startsWith('event')).length,
      sweep: calls.filter(c => c.caller.startsWith('sweep')).length,
      throttled: calls.filter(c => c.result === 'throttled').length,
    };
    return { tasksAtEnd: end, switchReads, immediateSweeps: w.immediateSweeps - this.immediateMark };
  }
}

function byOwner(sessions: readonly FakeSession[]): Map<string, FakeSession[]> {
  const groups = new Map<string, FakeSession[]>();
  for (const s of sessions) {
    const owner = s.tags[OWNER_TAG_KEY];
    if (owner === undefined) continue;
    const group = groups.get(owner) ?? [];
    group.push(s);
    groups.set(owner, group);
  }
  return groups;
}

function byService(tasks: readonly SimTask[]): Map<string, SimTask[]> {
  const groups = new Map<string, SimTask[]>();
  for (const t of tasks) {
    const group = groups.get(t.serviceName) ?? [];
    group.push(t);
    groups.set(t.serviceName, group);
  }
  return groups;
}

function countByEni(sessions: readonly FakeSession[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of sessions) counts.set(s.networkInterfaceId, (counts.get(s.networkInterfaceId) ?? 0) + 1);
  return counts;
}

const DOCUMENTED = new Set<string>(DOCUMENTED_SESSION_FILTERS);

/** The nearest-rank percentile of the values. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function perEach(counts: Record<string, number>, d: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort().map(([k, v]) => [k, d > 0 ? round(v / d) : v]));
}
