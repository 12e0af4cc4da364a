import { OperationDeps } from '../../src/runtime/operations/operation-deps';
import { routeInvocation } from '../../src/runtime/route-invocation';

/** What the provider framework finally sends CloudFormation. */
export interface ProviderResponse {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, unknown>;
  /** isComplete calls it took. */
  readonly polls: number;
}

/** The framework's waiter interval (the construct's queryInterval). */
export const QUERY_INTERVAL_MS = 10_000;

/**
 * Plays aws-cdk-lib's custom resource provider framework in its asynchronous mode, as its
 * runtime (custom-resources/lib/provider-framework/runtime/framework.js) does it: the onEvent
 * answer is merged into the request, isComplete is called with that until it answers
 * `IsComplete: true`, an isComplete answer with Data but not complete is an error, a thrown
 * error fails the resource, and the final Data is onEvent's merged with isComplete's.
 */
export async function provide(request: Record<string, unknown>, deps: OperationDeps, maxPolls = 50): Promise<ProviderResponse> {
  const onEvent = await routeInvocation({ ResourceProperties: {}, ...request }, deps) as Record<string, any>;
  const event: Record<string, any> = { ResourceProperties: {}, ...request, ...onEvent, PhysicalResourceId: onEvent.PhysicalResourceId ?? request.PhysicalResourceId ?? 'request-id' };
  for (let polls = 1; polls <= maxPolls; polls++) {
    const answer = await routeInvocation(event, deps) as Record<string, any>;
    if (answer.IsComplete) {
      return { PhysicalResourceId: event.PhysicalResourceId, Data: { ...event.Data, ...answer.Data }, polls };
    }
    if (answer.Data && Object.keys(answer.Data).length > 0) {
      throw new Error('"Data" is not allowed if "IsComplete" is "False"');
    }
    await deps.sleep!(QUERY_INTERVAL_MS);
  }
  throw new Error(`not complete after ${maxPolls} polls`);
}
