import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { StackStatus } from '../../../src/runtime/adapters/stack-status';
import { FakeCloudFormationEndpoint } from '../../support/fake-cloudformation-endpoint';

// The real SDK client, serializing and parsing the Query protocol, against the fake endpoint
// (test/support/fake-cloudformation-endpoint.ts, written from the CloudFormation API reference).
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/MirrorStack/0f0e0d0c-1111-2222-3333-444455556666';
const PHYSICAL = 'fargate-traffic-mirror-ftm-aaaaaaaaaaaaaaaaaaaaaaaa';

function setup() {
  const cfn = new FakeCloudFormationEndpoint(STACK_ID);
  cfn.resources.set('MirrorEnrollment', { physicalId: PHYSICAL, status: 'CREATE_COMPLETE', type: 'AWS::CloudFormation::CustomResource' });
  const client = new CloudFormationClient({
    region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, requestHandler: cfn.requestHandler as any, maxAttempts: 1,
  });
  return { cfn, status: new StackStatus(client, STACK_ID) };
}

describe('StackStatus.deleting: a Delete is confirmed only while CloudFormation deletes that very resource', () => {
  test('DELETE_IN_PROGRESS under the service\'s physical id: confirmed, asked of the deployment\'s stack id', async () => {
    const { cfn, status } = setup();
    cfn.resources.get('MirrorEnrollment')!.status = 'DELETE_IN_PROGRESS';
    expect(await status.deleting('MirrorEnrollment', PHYSICAL)).toEqual({ confirmed: true });
    expect(cfn.calls).toEqual(['DescribeStackResource MirrorEnrollment']);
  });

  test.each(['CREATE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE', 'DELETE_FAILED', 'DELETE_COMPLETE', 'CREATE_IN_PROGRESS'])('%s: not confirmed', async s => {
    const { cfn, status } = setup();
    cfn.resources.get('MirrorEnrollment')!.status = s;
    expect(await status.deleting('MirrorEnrollment', PHYSICAL)).toEqual({ confirmed: false, reason: expect.stringContaining(s) });
  });

  test('another resource being deleted, or another physical id, or a logical id the stack lacks: not confirmed', async () => {
    const { cfn, status } = setup();
    cfn.resources.set('OtherEnrollment', { physicalId: 'fargate-traffic-mirror-ftm-bbbbbbbbbbbbbbbbbbbbbbbb', status: 'DELETE_IN_PROGRESS', type: 'AWS::CloudFormation::CustomResource' });
    expect(await status.deleting('OtherEnrollment', PHYSICAL)).toEqual({ confirmed: false, reason: expect.stringMatching(/another physical id/) });
    expect(await status.deleting('Nothing', PHYSICAL)).toEqual({ confirmed: false, reason: 'the stack has no resource Nothing' });
  });

  test('errors other than "no such resource" reach the caller, with their codes', async () => {
    const { cfn, status } = setup();
    cfn.failWith = 'AccessDenied';
    await expect(status.deleting('MirrorEnrollment', PHYSICAL)).rejects.toMatchObject({ name: 'AccessDenied' });
    cfn.failWith = 'Throttling';
    await expect(status.deleting('MirrorEnrollment', PHYSICAL)).rejects.toMatchObject({ name: 'Throttling' });
  });
});

describe('StackStatus.allowsChainedSweeps: only while no resource of the stack can be being deleted', () => {
  test.each([
    ['CREATE_IN_PROGRESS', true], ['CREATE_COMPLETE', true], ['UPDATE_IN_PROGRESS', true], ['UPDATE_COMPLETE', true],
    ['UPDATE_ROLLBACK_COMPLETE', true], ['IMPORT_COMPLETE', true],
    ['DELETE_IN_PROGRESS', false], ['DELETE_COMPLETE', false], ['DELETE_FAILED', false], ['ROLLBACK_IN_PROGRESS', false],
    ['ROLLBACK_COMPLETE', false], ['UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', false], ['UPDATE_ROLLBACK_IN_PROGRESS', false],
    ['UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', false], ['UPDATE_ROLLBACK_FAILED', false], ['REVIEW_IN_PROGRESS', false],
  ])('%s: %s', async (s, allowed) => {
    const { cfn, status } = setup();
    cfn.stackStatus = s;
    expect(await status.allowsChainedSweeps()).toBe(allowed);
    expect(cfn.calls).toEqual(['DescribeStacks']);
  });
});
