/** Adapter: starts a sweep of one service on the reconciler with an asynchronous Lambda Invoke. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SessionManagerConfig } from '../../contract/session-manager-config';
import { IMMEDIATE_KEY, SERVICE_KEY, SWEEP_KEY } from '../../contract/trigger-keys';

/**
 * Starts a sweep of one service now, on the reconciler, asynchronously: the event path's answer
 * to a flipped switch. The sweep mirrors every selected running task (switch on) or removes
 * every owned session (off) within its budget; the schedule carries on with any rest.
 */
export function sweepStarterOf(lambda: LambdaClient, reconcilerName: string): (config: SessionManagerConfig) => Promise<void> {
  return async config => {
    await lambda.send(new InvokeCommand({
      FunctionName: reconcilerName,
      InvocationType: 'Event',
      // Only which service: the sweep reads the configuration from the service's parameter.
      Payload: Buffer.from(JSON.stringify({ [SERVICE_KEY]: config.ownerId, [SWEEP_KEY]: true, [IMMEDIATE_KEY]: true })),
    }));
  };
}
