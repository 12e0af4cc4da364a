import { ACCOUNT, CLUSTER_ARN, REGION, taskArnOf, taskEvent } from '../fixtures/task-events';

/**
 * One hostile or broken input to the session manager and the exact skip it must produce: the
 * reason it logs, at which level, and no AWS call at all.
 */
export interface EventCase {
  readonly category: string;
  readonly name: string;
  /** An invocation payload, delivered as is (EventBridge target or a manual invoke). */
  readonly event?: unknown;
  /** An SQS message body, delivered in a batch through the queue path. */
  readonly body?: string;
  readonly reason: string;
  /** 'warn' for input no healthy deployment sends; 'info' for an ordinary event that needs nothing. */
  readonly level: 'warn' | 'info';
}

const OTHER_ACCOUNT = '210987654321';
const withDetail = (detail: Record<string, unknown>, base = taskEvent()) => ({ ...base, detail: { ...base.detail, ...detail } });
const withEni = (value: unknown) => {
  const event = taskEvent();
  event.detail.attachments[0].details[1].value = value;
  return event;
};
const NO_ENI = 'task has no network interface yet (state RUNNING)';
const NOT_A_TASK = 'detail.taskArn is missing or not a task ARN';
const NOT_AN_ENI = 'attachment networkInterfaceId is not an ENI id';
const NO_STATUS = 'detail.lastStatus or detail.desiredStatus is missing';

/** A real event padded with an unknown field until its JSON has exactly `length` characters. */
function paddedBody(length: number): string {
  const event = { ...taskEvent(), padding: '' };
  const base = JSON.stringify(event).length;
  return JSON.stringify({ ...event, padding: 'x'.repeat(length - base) });
}

export const EVENT_CASES: EventCase[] = [
  // Not an ECS task state change at all.
  { category: 'wrong source', name: 'EC2 event', event: { ...taskEvent(), source: 'aws.ec2' }, reason: 'not an ECS task state change (source aws.ec2, detail-type ECS Task State Change)', level: 'warn' },
  {
    category: 'wrong source',
    name: 'container instance event',
    event: { ...taskEvent(), 'detail-type': 'ECS Container Instance State Change' },
    reason: 'not an ECS task state change (source aws.ecs, detail-type ECS Container Instance State Change)',
    level: 'warn',
  },
  { category: 'wrong source', name: 'custom source imitating ECS', event: { ...taskEvent(), source: 'aws.ecs.fake' }, reason: 'not an ECS task state change (source aws.ecs.fake, detail-type ECS Task State Change)', level: 'warn' },
  { category: 'wrong source', name: 'no source', event: { ...taskEvent(), source: undefined }, reason: 'not an ECS task state change (source missing, detail-type ECS Task State Change)', level: 'warn' },
  { category: 'wrong source', name: 'null payload', event: null, reason: 'event is not an object', level: 'warn' },
  { category: 'wrong source', name: 'array payload', event: [taskEvent()], reason: 'event is not an object', level: 'warn' },
  { category: 'wrong source', name: 'string payload', event: 'RUNNING eni-0a1b2c3d4e5f60718', reason: 'event is not an object', level: 'warn' },

  // Another account or region: EventBridge delivers only our own, so these are forged or misrouted.
  { category: 'another account or region', name: 'another account', event: { ...taskEvent(), account: OTHER_ACCOUNT }, reason: `event from another account (${OTHER_ACCOUNT}, expected ${ACCOUNT})`, level: 'warn' },
  { category: 'another account or region', name: 'no account', event: { ...taskEvent(), account: undefined }, reason: `event from another account (missing, expected ${ACCOUNT})`, level: 'warn' },
  { category: 'another account or region', name: 'account as a number', event: { ...taskEvent(), account: Number(ACCOUNT) }, reason: `event from another account (${ACCOUNT} (number), expected ${ACCOUNT})`, level: 'warn' },
  { category: 'another account or region', name: 'another region', event: { ...taskEvent(), region: 'eu-west-1' }, reason: `event from another region (eu-west-1, expected ${REGION})`, level: 'warn' },
  {
    category: 'another account or region',
    name: 'a stop from another account (would otherwise describe and delete)',
    event: { ...taskEvent({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), account: OTHER_ACCOUNT },
    reason: `event from another account (${OTHER_ACCOUNT}, expected ${ACCOUNT})`,
    level: 'warn',
  },
  {
    category: 'another account or region',
    name: 'our cluster, but a task ARN of another account',
    event: withDetail({ taskArn: `arn:aws:ecs:${REGION}:${OTHER_ACCOUNT}:task/prod/0d2a4b8c3e1f4a5b9c7d6e5f4a3b2c1d` }),
    reason: 'detail.taskArn is not a task of the cluster in detail.clusterArn',
    level: 'warn',
  },
  {
    category: 'another account or region',
    name: 'our cluster, but a task ARN of another cluster',
    event: withDetail({ taskArn: taskArnOf('0d2a4b8c3e1f4a5b9c7d6e5f4a3b2c1d', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/staging`) }),
    reason: 'detail.taskArn is not a task of the cluster in detail.clusterArn',
    level: 'warn',
  },
  {
    category: 'another account or region',
    name: 'another cluster',
    event: taskEvent({ clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/staging` }),
    reason: `task belongs to another cluster (arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/staging)`,
    level: 'warn',
  },
  { category: 'another account or region', name: 'another service', event: taskEvent({ group: 'service:api' }), reason: 'task belongs to another group (service:api)', level: 'warn' },

  // Missing parts.
  { category: 'missing detail', name: 'no detail', event: { ...taskEvent(), detail: undefined }, reason: 'event has no detail object', level: 'warn' },
  { category: 'missing detail', name: 'null detail', event: { ...taskEvent(), detail: null }, reason: 'event has no detail object', level: 'warn' },
  { category: 'missing detail', name: 'no task ARN', event: withDetail({ taskArn: undefined }), reason: NOT_A_TASK, level: 'warn' },
  { category: 'missing detail', name: 'no desired status', event: withDetail({ desiredStatus: undefined }), reason: NO_STATUS, level: 'warn' },
  { category: 'missing detail', name: 'empty last status', event: withDetail({ lastStatus: '' }), reason: NO_STATUS, level: 'warn' },

  // Fields of the wrong type.
  { category: 'wrong type', name: 'detail is an array', event: { ...taskEvent(), detail: [taskEvent().detail] }, reason: 'event has no detail object', level: 'warn' },
  { category: 'wrong type', name: 'detail is a string', event: { ...taskEvent(), detail: 'RUNNING' }, reason: 'event has no detail object', level: 'warn' },
  { category: 'wrong type', name: 'task ARN is a number', event: withDetail({ taskArn: 42 }), reason: NOT_A_TASK, level: 'warn' },
  { category: 'wrong type', name: 'task ARN of an EC2 instance', event: withDetail({ taskArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0` }), reason: NOT_A_TASK, level: 'warn' },
  { category: 'wrong type', name: 'task ARN with a path traversal', event: withDetail({ taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/../../x` }), reason: NOT_A_TASK, level: 'warn' },
  { category: 'wrong type', name: 'group is an array', event: withDetail({ group: ['service:web'] }), reason: 'task belongs to another group (an array)', level: 'warn' },
  { category: 'wrong type', name: 'last status is a number', event: withDetail({ lastStatus: 7 }), reason: NO_STATUS, level: 'warn' },
  { category: 'wrong type', name: 'desired status is an object', event: withDetail({ desiredStatus: { value: 'RUNNING' } }), reason: NO_STATUS, level: 'warn' },
  { category: 'wrong type', name: 'attachments is an object', event: withDetail({ attachments: { type: 'eni' } }), reason: NO_ENI, level: 'info' },
  { category: 'wrong type', name: 'attachment details is a string', event: withDetail({ attachments: [{ type: 'eni', details: 'networkInterfaceId=eni-0a1b2c3d4e5f60718' }] }), reason: NO_ENI, level: 'info' },
  { category: 'wrong type', name: 'ENI id is a number', event: withEni(1234567890), reason: NO_ENI, level: 'info' },

  // Attachments that are not the task's ENI.
  {
    category: 'attachment of another type',
    name: 'only an elastic inference accelerator',
    event: withDetail({ attachments: [{ type: 'elastic-inference', details: [{ name: 'networkInterfaceId', value: 'eni-0a1b2c3d4e5f60718' }] }] }),
    reason: NO_ENI,
    level: 'info',
  },
  {
    category: 'attachment of another type',
    name: 'a service connect attachment',
    event: withDetail({ attachments: [{ type: 'Service Connect', details: [{ name: 'ContainerName', value: 'ecs-service-connect' }] }] }),
    reason: NO_ENI,
    level: 'info',
  },

  // ENI ids of the wrong shape, which must never reach an API call.
  { category: 'ENI id of a wrong shape', name: 'not hexadecimal', event: withEni('eni-XYZ'), reason: NOT_AN_ENI, level: 'warn' },
  { category: 'ENI id of a wrong shape', name: 'too long', event: withEni('eni-0a1b2c3d4e5f607189'), reason: NOT_AN_ENI, level: 'warn' },
  { category: 'ENI id of a wrong shape', name: 'upper case', event: withEni('eni-0A1B2C3D4E5F60718'), reason: NOT_AN_ENI, level: 'warn' },
  { category: 'ENI id of a wrong shape', name: 'shell injection', event: withEni('eni-0a1b2c3d4e5f60718; rm -rf /'), reason: NOT_AN_ENI, level: 'warn' },
  { category: 'ENI id of a wrong shape', name: 'an instance id', event: withEni('i-0a1b2c3d4e5f60718'), reason: NOT_AN_ENI, level: 'warn' },
  { category: 'ENI id of a wrong shape', name: 'path traversal', event: withEni('eni-../../etc'), reason: NOT_AN_ENI, level: 'warn' },

  // Sizes no EventBridge event has.
  { category: 'huge payload', name: 'SQS body above 256 KiB', body: paddedBody(300_000), reason: 'message body of 300000 characters is larger than any EventBridge event (262144)', level: 'warn' },
  { category: 'huge payload', name: 'SQS body one character above the limit', body: paddedBody(262_145), reason: 'message body of 262145 characters is larger than any EventBridge event (262144)', level: 'warn' },
  { category: 'huge payload', name: 'a 100 000-character task ARN', event: withDetail({ taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/${'a'.repeat(100_000)}` }), reason: NOT_A_TASK, level: 'warn' },
  {
    category: 'huge payload',
    name: '100 000 attachments of another type',
    event: withDetail({ attachments: Array.from({ length: 100_000 }, () => ({ type: 'gpu', details: [] })) }),
    reason: NO_ENI,
    level: 'info',
  },
  {
    category: 'huge payload',
    name: 'a 1 MB source string is cut in the log',
    event: { ...taskEvent(), source: 's'.repeat(1_000_000) },
    reason: `not an ECS task state change (source ${'s'.repeat(64)}...(1000000 characters), detail-type ECS Task State Change)`,
    level: 'warn',
  },

  // Unknown fields and values.
  { category: 'unknown fields', name: 'a task state ECS does not have', event: withDetail({ lastStatus: 'HIBERNATING', someFutureField: { nested: [1] } }), reason: 'nothing to do in state HIBERNATING (desired RUNNING)', level: 'info' },
  {
    category: 'unknown fields',
    name: 'a prototype-pollution key',
    body: '{"__proto__":{"source":"aws.ecs","detail-type":"ECS Task State Change"},"constructor":{"prototype":{"polluted":true}}}',
    reason: 'not an ECS task state change (source missing, detail-type missing)',
    level: 'warn',
  },

  // Broken SQS message bodies.
  { category: 'broken body', name: 'not JSON', body: 'not json', reason: 'message body of 8 characters is not JSON', level: 'warn' },
  { category: 'broken body', name: 'empty', body: '', reason: 'message body of 0 characters is not JSON', level: 'warn' },
  { category: 'broken body', name: 'truncated JSON', body: JSON.stringify(taskEvent()).slice(0, 100), reason: 'message body of 100 characters is not JSON', level: 'warn' },
  { category: 'broken body', name: 'JSON null', body: 'null', reason: 'event is not an object', level: 'warn' },
  { category: 'broken body', name: 'JSON number', body: '42', reason: 'event is not an object', level: 'warn' },
];

/** The cluster the session manager under test serves. */
export const SCOPE = { clusterArn: CLUSTER_ARN, account: ACCOUNT, region: REGION };
