/**
 * Runtime entry: the session manager is shared by every `FargateTrafficMirror` of a stack, and
 * its triggers only name the service they are about (its owner id, under {@link SERVICE_KEY}).
 * This file unwraps triggers, looks the named service's configuration up where only the
 * deployment writes it (adapters/config-reader.ts), and routes each service's part with that
 * service's dependencies. A trigger naming no service of the stack is logged, counted and
 * ignored; configuration a trigger carries is never read.
 */
import { OWNER_ID_PATTERN } from '../contract/ownership';
import { ENV, SessionManagerConfig, configToEnv } from '../contract/session-manager-config';
import { ENROLLMENT_WORK_LIMIT_MS, MAX_SWEEP_CHUNKS } from '../contract/timing';
import { CHUNK_KEY, CONFIG_KEY, EVENT_KEY, IMMEDIATE_KEY, SERVICE_KEY, SWEEP_KEY } from '../contract/trigger-keys';
import { QueueReceipt, ReceiptCheck } from './adapters/event-queue';
import { StackLifecycle } from './adapters/stack-status';
import { SweepStarter } from './adapters/sweep-starter';
import { classifyError, errorMessageOf } from './core/errors';
import { fitFailureReason } from './core/failure-text';
import { isObject } from './core/is-object';
import { enrollmentPhysicalId } from './core/physical-id';
import { BatchResponse } from './operations/handle-queue-batch';
import { OperationDeps, SweepResult } from './operations/operation-deps';
import { InvocationContext, routeInvocation } from './route-invocation';

/** The dependencies of one service's work; the Lambda builds them per configuration and keeps its clients. */
export type DepsFor = (config: SessionManagerConfig) => OperationDeps;

/**
 * The current configuration of the service an owner id names, from its configuration parameter;
 * undefined when it names no service of the stack. `fresh` skips the per-container cache.
 */
export type ConfigFor = (ownerId: unknown, fresh?: boolean) => Promise<SessionManagerConfig | undefined>;

/**
 * The service a trigger names: `service` (the owner id), or, in a message queued by a release
 * before the configuration parameter, the owner id inside the configuration it carried (the rest
 * of which is not read).
 */
export function serviceNamedBy(value: Record<string, unknown>): unknown {
  if (SERVICE_KEY in value) return value[SERVICE_KEY];
  const legacy = value[CONFIG_KEY];
  return isObject(legacy) ? legacy[ENV.OWNER_ID] : undefined;
}

/** A service's messages in one SQS batch. */
export interface QueueGroup {
  /** The owner id the messages name (not yet checked). */
  ownerId: unknown;
  /** Task state changes, as `route` takes them. */
  records: Array<{ messageId: string; body: string }>;
  /** Messages saying the service's switch parameter changed. */
  switchChanges: string[];
}

/** What one trigger of the shared functions is, once unwrapped. */
export type Trigger =
  | { readonly kind: 'queue'; readonly groups: readonly QueueGroup[]; readonly unusable: string[]; readonly receipts: readonly QueueReceipt[] }
  | { readonly kind: 'sweep'; readonly ownerId: unknown; readonly immediate: boolean; readonly chunk: number }
  | { readonly kind: 'customResource'; readonly ownerId: unknown; readonly event: Record<string, any> }
  | { readonly kind: 'unusable'; readonly reason: string };

/** A scheduled sweep as `route` knows it (an EventBridge scheduled event). */
const sweepEvent = (immediate: boolean) => ({ 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': immediate ? { immediate: true } : {} });

/**
 * Unwraps a trigger. Pure: no I/O.
 *
 * - SQS batch: each message is `{ service, event }`; messages are grouped by the service they
 *   name. A message that is not JSON or names nothing is listed in `unusable`: it can never
 *   succeed and is acknowledged.
 * - Schedule, or a sweep a flipped switch started: `{ service, sweep: true }`; a flip's sweep
 *   also has `immediate: true`, and its chunks after the first their number under `chunk`.
 * - Custom resource: the service is the owner id among the resource's properties.
 */
export function unwrapTrigger(event: unknown): Trigger {
  if (isObject(event) && Array.isArray(event.Records)) {
    const groups = new Map<string, QueueGroup>();
    const unusable: string[] = [];
    const receipts: QueueReceipt[] = [];
    for (const record of event.Records.filter(isObject)) {
      const messageId = String(record.messageId);
      receipts.push({ messageId, receiptHandle: record.receiptHandle });
      let body: unknown;
      try {
        body = JSON.parse(String(record.body ?? ''));
      } catch {
        unusable.push(messageId);
        continue;
      }
      const ownerId = isObject(body) ? serviceNamedBy(body) : undefined;
      if (typeof ownerId !== 'string' || !isObject(body) || !(EVENT_KEY in body)) {
        unusable.push(messageId);
        continue;
      }
      const group = groups.get(ownerId) ?? { ownerId, records: [], switchChanges: [] };
      const inner = body[EVENT_KEY];
      // The service's rule also passes changes of its switch parameter.
      if (isObject(inner) && inner.source === 'aws.ssm') group.switchChanges.push(messageId);
      else group.records.push({ messageId, body: JSON.stringify(inner) });
      groups.set(ownerId, group);
    }
    return { kind: 'queue', groups: [...groups.values()], unusable, receipts };
  }
  if (isObject(event) && typeof event.RequestType === 'string') {
    const properties = isObject(event.ResourceProperties) ? event.ResourceProperties : {};
    return { kind: 'customResource', ownerId: properties[ENV.OWNER_ID], event };
  }
  if (isObject(event) && event[SWEEP_KEY] === true) {
    const chunk = event[CHUNK_KEY];
    return {
      kind: 'sweep',
      ownerId: serviceNamedBy(event),
      immediate: event[IMMEDIATE_KEY] === true,
      chunk: typeof chunk === 'number' && Number.isInteger(chunk) && chunk > 0 ? chunk : 0,
    };
  }
  return { kind: 'unusable', reason: 'not a trigger of the shared session manager' };
}

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

/**
 * The entry point of the shared functions: unwraps the trigger, reads the configuration of the
 * service it names and routes the work with that service's dependencies. A custom resource event
 * naming no service fails (CloudFormation reports the message), except a Delete, which removes
 * the sessions of the owner id it names (nothing else of its properties is used), once
 * CloudFormation confirms it is deleting that resource; anything else naming no service is
 * logged, counted and dropped.
 */
export async function routeTrigger(event: unknown, depsFor: DepsFor, options: TriggerOptions, context?: InvocationContext): Promise<unknown> {
  const { log, configFor } = options;
  const ignore = (reason: string, details: object, count = 1) => {
    log('trigger ignored: it names no service of this stack', { reason, ignoredTriggers: count, ...details });
    options.ignored?.(count);
  };
  const trigger = unwrapTrigger(event);
  if (trigger.kind === 'unusable') {
    ignore(trigger.reason, {});
    return { skipped: trigger.reason };
  }
  if (trigger.kind === 'sweep') {
    const config = await configFor(trigger.ownerId, trigger.immediate);
    if (!config) {
      ignore('a sweep of an unknown service', { service: String(trigger.ownerId).slice(0, 64) });
      return { skipped: 'unknown service' };
    }
    if (!trigger.immediate) return routeInvocation(sweepEvent(false), depsFor(config), context);
    let result: unknown;
    try {
      result = await routeInvocation(sweepEvent(true), depsFor(config), context);
    } catch (error) {
      await continueFlipSweep(config, trigger.chunk, undefined, options);
      throw error;
    }
    await continueFlipSweep(config, trigger.chunk, result as SweepResult, options);
    return result;
  }
  if (trigger.kind === 'customResource') {
    try {
      if (trigger.event.RequestType === 'Delete' && isPoll(trigger.event)) {
        const refused = await confirmDelete(trigger, options);
        if (refused) {
          ignore('a custom resource Delete CloudFormation is not running', { service: String(trigger.ownerId).slice(0, 64), why: refused });
          // Should CloudFormation never confirm a Delete it runs, it fails with the reason at the
          // work limit, as any Delete that cannot finish, and removes nothing.
          if (Date.now() >= Number(trigger.event.Data.StartedAt) + ENROLLMENT_WORK_LIMIT_MS) {
            throw new Error(`CloudFormation did not confirm within ${ENROLLMENT_WORK_LIMIT_MS / 60_000} minutes that it is deleting this resource, `
              + `so no session was removed: ${refused}`);
          }
          return { IsComplete: false };
        }
      }
      return await routeCustomResource(trigger, depsFor, options, context);
    } catch (error) {
      // CloudFormation shows the reason only when the response fits 4,096 bytes: the whole
      // text goes to the log, a cut one (counts and codes kept) to CloudFormation, without a
      // stack trace (the provider framework would add it to the reason).
      const message = errorMessageOf(error);
      const fitted = fitFailureReason(message);
      if (fitted !== message) log('custom resource failed; the reason CloudFormation shows is cut to fit its response', { errorMessage: message });
      const short = new Error(fitted);
      short.stack = fitted;
      throw short;
    }
  }
  const response: BatchResponse = { batchItemFailures: [] };
  // Only messages the queue handed this invocation are acted on: only the stack's rules may send
  // to it, but anyone allowed to invoke the function could hand it made-up records.
  const skip = new Set<string>();
  if (options.checkReceipts && trigger.receipts.length > 0) {
    const { forged, retry } = await options.checkReceipts(trigger.receipts);
    if (forged.length > 0) ignore('records that are not messages of the event queue (direct invoke)', { messageIds: forged.slice(0, 10) }, forged.length);
    response.batchItemFailures.push(...retry.map(itemIdentifier => ({ itemIdentifier })));
    for (const id of [...forged, ...retry]) skip.add(id);
  }
  const unusable = trigger.unusable.filter(id => !skip.has(id));
  if (unusable.length > 0) {
    ignore('queue messages without a service', { messageIds: unusable }, unusable.length);
  }
  for (const found of trigger.groups) {
    const group = {
      ...found, switchChanges: found.switchChanges.filter(id => !skip.has(id)), records: found.records.filter(r => !skip.has(r.messageId)),
    };
    const ids = [...group.switchChanges, ...group.records.map(r => r.messageId)];
    if (ids.length === 0) continue;
    let config: SessionManagerConfig | undefined;
    try {
      config = await configFor(group.ownerId);
    } catch (error) {
      log('could not read the service\'s configuration; its messages are retried', { service: String(group.ownerId).slice(0, 64), errorMessage: String(error) });
      response.batchItemFailures.push(...ids.map(itemIdentifier => ({ itemIdentifier })));
      continue;
    }
    if (!config) {
      ignore('queue messages of an unknown service', { service: String(group.ownerId).slice(0, 64), messageIds: ids }, ids.length);
      continue;
    }
    if (group.switchChanges.length > 0 && options.startSweep) {
      // One sweep for however many flips the batch holds: it reads the switch as it is now.
      try {
        await options.startSweep(config);
      } catch (error) {
        log('could not start the sweep a switch change asks for; the message is retried', { owner: config.ownerId, errorMessage: String(error) });
        response.batchItemFailures.push(...group.switchChanges.map(itemIdentifier => ({ itemIdentifier })));
      }
    }
    if (group.records.length === 0) continue;
    const part = await routeInvocation({ Records: group.records }, depsFor(config), context) as BatchResponse;
    response.batchItemFailures.push(...part.batchItemFailures);
  }
  return response;
}

/** A custom resource event: the configuration from the service's parameter, then the operation. */
async function routeCustomResource(
  trigger: { ownerId: unknown; event: Record<string, any> }, depsFor: DepsFor, options: TriggerOptions, context?: InvocationContext,
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
    if (isPoll(trigger.event)) return { IsComplete: false };
    if (typeof trigger.ownerId !== 'string' || !OWNER_ID_PATTERN.test(trigger.ownerId)) throw error;
    config = ownerOnly(trigger.ownerId);
  }
  return routeInvocation(customResourceEvent(trigger.event, config), depsFor(config), context);
}

/** A configuration that names the owner and nothing else: enough to record a start or remove the owner's sessions. */
const ownerOnly = (ownerId: string): SessionManagerConfig => ({ ownerId, clusterArn: '', serviceName: '', targetId: '', filterId: '', sessionNumber: 1 });

/** The configuration a custom resource event runs with: the parameter's, read afresh. */
async function customResourceConfig(trigger: { ownerId: unknown; event: Record<string, any> }, configFor: ConfigFor): Promise<SessionManagerConfig> {
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

/** Whether a custom resource event is an isComplete poll (the first call only records the start). */
function isPoll(event: Record<string, any>): boolean {
  return isObject(event.Data) && event.Data.StartedAt !== undefined;
}

/**
 * Asks CloudFormation whether it is deleting the resource a Delete names, under the physical id
 * that resource's service has: a Delete the functions are handed by anyone else (a direct
 * invoke) removes no session. Returns why the Delete was not confirmed, or nothing when it was.
 * A throttled or failed question is a poll to repeat; any other error fails the Delete with what
 * CloudFormation answered.
 */
async function confirmDelete(trigger: { ownerId: unknown; event: Record<string, any> }, options: TriggerOptions): Promise<string | undefined> {
  const { event, ownerId } = trigger;
  if (!options.stack) return 'this function does not handle the stack\'s custom resources';
  if (typeof ownerId !== 'string' || !OWNER_ID_PATTERN.test(ownerId)) return 'no owner id';
  const physicalId = enrollmentPhysicalId(ownerId);
  if (event.PhysicalResourceId !== physicalId) return 'the physical id is not the one of the service\'s enrollment';
  if (typeof event.LogicalResourceId !== 'string' || event.LogicalResourceId.length === 0) return 'no logical resource id';
  try {
    const check = await options.stack.deleting(event.LogicalResourceId, physicalId);
    return check.confirmed ? undefined : check.reason;
  } catch (error) {
    const cls = classifyError(error);
    if (cls.transient) return `CloudFormation did not answer (${cls.code}); the next poll asks again`;
    throw new Error(`cannot confirm with CloudFormation that it is deleting ${event.LogicalResourceId}, so no session was removed: `
      + `${cls.code}: ${errorMessageOf(error)} (the reconciler needs cloudformation:DescribeStackResource on its stack)`);
  }
}

/**
 * A flip's sweep that left work (unfinished actions, transient failures, or a chunk that failed)
 * starts its next chunk, so the flip is carried out whole without the schedule: while the stack
 * is not being deleted, rolled back or cleaned up (a chunk started then could create sessions
 * after a Delete's final listing; contract/timing.ts SETTLE_MS bounds only chunks started
 * before), and for at most {@link MAX_SWEEP_CHUNKS} chunks. Every chunk reads the configuration
 * and the switch afresh. What it could not start is left to the schedule, and logged.
 */
async function continueFlipSweep(config: SessionManagerConfig, chunk: number, result: SweepResult | undefined, options: TriggerOptions): Promise<void> {
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
