import { HttpResponse } from '@smithy/protocol-http';
import { SIM_EPOCH_MS, SimClock } from './clock';
import { SimEc2 } from './sim-ec2';
import { simJsonHandler } from './sim-endpoint';
import { CLUSTER_ARN, SERVICE_NAME, taskArnOf, taskEvent } from '../fixtures/task-events';
import { json, jsonError } from '../support/json-protocol';

/** A simulated Fargate task. */
export interface SimTask {
  readonly arn: string;
  /** The ECS service the task belongs to (its group is `service:<name>`). */
  readonly serviceName: string;
  readonly id: string;
  readonly eni: string;
  /** The Availability Zone ECS placed the task in. */
  readonly zone: string;
  lastStatus: string;
  desiredStatus: string;
  version: number;
  /** When ECS created the task (DescribeTasks `createdAt`). */
  createdAt: number;
  eniExists: boolean;
  /** When the ENI was attached: the first moment the task could send a packet. */
  eniAttachedAt?: number;
  runningAt?: number;
  stoppedAt?: number;
  /** Running before the simulation started (not a task start of the scenario). */
  preexisting?: boolean;
}

/** Seconds each phase of a task takes, as [min, max]; drawn uniformly per task. */
export interface TaskTimings {
  readonly provisioning: [number, number];
  readonly pending: [number, number];
  readonly draining: [number, number];
  readonly deprovisioning: [number, number];
}

/**
 * Task state change events beyond the task's own transitions. ECS sends a task state change
 * event whenever the task or one of its containers changes state (ECS developer guide, "Amazon
 * ECS task state change events"), with the task's current lastStatus: a task whose containers
 * reach RUNNING one after another, or whose non-essential container exits, emits further RUNNING
 * events.
 */
export interface ContainerEvents {
  /** RUNNING events after the task's RUNNING transition, one per container reaching RUNNING. */
  readonly extraRunning: number;
  /** Seconds between the task's RUNNING transition and each of those, as [min, max]. */
  readonly extraRunningAfter: [number, number];
  /** Probability that a running task's non-essential container exits (one more RUNNING event). */
  readonly exitRate: number;
  /** Seconds after RUNNING at which it exits, as [min, max]. */
  readonly exitAfter: [number, number];
}

/** Typical Fargate timings: ENI in seconds, image pull in tens of seconds, a 30 s drain. */
export const DEFAULT_TIMINGS: TaskTimings = {
  provisioning: [2, 8],
  pending: [10, 40],
  draining: [5, 30],
  deprovisioning: [5, 20],
};

/** One ECS call as the simulator saw it. */
export interface EcsCall {
  readonly at: number;
  readonly action: string;
  readonly caller: string;
}

/**
 * The zones of the simulated services' subnets. ECS spreads each service's tasks evenly over them
 * (the default placement of a Fargate service), here round-robin, which draws no random number,
 * so adding zones changed no other figure of the simulation.
 */
export const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

/**
 * The parts of ECS the session manager talks to: one cluster of Fargate services (by default
 * one, {@link SERVICE_NAME}; the `serviceName` arguments pick another) whose tasks go through
 * PROVISIONING, PENDING, RUNNING, (desired STOPPED) STOPPING, DEPROVISIONING, STOPPED, each
 * with its own ENI created before PENDING and deleted before STOPPED; a task state change
 * event on every transition; and ListTasks (pages of 100) / DescribeTasks (at most 100 tasks).
 */
export class SimEcs {
  public readonly tasks = new Map<string, SimTask>();
  /** The zone of each task's ENI. */
  public readonly zoneOfEni = new Map<string, string>();
  /** Tasks placed so far, by service: each service's tasks are spread over the zones on their own. */
  private readonly placed = new Map<string, number>();
  public readonly calls: EcsCall[] = [];
  public readonly clusterArn = CLUSTER_ARN;
  /** The service `launch`, `deploy` and `preexisting` start tasks of when given none. */
  public readonly serviceName = SERVICE_NAME;
  /** Called with each task state change event ECS emits. */
  public onEvent: (event: unknown) => void;
  /** Called when a task's ENI appears (before its PENDING event), e.g. for another tool to act. */
  public onEniCreated: (task: SimTask) => void;
  private readonly runningWaiters = new Map<string, Array<() => void>>();

  constructor(
    private readonly clock: SimClock,
    private readonly ec2: SimEc2,
    private readonly timings: TaskTimings = DEFAULT_TIMINGS,
    private readonly containers?: ContainerEvents,
  ) {
    this.onEvent = () => undefined;
    this.onEniCreated = () => undefined;
  }

  /** Tasks whose last status is RUNNING and that are meant to keep running (of one service, or all). */
  public running(serviceName?: string): SimTask[] {
    return this.tasksOf(serviceName).filter(t => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');
  }

  /** Tasks not yet stopped (of one service, or all). */
  public live(serviceName?: string): SimTask[] {
    return this.tasksOf(serviceName).filter(t => t.lastStatus !== 'STOPPED');
  }

  /** Every task ever started, of one service or of all. */
  public tasksOf(serviceName?: string): SimTask[] {
    const all = [...this.tasks.values()];
    return serviceName === undefined ? all : all.filter(t => t.serviceName === serviceName);
  }

  /** Starts `count` tasks of a service, spread evenly over `overMs`. */
  public launch(count: number, overMs = 0, serviceName = this.serviceName): SimTask[] {
    const launched: SimTask[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.clock.random.hex(32);
      const task: SimTask = {
        arn: taskArnOf(id),
        id,
        serviceName,
        eni: `eni-${this.clock.random.hex(17)}`,
        zone: this.nextZone(serviceName),
        lastStatus: 'NONE',
        desiredStatus: 'RUNNING',
        version: 0,
        eniExists: false,
        createdAt: 0,
      };
      this.zoneOfEni.set(task.eni, task.zone);
      this.tasks.set(task.arn, task);
      launched.push(task);
      this.clock.schedule(count > 1 ? (overMs * i) / (count - 1) : 0, () => this.provision(task));
    }
    return launched;
  }

  /** Stops the given tasks, spread evenly over `overMs`. */
  public stop(tasks: readonly SimTask[], overMs = 0): void {
    tasks.forEach((task, i) => this.clock.schedule(tasks.length > 1 ? (overMs * i) / (tasks.length - 1) : 0, () => this.requestStop(task)));
  }

  /**
   * A rolling deployment (minimum healthy 100%, maximum 200%): a replacement is launched for
   * every live task, and each old task is stopped when its replacement is RUNNING.
   */
  public deploy(overMs = 0, serviceName = this.serviceName): SimTask[] {
    const old = this.live(serviceName).filter(t => t.desiredStatus === 'RUNNING');
    const fresh = this.launch(old.length, overMs, serviceName);
    fresh.forEach((task, i) => this.whenRunning(task, () => this.requestStop(old[i])));
    return fresh;
  }

  /** Puts tasks in the RUNNING state at once, ENIs included (a service that ran before). */
  public preexisting(count: number, serviceName = this.serviceName): SimTask[] {
    const tasks: SimTask[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.clock.random.hex(32);
      const task: SimTask = {
        arn: taskArnOf(id),
        id,
        serviceName,
        eni: `eni-${this.clock.random.hex(17)}`,
        zone: this.nextZone(serviceName),
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        version: 4,
        eniExists: true,
        runningAt: this.clock.now,
        createdAt: this.clock.now,
        preexisting: true,
      };
      this.zoneOfEni.set(task.eni, task.zone);
      this.ec2.createEni(task.eni);
      this.tasks.set(task.arn, task);
      tasks.push(task);
    }
    return tasks;
  }

  /** A smithy request handler for one caller. */
  public handlerFor(caller: string | (() => string), alive: () => boolean = () => true) {
    const who = typeof caller === 'string' ? () => caller : caller;
    return simJsonHandler(this.clock, [20, 60], alive, (action, input) => {
      this.calls.push({ at: this.clock.now, action, caller: who() });
      return this.answer(action, input);
    });
  }

  private nextZone(serviceName: string): string {
    const n = this.placed.get(serviceName) ?? 0;
    this.placed.set(serviceName, n + 1);
    return ZONES[n % ZONES.length];
  }

  private whenRunning(task: SimTask, fn: () => void): void {
    const waiters = this.runningWaiters.get(task.arn) ?? [];
    waiters.push(fn);
    this.runningWaiters.set(task.arn, waiters);
  }

  private phase(range: [number, number]): number {
    return this.clock.random.between(range[0], range[1]) * 1000;
  }

  private transition(task: SimTask, lastStatus: string): void {
    task.lastStatus = lastStatus;
    task.version++;
    this.onEvent(taskEvent({
      taskId: task.id,
      clusterArn: this.clusterArn,
      group: `service:${task.serviceName}`,
      lastStatus,
      desiredStatus: task.desiredStatus,
      version: task.version,
      eni: lastStatus === 'PROVISIONING' ? null : task.eni,
      attachmentStatus: task.eniExists ? 'ATTACHED' : 'DELETED',
      availabilityZone: task.zone,
    }));
  }

  private provision(task: SimTask): void {
    if (task.desiredStatus !== 'RUNNING') return;
    task.createdAt = this.clock.now;
    this.transition(task, 'PROVISIONING');
    this.clock.schedule(this.phase(this.timings.provisioning), () => {
      if (task.desiredStatus !== 'RUNNING') return this.deprovision(task);
      this.ec2.createEni(task.eni);
      task.eniExists = true;
      task.eniAttachedAt = this.clock.now;
      this.onEniCreated(task);
      this.transition(task, 'PENDING');
      this.clock.schedule(this.phase(this.timings.pending), () => {
        if (task.desiredStatus !== 'RUNNING') return this.deprovision(task);
        task.runningAt = this.clock.now;
        this.transition(task, 'RUNNING');
        this.containerTransitions(task);
        for (const fn of this.runningWaiters.get(task.arn) ?? []) fn();
        this.runningWaiters.delete(task.arn);
      });
    });
  }

  /** The RUNNING events of a running task's container transitions (see {@link ContainerEvents}). */
  private containerTransitions(task: SimTask): void {
    const c = this.containers;
    if (!c) return;
    const again = () => {
      if (task.lastStatus === 'RUNNING' && task.desiredStatus === 'RUNNING') this.transition(task, 'RUNNING');
    };
    for (let i = 0; i < c.extraRunning; i++) this.clock.schedule(this.phase(c.extraRunningAfter), again);
    if (this.clock.random.chance(c.exitRate)) this.clock.schedule(this.phase(c.exitAfter), again);
  }

  private requestStop(task: SimTask | undefined): void {
    if (!task || task.desiredStatus === 'STOPPED') return;
    task.desiredStatus = 'STOPPED';
    if (task.lastStatus !== 'RUNNING') return; // the provisioning chain notices and stops
    this.transition(task, 'RUNNING');
    this.clock.schedule(1000, () => {
      this.transition(task, 'STOPPING');
      this.clock.schedule(this.phase(this.timings.draining), () => this.deprovision(task));
    });
  }

  private deprovision(task: SimTask): void {
    this.transition(task, 'DEPROVISIONING');
    this.clock.schedule(this.phase(this.timings.deprovisioning), () => {
      if (task.eniExists) {
        this.ec2.deleteEni(task.eni);
        task.eniExists = false;
      }
      task.stoppedAt = this.clock.now;
      this.transition(task, 'STOPPED');
    });
  }

  private answer(action: string, input: any): HttpResponse {
    if (input.cluster !== this.clusterArn) {
      return jsonError('ClusterNotFoundException', 'Cluster not found.');
    }
    if (action === 'ListTasks') {
      // ListTasks with desiredStatus RUNNING lists tasks meant to run, in every state up to RUNNING.
      const all = [...this.tasks.values()]
        .filter(t => t.lastStatus !== 'NONE' && t.lastStatus !== 'STOPPED')
        .filter(t => !input.serviceName || t.serviceName === input.serviceName)
        .filter(t => !input.desiredStatus || t.desiredStatus === input.desiredStatus)
        .map(t => t.arn);
      const start = Number(input.nextToken ?? 0);
      const size = Math.min(input.maxResults ?? 100, 100);
      return json(200, { taskArns: all.slice(start, start + size), ...(start + size < all.length ? { nextToken: String(start + size) } : {}) });
    }
    if (action === 'DescribeTasks') {
      if (!Array.isArray(input.tasks) || input.tasks.length > 100) {
        return jsonError('InvalidParameterException', 'Tasks cannot be longer than 100.');
      }
      const found = (input.tasks as string[]).map(arn => this.tasks.get(arn)).filter((t): t is SimTask => !!t && t.lastStatus !== 'NONE');
      return json(200, {
        tasks: found.map(t => ({
          taskArn: t.arn,
          group: `service:${t.serviceName}`,
          lastStatus: t.lastStatus,
          desiredStatus: t.desiredStatus,
          launchType: 'FARGATE',
          availabilityZone: t.zone,
          // The JSON protocol's timestamps are epoch seconds, on the clock the handler reads.
          createdAt: (SIM_EPOCH_MS + t.createdAt) / 1000,
          attachments: t.lastStatus === 'PROVISIONING' ? [] : [{
            type: 'ElasticNetworkInterface',
            status: t.eniExists ? 'ATTACHED' : 'DELETED',
            details: [{ name: 'subnetId', value: 'subnet-1' }, { name: 'networkInterfaceId', value: t.eni }],
          }],
        })),
        failures: (input.tasks as string[]).filter(arn => !this.tasks.has(arn)).map(arn => ({ arn, reason: 'MISSING' })),
      });
    }
    return jsonError('UnknownOperationException');
  }
}
