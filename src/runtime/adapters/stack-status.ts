/**
 * Adapter: what CloudFormation says of the reconciler's own stack. Two questions, both asked of
 * the stack id the deployment put in the function's environment, never of one a trigger names.
 */
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/** Whether CloudFormation is deleting a custom resource, and if not, why that was not confirmed. */
export type DeleteCheck = { readonly confirmed: true } | { readonly confirmed: false; readonly reason: string };

/** What the routing asks of the stack; the sim and the tests answer it from their fakes. */
export interface StackLifecycle {
  /**
   * Whether the stack's resource `logicalId` is being deleted (status DELETE_IN_PROGRESS) and has
   * the physical id `physicalId`. Errors other than "no such resource" are thrown.
   */
  deleting(logicalId: string, physicalId: string): Promise<DeleteCheck>;
  /**
   * Whether the stack is in a state in which a flip's sweep may start its next chunk: created or
   * updated, or being created or updated. Not while it is deleted, rolled back or cleaned up
   * (then mirrors' Deletes may be removing sessions the chunk would make).
   */
  allowsChainedSweeps(): Promise<boolean>;
}

/**
 * Stack statuses in which no custom resource of the stack is being deleted (CloudFormation API
 * reference, Stack: StackStatus). A removed mirror's Delete runs in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS,
 * a failed deploy's in ROLLBACK_IN_PROGRESS or UPDATE_ROLLBACK_*, a stack delete's in
 * DELETE_IN_PROGRESS: none of those is here.
 */
const STEADY_STATUSES = new Set([
  'CREATE_IN_PROGRESS', 'CREATE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE',
]);

/** CloudFormation's answer about one stack, by its id (the `AWS::StackId` of the deployment). */
export class StackStatus implements StackLifecycle {
  constructor(private readonly cfn: CloudFormationClient, private readonly stackId: string) {}

  public async deleting(logicalId: string, physicalId: string): Promise<DeleteCheck> {
    let detail;
    try {
      const command = new DescribeStackResourceCommand({ StackName: this.stackId, LogicalResourceId: logicalId });
      ({ StackResourceDetail: detail } = await this.cfn.send(command));
    } catch (error) {
      // A logical id the stack does not have is answered with ValidationError (a client fault).
      if ((error as { name?: string }).name === 'ValidationError') return { confirmed: false, reason: `the stack has no resource ${logicalId}` };
      throw error;
    }
    if (detail?.ResourceStatus !== 'DELETE_IN_PROGRESS') {
      return { confirmed: false, reason: `the stack's resource ${logicalId} is ${detail?.ResourceStatus ?? 'of unknown status'}, not DELETE_IN_PROGRESS` };
    }
    if (detail.PhysicalResourceId !== physicalId) {
      return { confirmed: false, reason: `the stack's resource ${logicalId} being deleted has another physical id` };
    }
    return { confirmed: true };
  }

  public async allowsChainedSweeps(): Promise<boolean> {
    const { Stacks } = await this.cfn.send(new DescribeStacksCommand({ StackName: this.stackId }));
    return STEADY_STATUSES.has(Stacks?.[0]?.StackStatus ?? '');
  }
}
