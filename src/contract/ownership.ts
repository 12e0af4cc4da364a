/**
 * Contract: the tags and client tokens that mark a session as ours, shared by IAM conditions and
 * the runtime. Node built-ins only.
 */
import { createHash } from 'crypto';
import type { SessionManagerConfig, SessionSetting } from './session-manager-config';

/**
 * Tag keys the session manager writes on every session it creates.
 *
 * Shared by the construct (IAM conditions) and the handler (tags and checks), so the two can
 * never disagree. This module imports neither aws-cdk-lib nor the AWS SDK.
 */
export const OWNER_TAG_KEY = 'fargate-traffic-mirror:owner';
/** Tag naming the ECS cluster ARN of the mirrored task. */
export const CLUSTER_TAG_KEY = 'fargate-traffic-mirror:cluster';
/** Tag naming the ECS service of the mirrored task. */
export const SERVICE_TAG_KEY = 'fargate-traffic-mirror:service';
/** Tag naming the ECS task the session mirrors: its ARN, or its id when the ARN is too long for a tag. */
export const TASK_TAG_KEY = 'fargate-traffic-mirror:task-arn';
/**
 * Tag naming the request that created the session. A CreateTrafficMirrorSession repeated with
 * the same ClientToken returns the original result, whose tags carry the original request's id:
 * that is how a repeat is told from a first create without a read.
 */
export const REQUEST_TAG_KEY = 'fargate-traffic-mirror:request';

/**
 * Tag naming the stack whose session manager created the session. Its value is the same for every
 * mirror of a stack and never changes, so IAM scopes Delete and Modify to it: a permission that
 * names the mirrors' owner ids would lose a mirror's id in the update that removes the mirror,
 * before the cleanup phase runs that mirror's Delete. Which mirror a session belongs to is the
 * owner tag, checked in code.
 */
export const STACK_TAG_KEY = 'fargate-traffic-mirror:stack';

/** EC2 tag values are at most 256 characters. */
export const MAX_TAG_VALUE_LENGTH = 256;

/**
 * Derives the stable owner id of one construct instance from its stack name and construct
 * path: the same stack redeployed keeps its id, two instances never share one.
 */
export function ownerIdFor(stackName: string, constructPath: string): string {
  return 'ftm-' + createHash('sha256').update(`${stackName}\u0000${constructPath}`).digest('hex').slice(0, 24);
}

/**
 * The stack tag's value: a hash of the stack name (or, for a stack whose name is a token, its
 * construct path), constant for the life of the stack whatever mirrors it holds.
 */
export function stackTagFor(stackName: string): string {
  return 'ftms-' + createHash('sha256').update(`stack\u0000${stackName}`).digest('hex').slice(0, 24);
}

/** What an owner id looks like (ownerIdFor); a trigger naming anything else names no service of ours. */
export const OWNER_ID_PATTERN = /^ftm-[0-9a-f]{24}$/;

/**
 * The path under which a stack keeps each mirrored service's configuration, one SSM String
 * parameter per service named by its owner id (`<prefix><ownerId>`), written by CloudFormation
 * only. Constant for the stack (it holds the stack tag), so the functions' permission to read it
 * survives the update that removes a mirror.
 */
export function configParameterPrefix(stackTag: string): string {
  return `/fargate-traffic-mirror/${stackTag}/config/`;
}

/**
 * A tag value within EC2's 256 characters. Cluster and service names may be 255 characters,
 * so their ARNs may not fit: a longer value keeps its start and ends with a hash of the whole,
 * which stays unique and stable.
 */
export function tagValue(value: string): string {
  if (value.length <= MAX_TAG_VALUE_LENGTH) {
    return value;
  }
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 32);
  return `${value.slice(0, MAX_TAG_VALUE_LENGTH - digest.length - 1)}+${digest}`;
}

/**
 * The task tag's value: the task ARN when it fits, else the task id (the ARN's last part), which
 * ECS DescribeTasks accepts in place of the ARN for a task of the cluster it is asked about.
 */
export function taskTagValue(taskArn: string): string {
  return taskArn.length <= MAX_TAG_VALUE_LENGTH ? taskArn : taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/** Whether a task tag value names the task: the whole ARN, or the id it was shortened to. */
export function taskTagMatches(tag: string | undefined, taskArn: string): boolean {
  return tag !== undefined && (tag === taskArn || tag === taskTagValue(taskArn));
}

/** Every parameter of a CreateTrafficMirrorSession request that the ClientToken must cover. */
export type SessionParameters = Pick<SessionManagerConfig, 'ownerId' | SessionSetting> & { readonly networkInterfaceId: string };

/**
 * `ClientToken` for CreateTrafficMirrorSession (EC2 allows at most 64 ASCII characters).
 *
 * A hash of every parameter of the request, so a retry or duplicate event for the same ENI
 * gets the session created the first time, while a configuration change (another target,
 * filter, number, packet length, VNI or description) gets a new token instead of EC2's
 * `IdempotentParameterMismatch`. EC2 remembers a token even after its session is deleted, so
 * whoever re-creates a session that was deleted passes a `salt` to get a new one.
 */
export function clientTokenFor(params: SessionParameters, salt = ''): string {
  const fields = [
    params.ownerId, params.networkInterfaceId, params.targetId, params.filterId, params.sessionNumber,
    params.packetLength ?? '', params.virtualNetworkId ?? '', params.description ?? '', salt,
  ];
  // JSON keeps field boundaries unambiguous whatever a description contains.
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}
