/**
 * The reconciler's shared pieces: what it talks to, what it reports, and the plan it runs.
 * Each operation has its own file: mirror-task.ts (one starting task), sweep.ts (the whole
 * service), remove-all.ts (stack delete); run-actions.ts executes their plans.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SwitchState } from '../../contract/mirror-switch';
import { SessionManagerConfig } from '../../contract/session-manager-config';
import { MirrorMetrics } from '../adapters/metrics';
import { MirrorSession, MirrorSessions } from '../adapters/mirror-sessions';
import { RecentTasks } from '../adapters/recent-tasks';
import { ServiceTasks } from '../adapters/service-tasks';
import { DesiredTask, ExistingSession, ReconcilePlan, planSessions } from '../core/plan-sessions';
import { isSampled } from '../core/sampling';
import { RemovableField } from '../core/session-parameters';

/** Everything the reconciler talks to; injected so tests run the real SDK clients on fakes. */
export interface OperationDeps {
  readonly config: SessionManagerConfig;
  readonly sessions: MirrorSessions;
  readonly tasks: ServiceTasks;
  readonly logger: Logger;
  readonly metrics: MirrorMetrics;
  /** Waits between rounds and removal passes; tests pass one that does not. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * What this container has seen of starting tasks (event path): those mirrored, and those whose
   * PENDING event came without an attached ENI. @default none remembered
   */
  readonly recent?: RecentTasks;
  /**
   * Task state changes waiting in the event queue to be received (scheduled sweeps).
   * @default unknown: sweeps treat the event path as busy
   */
  readonly eventBacklog?: () => Promise<number>;
  /**
   * The service's configuration as its parameter holds it now (cached for a few seconds); a sweep
   * stops when it no longer is the one it runs. @default the configuration never changes
   */
  readonly currentConfig?: () => Promise<SessionManagerConfig | undefined>;
  /**
   * What the service's switch says now; `fresh` skips any cached value (a sweep a flip started).
   * @default always on
   */
  readonly switchState?: (fresh?: boolean) => Promise<SwitchState>;
}

/** Limits of one invocation. */
export interface InvocationLimits {
  /**
   * Epoch ms after which no new action starts, so the invocation returns before Lambda stops
   * it and the next one continues. @default no deadline
   */
  readonly deadline?: number;
  /**
   * Whether the configuration the invocation runs is still the service's current one; actions
   * stop (unfinished) once it is not. @default always current
   */
  readonly stillCurrent?: () => Promise<boolean>;
}

/** How one sweep runs. */
export interface SweepOptions extends InvocationLimits {
  /** Fields the deployment at hand took out of the configuration, to remove from sessions. */
  readonly removedFields?: readonly RemovableField[];
  /**
   * Create sessions only for tasks ECS created before this time (epoch ms); younger ones are
   * left to their task state changes (contract/timing.ts: IDLE_HEAL_AGE_MS, BUSY_HEAL_AGE_MS). @default every task
   */
  readonly createdBefore?: number;
  /**
   * While more of the service's unmirrored tasks created at or after this time than one round of
   * polls takes wait for their events (a burst of this service), tasks count as young from this
   * time instead of `createdBefore`. @default `createdBefore` always
   */
  readonly busyCreatedBefore?: number;
  /**
   * Work from the other end: creates from the highest ENI id down, deletes and modifies from the
   * highest session id down. A scheduled sweep does, so that it and a deployment's or a flip's
   * sweep (lowest first) running at once share the work instead of doing it twice.
   * @default lowest ids first
   */
  readonly fromTheEnd?: boolean;
  /**
   * Leave sessions that differ from a configuration younger than the settle time to the
   * deployment that wrote it (a scheduled sweep). @default bring them to it now
   */
  readonly deferYoungConfiguration?: boolean;
  /** Read the switch afresh: the sweep answers a flip. @default a value cached for a few seconds will do */
  readonly freshSwitch?: boolean;
}

/** What a whole-service reconciliation did. */
export interface SweepResult {
  readonly runningTasks: number;
  readonly mirroredTasks: number;
  readonly created: number;
  /** Owned sessions brought to the current configuration in place. */
  readonly modified: number;
  /** Owned sessions deleted: orphaned (task gone) or duplicate. */
  readonly deleted: number;
  readonly conflicts: number;
  /** Failed actions and conflicts, all kinds together. */
  readonly failures: number;
  /** Failed actions by kind. */
  readonly createFailures: number;
  readonly modifyFailures: number;
  readonly deleteFailures: number;
  /** Transient failures: the next sweep (or an event retry) will try again. */
  readonly transientFailures: number;
  /** Actions not started because the invocation's deadline came; the next run does them. */
  readonly unfinished: number;
  /** Unmirrored tasks left to the task state changes still on their way (see `createdBefore`). */
  readonly deferred: number;
  /** Failed actions and conflicts by reason (`FailureReason` values). */
  readonly failuresByReason: Readonly<Record<string, number>>;
  /** Running tasks left without a session, by reason: failed creates and conflicts. */
  readonly unmirroredByReason: Readonly<Record<string, number>>;
  /** A line for each of those tasks (the first 10): task, ENI, AWS code or reason, and message. */
  readonly unmirroredErrors: readonly string[];
  /** What a scheduled sweep's second look at the young tasks it left did (scheduled-sweep.ts); absent when it took none. */
  readonly secondLook?: SecondLookResult;
}

/** What a scheduled sweep's second look did, apart from the sweep's own counts. */
export interface SecondLookResult {
  /** Young tasks it looked at. */
  readonly looked: number;
  /** Of those, tasks that had no ENI at the sweep and run now. */
  readonly started: number;
  /** Tasks it found mirrored already (their events came). */
  readonly alreadyMirrored: number;
  /** Sessions it created (the tasks' events were lost), and creates that found one made meanwhile. */
  readonly created: number;
  readonly raced: number;
  /** Failed creates, and the tasks still too young or waiting behind a backlog, left to the next sweep. */
  readonly failures: number;
  readonly left: number;
}

/** What removing every owned session did. */
export interface RemoveAllResult {
  /** True when a listing made after the settle time found no owned session. */
  readonly complete: boolean;
  readonly deleted: number;
  /** Owned sessions the last listing found. */
  readonly remaining: number;
  readonly passes: number;
}

/** Pause between rounds of throttled actions, so EC2's bucket refills a little. */
export const ROUND_PAUSE_MS = 2000;

/** Waits, with the injected sleep when there is one. */
export function pause(deps: OperationDeps, ms: number): Promise<void> {
  return deps.sleep ? deps.sleep(ms) : new Promise(resolve => setTimeout(resolve, ms));
}

/** Whether the invocation's deadline has come. */
export function pastDeadline(limits: InvocationLimits): boolean {
  return limits.deadline !== undefined && Date.now() >= limits.deadline;
}

/**
 * Which tasks the service mirrors now: none while its switch is off, otherwise those `sampling`
 * chooses. Whole-service work reads the switch once and filters with the answer.
 *
 * @param fresh read the switch afresh (a sweep a flip started)
 */
export async function wantedTasks(deps: OperationDeps, fresh?: boolean): Promise<(task: { readonly taskArn: string }) => boolean> {
  const off = (await deps.switchState?.(fresh)) === 'off';
  return task => !off && isSampled(task.taskArn, deps.config.sampling);
}

/** Runs the pure core on what the adapters found, with this deployment's settings. */
export function planFor(deps: OperationDeps, desired: DesiredTask[], sessions: readonly MirrorSession[]): ReconcilePlan {
  const { config } = deps;
  return planSessions({
    desired,
    sessions: sessions.map((s): ExistingSession => ({
      sessionId: s.sessionId, networkInterfaceId: s.networkInterfaceId, sessionNumber: s.sessionNumber, owned: deps.sessions.isOwned(s),
    })),
    sessionNumber: config.sessionNumber,
    pickFreeSessionNumber: config.pickFreeSessionNumber ?? false,
  });
}
