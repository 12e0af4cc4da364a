/** Adapter: ECS ListTasks/DescribeTasks for one service's live tasks. */
import { DescribeTasksCommand, ECSClient, paginateListTasks } from '@aws-sdk/client-ecs';
import { isTaskOfCluster, networkInterfaceIdOf, zoneOf } from '../core/parse-task-event';
import { DesiredTask } from '../core/plan-sessions';
import { taskIdOf } from '../core/task-id';

/** DescribeTasks accepts at most 100 tasks per call. */
const DESCRIBE_BATCH = 100;
/** States in which a task's ENI exists and the task is meant to run. */
const ACTIVE_STATES = new Set(['PENDING', 'ACTIVATING', 'RUNNING']);

/** What ECS says about tasks the sweep asked about by their sessions' task tags. */
export interface LiveTasks {
  /** Tasks that are active: they stay desired. */
  readonly active: DesiredTask[];
  /** Ids of tasks told to stop but not STOPPED yet: their sessions stay until EC2 removes them with the ENI. */
  readonly draining: Set<string>;
  /**
   * Tasks meant to run that are still PROVISIONING: their PENDING event is still to come. Their
   * sessions stay too (ECS's answer may lag behind the PENDING event that made one).
   */
  readonly starting: StartingTask[];
}

/** A task meant to run that is still PROVISIONING. */
export interface StartingTask {
  readonly taskArn: string;
  /** When ECS created the task (epoch ms). */
  readonly createdAt?: number;
}

/**
 * The ECS side of the sweep: which tasks of the service are running, with their ENIs.
 */
export class ServiceTasks {
  constructor(private readonly ecs: ECSClient, private readonly clusterArn: string, private readonly serviceName: string) {}

  /** Every task of the service meant to run: those to mirror now, and those still without an ENI. */
  public async listLive(): Promise<LiveTasks> {
    const arns: string[] = [];
    const pages = paginateListTasks({ client: this.ecs, pageSize: DESCRIBE_BATCH }, {
      cluster: this.clusterArn, serviceName: this.serviceName, desiredStatus: 'RUNNING',
    });
    for await (const page of pages) {
      arns.push(...(page.taskArns ?? []));
    }
    return this.describeLive(arns);
  }

  /**
   * Of the given tasks (ARNs or ids), those still active (to mirror), those still PROVISIONING,
   * and those draining: told to stop but not STOPPED yet. The sweep asks this about the tasks of sessions it would
   * delete, so a task too new to appear in ListTasks keeps its session. A task of another
   * cluster (the service moved) is not asked about: it is no task of this service now, and the
   * function may not describe it, which would fail the whole sweep.
   */
  public async describeLive(tasks: readonly string[]): Promise<LiveTasks> {
    const active: DesiredTask[] = [];
    const draining = new Set<string>();
    const starting: StartingTask[] = [];
    const ours = [...new Set(tasks.filter(t => !t.startsWith('arn:') || isTaskOfCluster(t, this.clusterArn)))];
    for (let i = 0; i < ours.length; i += DESCRIBE_BATCH) {
      const response = await this.ecs.send(new DescribeTasksCommand({
        cluster: this.clusterArn, tasks: ours.slice(i, i + DESCRIBE_BATCH),
      }));
      for (const task of response.tasks ?? []) {
        if (!task.taskArn || task.group !== `service:${this.serviceName}`) {
          continue;
        }
        const eni = networkInterfaceIdOf(task.attachments);
        const createdAt = task.createdAt?.getTime();
        if (eni && task.desiredStatus === 'RUNNING' && ACTIVE_STATES.has(task.lastStatus ?? '')) {
          // DescribeTasks names the task's Availability Zone (Task.availabilityZone).
          active.push({ taskArn: task.taskArn, networkInterfaceId: eni, createdAt, ...zoneOf(task.availabilityZone) });
        } else if (task.desiredStatus === 'RUNNING' && task.lastStatus === 'PROVISIONING') {
          starting.push({ taskArn: task.taskArn, createdAt });
        } else if (task.lastStatus !== 'STOPPED') {
          draining.add(taskIdOf(task.taskArn));
        }
      }
    }
    return { active, draining, starting };
  }
}
