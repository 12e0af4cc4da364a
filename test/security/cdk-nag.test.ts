import { Aspects, CfnResource, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { FargateTrafficMirror, MirrorFilter, MirrorReceiver, MirrorTarget } from '../../src';
import { SINGLETON_ID, SharedSessionManager } from '../../src/fleet/shared-session-manager';
import { serviceStack } from '../support/service-stack';
import { RECEIVER_VARIANTS, SIDECAR_VARIANTS, VARIANTS } from '../support/variants';

/** Paths of the constructs this library creates (the mirror and any MirrorFilter), as annotations name them. */
function libraryPaths(stack: Stack): string[] {
  return stack.node.findAll()
    .filter(c => c instanceof FargateTrafficMirror || c instanceof MirrorFilter || c instanceof SharedSessionManager || c instanceof MirrorReceiver)
    .map(c => `/${c.node.path}`);
}

function nagFindings(stack: Stack): Array<{ path: string; level: string; message: string }> {
  const annotations = Annotations.fromStack(stack);
  // CdkNagValidationFailure: a rule that could not evaluate a resource, which would hide a finding.
  const pattern = Match.stringLikeRegexp('^(AwsSolutions-|CdkNagValidationFailure)');
  return [
    ...annotations.findError('*', pattern).map(m => ({ path: m.id, level: 'error', message: String(m.entry.data) })),
    ...annotations.findWarning('*', pattern).map(m => ({ path: m.id, level: 'warning', message: String(m.entry.data) })),
  ];
}

function nagged<T extends { stack: Stack }>(built: T): T {
  Aspects.of(built.stack).add(new AwsSolutionsChecks());
  return built;
}

describe('cdk-nag AwsSolutions', () => {
  test.each([...VARIANTS, ...SIDECAR_VARIANTS, ...RECEIVER_VARIANTS].map(v => [v.name, v] as const))('%s: no unsuppressed finding on any resource the library creates', (_name, variant) => {
    const { stack } = nagged(variant.build());
    const ours = libraryPaths(stack);
    expect(ours.length).toBeGreaterThan(0);
    const findings = nagFindings(stack).filter(f => ours.some(p => f.path === p || f.path.startsWith(`${p}/`)));
    expect(findings).toEqual([]);
  });

  test('the pack really runs on these stacks: the test fixture\'s own VPC, which the library does not own, is reported', () => {
    const { stack } = nagged(VARIANTS[0].build());
    expect(nagFindings(stack)).toContainEqual(expect.objectContaining({ path: '/TestStack/Vpc/Resource', message: expect.stringMatching(/^AwsSolutions-VPC7/) }));
  });

  /** The stack's shared session manager. */
  const shared = (stack: Stack) => stack.node.findChild(SINGLETON_ID);
  /** The IAM managed policy of the shared function `role` ('SessionManager' or 'Reconciler') for the first mirrored services. */
  const servicePolicy = (stack: Stack, role: string) => shared(stack).node.findChild(`${role}Policies`).node.findChild('Services1');

  /** The findings on `mirror` and the shared session manager once every suppression the library wrote is removed. */
  function unsuppressedFindings(built: ReturnType<typeof serviceStack>, mirror: FargateTrafficMirror) {
    for (const c of [...mirror.node.findAll(), ...shared(built.stack).node.findAll()]) {
      if (c instanceof CfnResource && c.getMetadata('cdk_nag')) {
        c.addMetadata('cdk_nag', { rules_to_suppress: [] });
      }
    }
    return nagFindings(nagged(built).stack).filter(f => f.path.startsWith(`/TestStack/${mirror.node.id}/`) || f.path.startsWith(`/TestStack/${SINGLETON_ID}/`));
  }

  test('the suppressions are what keeps IAM5 quiet: stripping them brings every wildcard back', () => {
    const built = serviceStack();
    const mirror = new FargateTrafficMirror(built.stack, 'Mirror', { service: built.service, target: MirrorTarget.networkLoadBalancer(built.nlb) });
    const found = unsuppressedFindings(built, mirror).map(f => f.message);
    /** IAM5 on `<...Arn>:*` (every version) of the shared function whose logical id is the shared prefix, `fn` and a hash. */
    const versionsOf = (fn: string) => new RegExp(`^AwsSolutions-IAM5\\[Resource::<${SINGLETON_ID}${fn}[0-9A-F]+\\.Arn>:\\*\\]`);
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ec2:us-east-1:123456789012:network-interface\/\*\]/),
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ec2:us-east-1:123456789012:traffic-mirror-session\/\*\]/),
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::\*\]/),
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ecs:us-east-1:123456789012:task\/<Cluster[0-9A-F]+>\/\*\]/),
      expect.stringMatching(versionsOf('Reconciler')),
      expect.stringMatching(versionsOf('EnrollmentProviderframeworkisComplete')),
      expect.stringMatching(versionsOf('EnrollmentProviderframeworkonTimeout')),
      expect.stringMatching(/^AwsSolutions-SF2:/),
    ]));
    // The reconciler's versions: for each of the framework's three functions, the session manager and the scheduler.
    expect(found.filter(m => versionsOf('Reconciler').test(m))).toHaveLength(5);
  });

  test('a target imported without its owner account is reported for its account wildcard, and suppressed for exactly that', () => {
    const built = serviceStack();
    const mirror = new FargateTrafficMirror(built.stack, 'Mirror', { service: built.service, target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0') });
    const accountWildcard = /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ec2:us-east-1:\*:traffic-mirror-target\/tmt-0123456789abcdef0\]/;
    const rules = (servicePolicy(built.stack, 'Reconciler').node.defaultChild as CfnResource).getMetadata('cdk_nag').rules_to_suppress;
    expect(rules).toContainEqual(expect.objectContaining({
      id: 'AwsSolutions-IAM5',
      applies_to: [{ regex: '/^Resource::arn:<AWS::Partition>:ec2:(<AWS::Region>|[a-z0-9-]+):\\*:traffic-mirror-target\\/[^*]+$/' }],
    }));
    // Create (both functions) and modify (the reconciler) name the target.
    const found = unsuppressedFindings(built, mirror).filter(f => accountWildcard.test(f.message));
    expect(found.map(f => f.path).sort()).toEqual([
      `/TestStack/${SINGLETON_ID}/ReconcilerPolicies/Services1/Resource`,
      `/TestStack/${SINGLETON_ID}/SessionManagerPolicies/Services1/Resource`,
    ]);
  });

  test('a target with its owner account gets no account wildcard and no suppression for one', () => {
    const built = serviceStack();
    const mirror = new FargateTrafficMirror(built.stack, 'Mirror', {
      service: built.service, target: MirrorTarget.fromTrafficMirrorTargetId('tmt-0123456789abcdef0', { ownerAccount: '210987654321' }),
    });
    const rules = (servicePolicy(built.stack, 'Reconciler').node.defaultChild as CfnResource).getMetadata('cdk_nag').rules_to_suppress;
    expect(JSON.stringify(rules)).not.toContain('traffic-mirror-target');
    expect(unsuppressedFindings(built, mirror).filter(f => f.message.includes('traffic-mirror-target'))).toEqual([]);
  });

  test('a wildcard the construct did not justify is still reported', () => {
    const built = serviceStack();
    const mirror = new FargateTrafficMirror(built.stack, 'Mirror', { service: built.service, target: MirrorTarget.networkLoadBalancer(built.nlb) });
    // A user (or a future change) widens the function's policy: the suppressions must not hide it.
    mirror.sessionManager.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DeleteTrafficMirrorSession'], resources: ['arn:aws:ec2:us-east-1:123456789012:*'] }));
    const findings = nagFindings(nagged(built).stack);
    expect(findings).toContainEqual(expect.objectContaining({
      path: `/TestStack/${SINGLETON_ID}/SessionManagerRole/DefaultPolicy/Resource`,
      message: expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:aws:ec2:us-east-1:123456789012:\*\]/),
    }));
  });

  test('every suppression is narrow and explained: IAM5 names its findings, every reason is a sentence', () => {
    for (const variant of VARIANTS) {
      const template = Template.fromStack(variant.build().stack).toJSON();
      for (const [id, resource] of Object.entries<any>(template.Resources)) {
        for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
          expect({ id, rule: rule.id, reasonLength: rule.reason.length >= 60 }).toEqual({ id, rule: rule.id, reasonLength: true });
          if (rule.id === 'AwsSolutions-SF2') {
            // The one whole rule suppressed (it has no granular findings): X-Ray on the provider's waiter.
            expect({ id, type: resource.Type }).toEqual({ id: expect.stringMatching(/EnrollmentProviderwaiterstatemachine[0-9A-F]{8}$/), type: 'AWS::StepFunctions::StateMachine' });
            expect(rule.applies_to).toBeUndefined();
            continue;
          }
          // Otherwise only granular IAM5 findings are suppressed, never a whole rule.
          expect(rule.id).toBe('AwsSolutions-IAM5');
          expect(rule.applies_to).toHaveLength(1);
        }
      }
    }
  });

  test('users can add their own suppressions next to ours', () => {
    const built = serviceStack();
    const mirror = new FargateTrafficMirror(built.stack, 'Mirror', { service: built.service, target: MirrorTarget.networkLoadBalancer(built.nlb) });
    void mirror;
    const policy = servicePolicy(built.stack, 'SessionManager') as IConstruct;
    NagSuppressions.addResourceSuppressions(policy, [{ id: 'AwsSolutions-IAM4', reason: 'a user-added suppression for this test' }]);
    const rules = (policy.node.defaultChild as CfnResource).getMetadata('cdk_nag').rules_to_suppress.map((r: any) => r.id);
    expect(rules.filter((r: string) => r === 'AwsSolutions-IAM5')).toHaveLength(3);
    expect(rules).toContain('AwsSolutions-IAM4');
  });
});
