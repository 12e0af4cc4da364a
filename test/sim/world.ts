import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SSMClient } from '@aws-sdk/client-ssm';
import { baselineHandler } from './baseline';
import { SIM_EPOCH_MS, SimClock } from './clock';
import { instantiate, matchesPattern } from './event-pattern';
import { Random } from './random';
import { DeploymentSettings, deploymentSettings } from './settings';
import { DeliveryFaults, SimContext, SimEventBus, SimEventSourceMapping, SimFunction, SimQueue } from './sim-aws';
import { SimEc2, SimEc2Options } from './sim-ec2';
import { ContainerEvents, SimEcs, SimTask, TaskTimings, ZONES } from './sim-ecs';
import { SimSsm } from './sim-ssm';
import { switchStateOf } from '../../src/contract/mirror-switch';
import { OWNER_TAG_KEY, TASK_TAG_KEY, configParameterPrefix } from '../../src/contract/ownership';
import { SessionManagerConfig, configToEnv } from '../../src/contract/session-manager-config';
import { TargetSpec } from '../../src/contract/target-layout';
import { CHUNK_KEY, EVENT_KEY, IMMEDIATE_KEY, SERVICE_KEY, SWEEP_KEY } from '../../src/contract/trigger-keys';
import { newEc2Client, newEcsClient } from '../../src/runtime/adapters/clients';
import { ConfigReader } from '../../src/runtime/adapters/config-reader';
import { MirrorSessions } from '../../src/runtime/adapters/mirror-sessions';
import { RecentTasks } from '../../src/runtime/adapters/recent-tasks';
import { ServiceTasks } from '../../src/runtime/adapters/service-tasks';
import { StackStatus } from '../../src/runtime/adapters/stack-status';
import { SwitchReader } from '../../src/runtime/adapters/switch-reader';
import { enrollmentPhysicalId } from '../../src/runtime/core/physical-id';
import { isSampled } from '../../src/runtime/core/sampling';
import { candidateTargets } from '../../src/runtime/core/target-placement';
import { routeTrigger } from '../../src/runtime/route-trigger';
import { ACCOUNT, CLUSTER_ARN, SERVICE_NAME } from '../fixtures/task-events';
import { FakeCloudFormationEndpoint } from '../support/fake-cloudformation-endpoint';
import { RecordingMetrics } from '../support/recording-metrics';

/** Which session manager runs: this library's, or the naive one public tools use. */
export type Strategy = 'ours' | 'baseline';

/** How a simulated world is set up. */
/** The stack's configuration prefix in the simulation (contract/ownership.ts configParameterPrefix). */
const SIM_CONFIG_PREFIX = configParameterPrefix('ftms-0123456789abcdef01234567');
/** The stack the simulated deployment is: the reconciler's MIRROR_STACK_ID. */
const SIM_STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/MirrorStack/0f0e0d0c-1111-2222-3333-444455556666';

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
   * Mirrored services in the stack, each with its own `FargateTrafficMirror` (owner, target,
   * filter, rule, schedule, enrollment), sharing one queue, event function and reconciler.
   * @default 1
   */
  readonly services?: number;
  /** Every service's share of tasks mirrored (MIRROR_SAMPLING). @default every task */
  readonly sampling?: number;
  /**
   * Every service's switch parameter, with this initial value. Without it the services have no
   * switch parameter (always on, no GetParameter), as the scenarios written before the switch.
   */
  readonly initialSwitch?: string;
  /**
   * The mirror's targets (the construct's layout), with their zone and source limit, which EC2
   * enforces: the first service's layout, or a function giving each service's (by its index;
   * undefined: the service's own single target). @default every service has one target, in the
   * first zone, without a source limit
   */
  readonly targets?: readonly SimTarget[] | ((service: number) => readonly SimTarget[] | undefined);
  /** `allowCrossZone` of the construct, for every service with a layout. */
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
/** The NLB target target-change moves the first service to. */
const CHANGED_TARGET_ID = 'tmt-0fedcba9876543210';

const credentials = { accessKeyId: 'AKIDSIM', secretAccessKey: 'sim' };
const REGION = 'us-east-1';
/** The event function's Lambda Invoke call (InvocationType Event) that starts a sweep. */
const INVOKE_API_MS = 30;
/** From an asynchronous invocation's acceptance to the reconciler running it. */
const ASYNC_INVOKE_DELAY_MS = 200;

/** One `FargateTrafficMirror` of the stack: its ECS service, its configuration and its switch. */
export class MirroredService {
  /** The configuration the deployed schedule's input carries (behind `config` during an update). */
  public scheduleConfig: SessionManagerConfig;
  /** Scheduled sweeps started. */
  public sweeps = 0;
  /** The service rule's pattern, its tokens filled in. */
  public readonly rulePattern: unknown;

  /** `config`: what the deployed rule and enrollment carry; a stack update changes it in place. */
  constructor(public readonly config: SessionManagerConfig, pattern: object) {
    this.scheduleConfig = { ...config };
    this.rulePattern = instantiate(pattern, {
      clusterArn: config.clusterArn, serviceName: config.serviceName, switchParameter: config.switchParameter ?? '',
    });
  }

  /** The ECS service's name. */
  public get name(): string {
    return this.config.serviceName;
  }
}

/**
 * One account with Fargate services and one stack that mirrors them (one service unless
 * `services` says otherwise): simulated ECS, EC2, SSM, EventBridge, SQS and Lambda around the
 * session manager's real modules and real SDK clients.
 */
export class World {
  public readonly clock: SimClock;
  public readonly ec2: SimEc2;
  public readonly ecs: SimEcs;
  public readonly ssm: SimSsm;
  public readonly bus: SimEventBus;
  public readonly settings: DeploymentSettings;
  /** The mirrored services; the first is the one the single-service scenarios are about. */
  public readonly services: MirroredService[];
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
  /** Sweeps the event function started at once, for a flipped switch. */
  public immediateSweeps = 0;
  /** Later chunks of those sweeps, each started by the chunk before on the reconciler. */
  public sweepChunks = 0;
  /**
   * CloudFormation's view of the stack: its status, and each service's enrollment custom resource
   * (logical id `Enrollment<n>`), as the lifecycle the scenario plays sets them.
   */
  public readonly cloudformation = new FakeCloudFormationEndpoint(SIM_STACK_ID);

  constructor(public readonly options: WorldOptions) {
    this.clock = new SimClock(new Random(options.seed));
    this.settings = deploymentSettings();
    const count = options.services ?? 1;
    const layoutOf = options.targets;
    const layouts = Array.from({ length: count }, (_, i) => (typeof layoutOf === 'function' ? layoutOf(i) : i === 0 ? layoutOf : undefined));
    const configs = layouts.map((layout, i) => serviceConfig(i, options, layout));
    this.services = configs.map(c => new MirroredService(c, this.settings.rulePattern));
    // The construct is synthesized with a Network Load Balancer target (settings.ts), and
    // target-change moves to another: EC2 gives their sessions an 8500-byte packet length.
    // A service with a layout has its targets (zones, source limits); the others their one NLB target.
    const nlbTargets = new Set(configs.filter((_, i) => !layouts[i]).map(c => c.targetId));
    if (!layouts[0]) nlbTargets.add(CHANGED_TARGET_ID);
    // Each target is in one zone; a target of a layout without one (a single target, a pool)
    // in the first zone unless the scenario says where. target-change moves to a target there too.
    const targets = layouts.flatMap((layout, i) => layout ?? [{ targetId: configs[i].targetId }]);
    const targetZones = new Map([
      ...targets.map(t => [t.targetId, t.availabilityZone ?? t.location ?? ZONES[0]] as const),
      [CHANGED_TARGET_ID, ZONES[0]],
    ]);
    const limits = new Map(targets.filter(t => t.maxSources !== undefined).map(t => [t.targetId, t.maxSources!]));
    this.ec2 = new SimEc2(this.clock, { nlbTargets, targetSourceLimits: limits, targetZones, ...options.ec2 });
    this.ecs = new SimEcs(this.clock, this.ec2, options.timings, options.containers);
    this.ssm = new SimSsm(this.clock);
    for (const c of configs) {
      if (c.switchParameter) this.ssm.parameters.set(c.switchParameter, options.initialSwitch!);
      // Each service's configuration parameter, as CloudFormation writes it.
      this.writeConfig(c);
    }
    this.bus = new SimEventBus(this.clock, options.delivery);
    this.ecs.onEvent = event => this.bus.publish(event);
    const s = this.settings;
    this.queue = new SimQueue(this.clock, s.visibilityTimeoutMs, s.maxReceiveCount);
    const ours = options.strategy === 'ours';
    this.eventFunction = new SimFunction(this.clock, 'event', ours ? this.ourHandler(false) : this.baselineHandler(), {
      timeoutMs: s.eventTimeoutMs, crashRate: options.crashRate,
    });
    if (ours) {
      // Only the reconciler has the stack's id (shared-session-manager.ts).
      this.reconciler = new SimFunction(this.clock, 'sweep', this.ourHandler(true), { timeoutMs: s.reconcilerTimeoutMs });
      this.mapping = new SimEventSourceMapping(this.clock, this.queue, this.eventFunction, s.batchSize, s.maxConcurrency);
      // Each service's rule, with the synthesized pattern; its input: the event, with the
      // configuration the deployed rule carries.
      for (const service of this.services) {
        this.bus.addRule(e => matchesPattern(service.rulePattern, e),
          e => this.queue.send(JSON.stringify({ [SERVICE_KEY]: service.config.ownerId, [EVENT_KEY]: e })), () => this.ruleEnabled);
      }
    } else {
      if (this.services.length > 1) throw new Error('the baseline deploys one function per service; the simulator runs it for one service');
      // Public tools: every task state change of the service invokes the function directly
      // (asynchronous invocation: two retries, a minute and two apart, then the event is gone).
      this.bus.addRule(e => this.serviceEvent(e), e => void this.invokeAsync(e), () => this.ruleEnabled);
    }
  }

  /** The first service's configuration (the single-service scenarios' only one). */
  public get config(): SessionManagerConfig {
    return this.services[0].config;
  }

  /**
   * Deploys the stack: every service's enrollment custom resource (CloudFormation creates them
   * side by side), then the queue drains, then the schedules.
   */
  public async deploy(): Promise<void> {
    if (this.options.strategy === 'ours') {
      this.cloudformation.stackStatus = 'CREATE_IN_PROGRESS';
      await Promise.all(this.services.map(s => this.provide(s, { RequestType: 'Create' })));
      this.cloudformation.stackStatus = 'CREATE_COMPLETE';
      this.mapping!.start();
      for (const service of this.services) this.startSchedule(service);
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
    this.cloudformation.stackStatus = 'DELETE_IN_PROGRESS';
    if (this.mapping) this.mapping.enabled = false;
    this.scheduleEnabled = false;
  }

  /** Stack delete, second half: every enrollment's Delete; then the rules and queue go. */
  public async deleteEnrollment(): Promise<void> {
    if (this.options.strategy === 'ours') {
      await Promise.all(this.services.map(s => this.provide(s, { RequestType: 'Delete' })));
    }
    this.ruleEnabled = false;
  }

  /** A stack update points the mirror at another target: the enrollment's Update runs. */
  public async changeTarget(targetId: string): Promise<void> {
    await this.changeConfig({ targetId });
  }

  /**
   * A stack update changes the mirror's configuration in CloudFormation's order: the rule (its
   * events carry the configuration) first, then the enrollment's Update, and only then the
   * schedule, whose sweeps run the previous configuration until it is updated.
   */
  public async changeConfig(change: Partial<SessionManagerConfig>, service = this.services[0]): Promise<void> {
    Object.assign(service.config, change);
    // CloudFormation updates the configuration parameter before the enrollment (which depends on it).
    this.writeConfig(service.config);
    if (this.options.strategy === 'ours') {
      this.cloudformation.stackStatus = 'UPDATE_IN_PROGRESS';
      await this.provide(service, { RequestType: 'Update' });
      this.cloudformation.stackStatus = 'UPDATE_COMPLETE';
    }
    service.scheduleConfig = { ...service.config };
  }

  /**
   * The service's configuration parameter changes and no enrollment Update follows (one that
   * failed, or a deploy that is still on its way): the scheduled sweeps alone must bring every
   * session to it, since each reads the parameter.
   */
  public changeConfigParameterOnly(change: Partial<SessionManagerConfig>, service = this.services[0]): void {
    Object.assign(service.config, change);
    this.writeConfig(service.config);
  }

  /**
   * Someone puts a new value into a service's switch parameter: SSM stores it and sends a
   * "Parameter Store Change" event, which the service's rule passes to the queue.
   */
  public flipSwitch(service: MirroredService, value: string): void {
    const name = service.config.switchParameter;
    if (!name) throw new Error(`service ${service.name} has no switch parameter (WorldOptions.initialSwitch)`);
    this.ssm.parameters.set(name, value);
    this.bus.publish({
      'version': '0',
      'id': `ssm-${this.clock.now}`,
      'detail-type': 'Parameter Store Change',
      'source': 'aws.ssm',
      'account': ACCOUNT,
      'time': new Date(SIM_EPOCH_MS + this.clock.now).toISOString(),
      'region': REGION,
      'resources': [`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`],
      'detail': { operation: 'Update', name, type: 'String', description: '' },
    });
  }

  /** Writes a service's configuration parameter, as CloudFormation does (fleet/service-enrollment.ts). */
  private writeConfig(config: SessionManagerConfig): void {
    this.ssm.parameters.set(`${SIM_CONFIG_PREFIX}${config.ownerId}`, JSON.stringify(configToEnv(config)));
    this.ssm.modifiedAt.set(`${SIM_CONFIG_PREFIX}${config.ownerId}`, this.clock.now);
  }

  /** Whether a task of the service is to be mirrored now: sampled, and the switch on. */
  public wanted(service: MirroredService, task: SimTask): boolean {
    return this.switchOn(service) && isSampled(task.arn, service.config.sampling);
  }

  /** What the service's switch says at this simulated moment (on without a switch). */
  public switchOn(service: MirroredService): boolean {
    const name = service.config.switchParameter;
    return !name || switchStateOf(this.ssm.parameters.get(name), SIM_EPOCH_MS + this.clock.now).state === 'on';
  }

  /**
   * The custom resource provider framework in its asynchronous mode, as aws-cdk-lib's runtime
   * and waiter state machine run it: onEvent once; then isComplete at once and again every
   * query interval until it says complete; an error or a timeout of the function fails the
   * resource, and so does running out of attempts.
   */
  private async provide(service: MirroredService, request: Record<string, unknown>): Promise<void> {
    const s = this.settings;
    // With several services, each result names its service.
    const prefix = this.services.length > 1 ? `${service.name} ` : '';
    const record = (outcome: string) => this.enrollmentResults.push(`${prefix}${request.RequestType}: ${outcome}`);
    const properties = { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider', ...configToEnv(service.config) };
    // CloudFormation marks the resource as it starts the operation, and names it in the request.
    const logicalId = `Enrollment${this.services.indexOf(service)}`;
    const physicalId = enrollmentPhysicalId(service.config.ownerId);
    const status = `${String(request.RequestType).toUpperCase()}_IN_PROGRESS`;
    this.cloudformation.resources.set(logicalId, { physicalId, status, type: 'AWS::CloudFormation::CustomResource' });
    const ids = { StackId: SIM_STACK_ID, LogicalResourceId: logicalId, ...(request.RequestType === 'Create' ? {} : { PhysicalResourceId: physicalId }) };
    const first = await this.reconciler!.invoke({ ResourceProperties: properties, ...ids, ...request });
    if (!first.ok) return void record(`FAILED (${first.failure})`);
    const event = { ResourceProperties: properties, ...ids, ...request, ...(first.result as object) };
    for (let attempt = 0; attempt <= s.providerMaxAttempts; attempt++) {
      if (attempt > 0) await this.clock.sleep(s.providerQueryIntervalMs);
      const answer = await this.reconciler!.invoke(event);
      if (!answer.ok) return void record(`FAILED (${answer.failure})`);
      if ((answer.result as any)?.IsComplete) {
        this.cloudformation.resources.get(logicalId)!.status = status.replace('IN_PROGRESS', 'COMPLETE');
        return void record('SUCCESS');
      }
    }
    record('FAILED (timed out)');
  }

  /**
   * Gives every running task that is to be mirrored an owned session of its service's current
   * configuration without an API call, as an earlier deployment would have left them.
   */
  public seedSessions(): void {
    for (const service of this.services) {
      const c = service.config;
      const owned = this.ownedByEni(c.ownerId);
      for (const t of this.ecs.running(service.name).filter(task => !owned.has(task.eni) && this.wanted(service, task))) {
        // Where the layout would have put the task (ours); the baseline knows one target.
        const targetId = this.options.strategy === 'ours' ? candidateTargets(c, t.eni, t.zone)[0]?.targetId ?? c.targetId : c.targetId;
        this.ec2.addSession(t.eni, c.sessionNumber, targetId, { [OWNER_TAG_KEY]: c.ownerId, [TASK_TAG_KEY]: t.arn }, {
          filterId: c.filterId, packetLength: c.packetLength, virtualNetworkId: c.virtualNetworkId, description: c.description,
        });
      }
    }
  }

  /** Sessions of one owner (the first service's by default), counted by ENI. */
  public ownedByEni(ownerId = this.config.ownerId): Map<string, number> {
    return this.ownedByOwner().get(ownerId) ?? new Map();
  }

  /** Every owner's sessions, counted by ENI, from one pass over the account's sessions. */
  public ownedByOwner(): Map<string, Map<string, number>> {
    return this.owned().byOwner;
  }

  /**
   * The stack's sessions (every service's) whose task and target zones are both known, and how
   * many of those are in different zones: what is billed as inter-AZ data transfer.
   */
  public zoneCrossings(): { sessions: number; crossing: number } {
    return this.owned().zones;
  }

  /**
   * Every owner's sessions by ENI, and the {@link zoneCrossings} of the stack's services'
   * sessions, in one pass (the probe asks every simulated second).
   */
  public owned(): { byOwner: Map<string, Map<string, number>>; zones: { sessions: number; crossing: number } } {
    const byOwner = new Map<string, Map<string, number>>();
    const ours = new Set(this.services.map(s => s.config.ownerId));
    const targetZones = this.ec2.options.targetZones;
    const zones = { sessions: 0, crossing: 0 };
    for (const s of this.ec2.sessions.values()) {
      const owner = s.tags[OWNER_TAG_KEY];
      if (owner === undefined) continue;
      const counts = byOwner.get(owner) ?? new Map<string, number>();
      counts.set(s.networkInterfaceId, (counts.get(s.networkInterfaceId) ?? 0) + 1);
      byOwner.set(owner, counts);
      if (!ours.has(owner)) continue;
      const taskZone = this.ecs.zoneOfEni.get(s.networkInterfaceId);
      const targetZone = targetZones?.get(s.targetId);
      if (taskZone === undefined || targetZone === undefined) continue;
      zones.sessions++;
      if (taskZone !== targetZone) zones.crossing++;
    }
    return { byOwner, zones };
  }

  /** The service's schedule: a sweep every reconcile interval from the deployment on. */
  private startSchedule(service: MirroredService): void {
    const tick = () => {
      if (!this.scheduleEnabled) return;
      service.sweeps++;
      void this.reconciler!.invoke({ [SERVICE_KEY]: service.config.ownerId, [SWEEP_KEY]: true });
      this.clock.schedule(this.settings.reconcileIntervalMs, tick);
    };
    this.clock.schedule(this.settings.reconcileIntervalMs, tick);
  }

  /**
   * The event function's `startSweep` (src/runtime/adapters/sweep-starter.ts): an asynchronous Lambda Invoke of the
   * reconciler, which answers once the invocation is queued; the sweep runs shortly after.
   */
  private async startSweep(config: SessionManagerConfig, chunk = 0): Promise<void> {
    await this.clock.sleep(INVOKE_API_MS);
    if (chunk > 0) this.sweepChunks++;
    else this.immediateSweeps++;
    const event = { [SERVICE_KEY]: config.ownerId, [SWEEP_KEY]: true, [IMMEDIATE_KEY]: true, ...(chunk > 0 ? { [CHUNK_KEY]: chunk } : {}) };
    this.clock.schedule(ASYNC_INVOKE_DELAY_MS, () => void this.reconciler!.invoke(event));
  }

  /** The baseline's own rule: every task state change of the service. */
  private serviceEvent(e: any): boolean {
    return e?.source === 'aws.ecs' && e?.['detail-type'] === 'ECS Task State Change'
      && e.detail?.clusterArn === this.config.clusterArn && e.detail?.group === `service:${this.config.serviceName}`;
  }

  private async invokeAsync(event: unknown): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await this.clock.sleep(attempt * 60_000);
      if ((await this.eventFunction.invoke(event)).ok) return;
    }
    this.droppedEvents++;
  }

  /** The production wiring of session-manager.lambda.ts, with simulated endpoints. */
  private ourHandler(hasStackId: boolean) {
    return (label: string, alive: () => boolean) => {
      const ec2Client = newEc2Client({ region: REGION, credentials, requestHandler: this.ec2.handlerFor(() => label, alive) as any });
      const ecsClient = newEcsClient({ region: REGION, credentials, requestHandler: this.ecs.handlerFor(label, alive) as any });
      // As session-manager.lambda.ts: clients, memory and the switch cache (5 s per parameter)
      // per container, the rest per configuration.
      const ssmClient = new SSMClient({ region: REGION, credentials, requestHandler: this.ssm.handlerFor(label, alive) as any });
      const switches = new SwitchReader(ssmClient, () => Date.now());
      const configs = new ConfigReader(ssmClient, SIM_CONFIG_PREFIX, () => Date.now());
      const logger = new Logger({ logLevel: 'SILENT' });
      const recent = new RecentTasks();
      const depsFor = (config: SessionManagerConfig) => ({
        config,
        currentConfig: () => configs.configOf(config.ownerId),
        logger,
        metrics: this.metrics,
        sessions: new MirrorSessions(ec2Client, config),
        tasks: new ServiceTasks(ecsClient, config.clusterArn, config.serviceName),
        recent,
        // GetQueueAttributes' approximate count of waiting messages (eventBacklogOf), exact here.
        eventBacklog: async () => this.queue?.messages.filter(m => m.visibleAt <= this.clock.now).length ?? 0,
        switchState: config.switchParameter ? async (fresh?: boolean) => (await switches.state(config.switchParameter!, fresh)).state : undefined,
      });
      const options = {
        log: () => undefined,
        configFor: (ownerId: unknown, fresh?: boolean) => configs.configOf(ownerId, fresh),
        startSweep: (config: SessionManagerConfig, chunk?: number) => this.startSweep(config, chunk),
        stack: hasStackId ? new StackStatus(new CloudFormationClient({
          region: REGION, credentials, requestHandler: this.cloudformation.requestHandler as any,
        }), SIM_STACK_ID) : undefined,
      };
      return (event: unknown, context: SimContext) => routeTrigger(event, depsFor, options, context);
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

/**
 * The configuration of the stack's `index`th mirrored service. The first is the service the
 * single-service scenarios always had; the others get their own service name, owner, target
 * and filter, so a session made with another service's configuration shows as such. A service
 * with a layout (`WorldOptions.targets`) has its targets instead of its one target.
 */
function serviceConfig(index: number, options: WorldOptions, layout: readonly SimTarget[] | undefined): SessionManagerConfig {
  const hex = (width: number) => index.toString(16).padStart(width, '0');
  const name = index === 0 ? SERVICE_NAME : `${SERVICE_NAME}-${String(index).padStart(2, '0')}`;
  return {
    ownerId: index === 0 ? 'ftm-0123456789abcdef01234567' : `ftm-${hex(24)}`,
    clusterArn: CLUSTER_ARN,
    serviceName: name,
    targetId: layout ? layout[0].targetId : index === 0 ? DEFAULT_TARGET_ID : `tmt-${hex(17)}`,
    ...(layout ? { targets: layout.map(({ location: _, ...spec }) => spec) } : {}),
    ...(layout && options.allowCrossZone ? { allowCrossZone: true } : {}),
    filterId: index === 0 ? 'tmf-0123456789abcdef0' : `tmf-${hex(17)}`,
    sessionNumber: 1,
    pickFreeSessionNumber: options.pickFreeSessionNumber,
    account: ACCOUNT,
    region: REGION,
    ...(options.sampling !== undefined ? { sampling: options.sampling } : {}),
    ...(options.initialSwitch !== undefined ? { switchParameter: `/fargate-traffic-mirror/${name}/switch` } : {}),
  };
}
