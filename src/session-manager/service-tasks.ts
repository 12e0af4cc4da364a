import { DescribeTasksCommand, ECSClient, paginateListTasks } from '@aws-sdk/client-ecs';
import { DesiredTask } from './reconcile';
import { networkInterfaceIdOf } from './task-event';

/** DescribeTasks accepts at most 100 tasks per call. */
const DESCRIBE_BATCH = 100;
/** States in which a task's ENI exists and the task is meant to run. */
const ACTIVE_STATES = new Set(['PENDING', 'ACTIVATING', 'RUNNING']);

/**
 * The ECS side of the sweep: which tasks of the service are running, with their ENIs.
 */
export class ServiceTasks {
  constructor(private readonly ecs: ECSClient, private readonly clusterArn: string, private readonly serviceName: string) {}

  /** Every task of the service that should be mirrored now. */
  public async listActive(): Promise<DesiredTask[]> {
    const arns: string[] = [];
    const pages = paginateListTasks({ client: this.ecs, pageSize: DESCRIBE_BATCH }, {
      cluster: this.clusterArn, serviceName: this.serviceName, desiredStatus: 'RUNNING',
    });
    for await (const page of pages) {
      arns.push(...(page.taskArns ?? []));
    }
    return (await this.describeLive(arns)).active;
  }

  /**
   * Of the given tasks, those still active (to mirror) and those draining: told to stop but not
   * STOPPED yet. The sweep asks this about the tasks of sessions it would delete, so a task too
   * new to appear in ListTasks keeps its session. A draining task still carries traffic, so its session stays until EC2 removes
   * it with the ENI.
   */
  public async describeLive(taskArns: readonly string[]): Promise<{ active: DesiredTask[]; draining: Set<string> }> {
    const active: DesiredTask[] = [];
    const draining = new Set<string>();
    for (let i = 0; i < taskArns.length; i += DESCRIBE_BATCH) {
      const response = await this.ecs.send(new DescribeTasksCommand({
        cluster: this.clusterArn, tasks: taskArns.slice(i, i + DESCRIBE_BATCH),
      }));
      for (const task of response.tasks ?? []) {
        if (!task.taskArn || task.group !== `service:${this.serviceName}`) {
          continue;
        }
        const eni = networkInterfaceIdOf(task.attachments);
        if (eni && task.desiredStatus === 'RUNNING' && ACTIVE_STATES.has(task.lastStatus ?? '')) {
          active.push({ taskArn: task.taskArn, networkInterfaceId: eni });
        } else if (task.lastStatus !== 'STOPPED') {
          draining.add(task.taskArn);
        }
      }
    }
    return { active, draining };
  }
}
