/** Adapter: the EC2 and ECS clients with the retry settings the runtime relies on. */
import { EC2Client, EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ECSClient, ECSClientConfig } from '@aws-sdk/client-ecs';

/**
 * Attempts per EC2 call, first try included. EC2 refills its mutating-call bucket at 5 per
 * second, so a few spaced retries ride out a short burst; beyond that the invocation fails and
 * the event is retried later, which spreads the load better than waiting inside one call.
 */
export const EC2_MAX_ATTEMPTS = 5;

/**
 * The EC2 client the session manager uses; tests pass a request handler and retry strategy.
 * Adaptive retry mode adds a client-side rate limiter that slows down when EC2 throttles, so
 * a warm container's burst of creates follows EC2's 5-per-second refill instead of burning
 * its attempts (the simulator in test/sim measures the difference).
 */
export function newEc2Client(overrides: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({ maxAttempts: EC2_MAX_ATTEMPTS, retryMode: 'adaptive', ...overrides });
}

/** The ECS client the reconciler uses; tests pass a request handler. */
export function newEcsClient(overrides: ECSClientConfig = {}): ECSClient {
  return new ECSClient({ maxAttempts: EC2_MAX_ATTEMPTS, ...overrides });
}
