import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { SimClock } from './clock';
import { jsonRequest } from '../support/json-protocol';

/** Throws what a request from a frozen Lambda container meets: the connection hangs up. */
export function hangUpIfFrozen(alive: () => boolean): void {
  if (!alive()) throw Object.assign(new Error('the Lambda container is frozen'), { name: 'TimeoutError' });
}

/**
 * A smithy request handler for a simulated service of the AWS JSON 1.1 protocol: a request from a
 * frozen container hangs up; any other waits a latency drawn from `latencyMs` ([min, max]) on the
 * simulated clock, counts as activity, and gets what `answer` makes of its operation and body.
 */
export function simJsonHandler(
  clock: SimClock,
  latencyMs: [number, number],
  alive: () => boolean,
  answer: (action: string, input: any) => HttpResponse,
) {
  return {
    handle: async (request: HttpRequest) => {
      hangUpIfFrozen(alive);
      const { action, input } = jsonRequest(request);
      await clock.sleep(clock.random.between(latencyMs[0], latencyMs[1]));
      clock.activity++;
      return { response: answer(action, input) };
    },
  };
}
