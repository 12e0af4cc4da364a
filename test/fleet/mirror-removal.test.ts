import { App, Stack, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FargateTrafficMirror, MirrorTarget } from '../../src';
import { OWNER_TAG_KEY, STACK_TAG_KEY } from '../../src/contract/ownership';
import { evaluate, statementsOfRole } from '../support/iam-evaluator';

/** The same app with the mirrors named in `names`: one deploy, then the update that removes one. */
function app(names: string[], paths: Record<string, string> = {}) {
  const stack = new Stack(new App(), 'Fleet', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'] });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  const mirrors = Object.fromEntries(names.map(name => [name, new FargateTrafficMirror(stack, paths[name] ?? `Mirror-${name}`, {
    service: ecs.FargateService.fromFargateServiceAttributes(stack, `Service-${name}`, { cluster, serviceName: name }),
    target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0'),
  })]));
  const template = Template.fromStack(stack).toJSON();
  const reconcilerRole = Object.keys(template.Resources).find(id => /^FargateTrafficMirrorSharedReconcilerRole[0-9A-F]{8}$/.test(id))!;
  const stackTag = template.Resources[Object.keys(template.Resources).find(id => template.Resources[id].Type === 'AWS::Lambda::Function'
    && template.Resources[id].Properties.Environment?.Variables?.MIRROR_STACK_TAG)!].Properties.Environment.Variables.MIRROR_STACK_TAG;
  return { template, mirrors, stackTag, reconcilerStatements: statementsOfRole(template.Resources, reconcilerRole) };
}

const SESSION = 'arn:aws:ec2:us-east-1:123456789012:traffic-mirror-session/tms-0123456789abcdef0';
const deleteOf = (tags: Record<string, string>) => ({
  action: 'ec2:DeleteTrafficMirrorSession',
  resource: SESSION,
  context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
});

describe('removing one of three mirrors: its Delete runs with the updated stack\'s permissions', () => {
  const before = app(['web', 'api', 'worker']);
  const after = app(['web', 'worker']);
  const removed = before.mirrors.api.ownerId;

  test('the update removes the mirror\'s enrollment and its owner id from the policies', () => {
    const enrollments = (t: any) => Object.keys(t.Resources).filter(id => t.Resources[id].Type === 'Custom::FargateTrafficMirrorEnrollment');
    expect(enrollments(before.template)).toHaveLength(3);
    expect(enrollments(after.template)).toHaveLength(2);
    expect(JSON.stringify(before.reconcilerStatements)).toContain(removed);
    expect(JSON.stringify(after.reconcilerStatements)).not.toContain(removed);
    // The stack tag is the same before and after: it depends on the stack alone.
    expect(after.stackTag).toBe(before.stackTag);
  });

  test('the updated policies allow deleting the removed mirror\'s sessions', () => {
    const session = { [OWNER_TAG_KEY]: removed, [STACK_TAG_KEY]: after.stackTag };
    expect(evaluate(before.reconcilerStatements, deleteOf(session))).toBe('allow');
    expect(evaluate(after.reconcilerStatements, deleteOf(session))).toBe('allow');
    // Without the stack tag (a session made by a release before it), only the owner list would
    // allow it: the removed owner is no longer in it.
    expect(evaluate(after.reconcilerStatements, deleteOf({ [OWNER_TAG_KEY]: removed }))).toBe('implicitDeny');
    expect(evaluate(after.reconcilerStatements, deleteOf({ [OWNER_TAG_KEY]: after.mirrors.web.ownerId }))).toBe('allow');
  });

  test('a mirror moved to another construct path: the old owner\'s sessions are still deletable', () => {
    const moved = app(['web', 'api', 'worker'], { api: 'Moved/Mirror-api' });
    expect(moved.mirrors.api.ownerId).not.toBe(removed);
    expect(evaluate(moved.reconcilerStatements, deleteOf({ [OWNER_TAG_KEY]: removed, [STACK_TAG_KEY]: moved.stackTag }))).toBe('allow');
  });

  test('sessions of another stack or of another tool stay out of reach', () => {
    expect(evaluate(after.reconcilerStatements, deleteOf({ [OWNER_TAG_KEY]: removed, [STACK_TAG_KEY]: 'ftms-000000000000000000000000' }))).toBe('implicitDeny');
    expect(evaluate(after.reconcilerStatements, deleteOf({}))).toBe('implicitDeny');
    // Creating needs a current owner and the stack tag in the request.
    const create = (tags: Record<string, string>) => ({
      action: 'ec2:CreateTrafficMirrorSession',
      resource: 'arn:aws:ec2:us-east-1:123456789012:traffic-mirror-session/*',
      context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    });
    expect(evaluate(after.reconcilerStatements, create({ [OWNER_TAG_KEY]: after.mirrors.web.ownerId, [STACK_TAG_KEY]: after.stackTag }))).toBe('allow');
    expect(evaluate(after.reconcilerStatements, create({ [OWNER_TAG_KEY]: removed, [STACK_TAG_KEY]: after.stackTag }))).toBe('implicitDeny');
    expect(evaluate(after.reconcilerStatements, create({ [OWNER_TAG_KEY]: after.mirrors.web.ownerId }))).toBe('implicitDeny');
  });
});
