import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { bodyText } from './body-text';
import { element, xml } from './ec2-query';

/**
 * CloudFormation's DescribeStackResource and DescribeStacks over the Query protocol, for one
 * stack, as the CloudFormation API reference describes them:
 * - DescribeStackResource answers a `StackResourceDetail` (StackId, StackName, LogicalResourceId,
 *   PhysicalResourceId, ResourceType, LastUpdatedTimestamp, ResourceStatus); a logical id the
 *   stack does not have is a `ValidationError` sender fault ("Resource X does not exist for stack Y").
 * - DescribeStacks answers `Stacks` with the one stack and its `StackStatus`; a stack name or id
 *   that names no stack is a `ValidationError` ("Stack with id X does not exist").
 * The test sets the statuses as CloudFormation would during the lifecycle it plays.
 */
export class FakeCloudFormationEndpoint {
  /** The stack's status (API reference, Stack: StackStatus). */
  public stackStatus = 'CREATE_COMPLETE';
  /** The stack's resources by logical id. */
  public readonly resources = new Map<string, { physicalId: string; status: string; type: string }>();
  /** `Action LogicalResourceId` of every request. */
  public readonly calls: string[] = [];
  /** An error code to answer every request with (`Throttling`, `AccessDenied`), or none. */
  public failWith?: string;

  public readonly requestHandler = {
    handle: async (request: HttpRequest) => ({ response: this.answer(new URLSearchParams(bodyText(request))) }),
  };

  constructor(public readonly stackId: string, public readonly stackName = stackId.split('/')[1] ?? stackId) {}

  private answer(params: URLSearchParams): HttpResponse {
    const action = params.get('Action') ?? '';
    const stack = params.get('StackName') ?? '';
    const logicalId = params.get('LogicalResourceId') ?? '';
    this.calls.push(`${action} ${logicalId}`.trim());
    if (this.failWith) return queryError(this.failWith === 'Throttling' ? 400 : 403, this.failWith, 'failed as the test asked');
    if (stack !== this.stackId && stack !== this.stackName) return queryError(400, 'ValidationError', `Stack with id ${stack} does not exist`);
    if (action === 'DescribeStacks') {
      return result(action, `<Stacks><member>${element('StackId', this.stackId)}${element('StackName', this.stackName)}`
        + `${element('CreationTime', '2026-12-01T00:00:00.000Z')}${element('StackStatus', this.stackStatus)}</member></Stacks>`);
    }
    if (action === 'DescribeStackResource') {
      const resource = this.resources.get(logicalId);
      if (!resource) return queryError(400, 'ValidationError', `Resource ${logicalId} does not exist for stack ${this.stackName}`);
      return result(action, `<StackResourceDetail>${element('StackId', this.stackId)}${element('StackName', this.stackName)}`
        + `${element('LogicalResourceId', logicalId)}${element('PhysicalResourceId', resource.physicalId)}${element('ResourceType', resource.type)}`
        + `${element('LastUpdatedTimestamp', '2026-12-01T00:00:00.000Z')}${element('ResourceStatus', resource.status)}</StackResourceDetail>`);
    }
    return queryError(400, 'InvalidAction', `The action ${action} is not valid for this endpoint`);
  }
}

/** A Query protocol answer: `<ActionResponse><ActionResult>…</ActionResult>` with its metadata. */
function result(action: string, body: string): HttpResponse {
  return xml(200, `<${action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><${action}Result>${body}</${action}Result>`
    + `<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`);
}

/** A Query protocol error: `<ErrorResponse><Error><Type/><Code/><Message/></Error>`. */
function queryError(status: number, code: string, message: string): HttpResponse {
  return xml(status, '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
    + `${element('Code', code)}${element('Message', message)}</Error><RequestId>r</RequestId></ErrorResponse>`);
}
