import {
  CreateTrafficMirrorSessionCommand, DeleteTrafficMirrorSessionCommand, DescribeTrafficMirrorSessionsCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { OWNER_TAG_KEY, TASK_TAG_KEY } from '../../src/contract/ownership';
import { SessionManagerConfig } from '../../src/contract/session-manager-config';
import { networkInterfaceIdOf } from '../../src/runtime/core/parse-task-event';

/** Where the baseline sends its calls. */
export interface BaselineEndpoints {
  readonly ec2: unknown;
  readonly ecs: unknown;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The naive strategy public tools use, for comparison in the benchmark only: every task event
 * is handled on its own; a RUNNING task is looked up with DescribeTasks, its ENI's sessions with
 * DescribeTrafficMirrorSessions, and a session is created when none is found (no ClientToken);
 * a STOPPED task's sessions are looked up by ENI and deleted. SDK defaults (standard retries,
 * 3 attempts); errors fail the invocation. No sweep, no enrollment of running tasks.
 */
export function baselineHandler(config: SessionManagerConfig, endpoints: BaselineEndpoints, phase: { current: string }) {
  const ec2 = new EC2Client({ region: endpoints.region, credentials: endpoints.credentials, requestHandler: endpoints.ec2 as any });
  const ecs = new ECSClient({ region: endpoints.region, credentials: endpoints.credentials, requestHandler: endpoints.ecs as any });
  return async (event: any): Promise<unknown> => {
    const detail = event?.detail;
    if (!detail?.taskArn) return 'ignored';
    if (detail.lastStatus === 'RUNNING' && detail.desiredStatus === 'RUNNING') {
      phase.current = 'start';
      const described = await ecs.send(new DescribeTasksCommand({ cluster: config.clusterArn, tasks: [detail.taskArn] }));
      const eni = networkInterfaceIdOf(described.tasks?.[0]?.attachments);
      if (!eni) return 'no-eni';
      const existing = await ec2.send(new DescribeTrafficMirrorSessionsCommand({ Filters: [{ Name: 'network-interface-id', Values: [eni] }] }));
      if ((existing.TrafficMirrorSessions ?? []).some(s => s.TrafficMirrorTargetId === config.targetId)) return 'exists';
      await ec2.send(new CreateTrafficMirrorSessionCommand({
        NetworkInterfaceId: eni,
        TrafficMirrorTargetId: config.targetId,
        TrafficMirrorFilterId: config.filterId,
        SessionNumber: config.sessionNumber,
        TagSpecifications: [{ ResourceType: 'traffic-mirror-session', Tags: [{ Key: OWNER_TAG_KEY, Value: config.ownerId }, { Key: TASK_TAG_KEY, Value: detail.taskArn }] }],
      }));
      return 'created';
    }
    if (detail.lastStatus === 'STOPPED') {
      phase.current = 'stop';
      const eni = networkInterfaceIdOf(detail.attachments);
      if (!eni) return 'no-eni';
      const existing = await ec2.send(new DescribeTrafficMirrorSessionsCommand({ Filters: [{ Name: 'network-interface-id', Values: [eni] }] }));
      for (const s of existing.TrafficMirrorSessions ?? []) {
        if (s.TrafficMirrorTargetId === config.targetId) {
          await ec2.send(new DeleteTrafficMirrorSessionCommand({ TrafficMirrorSessionId: s.TrafficMirrorSessionId }));
        }
      }
      return 'deleted';
    }
    return 'ignored';
  };
}
