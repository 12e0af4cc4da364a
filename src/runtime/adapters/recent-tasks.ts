/**
 * What this function container has seen of starting tasks: those it saw mirrored, so a
 * duplicate or redelivered PENDING event costs no EC2 call; and those whose PENDING event came
 * without an attached ENI, so their RUNNING event, the first with one, creates the session.
 * Memory only: another container, or this one after a cold start, knows neither, and the sweep
 * heals what that leaves unmirrored. Correctness never depends on it; cost and speed do.
 */
export class RecentTasks {
  private readonly tasks = new Map<string, 'mirrored' | 'awaiting-eni'>();

  /** @param capacity tasks remembered at most; the oldest go first */
  constructor(private readonly capacity = 10_000) {}

  /** Whether this container saw the task mirrored. */
  public has(taskArn: string): boolean {
    return this.tasks.get(taskArn) === 'mirrored';
  }

  /** Whether this container saw the task's PENDING event without an attached ENI, and nothing after. */
  public isAwaitingEni(taskArn: string): boolean {
    return this.tasks.get(taskArn) === 'awaiting-eni';
  }

  public add(taskArn: string): void {
    this.remember(taskArn, 'mirrored');
  }

  /** Records a PENDING event without an attached ENI; a task already seen mirrored stays so. */
  public awaitEni(taskArn: string): void {
    if (!this.has(taskArn)) this.remember(taskArn, 'awaiting-eni');
  }

  public delete(taskArn: string): void {
    this.tasks.delete(taskArn);
  }

  public get size(): number {
    return this.tasks.size;
  }

  private remember(taskArn: string, state: 'mirrored' | 'awaiting-eni'): void {
    this.tasks.delete(taskArn);
    this.tasks.set(taskArn, state);
    if (this.tasks.size > this.capacity) {
      this.tasks.delete(this.tasks.keys().next().value!);
    }
  }
}
