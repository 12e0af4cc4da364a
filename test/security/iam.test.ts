import { isStar, ofType, referrersOf, resourcesOf, statementsOf, synthesized, text } from './template-helpers';
import { OWNER_TAG_KEY, STACK_TAG_KEY } from '../../src/contract/ownership';
import { SINGLETON_ID as SHARED } from '../../src/fleet/shared-session-manager';
import { VARIANTS } from '../support/variants';

/** The only actions any function role of the construct may hold. */
const ALLOWED_ACTIONS = new Set([
  'ec2:CreateTrafficMirrorSession', 'ec2:CreateTags', 'ec2:DeleteTrafficMirrorSession', 'ec2:DescribeTrafficMirrorSessions',
  'ec2:ModifyTrafficMirrorSession',
  'ecs:ListTasks', 'ecs:DescribeTasks',
  'logs:CreateLogStream', 'logs:PutLogEvents',
  'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes',
  'lambda:InvokeFunction', 'states:StartExecution', 'ssm:GetParameter',
  'cloudformation:DescribeStackResource', 'cloudformation:DescribeStacks',
]);
/** Actions IAM cannot scope to a resource; the only ones a function role may hold on Resource '*'. */
const UNSCOPABLE_ACTIONS = new Set(['ec2:DescribeTrafficMirrorSessions', 'ecs:ListTasks']);
/**
 * What the provider framework's waiter state machine needs to log (the policy the Step Functions
 * documentation gives; the log delivery actions support no resource-level permissions). Only the
 * waiter's role holds it.
 */
const STEP_FUNCTIONS_LOG_DELIVERY = [
  'logs:CreateLogDelivery', 'logs:CreateLogStream', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries', 'logs:PutLogEvents', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
];

/** The service a role trusts: `lambda.amazonaws.com` for function roles, `states.amazonaws.com` for the waiter's. */
function trustedService(role: any): string {
  return role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service;
}

// Every variant: each target kind and option set, plus an imported service, an
// environment-agnostic stack and two mirrors sharing a stack (and so one session manager).
const cases = VARIANTS.map(v => {
  const { stack } = v.build();
  const { resources, mirrors } = synthesized(stack);
  const own = {
    ...Object.fromEntries(Object.entries(resources).filter(([id]) => id.startsWith(SHARED))),
    ...Object.assign({}, ...mirrors.map(m => resourcesOf(m, resources))),
  };
  const policies = [...ofType(own, 'AWS::IAM::Policy'), ...ofType(own, 'AWS::IAM::ManagedPolicy')];
  const statements = policies.flatMap(([id, p]) => statementsOf(p).map(s => ({
    ...s,
    policy: id,
    role: p.Properties.Roles[0].Ref,
    service: trustedService(resources[p.Properties.Roles[0].Ref]),
  })));
  return [v.name, { resources, own, policies, statements, ownerIds: mirrors.map(m => m.ownerId).sort() }] as const;
});

/** An owner condition's values as a sorted list (one value renders as a string). */
const ownersIn = (condition: any, key: string) => [].concat(condition.StringEquals[`${key}/${OWNER_TAG_KEY}`]).sort();
/** The owner tags a condition names or, when it names none, the stack tag. */
const scopeOf = (condition: any, key: string): string[] => (condition.StringEquals[`${key}/${OWNER_TAG_KEY}`] !== undefined
  ? ownersIn(condition, key) : [].concat(condition.StringEquals[`${key}/${STACK_TAG_KEY}`]));

describe.each(cases)('IAM of %s', (_name, { resources, own, policies, statements, ownerIds }) => {
  test('grants only the actions the functions call: no service or global wildcards, no Deny tricks', () => {
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(s.NotAction).toBeUndefined();
      expect(s.NotResource).toBeUndefined();
      const allowed = s.service === 'states.amazonaws.com' ? new Set(['lambda:InvokeFunction', ...STEP_FUNCTIONS_LOG_DELIVERY]) : ALLOWED_ACTIONS;
      for (const action of s.Action) {
        expect(action).not.toContain('*');
        expect(allowed).toContain(action);
      }
    }
  });

  test("Resource '*' only on the Describe/List calls IAM cannot scope, and on the waiter's log delivery", () => {
    for (const s of statements.filter(st => st.Resource.some(isStar))) {
      expect(s.Resource).toEqual(['*']);
      if (s.service === 'states.amazonaws.com') {
        expect(s.Action).toEqual(STEP_FUNCTIONS_LOG_DELIVERY);
        continue;
      }
      expect(s.service).toBe('lambda.amazonaws.com');
      for (const action of s.Action) {
        expect(UNSCOPABLE_ACTIONS).toContain(action);
      }
    }
  });

  test('only the reconciler may modify sessions: those carrying this construct\'s owner tag, to its targets and filter', () => {
    const modifies = statements.filter(s => s.Action.includes('ec2:ModifyTrafficMirrorSession'));
    expect(modifies).toHaveLength(3);
    for (const s of modifies) {
      expect(s.Action).toEqual(['ec2:ModifyTrafficMirrorSession']);
      expect(s.role).toMatch(/ReconcilerRole/);
    }
    const [onSessions, onTargetAndFilter] = [modifies.filter(s => text(s.Resource).includes('traffic-mirror-session/')), modifies.filter(s => !text(s.Resource).includes('traffic-mirror-session/'))];
    // One scoped to the stack tag (constant, so it survives a mirror's removal), one to the owner
    // tags (sessions made before sessions carried the stack tag).
    expect(onSessions).toHaveLength(2);
    for (const s of onSessions) {
      expect(text(s.Resource)).toMatch(/^\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":ec2:.*:traffic-mirror-session\/\*"\]\]\}\]$/);
      expect(scopeOf(s.Condition, 'aws:ResourceTag')).toEqual(expect.arrayContaining([expect.anything()]));
    }
    expect(onSessions.map(s => scopeOf(s.Condition, 'aws:ResourceTag'))).toEqual(expect.arrayContaining([ownerIds, [expect.stringMatching(/^ftms-/)]]));
    // A resource tag condition would test the target's and filter's tags and never match.
    expect(onTargetAndFilter).toHaveLength(1);
    expect(onTargetAndFilter[0].Condition).toBeUndefined();
    // Every target of the stack's mirrors (one, or each of a pool or of every zone), and their filters.
    const modified: unknown[] = onTargetAndFilter[0].Resource;
    expect(modified.length).toBeGreaterThanOrEqual(2);
    for (const r of modified) expect(text(r)).toMatch(/traffic-mirror-(target\/(tmt-|",\{"Ref":)|filter\/(tmf-|",\{"Ref":))/);
    expect(modified.some(r => text(r).includes('traffic-mirror-target/'))).toBe(true);
    expect(modified.some(r => text(r).includes('traffic-mirror-filter/'))).toBe(true);
    // The same targets and filters as the create statement.
    const create = statements.find(s => s.Action.includes('ec2:CreateTrafficMirrorSession') && s.policy === onTargetAndFilter[0].policy
      && text(s.Resource[0]).includes('network-interface/*'))!;
    expect(create.Resource.slice(1)).toEqual(modified);
  });

  test('the waiter state machine may invoke only the provider framework\'s isComplete and onTimeout functions', () => {
    const waiter = statements.filter(s => s.service === 'states.amazonaws.com');
    const invokes = waiter.filter(s => s.Action.includes('lambda:InvokeFunction'));
    expect(invokes.map(s => s.Resource[0]['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/EnrollmentProviderframeworkisComplete[0-9A-F]{8}$/),
      expect.stringMatching(/EnrollmentProviderframeworkonTimeout[0-9A-F]{8}$/),
    ]);
    expect(waiter).toHaveLength(3);
  });

  test('delete only sessions carrying an owner tag of this stack\'s mirrors', () => {
    const deletes = statements.filter(s => s.Action.includes('ec2:DeleteTrafficMirrorSession'));
    expect(deletes.length).toBeGreaterThan(0);
    for (const s of deletes) {
      expect(s.Action).toEqual(['ec2:DeleteTrafficMirrorSession']);
      // The owner tags of the stack's mirrors, or the stack tag (constant for the stack).
      const scope = scopeOf(s.Condition, 'aws:ResourceTag');
      expect(scope.length === 1 && /^ftms-[0-9a-f]{24}$/.test(scope[0]) ? scope : ownerIds).toEqual(scope);
      expect(text(s.Resource)).toMatch(/^\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":ec2:.*:traffic-mirror-session\/\*"\]\]\}\]$/);
    }
  });

  test('create a session only with an owner tag of this stack\'s mirrors in the request, tag only while creating', () => {
    const creates = statements.filter(s => s.Action.includes('ec2:CreateTrafficMirrorSession'));
    const onSessions = creates.filter(s => text(s.Resource).includes('traffic-mirror-session/'));
    expect(onSessions.length).toBeGreaterThan(0);
    for (const s of onSessions) {
      expect(s.Resource).toHaveLength(1);
      expect(ownersIn(s.Condition, 'aws:RequestTag')).toEqual(ownerIds);
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
      expect(s.role).toMatch(/ReconcilerRole/);
    }
    const describe = ecsStatements.find(s => s.Action.includes('ecs:DescribeTasks'))!;
    expect(text(describe.Resource)).toMatch(/:task\/",(\{"Ref":"Cluster[0-9A-F]+"\}|")|:task\/prod\/\*/);
  });

  test('each function has a role of its own, with only this library\'s managed policies and nothing else using it', () => {
    const functions = ofType(own, 'AWS::Lambda::Function');
    // session manager, reconciler, and the provider framework's onEvent, isComplete and onTimeout
    expect(functions.length).toBe(5);
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
      // Its default policy (and the reconciler its invoke of itself, in a policy of its own), and
      // the managed policies of the mirrored services (the two session manager functions).
      const policyOfRole = policies.filter(([, p]) => text(p.Properties.Roles) === text([{ Ref: roleId }])).map(([id]) => id);
      const reconciler = /Reconciler/.test(fnId) && !/Provider/.test(fnId);
      expect(policyOfRole.filter(id => resources[id].Type === 'AWS::IAM::Policy')).toHaveLength(reconciler ? 2 : 1);
      expect(policyOfRole.filter(id => resources[id].Type === 'AWS::IAM::ManagedPolicy').length).toBe(/SessionManager|Reconciler/.test(fnId) && !/Provider/.test(fnId) ? 1 : 0);
      expect(referrersOf(resources, roleId).sort()).toEqual([fnId, ...policyOfRole].sort());
    }
  });

  test('logs are written only to the function\'s own log group', () => {
    const functionStatements = statements.filter(st => st.service === 'lambda.amazonaws.com');
    expect(functionStatements.filter(st => st.Action.some((a: string) => a.startsWith('logs:')))).toHaveLength(5);
    for (const s of functionStatements.filter(st => st.Action.some((a: string) => a.startsWith('logs:')))) {
      expect(s.Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(s.Resource).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/Logs[0-9A-F]{8}$/), 'Arn'] }]);
      const fn = ofType(own, 'AWS::Lambda::Function').find(([, f]) => text(f.Properties.Role).includes(s.policy.replace(/DefaultPolicy[0-9A-F]{8}$/, '')))!;
      expect(fn[1].Properties.LoggingConfig.LogGroup).toEqual({ Ref: s.Resource[0]['Fn::GetAtt'][0] });
    }
  });
});

describe.each(cases)('the reconciler and CloudFormation in %s', (_name, { own, statements }) => {
  const functions = ofType(own, 'AWS::Lambda::Function');
  const [reconcilerId, reconciler] = functions.find(([id]) => /Reconciler/.test(id) && !/Provider/.test(id))!;
  const roleOf = (fn: any) => fn.Properties.Role['Fn::GetAtt'][0];

  test('only the reconciler asks CloudFormation, only about its own stack, and only the two read calls', () => {
    const asking = statements.filter(st => st.Action.some((a: string) => a.startsWith('cloudformation:')));
    expect(asking).toHaveLength(1);
    expect(asking[0].role).toBe(roleOf(reconciler));
    expect(asking[0].Action.sort()).toEqual(['cloudformation:DescribeStackResource', 'cloudformation:DescribeStacks']);
    expect(asking[0].Resource).toEqual([{ Ref: 'AWS::StackId' }]);
    // The stack id it asks about is the deployment's, in its environment; the event function has none.
    expect(reconciler.Properties.Environment.Variables.MIRROR_STACK_ID).toEqual({ Ref: 'AWS::StackId' });
    for (const [id, fn] of functions.filter(([fid]) => fid !== reconcilerId)) {
      expect([id, fn.Properties.Environment?.Variables?.MIRROR_STACK_ID]).toEqual([id, undefined]);
    }
  });

  test('the reconciler may invoke itself (the next chunk of a sweep), unqualified, from a policy the function does not depend on', () => {
    const invokes = statements.filter(st => st.role === roleOf(reconciler) && st.Action.includes('lambda:InvokeFunction'));
    expect(invokes).toHaveLength(1);
    expect(invokes[0].Resource).toEqual([{ 'Fn::GetAtt': [reconcilerId, 'Arn'] }]);
    expect([].concat(reconciler.DependsOn ?? [])).not.toContain(invokes[0].policy);
    // Lambda's recursive loop detection counts direct invokes too and would drop the 17th chunk;
    // the chain bounds itself (MAX_SWEEP_CHUNKS). Every other function keeps the default, Terminate.
    expect(reconciler.Properties.RecursiveLoop).toBe('Allow');
    for (const [id, fn] of functions.filter(([fid]) => fid !== reconcilerId)) expect([id, fn.Properties.RecursiveLoop]).toEqual([id, undefined]);
  });
});
