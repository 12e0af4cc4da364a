/**
 * The chunks of a flip's sweep: one that leaves work starts the next, while CloudFormation says
 * the stack is steady.
 */
import { SweepResult } from './operation-deps';
import { SessionManagerConfig } from '../../contract/session-manager-config';
import { MAX_SWEEP_CHUNKS } from '../../contract/timing';
import { StackLifecycle } from '../adapters/stack-status';
import { SweepStarter } from '../adapters/sweep-starter';
import { errorMessageOf } from '../core/errors';

/** What starting the next chunk needs. */
export interface ChunkOptions {
  /** Logs what was skipped or could not be done. */
  readonly log: (message: string, details: object) => void;
  /**
   * Starts a sweep of the service now (a flipped switch), or the next chunk of one.
   * @default switch changes wait for the schedule, and a flip's sweep is one chunk
   */
  readonly startSweep?: SweepStarter;
  /**
   * CloudFormation's view of the function's own stack: a flip's sweep starts its next chunk only
   * while the stack is not being deleted, rolled back or cleaned up. @default a flip's sweep is one chunk
   */
  readonly stack?: StackLifecycle;
}

/**
 * A flip's sweep that left work (unfinished actions, transient failures, or a chunk that failed)
 * starts its next chunk, so the flip is carried out whole without the schedule: while the stack
 * is not being deleted, rolled back or cleaned up (a chunk started then could create sessions
 * after a Delete's final listing; contract/timing.ts SETTLE_MS bounds only chunks started
 * before), and for at most {@link MAX_SWEEP_CHUNKS} chunks. Every chunk reads the configuration
 * and the switch afresh. What it could not start is left to the schedule, and logged.
 */
export async function continueFlipSweep(
  config: SessionManagerConfig, chunk: number, result: SweepResult | undefined, options: ChunkOptions,
): Promise<void> {
  if (result && result.unfinished === 0 && result.transientFailures === 0) return;
  if (!options.startSweep || !options.stack) return;
  const next = chunk + 1;
  const details = { owner: config.ownerId, chunk: next, unfinished: result?.unfinished, transientFailures: result?.transientFailures };
  if (next >= MAX_SWEEP_CHUNKS) {
    options.log(`the flip's sweep did not finish in ${MAX_SWEEP_CHUNKS} chunks; the schedule carries on with the rest`, details);
    return;
  }
  try {
    if (!(await options.stack.allowsChainedSweeps())) {
      options.log('the stack is being deleted, rolled back or cleaned up: the flip\'s sweep stops here', details);
      return;
    }
    await options.startSweep(config, next);
  } catch (error) {
    options.log('could not start the next chunk of the flip\'s sweep; the schedule carries on with the rest', { ...details, errorMessage: errorMessageOf(error) });
  }
}
