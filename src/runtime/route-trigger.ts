/**
 * The session manager is shared by every `FargateTrafficMirror` of a stack, so its functions
 * hold no service's configuration: each trigger carries the configuration of the service it is
 * about, under {@link CONFIG_KEY}. This file unwraps triggers into the single-service events
 * `route` handles, with the dependencies of that service.
 */
import { SessionManagerConfig, configFromEnv } from '../contract/session-manager-config';
import { isObject } from './core/is-object';
import { BatchResponse } from './operations/handle-queue-batch';
import { OperationDeps } from './operations/operation-deps';
import { InvocationContext, routeInvocation } from './route-invocation';

import { CONFIG_KEY, EVENT_KEY, IMMEDIATE_KEY, SWEEP_KEY } from '../contract/trigger-keys';

/** The dependencies of one service's work; the Lambda builds them per configuration and keeps its clients. */
export type DepsFor = (config: SessionManagerConfig) => OperationDeps;


/** The configuration a trigger carries, or why it carries none usable. */
function configOf(value: unknown): SessionManagerConfig | Error {
  if (!isObject(value)) return new Error(`the trigger carries no '${CONFIG_KEY}' configuration`);
  try {
    return configFromEnv(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)])));
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** What one trigger of the shared functions is, once unwrapped. */
/** A service's messages in one SQS batch. */
export interface QueueGroup {
  config: SessionManagerConfig;
  /** Task state changes, as `route` takes them. */
  records: Array<{ messageId: string; body: string }>;
  /** Messages saying the service's switch parameter changed. */
  switchChanges: string[];
}

export type Trigger =
  | { readonly kind: 'queue'; readonly groups: readonly QueueGroup[]; readonly unusable: string[] }
  | { readonly kind: 'single'; readonly config: SessionManagerConfig; readonly event: unknown }
  | { readonly kind: 'unusable'; readonly reason: string; readonly customResource: boolean };

/** A scheduled sweep as `route` knows it (an EventBridge scheduled event). */
const sweepEvent = (immediate: boolean) => ({ 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': immediate ? { immediate: true } : {} });

/**
 * Unwraps a trigger. Pure: no I/O.
 *
 * - SQS batch: each message is `{ mirror, event }`; messages are grouped by the configuration's
 *   owner, and each group keeps the configuration of its last message (a deploy changes it for
 *   all of a service's messages at once). A message without a usable configuration is listed
 *   in `unusable`: it can never succeed and is acknowledged.
 * - Schedule: `{ mirror, sweep: true }`.
 * - Custom resource: the configuration is the resource's properties.
 */
export function unwrapTrigger(event: unknown): Trigger {
  if (isObject(event) && Array.isArray(event.Records)) {
    const groups = new Map<string, QueueGroup>();
    const unusable: string[] = [];
    for (const record of event.Records.filter(isObject)) {
      const messageId = String(record.messageId);
      let body: unknown;
      try {
        body = JSON.parse(String(record.body ?? ''));
      } catch {
        unusable.push(messageId);
        continue;
      }
      const config = isObject(body) ? configOf(body[CONFIG_KEY]) : new Error('not an object');
      if (config instanceof Error || !isObject(body) || !(EVENT_KEY in body)) {
        unusable.push(messageId);
        continue;
      }
      const group = groups.get(config.ownerId) ?? { config, records: [], switchChanges: [] };
      group.config = config;
      const inner = body[EVENT_KEY];
      // The service's rule also passes changes of its switch parameter.
      if (isObject(inner) && inner.source === 'aws.ssm') group.switchChanges.push(messageId);
      else group.records.push({ messageId, body: JSON.stringify(inner) });
      groups.set(config.ownerId, group);
    }
    return { kind: 'queue', groups: [...groups.values()], unusable };
  }
  if (isObject(event) && typeof event.RequestType === 'string') {
    const { ServiceToken: _, ...properties } = isObject(event.ResourceProperties) ? event.ResourceProperties : {};
    const config = configOf(properties);
    return config instanceof Error
      ? { kind: 'unusable', reason: config.message, customResource: true }
      : { kind: 'single', config, event };
  }
  if (isObject(event) && event[SWEEP_KEY] === true) {
    const config = configOf(event[CONFIG_KEY]);
    return config instanceof Error
      ? { kind: 'unusable', reason: config.message, customResource: false }
      : { kind: 'single', config, event: sweepEvent(event[IMMEDIATE_KEY] === true) };
  }
  return { kind: 'unusable', reason: 'not a trigger of the shared session manager', customResource: false };
}

/**
 * The entry point of the shared functions: unwraps the trigger and routes each service's part
 * with that service's dependencies. A custom resource event without a usable configuration
 * fails (CloudFormation reports the message); anything else unusable is logged and dropped.
 */
/** What the entry point needs besides each service's dependencies. */
export interface TriggerOptions {
  /** Logs what was skipped. */
  readonly log: (message: string, details: object) => void;
  /** Starts a sweep of the service now (a flipped switch). @default switch changes wait for the schedule */
  readonly startSweep?: (config: SessionManagerConfig) => Promise<void>;
}

export async function routeTrigger(event: unknown, depsFor: DepsFor, options: TriggerOptions, context?: InvocationContext): Promise<unknown> {
  const { log } = options;
  const trigger = unwrapTrigger(event);
  if (trigger.kind === 'single') {
    return routeInvocation(trigger.event, depsFor(trigger.config), context);
  }
  if (trigger.kind === 'unusable') {
    if (trigger.customResource) throw new Error(`fargate-traffic-mirror custom resource: ${trigger.reason}`);
    log('trigger skipped', { reason: trigger.reason });
    return { skipped: trigger.reason };
  }
  if (trigger.unusable.length > 0) {
    log('queue messages without a usable configuration acknowledged', { messageIds: trigger.unusable });
  }
  const response: BatchResponse = { batchItemFailures: [] };
  for (const group of trigger.groups) {
    if (group.switchChanges.length > 0 && options.startSweep) {
      // One sweep for however many flips the batch holds: it reads the switch as it is now.
      try {
        await options.startSweep(group.config);
      } catch (error) {
        log('could not start the sweep a switch change asks for; the message is retried', { owner: group.config.ownerId, errorMessage: String(error) });
        response.batchItemFailures.push(...group.switchChanges.map(itemIdentifier => ({ itemIdentifier })));
      }
    }
    if (group.records.length === 0) continue;
    const part = await routeInvocation({ Records: group.records }, depsFor(group.config), context) as BatchResponse;
    response.batchItemFailures.push(...part.batchItemFailures);
  }
  return response;
}
