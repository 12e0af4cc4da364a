/* eslint-disable no-bitwise */
// mulberry32 is defined in 32-bit integer arithmetic; bit operations are the algorithm.
/**
 * A seeded pseudo-random generator (mulberry32), so every simulated run with the same seed
 * makes the same choices: task timings, event faults and the SDK's backoff jitter.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  public next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A float in [min, max). */
  public between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** True with probability `p`. */
  public chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** An integer in [min, max]. */
  public int(min: number, max: number): number {
    return Math.floor(this.between(min, max + 1));
  }

  /** `length` lowercase hex digits. */
  public hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
}
