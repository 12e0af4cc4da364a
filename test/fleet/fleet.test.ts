import { App, Stack, aws_ec2 as ec2, aws_ecs as ecs, aws_iam as iam, aws_logs as logs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FargateTrafficMirror, MirrorFilter, MirrorTarget } from '../../src';
import { MAX_SERVICES_PER_STACK, MAX_TARGETS_PER_SERVICE, SERVICES_PER_POLICY } from '../../src/fleet/service-policies';
import { MANAGED_POLICY_LIMIT, fleetTemplateFigures } from '../sim/fleet-stack';

/** A stack of `count` imported services mirrored to one existing target through one existing filter. */
function fleet(count: number, props: Partial<ConstructorParameters<typeof FargateTrafficMirror>[2]> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'] });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  const target = MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount: '123456789012' });
  const filter = MirrorFilter.fromMirrorFilterId(stack, 'Filter', 'tmf-0123456789abcdef0');
  const mirrors = Array.from({ length: count }, (_, i) => new FargateTrafficMirror(stack, `Mirror${i}`, {
    service: ecs.FargateService.fromFargateServiceAttributes(stack, `Service${i}`, { cluster, serviceName: `svc-${i}` }),
    target,
    filter,
    ...props,
  }));
  return { stack, mirrors };
}

const resourceCount = (stack: Stack) => Object.keys(Template.fromStack(stack).toJSON().Resources).length;

describe('one session manager per stack', () => {
  test('mirrors of one stack share the functions, queues and provider', () => {
    const { stack, mirrors } = fleet(3);
    const template = Template.fromStack(stack);
    // session manager, reconciler, and the provider framework's three functions
    template.resourceCountIs('AWS::Lambda::Function', 5);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    // Each mirror has its own rule, schedule, enrollment and switch.
    template.resourceCountIs('AWS::Events::Rule', 3);
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    template.resourceCountIs('Custom::FargateTrafficMirrorEnrollment', 3);
    // Its switch and its configuration.
    template.resourceCountIs('AWS::SSM::Parameter', 6);
    expect(new Set(mirrors.map(m => m.sessionManager))).toEqual(new Set([mirrors[0].sessionManager]));
    expect(new Set(mirrors.map(m => m.ownerId)).size).toBe(3);
    // One statement per queue admits every mirror's rule: SQS takes at most 20 per queue policy.
    const rules = Object.keys(template.findResources('AWS::Events::Rule')).sort();
    for (const policy of Object.values(template.findResources('AWS::SQS::QueuePolicy')) as any[]) {
      const allows = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Effect === 'Allow');
      expect(allows).toHaveLength(1);
      expect(allows[0].Principal).toEqual({ Service: 'events.amazonaws.com' });
      const [deny] = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Sid === 'OnlyTheMirroredServicesRulesMaySend');
      expect(deny.Condition.ArnNotEquals['aws:SourceArn'].map((a: any) => a['Fn::GetAtt'][0]).sort()).toEqual(rules);
    }
    // The shared queue's event source starts only after every enrollment.
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    expect(mapping.DependsOn).toEqual(expect.arrayContaining(Object.keys(template.findResources('Custom::FargateTrafficMirrorEnrollment'))));
  });

  // The measure: an imported service sharing an existing target and filter.
  test('each further mirrored service adds at most 5 resources (rule, schedule, enrollment, switch, configuration), and 50 stay far within 500', () => {
    const one = resourceCount(fleet(1).stack);
    const two = resourceCount(fleet(2).stack);
    const fifty = resourceCount(fleet(50).stack);
    expect(two - one).toBeLessThanOrEqual(5);
    // Every SERVICES_PER_POLICY services, each shared function's role takes one more managed policy.
    expect(fifty - one).toBeLessThanOrEqual(49 * 5 + 2 * Math.ceil(50 / SERVICES_PER_POLICY));
    expect(fifty).toBeLessThan(500);
  });

  // A managed policy holds at most 6,144 characters (IAM quotas); each target is listed twice.
  test.each([
    [1, MAX_TARGETS_PER_SERVICE],
    [3, MAX_TARGETS_PER_SERVICE],
    [8, 5],
    [50, 1],
  ])('%s services of %s targets each: every managed policy stays within IAM\'s 6,144 characters', (services, targets) => {
    const figures = fleetTemplateFigures(services, true, targets);
    expect(figures.largestManagedPolicyChars).toBeLessThanOrEqual(MANAGED_POLICY_LIMIT);
  });

  test('the services\' IAM goes into managed policies of a few services each, within IAM\'s 6,144 characters', () => {
    const { stack, mirrors } = fleet(SERVICES_PER_POLICY + 1);
    const template = Template.fromStack(stack);
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as any[];
    // Two per function (the session manager's and the reconciler's): the eighth service starts a second.
    expect(policies).toHaveLength(4);
    for (const policy of policies) {
      // Tokens render longer than the ARNs they stand for, so this bounds the real size from above.
      expect(JSON.stringify(policy.Properties.PolicyDocument).length).toBeLessThan(6144);
    }
    const owners = policies.flatMap(p => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => st.Sid === 'DeleteOnlySessionsTheseOwnersCreated')
      .flatMap((st: any) => [].concat(st.Condition.StringEquals['aws:ResourceTag/fargate-traffic-mirror:owner']));
    // Each service's owner id once per function.
    expect(owners.sort()).toEqual([...mirrors, ...mirrors].map(m => m.ownerId).sort());
  });

  test(`more than ${MAX_SERVICES_PER_STACK} services fail at synth with the reason`, () => {
    expect(() => fleet(MAX_SERVICES_PER_STACK + 1)).toThrow(/A stack can mirror at most 50 services/);
  });

  test('settings the functions share must agree', () => {
    const { stack } = fleet(1);
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Other', { clusterName: 'other', vpc: ec2.Vpc.fromVpcAttributes(stack, 'V2', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a'] }) });
    const service = ecs.FargateService.fromFargateServiceAttributes(stack, 'OtherService', { cluster, serviceName: 'x' });
    expect(() => new FargateTrafficMirror(stack, 'Late', {
      service, target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0'), logRetention: logs.RetentionDays.ONE_YEAR,
    })).toThrow(/logRetention must be the same for every FargateTrafficMirror of a stack/);
  });
});

describe('sampling', () => {
  test.each([0, -0.5, 1.5, Number.NaN])('sampling %s fails at synth', sampling => {
    expect(() => fleet(1, { sampling })).toThrow(/sampling must be greater than 0 and at most 1/);
  });

  test('travels with the configuration', () => {
    Template.fromStack(fleet(1, { sampling: 0.1 }).stack).hasResourceProperties('Custom::FargateTrafficMirrorEnrollment', { MIRROR_SAMPLING: '0.1' });
  });
});

describe('the switch', () => {
  test('an SSM parameter per service, on unless told otherwise; its changes reach the queue through the service\'s rule', () => {
    const { stack, mirrors } = fleet(1);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Value: 'on' });
    expect(stack.resolve(mirrors[0].switchParameter.parameterName)).toEqual({ Ref: expect.stringMatching(/^Mirror0Switch/) });
    Template.fromStack(fleet(1, { initialSwitch: 'on until 2026-12-31T00:00:00Z' }).stack)
      .hasResourceProperties('AWS::SSM::Parameter', { Value: 'on until 2026-12-31T00:00:00Z' });
  });

  test.each(['maybe', 'on until tomorrow', ''])('initialSwitch %j fails at synth', initialSwitch => {
    expect(() => fleet(1, { initialSwitch })).toThrow(/initialSwitch must be 'on', 'off' or 'on until <ISO 8601 time>'/);
  });

  test('grantSwitch lets automation read and write this service\'s switch only', () => {
    const { stack, mirrors } = fleet(2);
    const role = new iam.Role(stack, 'Runbook', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    mirrors[1].grantSwitch(role);
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: any) => /^Runbook/.test(r.Ref))) as any[];
    const statements = policies.flatMap(p => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((st: any) => [].concat(st.Action)).sort();
    expect(actions).toEqual(expect.arrayContaining(['ssm:GetParameter', 'ssm:PutParameter']));
    const text = JSON.stringify(statements);
    expect(text).toContain('Mirror1Switch');
    expect(text).not.toContain('Mirror0Switch');
  });
});
