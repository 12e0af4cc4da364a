import { createHash } from 'crypto';

/**
 * Tag keys the session manager writes on every session it creates.
 *
 * Shared by the construct (IAM conditions) and the handler (tags and filters), so the two can
 * never disagree. This module imports neither aws-cdk-lib nor the AWS SDK.
 */
export const OWNER_TAG_KEY = 'fargate-traffic-mirror:owner';
/** Tag naming the ECS cluster ARN of the mirrored task. */
export const CLUSTER_TAG_KEY = 'fargate-traffic-mirror:cluster';
/** Tag naming the ECS service of the mirrored task. */
export const SERVICE_TAG_KEY = 'fargate-traffic-mirror:service';
/** Tag naming the ECS task ARN the session mirrors. */
export const TASK_TAG_KEY = 'fargate-traffic-mirror:task-arn';

/**
 * Derives the stable owner id of one construct instance from its stack name and construct
 * path: the same stack redeployed keeps its id, two instances never share one.
 */
export function ownerIdFor(stackName: string, constructPath: string): string {
  return 'ftm-' + createHash('sha256').update(`${stackName}\u0000${constructPath}`).digest('hex').slice(0, 24);
}

/**
 * `ClientToken` for CreateTrafficMirrorSession (EC2 allows at most 64 ASCII characters).
 * Without a salt it is deterministic: retries and duplicate events for the same ENI reuse it,
 * so EC2 returns the session it already created instead of making a second one. EC2 remembers
 * a token even after its session is deleted, so a sweep re-creating a session that someone
 * deleted must use a fresh salt, or it would only get the dead session's id back.
 */
export function clientTokenFor(ownerId: string, networkInterfaceId: string, sessionNumber: number, salt = ''): string {
  return createHash('sha256').update(`${ownerId}|${networkInterfaceId}|${sessionNumber}${salt ? `|${salt}` : ''}`).digest('hex');
}
