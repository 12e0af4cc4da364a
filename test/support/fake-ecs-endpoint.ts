import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { json, jsonError, jsonRequest } from './json-protocol';

/** A task as the fake ECS endpoint stores it. */
export interface FakeTask {
  readonly taskArn: string;
  readonly group: string;
  lastStatus: string;
  desiredStatus: string;
  networkInterfaceId?: string;
  /** The task's Availability Zone (DescribeTasks Task.availabilityZone). */
  availabilityZone?: string;
  /** Epoch ms; DescribeTasks answers it as `createdAt` in epoch seconds (the JSON protocol's timestamps). */
  createdAt?: number;
}

/**
 * An in-process stand-in for the ECS JSON API's ListTasks and DescribeTasks, plugged into a real
 * `ECSClient` as its request handler. ListTasks pages hold at most `maxResults` (100) tasks and
 * DescribeTasks refuses more than 100, like the real service.
 */
export class FakeEcsEndpoint {
  public readonly tasks = new Map<string, FakeTask>();
  public readonly calls: string[] = [];
  /** Task ARNs ListTasks does not show yet (eventual consistency), though DescribeTasks does. */
  public readonly hiddenFromList = new Set<string>();
  /**
   * Answer DescribeTasks naming a task of another cluster with AccessDeniedException, as a
   * caller whose IAM policy allows only this cluster's task ARNs gets.
   */
  public refuseOtherClusters = false;

  public readonly requestHandler = {
    handle: async (request: HttpRequest) => {
      const { action, input } = jsonRequest(request);
      this.calls.push(action);
      return { response: this.answer(action, input) };
    },
  };

  constructor(private readonly clusterArn: string) {}

  public count(action: string): number {
    return this.calls.filter(c => c === action).length;
  }

  private answer(action: string, input: any): HttpResponse {
    if (input.cluster !== this.clusterArn) {
      return jsonError('ClusterNotFoundException', 'Cluster not found.');
    }
    if (action === 'ListTasks') {
      const all = [...this.tasks.values()]
        .filter(t => !this.hiddenFromList.has(t.taskArn))
        .filter(t => !input.serviceName || t.group === `service:${input.serviceName}`)
        .filter(t => !input.desiredStatus || t.desiredStatus === input.desiredStatus)
        .map(t => t.taskArn);
      const start = Number(input.nextToken ?? 0);
      const size = Math.min(input.maxResults ?? 100, 100);
      const page = all.slice(start, start + size);
      return json(200, { taskArns: page, ...(start + size < all.length ? { nextToken: String(start + size) } : {}) });
    }
    if (action === 'DescribeTasks') {
      if (input.tasks.length > 100) {
        return jsonError('InvalidParameterException', 'Tasks cannot be longer than 100.');
      }
      const clusterName = this.clusterArn.slice(this.clusterArn.lastIndexOf('/') + 1);
      if (this.refuseOtherClusters && input.tasks.some((t: string) => t.startsWith('arn:') && !t.includes(`:task/${clusterName}/`))) {
        return jsonError('AccessDeniedException', 'not authorized to perform: ecs:DescribeTasks');
      }
      // "tasks: A list of up to 100 task IDs or full ARN entries" (DescribeTasks API reference).
      const lookup = (ref: string) => this.tasks.get(ref) ?? [...this.tasks.values()].find(t => t.taskArn.endsWith(`/${ref}`));
      const found = input.tasks.map(lookup).filter(Boolean) as FakeTask[];
      return json(200, {
        tasks: found.map(t => ({
          taskArn: t.taskArn,
          group: t.group,
          lastStatus: t.lastStatus,
          desiredStatus: t.desiredStatus,
          launchType: 'FARGATE',
          ...(t.availabilityZone ? { availabilityZone: t.availabilityZone } : {}),
          ...(t.createdAt !== undefined ? { createdAt: t.createdAt / 1000 } : {}),
          attachments: t.networkInterfaceId ? [{
            type: 'ElasticNetworkInterface',
            status: 'ATTACHED',
            details: [{ name: 'subnetId', value: 'subnet-1' }, { name: 'networkInterfaceId', value: t.networkInterfaceId }],
          }] : [],
        })),
        failures: input.tasks.filter((ref: string) => !lookup(ref)).map((arn: string) => ({ arn, reason: 'MISSING' })),
      });
    }
    return jsonError('UnknownOperationException');
  }
}
