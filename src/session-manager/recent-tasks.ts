/**
 * The tasks this function container has seen mirrored, so the several RUNNING events of one
 * task (one per container transition) cost no EC2 call once one of them, or the PENDING event,
 * was handled here. Memory only: another container, or this one after a cold start, checks
 * once with a read. Correctness never depends on it; cost does.
 */
export class RecentTasks {
  private readonly tasks = new Map<string, true>();

  /** @param capacity tasks remembered at most; the oldest go first */
  constructor(private readonly capacity = 10_000) {}

  public has(taskArn: string): boolean {
    return this.tasks.has(taskArn);
  }

  public add(taskArn: string): void {
    this.tasks.delete(taskArn);
    this.tasks.set(taskArn, true);
    if (this.tasks.size > this.capacity) {
      this.tasks.delete(this.tasks.keys().next().value!);
    }
  }

  public delete(taskArn: string): void {
    this.tasks.delete(taskArn);
  }

  public get size(): number {
    return this.tasks.size;
  }
}
