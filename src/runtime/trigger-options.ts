/** Runtime entry: what the routing of triggers is given (route-trigger.ts, route-custom-resource.ts). */
import { SessionManagerConfig } from '../contract/session-manager-config';
import { QueueReceipt, ReceiptCheck } from './adapters/event-queue';
import { StackLifecycle } from './adapters/stack-status';
import { SweepStarter } from './adapters/sweep-starter';
import { OperationDeps } from './operations/operation-deps';

/** The dependencies of one service's work; the Lambda builds them per configuration and keeps its clients. */
export type DepsFor = (config: SessionManagerConfig) => OperationDeps;

/**
 * The current configuration of the service an owner id names, from its configuration parameter;
 * undefined when it names no service of the stack. `fresh` skips the per-container cache.
 */
export type ConfigFor = (ownerId: unknown, fresh?: boolean) => Promise<SessionManagerConfig | undefined>;

/** What the entry point needs besides each service's dependencies. */
export interface TriggerOptions {
  /** Logs what was skipped. */
  readonly log: (message: string, details: object) => void;
  /** The current configuration of a named service: the one source the functions act on. */
  readonly configFor: ConfigFor;
  /**
   * Starts a sweep of the service now (a flipped switch), or the next chunk of one.
   * @default switch changes wait for the schedule
   */
  readonly startSweep?: SweepStarter;
  /**
   * CloudFormation's view of the function's own stack: a custom resource's Delete removes
   * sessions only when CloudFormation is deleting that resource, and a flip's sweep starts its
   * next chunk only while the stack is not being deleted, rolled back or cleaned up.
   * @default no Delete is confirmed (none removes a session), and a flip's sweep is one chunk
   */
  readonly stack?: StackLifecycle;
  /** Counts triggers that named no service of the stack (a metric). @default not counted */
  readonly ignored?: (count: number) => void;
  /**
   * Checks that queue records are messages the event queue handed this invocation (their receipt
   * handles); forged ones are ignored. @default records are taken as they come
   */
  readonly checkReceipts?: (records: readonly QueueReceipt[]) => Promise<ReceiptCheck>;
}
