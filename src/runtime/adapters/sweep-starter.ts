/** Adapter: starts a sweep of one service on the reconciler with an asynchronous Lambda Invoke. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SessionManagerConfig } from '../../contract/session-manager-config';
import { CHUNK_KEY, IMMEDIATE_KEY, SERVICE_KEY, SWEEP_KEY } from '../../contract/trigger-keys';

/** Starts a flip's sweep of a service, or its chunk number `chunk` (the first is 0). */
export type SweepStarter = (config: SessionManagerConfig, chunk?: number) => Promise<void>;

/**
 * Starts a sweep of one service now, on the reconciler, asynchronously: the event path's answer
 * to a flipped switch, and the reconciler's own next chunk of that sweep. The sweep mirrors every
 * selected running task (switch on) or removes every owned session (off); a chunk that leaves
 * work starts the next (route-trigger.ts).
 */
export function sweepStarterOf(lambda: LambdaClient, reconcilerName: string): SweepStarter {
  return async (config, chunk = 0) => {
    await lambda.send(new InvokeCommand({
      FunctionName: reconcilerName,
      InvocationType: 'Event',
      // Only which service: the sweep reads the configuration from the service's parameter.
      Payload: Buffer.from(JSON.stringify({
        [SERVICE_KEY]: config.ownerId, [SWEEP_KEY]: true, [IMMEDIATE_KEY]: true, ...(chunk > 0 ? { [CHUNK_KEY]: chunk } : {}),
      })),
    }));
  };
}
