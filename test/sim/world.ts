import { Logger } from '@aws-lambda-powertools/logger';
import { baselineHandler } from './baseline';
import { SimClock } from './clock';
import { Random } from './random';
import { DeploymentSettings, deploymentSettings } from './settings';
import { DeliveryFaults, SimContext, SimEventBus, SimEventSourceMapping, SimFunction, SimQueue } from './sim-aws';
import { SimEc2, SimEc2Options } from './sim-ec2';
import { ContainerEvents, SimEcs, TaskTimings, ZONES } from './sim-ecs';
import { newEc2Client, newEcsClient } from '../../src/session-manager/clients';
import { SessionManagerConfig } from '../../src/session-manager/config';
import { route } from '../../src/session-manager/entry';
import { MirrorSessions } from '../../src/session-manager/mirror-sessions';
import { OWNER_TAG_KEY, TASK_TAG_KEY } from '../../src/session-manager/ownership';
import { RecentTasks } from '../../src/session-manager/recent-tasks';
import { ServiceTasks } from '../../src/session-manager/service-tasks';
import { TargetSpec, candidateTargets } from '../../src/session-manager/targets';
import { ACCOUNT, CLUSTER_ARN, SERVICE_NAME } from '../fixtures/task-events';
import { RecordingMetrics } from '../support/recording-metrics';

/** Which session manager runs: this library's, or the naive one public tools use. */
export type Strategy = 'ours' | 'baseline';

/** How a simulated world is set up. */
export interface WorldOptions {
  readonly strategy: Strategy;
  readonly seed: number;
  readonly ec2?: SimEc2Options;
  readonly delivery?: DeliveryFaults;
  readonly timings?: TaskTimings;
  /** Task state change events of container transitions. @default none */
  readonly containers?: ContainerEvents;
  /** Probability that an event-path invocation's container dies partway through. */
  readonly crashRate?: number;
  readonly pickFreeSessionNumber?: boolean;
  /**
   * The mirror's targets (the construct's layout), with their zone and source limit, which EC2
   * enforces. @default one target, in the first zone, without a source limit
   */
  readonly targets?: readonly SimTarget[];
  /** `allowCrossZone` of the construct. */
  readonly allowCrossZone?: boolean;
}

/** A traffic mirror target of the simulated account. */
export interface SimTarget extends TargetSpec {
  /**
   * The zone the target is in, for the cross-zone figures: its `availabilityZone` when the
   * layout gives one, else this. @default ZONES[0]
   */
  readonly location?: string;
}

/** The target of the single-target layout every scenario but the multi-target ones uses (synthesized with an NLB). */
export const DEFAULT_TARGET_ID = 'tmt-0123456789abcdef0';

const credentials = { accessKeyId: 'AKIDSIM', secretAccessKey: 'sim' };
const REGION = 'us-east-1';

/**
 * One account with one Fargate service and one deployed mirror: simulated ECS, EC2,
 * EventBridge, SQS and Lambda around the session manager's real modules and real SDK clients.
 */
export class World {
  public readonly clock: SimClock;
  public readonly ec2: SimEc2;
  public readonly ecs: SimEcs;
  public readonly bus: SimEventBus;
  public readonly settings: DeploymentSettings;
  public readonly config: SessionManagerConfig;
  public readonly queue: SimQueue;
  public readonly eventFunction: SimFunction;
  public readonly reconciler?: SimFunction;
  public readonly mapping?: SimEventSourceMapping;
  public readonly metrics = new RecordingMetrics();
  /** Events the baseline's asynchronous invocations gave up on after Lambda's two retries. */
  public droppedEvents = 0;
  /** How each custom resource operation ended, in order ('SUCCESS' or 'FAILED: reason'). */
  public readonly enrollmentResults: string[] = [];
  public scheduleEnabled = true;
  public ruleEnabled = true;
  public sweeps = 0;

  constructor(public readonly options: WorldOptions) {
    this.clock = new SimClock(new Random(options.seed));
    // The construct is synthesized with a Network Load Balancer target (settings.ts), and
    // target-change moves to another: EC2 gives their sessions an 8500-byte packet length.
    const targets = options.targets ?? [{ targetId: DEFAULT_TARGET_ID }];
    // Each target is in one zone; a target of the layout without one (a single target, a pool)
    // in the first zone unless the scenario says where. target-change moves to a target there too.
    const targetZones = new Map([...targets.map(t => [t.targetId, t.availabilityZone ?? t.location ?? ZONES[0]] as const), ['tmt-0fedcba9876543210', ZONES[0]]]);
    const limits = new Map(targets.filter(t => t.maxSources !== undefined).map(t => [t.targetId, t.maxSources!]));
    this.ec2 = new SimEc2(this.clock, {
      nlbTargets: options.targets ? new Set() : new Set([DEFAULT_TARGET_ID, 'tmt-0fedcba9876543210']),
      targetSourceLimits: limits,
      targetZones,
      ...options.ec2,
    });
    this.ecs = new SimEcs(this.clock, this.ec2, options.timings, options.containers);
    this.bus = new SimEventBus(this.clock, options.delivery);
    this.ecs.onEvent = event => this.bus.publish(event);
    this.settings = deploymentSettings();
    this.config = {
      ownerId: 'ftm-0123456789abcdef01234567',
      clusterArn: CLUSTER_ARN,
      serviceName: SERVICE_NAME,
      targetId: targets[0].targetId,
      ...(options.targets ? { targets: targets.map(({ location: _, ...spec }) => spec) } : {}),
      ...(options.allowCrossZone ? { allowCrossZone: true } : {}),
      filterId: 'tmf-0123456789abcdef0',
      sessionNumber: 1,
      pickFreeSessionNumber: options.pickFreeSessionNumber,
      account: ACCOUNT,
      region: REGION,
    };
    const s = this.settings;
    this.queue = new SimQueue(this.clock, s.visibilityTimeoutMs, s.maxReceiveCount);
    const ours = options.strategy === 'ours';
    this.eventFunction = new SimFunction(this.clock, 'event', ours ? this.ourHandler() : this.baselineHandler(), {
      timeoutMs: s.eventTimeoutMs, crashRate: options.crashRate,
    });
    if (ours) {
      this.reconciler = new SimFunction(this.clock, 'sweep', this.ourHandler(), { timeoutMs: s.reconcilerTimeoutMs });
      this.mapping = new SimEventSourceMapping(this.clock, this.queue, this.eventFunction, s.batchSize, s.maxConcurrency);
      this.bus.addRule(e => this.ourRuleMatches(e), e => this.queue.send(JSON.stringify(e)), () => this.ruleEnabled);
    } else {
      // Public tools: every task state change of the service invokes the function directly
      // (asynchronous invocation: two retries, a minute and two apart, then the event is gone).
      this.bus.addRule(e => this.serviceEvent(e), e => void this.invokeAsync(e), () => this.ruleEnabled);
    }
  }

  /** Deploys the mirror: the enrollment custom resource, then the queue drains, then the schedule. */
  public async deploy(): Promise<void> {
    if (this.options.strategy === 'ours') {
      await this.provide({ RequestType: 'Create' });
      this.mapping!.start();
      this.startSchedule();
    } else {
      // The baseline cannot enroll running tasks; credit it with having mirrored them when they
      // started, so the scenarios compare what happens next.
      this.seedSessions();
    }
  }

  /**
   * Stack delete, first half, in CloudFormation's order: the event source mapping and the
   * schedule go first (they depend on the enrollment). In-flight batches still finish.
   */
  public removeEventPath(): void {
    if (this.mapping) this.mapping.enabled = false;
    this.scheduleEnabled = false;
  }

  /** Stack delete, second half: the enrollment's Delete; then the rule and queue go. */
  public async deleteEnrollment(): Promise<void> {
    if (this.options.strategy === 'ours') {
      await this.provide({ RequestType: 'Delete', PhysicalResourceId: 'x' });
    }
    this.ruleEnabled = false;
  }

  /** A stack update points the mirror at another target: the enrollment's Update runs. */
  public async changeTarget(targetId: string): Promise<void> {
    await this.changeConfig({ targetId });
  }

  /**
   * A stack update changes the mirror's configuration: the functions get it first (the
   * enrollment depends on them), then the enrollment's Update runs.
   */
  public async changeConfig(change: Partial<SessionManagerConfig>): Promise<void> {
    Object.assign(this.config, change);
    if (this.options.strategy === 'ours') {
      await this.provide({ RequestType: 'Update', PhysicalResourceId: 'x' });
    }
  }

  /**
   * The custom resource provider framework in its asynchronous mode, as aws-cdk-lib's runtime
   * and waiter state machine run it: onEvent once; then isComplete at once and again every
   * query interval until it says complete; an error or a timeout of the function fails the
   * resource, and so does running out of attempts.
   */
  private async provide(request: Record<string, unknown>): Promise<void> {
    const s = this.settings;
    const record = (outcome: string) => this.enrollmentResults.push(`${request.RequestType}: ${outcome}`);
    const first = await this.reconciler!.invoke({ ResourceProperties: {}, ...request });
    if (!first.ok) return void record(`FAILED (${first.failure})`);
    const event = { ResourceProperties: {}, ...request, ...(first.result as object) };
    for (let attempt = 0; attempt <= s.providerMaxAttempts; attempt++) {
      if (attempt > 0) await this.clock.sleep(s.providerQueryIntervalMs);
      const answer = await this.reconciler!.invoke(event);
      if (!answer.ok) return void record(`FAILED (${answer.failure})`);
      if ((answer.result as any)?.IsComplete) return void record('SUCCESS');
    }
    record('FAILED (timed out)');
  }

  /**
   * Gives every running task an owned session of the current configuration without an API
   * call, as an earlier deployment would have left them.
   */
  public seedSessions(): void {
    const c = this.config;
    const owned = this.ownedByEni();
    for (const t of this.ecs.running().filter(task => !owned.has(task.eni))) {
      // Where the layout would have put the task (ours); the baseline knows one target.
      const targetId = this.options.strategy === 'ours' ? candidateTargets(c, t.eni, t.zone)[0]?.targetId ?? c.targetId : c.targetId;
      this.ec2.addSession(t.eni, c.sessionNumber, targetId, { [OWNER_TAG_KEY]: c.ownerId, [TASK_TAG_KEY]: t.arn }, {
        filterId: c.filterId, packetLength: c.packetLength, virtualNetworkId: c.virtualNetworkId, description: c.description,
      });
    }
  }

  /**
   * Owned sessions whose task and target zones are both known, and how many of those are in
   * different zones: what is billed as inter-AZ data transfer.
   */
  public zoneCrossings(): { sessions: number; crossing: number } {
    return this.owned().zones;
  }

  /** Owned sessions, by ENI. */
  public ownedByEni(): Map<string, number> {
    return this.owned().byEni;
  }

  /** Owned sessions by ENI, and their {@link zoneCrossings}, in one pass (the probe asks every simulated second). */
  public owned(): { byEni: Map<string, number>; zones: { sessions: number; crossing: number } } {
    const byEni = new Map<string, number>();
    const targetZones = this.ec2.options.targetZones;
    const zones = { sessions: 0, crossing: 0 };
    for (const s of this.ec2.sessions.values()) {
      if (s.tags[OWNER_TAG_KEY] !== this.config.ownerId) continue;
      byEni.set(s.networkInterfaceId, (byEni.get(s.networkInterfaceId) ?? 0) + 1);
      const taskZone = this.ecs.zoneOfEni.get(s.networkInterfaceId);
      const targetZone = targetZones?.get(s.targetId);
      if (taskZone === undefined || targetZone === undefined) continue;
      zones.sessions++;
      if (taskZone !== targetZone) zones.crossing++;
    }
    return { byEni, zones };
  }

  private startSchedule(): void {
    const tick = () => {
      if (!this.scheduleEnabled) return;
      this.sweeps++;
      void this.reconciler!.invoke({ 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} });
      this.clock.schedule(this.settings.reconcileIntervalMs, tick);
    };
    this.clock.schedule(this.settings.reconcileIntervalMs, tick);
  }

  private serviceEvent(e: any): boolean {
    return e?.source === 'aws.ecs' && e?.['detail-type'] === 'ECS Task State Change'
      && e.detail?.clusterArn === this.config.clusterArn && e.detail?.group === `service:${this.config.serviceName}`;
  }

  private ourRuleMatches(e: any): boolean {
    return this.serviceEvent(e) && this.settings.ruleLastStatus.includes(e.detail.lastStatus);
  }

  private async invokeAsync(event: unknown): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await this.clock.sleep(attempt * 60_000);
      if ((await this.eventFunction.invoke(event)).ok) return;
    }
    this.droppedEvents++;
  }

  /** The production wiring of lambda/session-manager.lambda.ts, with simulated endpoints. */
  private ourHandler() {
    return (label: string, alive: () => boolean) => {
      const ec2Client = newEc2Client({ region: REGION, credentials, requestHandler: this.ec2.handlerFor(() => label, alive) as any });
      const ecsClient = newEcsClient({ region: REGION, credentials, requestHandler: this.ecs.handlerFor(label, alive) as any });
      const deps = {
        config: this.config,
        logger: new Logger({ logLevel: 'SILENT' }),
        metrics: this.metrics,
        sessions: new MirrorSessions(ec2Client, this.config),
        tasks: new ServiceTasks(ecsClient, this.config.clusterArn, this.config.serviceName),
        recent: new RecentTasks(),
        // GetQueueAttributes' approximate count of waiting messages (eventBacklogOf), exact here.
        eventBacklog: async () => this.queue?.messages.filter(m => m.visibleAt <= this.clock.now).length ?? 0,
      };
      return (event: unknown, context: SimContext) => route(event, deps, context);
    };
  }

  private baselineHandler() {
    return (label: string, alive: () => boolean) => {
      const phase = { current: 'other' };
      const handler = baselineHandler(this.config, {
        ec2: this.ec2.handlerFor(() => `${label}:${phase.current}`, alive),
        ecs: this.ecs.handlerFor(label, alive),
        region: REGION,
        credentials,
      }, phase);
      return handler;
    };
  }
}
