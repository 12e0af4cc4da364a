import { Random } from './random';

/** Simulated time 0 as a wall-clock date (2026-11-25T00:00:00Z). */
/** What `Date.now()` answers at simulated time 0. */
export const SIM_EPOCH_MS = Date.UTC(2026, 10, 25);

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A discrete-event clock. Simulated time only moves when every piece of running code is
 * waiting on a simulated timer, so a run of thousands of tasks takes seconds of real time and
 * gives the same result every time.
 *
 * While {@link SimClock.run} is active, the global `setTimeout`/`clearTimeout`, `Date.now`
 * and `Math.random` are this clock's and this seed's: the AWS SDK's own retry backoff and
 * client-side rate limiting then wait in simulated time, unmodified.
 */
export class SimClock {
  /** Simulated milliseconds since the start of the run. */
  public now = 0;
  /** Bumped by every timer and every simulated API call, to tell when the code has settled. */
  public activity = 0;
  private readonly heap: Timer[] = [];
  private seq = 0;

  constructor(public readonly random: Random) {}

  /** Runs `fn` after `delayMs` of simulated time. */
  public schedule(delayMs: number, fn: () => void): Timer {
    const timer: Timer = { at: this.now + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    this.activity++;
    return timer;
  }

  /** Resolves after `ms` of simulated time. */
  public sleep(ms: number): Promise<void> {
    return new Promise(resolve => this.schedule(ms, resolve));
  }

  /**
   * Advances time until `untilMs` or until `done()` holds, firing timers in order and letting
   * every promise chain settle between them.
   */
  public async run(untilMs: number, done: () => boolean = () => false): Promise<void> {
    const saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, random: Math.random, dateNow: Date.now };
    const realSetImmediate = globalThis.setImmediate;
    // The SDK reads its shared config files once per process with real file I/O; time must
    // not move while such a read is pending, or a call would see its timers fire early.
    const realIoPending = () => process.getActiveResourcesInfo().some(r => r.startsWith('FSReq'));
    const settle = async () => {
      let seen = -1;
      while (seen !== this.activity || realIoPending()) {
        seen = this.activity;
        await new Promise(resolve => realSetImmediate(resolve));
        await new Promise(resolve => realSetImmediate(resolve));
      }
    };
    (globalThis as any).setTimeout = (fn: (...args: any[]) => void, ms?: number, ...args: any[]) => {
      const timer = this.schedule(ms ?? 0, () => fn(...args));
      const noop = () => undefined;
      return { ref: noop, unref: noop, hasRef: () => false, refresh: noop, [Symbol.toPrimitive]: () => timer.seq, timer };
    };
    (globalThis as any).clearTimeout = (handle: any) => {
      if (handle?.timer) handle.timer.cancelled = true;
    };
    Math.random = () => this.random.next();
    // The SDK's adaptive rate limiter measures time with Date.now().
    Date.now = () => SIM_EPOCH_MS + this.now;
    try {
      for (;;) {
        await settle();
        if (done()) return;
        const next = this.pop();
        if (!next) return;
        if (next.at > untilMs) {
          this.push(next);
          this.now = untilMs;
          return;
        }
        this.now = next.at;
        this.activity++;
        next.fn();
      }
    } finally {
      globalThis.setTimeout = saved.setTimeout;
      globalThis.clearTimeout = saved.clearTimeout;
      Math.random = saved.random;
      Date.now = saved.dateNow;
    }
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = Math.floor((i - 1) / 2);
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    while (h.length) {
      const top = h[0];
      const last = h.pop()!;
      if (h.length) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && before(h[l], h[m])) m = l;
          if (r < h.length && before(h[r], h[m])) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m], h[i]];
          i = m;
        }
      }
      if (!top.cancelled) return top;
    }
    return undefined;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** EC2's request-rate model: a bucket of `capacity` tokens refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private last = 0;

  constructor(private readonly clock: SimClock, public readonly capacity: number, public readonly perSecond: number) {
    this.tokens = capacity;
  }

  /** Takes a token if one is there; a refused request costs none, as with EC2. */
  public take(): boolean {
    const now = this.clock.now;
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}
