/**
 * Turns an EventBridge "ECS Task State Change" event into what the session manager should do.
 * Pure: no SDK, no I/O. Anything unexpected becomes a `skip` with a reason, never an exception,
 * because a thrown error would make Lambda retry an event that can never succeed. Events that
 * no healthy deployment can produce (foreign, malformed, hostile) are `rejected` skips, which
 * are logged as warnings; see README "Bad input".
 */
import { isObject } from './is-object';
import { ZONE_PATTERN } from '../../contract/target-layout';
import { EARLY_START_STATE, START_STATE, STOP_STATE } from '../../contract/task-states';

/** Matches EC2 network interface ids; anything else is refused before it reaches an API call. */
export const ENI_ID_PATTERN = /^eni-[0-9a-f]{8,17}$/;
const TASK_ARN_PATTERN = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/)(?:([A-Za-z0-9_-]+)\/)?[A-Za-z0-9]+$/;
const CLUSTER_ARN_PATTERN = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:)cluster\/([A-Za-z0-9_-]+)$/;
/** Longer than any real task ARN (cluster names and task ids are short); longer ones are refused unread. */
const MAX_TASK_ARN_LENGTH = 512;
/**
 * EventBridge events are at most 256 KiB, so a larger message body did not come from the rule.
 * Measured in characters: a body with more characters certainly has more bytes.
 */
export const MAX_EVENT_BODY_LENGTH = 256 * 1024;

/** Which service's events this function handles. */
export interface EventScope {
  readonly clusterArn: string;
  readonly serviceName: string;
  /** When set, events whose `account` differs are rejected. */
  readonly account?: string;
  /** When set, events whose `region` differs are rejected. */
  readonly region?: string;
}

/** A task of our service is running or about to: it should have a session. */
export interface StartAction {
  readonly action: 'start';
  readonly taskArn: string;
  readonly networkInterfaceId: string;
  readonly lastStatus: string;
  readonly version?: number;
  /** The task's Availability Zone (`detail.availabilityZone`), when the event names a valid one. */
  readonly availabilityZone?: string;
  /**
   * True for the PENDING event, the task's first with its ENI: create at once, no read. False
   * for RUNNING events, which are acted on only after a PENDING event without an attached ENI.
   */
  readonly early: boolean;
}

/** A task of our service has stopped: any session EC2 did not delete with its ENI goes too. */
export interface StopAction {
  readonly action: 'stop';
  readonly taskArn: string;
  readonly networkInterfaceId?: string;
  readonly lastStatus: string;
  readonly version?: number;
}

/** Nothing to do, and why. */
export interface SkipAction {
  readonly action: 'skip';
  readonly reason: string;
  readonly taskArn?: string;
  /** The event is foreign or malformed: no healthy deployment sends it (logged as a warning). */
  readonly rejected?: boolean;
  /**
   * A starting task's event without an attached ENI yet: its next event with one (RUNNING) is
   * its first, and creates the session.
   */
  readonly awaitingEni?: boolean;
}

/** The outcome of reading one event. */
export type TaskEventAction = StartAction | StopAction | SkipAction;


/**
 * Finds the ENI id in a task's attachments. Events say `type: "eni"`, DescribeTasks says
 * `"ElasticNetworkInterface"`; both are accepted.
 */
export function networkInterfaceIdOf(attachments: unknown): string | undefined {
  if (!Array.isArray(attachments)) {
    return undefined;
  }
  for (const attachment of attachments) {
    if (!isObject(attachment) || typeof attachment.type !== 'string') {
      continue;
    }
    const type = attachment.type.toLowerCase();
    if (type !== 'eni' && type !== 'elasticnetworkinterface') {
      continue;
    }
    const details = Array.isArray(attachment.details) ? attachment.details : [];
    for (const detail of details) {
      if (isObject(detail) && detail.name === 'networkInterfaceId' && typeof detail.value === 'string') {
        return detail.value;
      }
    }
  }
  return undefined;
}

/**
 * `{ availabilityZone }` when the value is an Availability Zone name (task state change events
 * and DescribeTasks both name the task's zone), else nothing: a missing or malformed zone is
 * not a reason to refuse an event, the task then only has no zone of its own.
 */
export function zoneOf(value: unknown): { availabilityZone?: string } {
  return typeof value === 'string' && value.length <= 64 && ZONE_PATTERN.test(value) ? { availabilityZone: value } : {};
}

/**
 * Whether the task's ENI attachment is attached. At PROVISIONING ECS reports the attachment as
 * PRECREATED (the ENI may not exist yet); an attachment without a status is taken as attached,
 * as DescribeTasks answers of older platforms give none.
 */
function isAttached(attachments: unknown): boolean {
  if (!Array.isArray(attachments)) return false;
  const eni = attachments.find(a => isObject(a) && typeof a.type === 'string' && ['eni', 'elasticnetworkinterface'].includes(a.type.toLowerCase()));
  const status = isObject(eni) ? eni.status : undefined;
  return status === undefined || status === 'ATTACHED';
}

/**
 * A value from an event, fit for a log line: strings cut to 64 characters, anything else named
 * by its type, so a hostile event can neither flood the logs through a reason nor pass a number
 * off as the string it resembles.
 */
export function shown(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 64 ? `${value.slice(0, 64)}...(${value.length} characters)` : value;
  }
  if (value === undefined) {
    return 'missing';
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return `${value} (${typeof value})`;
  }
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function reject(reason: string, taskArn?: string): SkipAction {
  return { action: 'skip', reason, rejected: true, ...(taskArn ? { taskArn } : {}) };
}

/** Whether a well-formed task ARN names a task of the cluster (same partition, region, account, name). */
export function isTaskOfCluster(taskArn: string, clusterArn: string): boolean {
  const task = TASK_ARN_PATTERN.exec(taskArn);
  const cluster = CLUSTER_ARN_PATTERN.exec(clusterArn);
  if (!task || !cluster) {
    return false;
  }
  // Old-format task ARNs carry no cluster name; the prefix still pins region and account.
  return task[1] === `${cluster[1]}task/` && (task[2] === undefined || task[2] === cluster[2]);
}

/** Reads one SQS message body. Never throws. */
export function parseTaskEventBody(body: string, scope: EventScope): TaskEventAction {
  if (body.length > MAX_EVENT_BODY_LENGTH) {
    return reject(`message body of ${body.length} characters is larger than any EventBridge event (${MAX_EVENT_BODY_LENGTH})`);
  }
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return reject(`message body of ${body.length} characters is not JSON`);
  }
  return parseTaskEvent(event, scope);
}

/** Reads one event. Never throws. */
export function parseTaskEvent(event: unknown, scope: EventScope): TaskEventAction {
  if (!isObject(event)) {
    return reject('event is not an object');
  }
  if (event.source !== 'aws.ecs' || event['detail-type'] !== 'ECS Task State Change') {
    return reject(`not an ECS task state change (source ${shown(event.source)}, detail-type ${shown(event['detail-type'])})`);
  }
  if (scope.account !== undefined && event.account !== scope.account) {
    return reject(`event from another account (${shown(event.account)}, expected ${scope.account})`);
  }
  if (scope.region !== undefined && event.region !== scope.region) {
    return reject(`event from another region (${shown(event.region)}, expected ${scope.region})`);
  }
  const detail = event.detail;
  if (!isObject(detail)) {
    return reject('event has no detail object');
  }
  const taskArn = detail.taskArn;
  if (typeof taskArn !== 'string' || taskArn.length > MAX_TASK_ARN_LENGTH || !TASK_ARN_PATTERN.test(taskArn)) {
    return reject('detail.taskArn is missing or not a task ARN');
  }
  if (detail.clusterArn !== scope.clusterArn) {
    // Rules match one cluster, so this is a misrouted or forged event.
    return reject(`task belongs to another cluster (${shown(detail.clusterArn)})`, taskArn);
  }
  if (!isTaskOfCluster(taskArn, scope.clusterArn)) {
    return reject('detail.taskArn is not a task of the cluster in detail.clusterArn', taskArn);
  }
  if (detail.group !== `service:${scope.serviceName}`) {
    return reject(`task belongs to another group (${shown(detail.group)})`, taskArn);
  }
  if (typeof detail.lastStatus !== 'string' || !detail.lastStatus || typeof detail.desiredStatus !== 'string' || !detail.desiredStatus) {
    return reject('detail.lastStatus or detail.desiredStatus is missing', taskArn);
  }
  const lastStatus = detail.lastStatus;
  const desiredStatus = detail.desiredStatus;
  const version = typeof detail.version === 'number' && Number.isInteger(detail.version) ? detail.version : undefined;
  const eni = networkInterfaceIdOf(detail.attachments);
  if (eni !== undefined && !ENI_ID_PATTERN.test(eni)) {
    return reject('attachment networkInterfaceId is not an ENI id', taskArn);
  }

  if (lastStatus === STOP_STATE) {
    return { action: 'stop', taskArn, networkInterfaceId: eni, lastStatus, version };
  }
  if (desiredStatus !== 'RUNNING' || (lastStatus !== START_STATE && lastStatus !== EARLY_START_STATE)) {
    return { action: 'skip', reason: `nothing to do in state ${lastStatus} (desired ${desiredStatus})`, taskArn };
  }
  const awaiting = lastStatus === EARLY_START_STATE ? { awaitingEni: true } : {};
  if (eni === undefined) {
    return { action: 'skip', reason: `task has no network interface yet (state ${lastStatus})`, taskArn, ...awaiting };
  }
  if (!isAttached(detail.attachments)) {
    return { action: 'skip', reason: `task's network interface is not attached yet (state ${lastStatus})`, taskArn, ...awaiting };
  }
  return { action: 'start', taskArn, networkInterfaceId: eni, lastStatus, version, ...zoneOf(detail.availabilityZone), early: lastStatus === EARLY_START_STATE };
}
