/**
 * Runtime entry: the session manager is shared by every `FargateTrafficMirror` of a stack, and
 * its triggers only name the service they are about (its owner id, under {@link SERVICE_KEY}).
 * This file unwraps triggers, looks the named service's configuration up where only the
 * deployment writes it (adapters/config-reader.ts), and routes each service's part with that
 * service's dependencies. A trigger naming no service of the stack is logged, counted and
 * ignored; configuration a trigger carries is never read.
 */
import { ENV, SessionManagerConfig } from '../contract/session-manager-config';
import { CHUNK_KEY, CONFIG_KEY, EVENT_KEY, IMMEDIATE_KEY, SERVICE_KEY, SWEEP_KEY } from '../contract/trigger-keys';
import { QueueReceipt } from './adapters/event-queue';
import { isObject } from './core/is-object';
import { continueFlipSweep } from './operations/flip-sweep-chunks';
import { BatchResponse } from './operations/handle-queue-batch';
import { SweepResult } from './operations/operation-deps';
import { routeCustomResource } from './route-custom-resource';
import { InvocationContext, routeInvocation } from './route-invocation';
import { DepsFor, TriggerOptions } from './trigger-options';


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
    // A chunk that failed (no result) leaves work too: the next one starts either way.
    let result: SweepResult | undefined;
    try {
      result = await routeInvocation(sweepEvent(true), depsFor(config), context) as SweepResult;
      return result;
    } finally {
      await continueFlipSweep(config, trigger.chunk, result, options);
    }
  }
  if (trigger.kind === 'customResource') return routeCustomResource(trigger, depsFor, { ...options, ignore }, context);
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
