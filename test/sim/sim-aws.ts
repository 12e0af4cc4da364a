import { SimClock } from './clock';

/** An SQS message as the simulated queue keeps it. */
export interface SimMessage {
  readonly messageId: string;
  readonly body: string;
  visibleAt: number;
  receiveCount: number;
}

/**
 * An SQS standard queue with a visibility timeout and a redrive policy: a message received
 * more than `maxReceiveCount` times moves to the dead-letter queue.
 */
export class SimQueue {
  public readonly messages: SimMessage[] = [];
  public readonly deadLetters: SimMessage[] = [];
  private nextId = 1;

  constructor(private readonly clock: SimClock, private readonly visibilityMs: number, private readonly maxReceiveCount: number) {}

  public send(body: string): void {
    this.clock.activity++;
    this.messages.push({ messageId: `m${this.nextId++}`, body, visibleAt: this.clock.now, receiveCount: 0 });
  }

  /** Up to `max` visible messages, oldest first; each becomes invisible for the visibility timeout. */
  public receive(max: number): SimMessage[] {
    const batch: SimMessage[] = [];
    for (let i = 0; i < this.messages.length && batch.length < max;) {
      const m = this.messages[i];
      if (m.visibleAt > this.clock.now) {
        i++;
        continue;
      }
      if (m.receiveCount >= this.maxReceiveCount) {
        this.messages.splice(i, 1);
        this.deadLetters.push(m);
        continue;
      }
      m.receiveCount++;
      m.visibleAt = this.clock.now + this.visibilityMs;
      batch.push(m);
      i++;
    }
    return batch;
  }

  public delete(messageId: string): void {
    const i = this.messages.findIndex(m => m.messageId === messageId);
    if (i >= 0) this.messages.splice(i, 1);
  }
}

/** What one Lambda invocation ended with. */
export interface InvocationResult {
  readonly ok: boolean;
  readonly result?: unknown;
  /** `error` (the handler threw), `timeout` or `crash` (injected). */
  readonly failure?: 'error' | 'timeout' | 'crash';
}

/** The Lambda context the simulated functions pass: the time an invocation has left. */
export interface SimContext {
  getRemainingTimeInMillis(): number;
}

/** Makes a handler for one new container; `alive()` turns false when the container dies. */
export type HandlerFactory = (label: string, alive: () => boolean) => (event: unknown, context: SimContext) => Promise<unknown>;

interface Container {
  readonly label: string;
  alive: boolean;
  busy: boolean;
  handler?: (event: unknown, context: SimContext) => Promise<unknown>;
}

/** Options of a simulated Lambda function. */
export interface SimFunctionOptions {
  readonly timeoutMs: number;
  /** Probability that an invocation's container dies partway through (crash, OOM). */
  readonly crashRate?: number;
}

/**
 * A Lambda function: containers are reused while warm and each runs one invocation at a time;
 * a new one pays a cold start. A timeout or crash freezes the container mid-flight: calls it
 * already sent still take effect, later ones never leave.
 */
export class SimFunction {
  public invocations = 0;
  public failures = 0;
  private readonly containers: Container[] = [];

  constructor(
    private readonly clock: SimClock,
    public readonly name: string,
    private readonly makeHandler: HandlerFactory,
    private readonly options: SimFunctionOptions,
  ) {}

  public async invoke(event: unknown): Promise<InvocationResult> {
    this.invocations++;
    let container = this.containers.find(c => c.alive && !c.busy);
    if (!container) {
      const fresh: Container = { label: `${this.name}#${this.containers.length + 1}`, alive: true, busy: false };
      fresh.handler = this.makeHandler(fresh.label, () => fresh.alive);
      container = fresh;
      this.containers.push(container);
      await this.clock.sleep(this.clock.random.between(300, 900));
    }
    const c = container;
    c.busy = true;
    const deadline = this.clock.now + this.options.timeoutMs;
    const context: SimContext = { getRemainingTimeInMillis: () => deadline - this.clock.now };
    const result = await new Promise<InvocationResult>(resolve => {
      const timers: Array<{ cancelled: boolean }> = [];
      const finish = (r: InvocationResult) => {
        if (timers.length === 0 || timers[0].cancelled) return;
        for (const t of timers) t.cancelled = true;
        resolve(r);
      };
      timers.push(this.clock.schedule(this.options.timeoutMs, () => {
        c.alive = false;
        finish({ ok: false, failure: 'timeout' });
      }));
      if (this.clock.random.chance(this.options.crashRate ?? 0)) {
        // A batch of ten takes a few hundred simulated ms: the crash lands partway through.
        timers.push(this.clock.schedule(this.clock.random.between(20, 400), () => {
          c.alive = false;
          finish({ ok: false, failure: 'crash' });
        }));
      }
      c.handler!(event, context).then(r => finish({ ok: true, result: r }), () => finish({ ok: false, failure: 'error' }));
    });
    c.busy = false;
    if (!result.ok) this.failures++;
    return result;
  }
}

/**
 * A Lambda event source mapping on an SQS queue: up to `maxConcurrency` pollers, each
 * receiving up to `batchSize` messages and deleting those the function did not report as
 * failed. A failed invocation deletes nothing; its messages come back after the visibility
 * timeout.
 */
export class SimEventSourceMapping {
  public enabled = true;

  constructor(private readonly clock: SimClock, private readonly queue: SimQueue, private readonly fn: SimFunction,
    private readonly batchSize: number, private readonly maxConcurrency: number) {}

  public start(): void {
    for (let i = 0; i < this.maxConcurrency; i++) void this.poll();
  }

  private async poll(): Promise<void> {
    while (this.enabled) {
      const batch = this.queue.receive(this.batchSize);
      if (batch.length === 0) {
        await this.clock.sleep(500);
        continue;
      }
      const result = await this.fn.invoke({ Records: batch.map(m => ({ messageId: m.messageId, body: m.body })) });
      if (!result.ok) continue;
      const failed = new Set(((result.result as any)?.batchItemFailures ?? []).map((f: any) => f.itemIdentifier));
      for (const m of batch) {
        if (!failed.has(m.messageId)) this.queue.delete(m.messageId);
      }
    }
  }
}

/** Faults EventBridge delivery can have in a scenario. */
export interface DeliveryFaults {
  /** Probability that an event never arrives. */
  readonly lossRate?: number;
  /** Probability that an event arrives twice. */
  readonly duplicateRate?: number;
  /** Probability that an event is held back by up to `reorderMaxMs`, so later ones overtake it. */
  readonly reorderRate?: number;
  readonly reorderMaxMs?: number;
}

/** EventBridge: delivers matching events to a target, at least once, with optional faults. */
export class SimEventBus {
  public published = 0;
  public lost = 0;
  public delivered = 0;
  private readonly rules: Array<{ matches: (event: any) => boolean; deliver: (event: unknown) => void; enabled: () => boolean }> = [];

  constructor(private readonly clock: SimClock, private readonly faults: DeliveryFaults = {}) {}

  public addRule(matches: (event: any) => boolean, deliver: (event: unknown) => void, enabled: () => boolean = () => true): void {
    this.rules.push({ matches, deliver, enabled });
  }

  public publish(event: unknown): void {
    this.published++;
    const r = this.clock.random;
    if (r.chance(this.faults.lossRate ?? 0)) {
      this.lost++;
      return;
    }
    const copies = r.chance(this.faults.duplicateRate ?? 0) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = r.between(100, 500) + (r.chance(this.faults.reorderRate ?? 0) ? r.between(0, this.faults.reorderMaxMs ?? 20_000) : 0);
      this.clock.schedule(delay, () => {
        for (const rule of this.rules) {
          if (rule.enabled() && rule.matches(event)) {
            this.delivered++;
            rule.deliver(event);
          }
        }
      });
    }
  }
}
