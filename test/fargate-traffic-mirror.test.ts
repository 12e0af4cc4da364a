import { App, CfnParameter, Stack, aws_ec2 as ec2, aws_ecs as ecs, aws_logs as logs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { FargateTrafficMirror, MirrorFilter, MirrorTarget, TrafficDirection } from '../src';
import { serviceStack } from './support/service-stack';
import { SINGLETON_ID } from '../src/fleet/shared-session-manager';

/** Logical id prefixes of the stack's shared functions. */
const EVENT_FUNCTION = `${SINGLETON_ID}SessionManager`;
const RECONCILER = `${SINGLETON_ID}Reconciler`;
/** Logical id prefix of the shared task state queue. */
const TASK_STATE_QUEUE = `${SINGLETON_ID}TaskStateQueue`;

/** Every statement of a shared function's role: its default policy and the mirrored services' managed policies. */
function policyStatements(template: Template, functionPrefix = EVENT_FUNCTION): any[] {
  const functions = template.findResources('AWS::Lambda::Function');
  const fnId = Object.keys(functions).find(id => new RegExp(`^${functionPrefix}[0-9A-F]{8}$`).test(id));
  expect(fnId).toBeDefined();
  const roleId = functions[fnId!].Properties.Role['Fn::GetAtt'][0];
  const policies = [...Object.values(template.findResources('AWS::IAM::Policy')), ...Object.values(template.findResources('AWS::IAM::ManagedPolicy'))]
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
  return policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

/** The configuration a mirror's triggers carry: its enrollment's properties (the rule and schedule carry the same). */
function hasConfig(template: Template, config: object): void {
  template.hasResourceProperties('Custom::FargateTrafficMirrorEnrollment', config);
}

describe('FargateTrafficMirror', () => {
  test('NLB target: creates the target, a default accept-all filter, the rule and the function', () => {
    const { stack, service, nlb } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::EC2::TrafficMirrorTarget', {
      NetworkLoadBalancerArn: { Ref: Match.stringLikeRegexp('^Nlb') },
    });
    template.resourceCountIs('AWS::EC2::TrafficMirrorFilter', 1);
    template.resourceCountIs('AWS::EC2::TrafficMirrorFilterRule', 4);
    for (const direction of ['ingress', 'egress']) {
      for (const cidr of ['0.0.0.0/0', '::/0']) {
        template.hasResourceProperties('AWS::EC2::TrafficMirrorFilterRule', {
          TrafficDirection: direction,
          RuleAction: 'accept',
          SourceCidrBlock: cidr,
          DestinationCidrBlock: cidr,
          Protocol: Match.absent(),
        });
      }
    }
    expect(stack.resolve(mirror.trafficMirrorTargetId)).toEqual({ Ref: expect.stringMatching(/^MirrorTarget/) });
    expect(stack.resolve(mirror.trafficMirrorFilterId)).toEqual({ Ref: expect.stringMatching(/^MirrorFilter/) });
  });

  test('ENI target: creates the target from the interface id and warns about the 10-source limit', () => {
    const { stack, service } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkInterface('eni-0123456789abcdef0') });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::TrafficMirrorTarget', { NetworkInterfaceId: 'eni-0123456789abcdef0' });
    Annotations.fromStack(stack).hasWarning('/TestStack/Mirror', Match.stringLikeRegexp('at most 10 sources'));
  });

  test('GWLB endpoint target: creates the target from the endpoint id, no warning', () => {
    const { stack, service } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0') });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::TrafficMirrorTarget', { GatewayLoadBalancerEndpointId: 'vpce-0123456789abcdef0' });
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Mirror', Match.anyValue());
  });

  test('existing target and filter: creates neither, and points the function and IAM at them', () => {
    const { stack, service } = serviceStack();
    const filter = MirrorFilter.fromMirrorFilterId(stack, 'Filter', 'tmf-0123456789abcdef0');
    const mirror = new FargateTrafficMirror(stack, 'Mirror', {
      service, target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0'), filter,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::TrafficMirrorTarget', 0);
    template.resourceCountIs('AWS::EC2::TrafficMirrorFilter', 0);
    expect(mirror.trafficMirrorTargetId).toBe('tmt-0123456789abcdef0');
    expect(mirror.trafficMirrorFilterId).toBe('tmf-0123456789abcdef0');
    hasConfig(template, { MIRROR_TARGET_ID: 'tmt-0123456789abcdef0', MIRROR_FILTER_ID: 'tmf-0123456789abcdef0' });
    const create = policyStatements(template).find(s => s.Sid === 'CreateSessionFromTaskEniToTheseTargetsThroughTheseFilters');
    expect(JSON.stringify(create.Resource)).toContain('traffic-mirror-target/tmt-0123456789abcdef0');
    expect(JSON.stringify(create.Resource)).toContain('traffic-mirror-filter/tmf-0123456789abcdef0');
  });

  test('custom filter: uses its id and does not create the default one', () => {
    const { stack, service, nlb } = serviceStack();
    const filter = new MirrorFilter(stack, 'Custom', { rules: [{ direction: TrafficDirection.EGRESS, destinationCidr: '10.0.0.0/8' }] });
    const mirror = new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), filter });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::TrafficMirrorFilter', 1);
    template.resourceCountIs('AWS::EC2::TrafficMirrorFilterRule', 1);
    expect(stack.resolve(mirror.trafficMirrorFilterId)).toEqual({ Ref: expect.stringMatching(/^Custom/) });
  });

  test('event pattern matches only this cluster, this service and the three states acted on (PENDING: the ENI is attached)', () => {
    const { stack, service, nlb } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        $or: [{
          'source': ['aws.ecs'],
          'detail-type': ['ECS Task State Change'],
          'detail': {
            clusterArn: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] }],
            group: [{ 'Fn::Join': ['', ['service:', { 'Fn::GetAtt': [Match.stringLikeRegexp('^Service'), 'Name'] }]] }],
            lastStatus: ['PENDING', 'RUNNING', 'STOPPED'],
          },
        }, {
          // The service's switch: its changes start a sweep at once.
          'source': ['aws.ssm'],
          'detail-type': ['Parameter Store Change'],
          'detail': { name: [{ Ref: Match.stringLikeRegexp('^MirrorSwitch') }] },
        }],
      },
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${TASK_STATE_QUEUE}`), 'Arn'] },
        // The whole event, with the service's configuration.
        InputTransformer: { InputPathsMap: { f1: '$' }, InputTemplate: Match.anyValue() },
      })],
    });
    // Nothing beside the $or: EventBridge would require it to match too, and no switch change would.
    const [rule] = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')) as any[];
    expect(Object.keys(rule.Properties.EventPattern)).toEqual(['$or']);
  });

  test('the configuration parameter and the enrollment hold the session settings; triggers name only the owner id; the shared functions none', () => {
    const { stack, service, nlb } = serviceStack();
    const mirror = new FargateTrafficMirror(stack, 'Mirror', {
      service,
      target: MirrorTarget.networkLoadBalancer(nlb),
      sessionNumber: 7,
      packetLength: 128,
      virtualNetworkId: 4242,
      description: 'ids feed',
    });
    expect(mirror.ownerId).toMatch(/^ftm-[0-9a-f]{24}$/);
    const template = Template.fromStack(stack);
    const config = {
      MIRROR_OWNER_ID: mirror.ownerId,
      MIRROR_CLUSTER_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] },
      MIRROR_SERVICE_NAME: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Service'), 'Name'] },
      MIRROR_TARGET_ID: { Ref: Match.stringLikeRegexp('^MirrorTarget') },
      MIRROR_FILTER_ID: { Ref: Match.stringLikeRegexp('^MirrorFilter') },
      MIRROR_SESSION_NUMBER: '7',
      MIRROR_PACKET_LENGTH: '128',
      MIRROR_VIRTUAL_NETWORK_ID: '4242',
      MIRROR_DESCRIPTION: 'ids feed',
      MIRROR_ACCOUNT: '123456789012',
      MIRROR_REGION: 'us-east-1',
      MIRROR_SWITCH_PARAMETER: { Ref: Match.stringLikeRegexp('^MirrorSwitch') },
    };
    hasConfig(template, { ServiceToken: Match.anyValue(), ...config });
    // The configuration parameter holds the same configuration, as JSON; the schedule names the service.
    const [parameter] = Object.values(template.findResources('AWS::SSM::Parameter')).filter((p: any) => /\/config\//.test(p.Properties.Name)) as any[];
    expect(JSON.stringify(parameter.Properties.Value)).toContain(`MIRROR_OWNER_ID\\":\\"${mirror.ownerId}`);
    expect(JSON.stringify(parameter.Properties.Value)).toContain('MIRROR_DESCRIPTION\\":\\"ids feed');
    const [schedule] = Object.values(template.findResources('AWS::Scheduler::Schedule')) as any[];
    expect(JSON.parse(schedule.Properties.Target.Input)).toEqual({ service: mirror.ownerId, sweep: true });
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as any[]) {
      expect(Object.keys(fn.Properties.Environment?.Variables ?? {}).filter(k => k.startsWith('MIRROR_') && !/QUEUE_URL|RECONCILER_FUNCTION|STACK_TAG|STACK_ID|CONFIG_PREFIX/.test(k))).toEqual([]);
    }
  });

  test('defaults leave packet length and VNI to AWS and keep logs for a month', () => {
    const { stack, service, nlb } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
    const template = Template.fromStack(stack);
    hasConfig(template, { MIRROR_SESSION_NUMBER: '1', MIRROR_PACKET_LENGTH: Match.absent(), MIRROR_VIRTUAL_NETWORK_ID: Match.absent() });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('logRetention is configurable', () => {
    const { stack, service, nlb } = serviceStack();
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), logRetention: logs.RetentionDays.ONE_YEAR });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('owner id is stable for the same stack and path, and differs between instances', () => {
    const a = serviceStack();
    const b = serviceStack();
    const m1 = new FargateTrafficMirror(a.stack, 'Mirror', { service: a.service, target: MirrorTarget.networkLoadBalancer(a.nlb) });
    const m2 = new FargateTrafficMirror(b.stack, 'Mirror', { service: b.service, target: MirrorTarget.networkLoadBalancer(b.nlb) });
    const m3 = new FargateTrafficMirror(b.stack, 'Mirror2', { service: b.service, target: MirrorTarget.networkLoadBalancer(b.nlb) });
    expect(m1.ownerId).toBe(m2.ownerId);
    expect(m3.ownerId).not.toBe(m2.ownerId);
  });

  test('imported service: the rule and environment use the imported cluster and name', () => {
    const app = new App();
    const stack = new Stack(app, 'Imported', { env: { account: '123456789012', region: 'us-east-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'] });
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
    const service = ecs.FargateService.fromFargateServiceAttributes(stack, 'Service', { cluster, serviceName: 'web' });
    new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0') });
    const template = Template.fromStack(stack);
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')) as any[];
    expect(rule.Properties.EventPattern.$or[0].detail).toMatchObject({
      clusterArn: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:cluster/prod']] }],
      group: ['service:web'],
    });
    hasConfig(template, { MIRROR_SERVICE_NAME: 'web' });
  });

  test('imported service without a cluster fails at synth', () => {
    const app = new App();
    const stack = new Stack(app, 'NoCluster');
    const service = { serviceName: 'web', serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/web', cluster: undefined } as unknown as ecs.IBaseService;
    expect(() => new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0') }))
      .toThrow(/service must have a known cluster/);
  });

  describe('IAM', () => {
    test('grants only the session calls, scoped to target, filter and owner tag', () => {
      const { stack, service, nlb } = serviceStack();
      const mirror = new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
      const statements = policyStatements(Template.fromStack(stack));
      const actions = statements.flatMap(s => [].concat(s.Action));
      expect(actions.sort()).toEqual([
        'ec2:CreateTags', 'ec2:CreateTrafficMirrorSession', 'ec2:CreateTrafficMirrorSession',
        'ec2:DeleteTrafficMirrorSession', 'ec2:DeleteTrafficMirrorSession', 'ec2:DescribeTrafficMirrorSessions',
        // starting a sweep when a switch flips
        'lambda:InvokeFunction',
        // writing its own log group (instead of the managed AWSLambdaBasicExecutionRole)
        'logs:CreateLogStream', 'logs:PutLogEvents',
        // reading its own queue
        'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage',
        // reading the services' switches
        'ssm:GetParameter', 'ssm:GetParameter',
      ]);
      for (const s of statements) {
        expect(s.Effect).toBe('Allow');
        if (s.Resource === '*') {
          expect([].concat(s.Action).every((a: string) => /^ec2:Describe/.test(a))).toBe(true);
        }
      }
      const bySid = Object.fromEntries(statements.map(s => [s.Sid, s]));
      const stackTag = expect.stringMatching(/^ftms-[0-9a-f]{24}$/);
      expect(bySid.CreateOnlySessionsTaggedWithTheseOwners.Condition).toEqual({
        StringEquals: { 'aws:RequestTag/fargate-traffic-mirror:stack': stackTag, 'aws:RequestTag/fargate-traffic-mirror:owner': [mirror.ownerId] },
      });
      // Survives the update that removes a mirror: the stack tag is constant (test/fleet/mirror-removal.test.ts).
      expect(bySid.DeleteOnlySessionsOfThisStack.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/fargate-traffic-mirror:stack': stackTag } });
      expect(JSON.stringify(bySid.CreateOnlySessionsTaggedWithTheseOwners.Resource)).toContain('traffic-mirror-session/*');
      expect(bySid.TagSessionsOnlyWhileCreatingThem.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': 'CreateTrafficMirrorSession' } });
      expect(bySid.DeleteOnlySessionsTheseOwnersCreated.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/fargate-traffic-mirror:owner': [mirror.ownerId] },
      });
      const scoped = JSON.stringify(bySid.CreateSessionFromTaskEniToTheseTargetsThroughTheseFilters.Resource);
      expect(scoped).toContain('network-interface/*');
      expect(scoped).toMatch(/traffic-mirror-target\/",\{"Ref":"MirrorTarget/);
      expect(scoped).toMatch(/traffic-mirror-filter\/",\{"Ref":"MirrorFilter/);
    });

    test('the reconciler may also list and describe tasks, of this cluster only, and read the event queue\'s depth', () => {
      const { stack, service, nlb } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
      const statements = policyStatements(Template.fromStack(stack), RECONCILER);
      const actions = statements.flatMap(s => [].concat(s.Action)).sort();
      expect(actions).toEqual([
        // Before a Delete removes sessions, and before a flip's sweep starts its next chunk.
        'cloudformation:DescribeStackResource', 'cloudformation:DescribeStacks',
        'ec2:CreateTags', 'ec2:CreateTrafficMirrorSession', 'ec2:CreateTrafficMirrorSession',
        'ec2:DeleteTrafficMirrorSession', 'ec2:DeleteTrafficMirrorSession', 'ec2:DescribeTrafficMirrorSessions',
        'ec2:ModifyTrafficMirrorSession', 'ec2:ModifyTrafficMirrorSession', 'ec2:ModifyTrafficMirrorSession',
        'ecs:DescribeTasks', 'ecs:ListTasks',
        // The next chunk of a flip's sweep, on itself.
        'lambda:InvokeFunction',
        'logs:CreateLogStream', 'logs:PutLogEvents',
        'sqs:GetQueueAttributes',
        'ssm:GetParameter', 'ssm:GetParameter',
      ]);
      const queueStatement = statements.find(s => [].concat(s.Action).includes('sqs:GetQueueAttributes' as never));
      expect(queueStatement.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${TASK_STATE_QUEUE}`)), 'Arn'] });
      const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
      const envOf = (prefix: string) => Object.entries(functions).find(([id]) => id.startsWith(prefix))![1].Properties.Environment.Variables;
      expect(envOf(RECONCILER).MIRROR_EVENT_QUEUE_URL).toEqual({ Ref: expect.stringMatching(new RegExp(`^${TASK_STATE_QUEUE}`)) });
      // The event path checks the receipt handles of the records it is handed against its queue.
      expect(envOf(EVENT_FUNCTION).MIRROR_EVENT_QUEUE_URL).toEqual({ Ref: expect.stringMatching(new RegExp(`^${TASK_STATE_QUEUE}`)) });
      const clusterArn = [{ 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'Arn'] }];
      const bySid = Object.fromEntries(statements.map(s => [s.Sid, s]));
      expect(bySid.ListTasksOfTheseClustersOnly).toMatchObject({ Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': clusterArn } } });
      expect(bySid.DescribeTasksOfTheseClustersOnly.Condition).toEqual({ ArnEquals: { 'ecs:cluster': clusterArn } });
      expect(JSON.stringify(bySid.DescribeTasksOfTheseClustersOnly.Resource)).toMatch(/:task\/",\{"Ref":"Cluster[0-9A-F]+"\},"\/\*"/);
      for (const s of statements) {
        if (s.Resource === '*') {
          expect([].concat(s.Action).every((a: string) => /^(ec2:Describe|ecs:List)/.test(a))).toBe(true);
        }
      }
    });
  });

  describe('ModifyTrafficMirrorSession', () => {
    test('the reconciler may modify owned sessions, and point them only at this target and filter', () => {
      const { stack, service, nlb } = serviceStack();
      const mirror = new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
      const statements = policyStatements(Template.fromStack(stack), RECONCILER);
      const bySid = Object.fromEntries(statements.map(s => [s.Sid, s]));
      expect(bySid.ModifyOnlySessionsTheseOwnersCreated).toEqual({
        Sid: 'ModifyOnlySessionsTheseOwnersCreated',
        Effect: 'Allow',
        Action: 'ec2:ModifyTrafficMirrorSession',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:traffic-mirror-session/*']] },
        Condition: { StringEquals: { 'aws:ResourceTag/fargate-traffic-mirror:owner': [mirror.ownerId] } },
      });
      // Its own statement: an owner tag condition would test the target's and filter's tags.
      expect(bySid.ModifySessionsOnlyToTheseTargetsAndFilters).toEqual({
        Sid: 'ModifySessionsOnlyToTheseTargetsAndFilters',
        Effect: 'Allow',
        Action: 'ec2:ModifyTrafficMirrorSession',
        Resource: [
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:traffic-mirror-target/', { Ref: expect.stringMatching(/^MirrorTarget/) }]] },
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:traffic-mirror-filter/', { Ref: expect.stringMatching(/^MirrorFilter/) }]] },
        ],
      });
    });

    test('the session manager may not: the event path never rewrites an existing session', () => {
      const { stack, service, nlb } = serviceStack();
      new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
      const template = Template.fromStack(stack);
      expect(policyStatements(template).flatMap(s => [].concat(s.Action))).not.toContain('ec2:ModifyTrafficMirrorSession');
      expect(policyStatements(template, RECONCILER).flatMap(s => [].concat(s.Action))).toContain('ec2:ModifyTrafficMirrorSession');
    });
  });

  describe('targets shared through AWS RAM', () => {
    /** The target ARN of the create statement and of the modify statement, per function. */
    function targetArns(build: (s: ReturnType<typeof serviceStack>) => MirrorTarget, options: { env?: undefined } = {}) {
      const built = 'env' in options ? serviceStack({ env: undefined }) : serviceStack();
      new FargateTrafficMirror(built.stack, 'Mirror', { service: built.service, target: build(built) });
      const template = Template.fromStack(built.stack);
      const targetOf = (resources: any[]) => resources.find((r: any) => JSON.stringify(r).includes('traffic-mirror-target/'));
      const filterOf = (resources: any[]) => resources.find((r: any) => JSON.stringify(r).includes('traffic-mirror-filter/'));
      const result: Record<string, unknown> = {};
      for (const [fn, prefix] of [['MirrorSessionManager', EVENT_FUNCTION], ['MirrorReconciler', RECONCILER]]) {
        const bySid = Object.fromEntries(policyStatements(template, prefix).map(s => [s.Sid, s]));
        result[`${fn} create target`] = targetOf(bySid.CreateSessionFromTaskEniToTheseTargetsThroughTheseFilters.Resource);
        result[`${fn} create filter`] = filterOf(bySid.CreateSessionFromTaskEniToTheseTargetsThroughTheseFilters.Resource);
        if (bySid.ModifySessionsOnlyToTheseTargetsAndFilters) {
          result[`${fn} modify target`] = targetOf(bySid.ModifySessionsOnlyToTheseTargetsAndFilters.Resource);
          result[`${fn} modify filter`] = filterOf(bySid.ModifySessionsOnlyToTheseTargetsAndFilters.Resource);
        }
      }
      return result;
    }
    const arn = (account: unknown, resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ec2:us-east-1:${account}:${resource}`]] });
    const ownFilter = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:traffic-mirror-filter/', { Ref: expect.stringMatching(/^MirrorFilter/) }]] };

    test('ownerAccount puts the owner\'s account in the target ARN of create and modify; the filter stays in this account', () => {
      const arns = targetArns(() => MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount: '210987654321' }));
      const target = arn('210987654321', 'traffic-mirror-target/tmt-0123456789abcdef0');
      expect(arns).toEqual({
        'MirrorSessionManager create target': target,
        'MirrorSessionManager create filter': ownFilter,
        'MirrorReconciler create target': target,
        'MirrorReconciler create filter': ownFilter,
        'MirrorReconciler modify target': target,
        'MirrorReconciler modify filter': ownFilter,
      });
    });

    test('without ownerAccount an imported target may belong to any account: its id still pins it', () => {
      const arns = targetArns(() => MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0'));
      const target = arn('*', 'traffic-mirror-target/tmt-0123456789abcdef0');
      expect(arns).toMatchObject({
        'MirrorSessionManager create target': target,
        'MirrorReconciler create target': target,
        'MirrorReconciler modify target': target,
      });
    });

    test.each([
      ['NLB', (s: ReturnType<typeof serviceStack>) => MirrorTarget.networkLoadBalancer(s.nlb)],
      ['ENI', () => MirrorTarget.networkInterface('eni-0123456789abcdef0')],
      ['GWLB endpoint', () => MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0')],
    ])('a target the construct creates (%s) keeps the stack\'s account', (_kind, build) => {
      const target = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:traffic-mirror-target/', { Ref: expect.stringMatching(/^MirrorTarget/) }]] };
      expect(targetArns(build)).toMatchObject({
        'MirrorSessionManager create target': target,
        'MirrorReconciler create target': target,
        'MirrorReconciler modify target': target,
      });
    });

    test('in an environment-agnostic stack a created target uses the deploying account', () => {
      const arns = targetArns(s => MirrorTarget.networkLoadBalancer(s.nlb), { env: undefined });
      expect(JSON.stringify(arns['MirrorReconciler modify target'])).toMatch(/\{"Ref":"AWS::AccountId"\},":traffic-mirror-target\/"/);
    });
  });

  describe('validation', () => {
    const cases: Array<[string, object, RegExp]> = [
      ['session number 0', { sessionNumber: 0 }, /sessionNumber must be an integer between 1 and 32766, got 0/],
      ['session number 32767', { sessionNumber: 32767 }, /sessionNumber must be an integer between 1 and 32766, got 32767/],
      ['fractional session number', { sessionNumber: 1.5 }, /sessionNumber must be an integer between 1 and 32766, got 1.5/],
      ['VNI below 0', { virtualNetworkId: -1 }, /virtualNetworkId must be an integer between 0 and 16777215, got -1/],
      ['VNI above 24 bits', { virtualNetworkId: 16777216 }, /virtualNetworkId must be an integer between 0 and 16777215, got 16777216/],
      ['packet length 0', { packetLength: 0 }, /packetLength must be an integer between 1 and 8500 for a Network Load Balancer target, got 0/],
      ['packet length above the NLB limit', { packetLength: 8501 }, /packetLength must be an integer between 1 and 8500 for a Network Load Balancer target, got 8501/],
    ];
    test.each(cases)('%s fails at synth', (_name, props, message) => {
      const { stack, service, nlb } = serviceStack();
      expect(() => new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb), ...props }))
        .toThrow(message);
    });

    test('packet length above 8500 is fine for a non-NLB target', () => {
      const { stack, service } = serviceStack();
      expect(() => new FargateTrafficMirror(stack, 'Mirror', {
        service, target: MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0'), packetLength: 9001,
      })).not.toThrow();
      expect(() => new FargateTrafficMirror(stack, 'Mirror2', {
        service, target: MirrorTarget.gatewayLoadBalancerEndpoint('vpce-0123456789abcdef0'), packetLength: 65536,
      })).toThrow(/packetLength must be an integer between 1 and 65535, got 65536/);
    });

    test('unresolved tokens are not validated', () => {
      const { stack, service, nlb } = serviceStack();
      const n = new CfnParameter(stack, 'N', { type: 'Number' }).valueAsNumber;
      expect(() => new FargateTrafficMirror(stack, 'Mirror', {
        service, target: MirrorTarget.networkLoadBalancer(nlb), sessionNumber: n, packetLength: n, virtualNetworkId: n,
      })).not.toThrow();
    });
  });
});
