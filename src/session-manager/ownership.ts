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
 * Deterministic `ClientToken` for CreateTrafficMirrorSession (EC2 allows at most 64 ASCII
 * characters). Retries and duplicate events for the same ENI reuse it, so EC2 returns the
 * session it already created instead of making a second one.
 */
export function clientTokenFor(ownerId: string, networkInterfaceId: string, sessionNumber: number): string {
  return createHash('sha256').update(`${ownerId}|${networkInterfaceId}|${sessionNumber}`).digest('hex');
}
