/**
 * Turns an EventBridge "ECS Task State Change" event into what the session manager should do.
 * Pure: no SDK, no I/O. Anything unexpected becomes a `skip` with a reason, never an exception,
 * because a thrown error would make Lambda retry an event that can never succeed.
 */

/**
 * The one state in which a starting task is mirrored. Earlier states (PENDING, ACTIVATING) may
 * already carry the ENI, but acting on each of them would cost one EC2 write per event; the
 * RUNNING transition happens once per task, so the event path makes one write per task start.
 */
export const START_STATE = 'RUNNING';
/**
 * The one state in which a stopped task's leftovers are removed. EC2 deletes a session with its
 * ENI, which ECS deletes before STOPPED, so this is a check, not the usual way sessions go; and
 * a draining task (DEACTIVATING, STOPPING) keeps being mirrored until its ENI is gone.
 */
export const STOP_STATE = 'STOPPED';

/** Matches EC2 network interface ids; anything else is refused before it reaches an API call. */
export const ENI_ID_PATTERN = /^eni-[0-9a-f]{8,17}$/;
const TASK_ARN_PATTERN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/([A-Za-z0-9_-]+\/)?[A-Za-z0-9]+$/;

/** Which service's events this function handles. */
export interface EventScope {
  readonly clusterArn: string;
  readonly serviceName: string;
}

/** A task of our service is running or about to: it should have a session. */
export interface StartAction {
  readonly action: 'start';
  readonly taskArn: string;
  readonly networkInterfaceId: string;
  readonly lastStatus: string;
  readonly version?: number;
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
}

/** The outcome of reading one event. */
export type TaskEventAction = StartAction | StopAction | SkipAction;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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

/** Reads one event. Never throws. */
export function parseTaskEvent(event: unknown, scope: EventScope): TaskEventAction {
  if (!isObject(event)) {
    return { action: 'skip', reason: 'event is not an object' };
  }
  if (event.source !== 'aws.ecs' || event['detail-type'] !== 'ECS Task State Change') {
    return { action: 'skip', reason: `not an ECS task state change (source '${String(event.source)}', detail-type '${String(event['detail-type'])}')` };
  }
  const detail = event.detail;
  if (!isObject(detail)) {
    return { action: 'skip', reason: 'event has no detail object' };
  }
  const taskArn = detail.taskArn;
  if (typeof taskArn !== 'string' || !TASK_ARN_PATTERN.test(taskArn)) {
    return { action: 'skip', reason: 'detail.taskArn is missing or not a task ARN' };
  }
  if (detail.clusterArn !== scope.clusterArn) {
    return { action: 'skip', reason: `task belongs to another cluster (${String(detail.clusterArn)})`, taskArn };
  }
  if (detail.group !== `service:${scope.serviceName}`) {
    return { action: 'skip', reason: `task belongs to another group (${String(detail.group)})`, taskArn };
  }
  const lastStatus = typeof detail.lastStatus === 'string' ? detail.lastStatus : '';
  const desiredStatus = typeof detail.desiredStatus === 'string' ? detail.desiredStatus : '';
  if (!lastStatus || !desiredStatus) {
    return { action: 'skip', reason: 'detail.lastStatus or detail.desiredStatus is missing', taskArn };
  }
  const version = typeof detail.version === 'number' && Number.isInteger(detail.version) ? detail.version : undefined;
  const eni = networkInterfaceIdOf(detail.attachments);
  if (eni !== undefined && !ENI_ID_PATTERN.test(eni)) {
    return { action: 'skip', reason: 'attachment networkInterfaceId is not an ENI id', taskArn };
  }

  if (lastStatus === STOP_STATE) {
    return { action: 'stop', taskArn, networkInterfaceId: eni, lastStatus, version };
  }
  if (desiredStatus !== 'RUNNING' || lastStatus !== START_STATE) {
    return { action: 'skip', reason: `nothing to do in state ${lastStatus} (desired ${desiredStatus})`, taskArn };
  }
  if (eni === undefined) {
    return { action: 'skip', reason: `task has no network interface yet (state ${lastStatus})`, taskArn };
  }
  return { action: 'start', taskArn, networkInterfaceId: eni, lastStatus, version };
}
