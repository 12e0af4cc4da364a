/** Runtime entry: what the routing of triggers is given (route-trigger.ts, route-custom-resource.ts). */
import { SessionManagerConfig } from '../contract/session-manager-config';
import { QueueReceipt, ReceiptCheck } from './adapters/event-queue';
import { ChunkOptions } from './operations/flip-sweep-chunks';
import { OperationDeps } from './operations/operation-deps';

/** The dependencies of one service's work; the Lambda builds them per configuration and keeps its clients. */
export type DepsFor = (config: SessionManagerConfig) => OperationDeps;

/**
 * The current configuration of the service an owner id names, from its configuration parameter;
 * undefined when it names no service of the stack. `fresh` skips the per-container cache.
 */
export type ConfigFor = (ownerId: unknown, fresh?: boolean) => Promise<SessionManagerConfig | undefined>;

/**
 * What the entry point needs besides each service's dependencies: besides what a flip's chunks
 * need (`log`, `startSweep`, and `stack`, which also confirms a custom resource's Delete: without
 * it no Delete removes a session), these.
 */
export interface TriggerOptions extends ChunkOptions {
  /** The current configuration of a named service: the one source the functions act on. */
  readonly configFor: ConfigFor;
  /** Counts triggers that named no service of the stack (a metric). @default not counted */
  readonly ignored?: (count: number) => void;
  /**
   * Checks that queue records are messages the event queue handed this invocation (their receipt
   * handles); forged ones are ignored. @default records are taken as they come
   */
  readonly checkReceipts?: (records: readonly QueueReceipt[]) => Promise<ReceiptCheck>;
}
