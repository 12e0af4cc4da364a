import { isStar, ofType, referrersOf, resourcesOf, statementsOf, synthesized, text } from './template-helpers';
import { OWNER_TAG_KEY } from '../../src/session-manager/ownership';
import { VARIANTS } from '../support/variants';

/** The only actions any role of the construct may hold. */
const ALLOWED_ACTIONS = new Set([
  'ec2:CreateTrafficMirrorSession', 'ec2:CreateTags', 'ec2:DeleteTrafficMirrorSession', 'ec2:DescribeTrafficMirrorSessions',
  'ecs:ListTasks', 'ecs:DescribeTasks',
  'logs:CreateLogStream', 'logs:PutLogEvents',
  'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes',
  'lambda:InvokeFunction',
]);
/** Actions IAM cannot scope to a resource; the only ones allowed on Resource '*'. */
const UNSCOPABLE_ACTIONS = new Set(['ec2:DescribeTrafficMirrorSessions', 'ecs:ListTasks']);

// Every variant: each target kind and option set, plus an imported service, an
// environment-agnostic stack and two mirrors sharing a stack.
const cases = VARIANTS.map(v => {
  const { stack } = v.build();
  const { resources, mirrors } = synthesized(stack);
  return mirrors.map(mirror => {
    const own = resourcesOf(mirror, resources);
    const policies = ofType(own, 'AWS::IAM::Policy');
    const statements = policies.flatMap(([id, p]) => statementsOf(p).map(s => ({ ...s, policy: id })));
    return [`${v.name} ${mirror.node.id}`, { resources, own, policies, statements, ownerId: mirror.ownerId }] as const;
  });
}).flat();

describe.each(cases)('IAM of %s', (_name, { resources, own, policies, statements, ownerId }) => {
  test('grants only the actions the functions call: no service or global wildcards, no Deny tricks', () => {
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(s.NotAction).toBeUndefined();
      expect(s.NotResource).toBeUndefined();
      for (const action of s.Action) {
        expect(action).not.toContain('*');
        expect(ALLOWED_ACTIONS).toContain(action);
      }
    }
  });

  test("Resource '*' only on the Describe/List calls IAM cannot scope", () => {
    for (const s of statements.filter(st => st.Resource.some(isStar))) {
      expect(s.Resource).toEqual(['*']);
      for (const action of s.Action) {
        expect(UNSCOPABLE_ACTIONS).toContain(action);
      }
    }
  });

  test('delete only sessions carrying this construct\'s owner tag', () => {
    const deletes = statements.filter(s => s.Action.includes('ec2:DeleteTrafficMirrorSession'));
    expect(deletes.length).toBeGreaterThan(0);
    for (const s of deletes) {
      expect(s.Action).toEqual(['ec2:DeleteTrafficMirrorSession']);
      expect(s.Condition).toEqual({ StringEquals: { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: ownerId } });
      expect(text(s.Resource)).toMatch(/^\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":ec2:.*:traffic-mirror-session\/\*"\]\]\}\]$/);
    }
  });

  test('create a session only with this construct\'s owner tag in the request, tag only while creating', () => {
    const creates = statements.filter(s => s.Action.includes('ec2:CreateTrafficMirrorSession'));
    const onSessions = creates.filter(s => text(s.Resource).includes('traffic-mirror-session/'));
    expect(onSessions.length).toBeGreaterThan(0);
    for (const s of onSessions) {
      expect(s.Resource).toHaveLength(1);
      expect(s.Condition).toEqual({ StringEquals: { [`aws:RequestTag/${OWNER_TAG_KEY}`]: ownerId } });
    }
    // The other create statement names the target and the filter, never a wildcard for them.
    for (const s of creates.filter(st => !onSessions.includes(st))) {
      expect(text(s.Resource)).toMatch(/traffic-mirror-target\//);
      expect(text(s.Resource)).toMatch(/traffic-mirror-filter\//);
      expect(text(s.Resource)).not.toMatch(/traffic-mirror-(target|filter)\/\*/);
    }
    for (const s of statements.filter(st => st.Action.includes('ec2:CreateTags'))) {
      expect(s.Action).toEqual(['ec2:CreateTags']);
      expect(s.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': 'CreateTrafficMirrorSession' } });
      expect(text(s.Resource)).toMatch(/traffic-mirror-session\/\*"\]\]\}\]$/);
    }
  });

  test('ECS calls are scoped to the service\'s cluster, and only the reconciler makes them', () => {
    const ecsStatements = statements.filter(s => s.Action.some((a: string) => a.startsWith('ecs:')));
    expect(ecsStatements.length).toBe(2);
    for (const s of ecsStatements) {
      expect(Object.keys(s.Condition)).toEqual(['ArnEquals']);
      expect(Object.keys(s.Condition.ArnEquals)).toEqual(['ecs:cluster']);
      expect(s.policy).toMatch(/ReconcilerRole/);
    }
    const describe = ecsStatements.find(s => s.Action.includes('ecs:DescribeTasks'))!;
    expect(text(describe.Resource)).toMatch(/:task\/",(\{"Ref":"Cluster[0-9A-F]+"\}|")|:task\/prod\/\*/);
  });

  test('each function has a role of its own, with no managed policy and nothing else using it', () => {
    const functions = ofType(own, 'AWS::Lambda::Function');
    expect(functions.length).toBe(3);
    const roles = functions.map(([, fn]) => fn.Properties.Role['Fn::GetAtt'][0]);
    expect(new Set(roles).size).toBe(functions.length);
    for (const [fnId, fn] of functions) {
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      const role = resources[roleId];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      const policyOfRole = policies.filter(([, p]) => text(p.Properties.Roles) === text([{ Ref: roleId }])).map(([id]) => id);
      expect(policyOfRole).toHaveLength(1);
      expect(referrersOf(resources, roleId).sort()).toEqual([fnId, policyOfRole[0]].sort());
    }
  });

  test('logs are written only to the function\'s own log group', () => {
    for (const s of statements.filter(st => st.Action.some((a: string) => a.startsWith('logs:')))) {
      expect(s.Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(s.Resource).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/Logs[0-9A-F]{8}$/), 'Arn'] }]);
      const fn = ofType(own, 'AWS::Lambda::Function').find(([, f]) => text(f.Properties.Role).includes(s.policy.replace(/DefaultPolicy[0-9A-F]{8}$/, '')))!;
      expect(fn[1].Properties.LoggingConfig.LogGroup).toEqual({ Ref: s.Resource[0]['Fn::GetAtt'][0] });
    }
  });
});
