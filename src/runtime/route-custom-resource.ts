/**
 * Runtime entry: the enrollment custom resource of a service, as the provider framework hands it
 * to the reconciler. Its configuration is the service's parameter, never the event's properties;
 * a Delete removes sessions only once CloudFormation says it is deleting that very resource.
 */
import { OWNER_ID_PATTERN } from '../contract/ownership';
import { ENV, SessionManagerConfig, configToEnv } from '../contract/session-manager-config';
import { ENROLLMENT_WORK_LIMIT_MS } from '../contract/timing';
import { classifyError, errorMessageOf } from './core/errors';
import { fitFailureReason } from './core/failure-text';
import { isObject } from './core/is-object';
import { enrollmentPhysicalId } from './core/physical-id';
import { InvocationContext, routeInvocation, startedAtOf, workLimitOf } from './route-invocation';
import { ConfigFor, DepsFor, TriggerOptions } from './trigger-options';

/** A custom resource trigger: the owner id its properties name (not yet checked), and the event. */
export interface CustomResourceTrigger {
  readonly ownerId: unknown;
  readonly event: Record<string, any>;
}

/**
 * Routes a custom resource event. A Delete poll first asks CloudFormation (confirmDelete); one it
 * does not confirm is logged, counted and answered "not complete". A failure's reason is cut to
 * fit CloudFormation's response, without a stack trace.
 */
export async function routeCustomResource(
  trigger: CustomResourceTrigger, depsFor: DepsFor,
  options: TriggerOptions & { readonly ignore: (reason: string, details: object) => void }, context?: InvocationContext,
): Promise<unknown> {
  try {
    const startedAt = startedAtOf(trigger.event);
    if (trigger.event.RequestType === 'Delete' && startedAt !== undefined) {
      const check = await confirmDelete(trigger, options);
      if (check.unanswered) {
        // Not a forged Delete, just no answer yet: logged, not counted as ignored.
        options.log('could not ask CloudFormation about the Delete; the next poll asks again', { errorCode: check.unanswered });
        return { IsComplete: false };
      }
      const refused = check.refused;
      if (refused) {
        options.ignore('a custom resource Delete CloudFormation is not running', { service: String(trigger.ownerId).slice(0, 64), why: refused });
        // Should CloudFormation never confirm a Delete it runs, it fails with the reason at the
        // work limit, as any Delete that cannot finish, and removes nothing.
        if (Date.now() >= workLimitOf(startedAt)) {
          throw new Error(`CloudFormation did not confirm within ${ENROLLMENT_WORK_LIMIT_MS / 60_000} minutes that it is deleting this resource, `
            + `so no session was removed: ${refused}`);
        }
        return { IsComplete: false };
      }
    }
    return await runWithConfiguration(trigger, depsFor, options, context);
  } catch (error) {
    // CloudFormation shows the reason only when the response fits 4,096 bytes: the whole
    // text goes to the log, a cut one (counts and codes kept) to CloudFormation, without a
    // stack trace (the provider framework would add it to the reason).
    const message = errorMessageOf(error);
    const fitted = fitFailureReason(message);
    if (fitted !== message) options.log('custom resource failed; the reason CloudFormation shows is cut to fit its response', { errorMessage: message });
    const short = new Error(fitted);
    short.stack = fitted;
    throw short;
  }
}

/** A custom resource event: the configuration from the service's parameter, then the operation. */
async function runWithConfiguration(
  trigger: CustomResourceTrigger, depsFor: DepsFor, options: TriggerOptions, context?: InvocationContext,
): Promise<unknown> {
  const { log, configFor } = options;
  let config: SessionManagerConfig;
  try {
    config = await customResourceConfig(trigger, configFor);
  } catch (error) {
    // A throttled read is a poll to repeat (the provider framework fails the resource on any
    // error); the first call, which only records the start, needs no more than the owner id.
    if (!classifyError(error).transient) throw error;
    log('could not read the service\'s configuration; the next poll tries again', { errorMessage: errorMessageOf(error) });
    if (startedAtOf(trigger.event) !== undefined) return { IsComplete: false };
    if (typeof trigger.ownerId !== 'string' || !OWNER_ID_PATTERN.test(trigger.ownerId)) throw error;
    config = ownerOnly(trigger.ownerId);
  }
  return routeInvocation(customResourceEvent(trigger.event, config), depsFor(config), context);
}

/** A configuration that names the owner and nothing else: enough to record a start or remove the owner's sessions. */
const ownerOnly = (ownerId: string): SessionManagerConfig => ({ ownerId, clusterArn: '', serviceName: '', targetId: '', filterId: '', sessionNumber: 1 });

/** The configuration a custom resource event runs with: the parameter's, read afresh. */
async function customResourceConfig(trigger: CustomResourceTrigger, configFor: ConfigFor): Promise<SessionManagerConfig> {
  const config = await configFor(trigger.ownerId, true);
  if (config) return config;
  if (trigger.event.RequestType === 'Delete' && typeof trigger.ownerId === 'string' && OWNER_ID_PATTERN.test(trigger.ownerId)) {
    // The parameter is gone (or was never written, by a release before it): removing the owner's
    // sessions needs its owner id alone, and IAM confines deletes to sessions of this stack.
    return ownerOnly(trigger.ownerId);
  }
  throw new Error(`fargate-traffic-mirror custom resource: no configuration parameter for the service ${JSON.stringify(String(trigger.ownerId).slice(0, 64))} `
    + `named by the resource's ${ENV.OWNER_ID} property`);
}

/**
 * The event as the operations see it: the properties are the current configuration, so what an
 * Update removes from sessions (the old properties' settings the configuration no longer has) is
 * measured against the configuration the sweep runs.
 */
function customResourceEvent(event: Record<string, any>, config: SessionManagerConfig): Record<string, any> {
  const properties = isObject(event.ResourceProperties) ? event.ResourceProperties : {};
  const { [ENV.PACKET_LENGTH]: _p, [ENV.VIRTUAL_NETWORK_ID]: _v, [ENV.DESCRIPTION]: _d, ...rest } = properties;
  return { ...event, ResourceProperties: { ...rest, ...configToEnv(config) } };
}

/**
 * Asks CloudFormation whether it is deleting the resource a Delete names, under the physical id
 * that resource's service has: a Delete the functions are handed by anyone else (a direct
 * invoke) removes no session. Returns why the Delete was not confirmed (`refused`), or the code
 * of a throttled or failed question (`unanswered`: a poll to repeat), or neither when it was
 * confirmed; any other error fails the Delete with what CloudFormation answered.
 */
async function confirmDelete(trigger: CustomResourceTrigger, options: TriggerOptions): Promise<{ refused?: string; unanswered?: string }> {
  const { event, ownerId } = trigger;
  if (!options.stack) return { refused: 'this function does not handle the stack\'s custom resources' };
  if (typeof ownerId !== 'string' || !OWNER_ID_PATTERN.test(ownerId)) return { refused: 'no owner id' };
  const physicalId = enrollmentPhysicalId(ownerId);
  if (event.PhysicalResourceId !== physicalId) return { refused: 'the physical id is not the one of the service\'s enrollment' };
  if (typeof event.LogicalResourceId !== 'string' || event.LogicalResourceId.length === 0) return { refused: 'no logical resource id' };
  try {
    const check = await options.stack.deleting(event.LogicalResourceId, physicalId);
    return check.confirmed ? {} : { refused: check.reason };
  } catch (error) {
    const cls = classifyError(error);
    if (cls.transient) return { unanswered: cls.code };
    throw new Error(`cannot confirm with CloudFormation that it is deleting ${event.LogicalResourceId}, so no session was removed: `
      + `${cls.code}: ${errorMessageOf(error)} (the reconciler needs cloudformation:DescribeStackResource on its stack)`);
  }
}
