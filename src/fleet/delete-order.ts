/** Construct side: an Aspect that makes each enrollment depend on every IAM policy of every function it reaches. */
import { Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The CloudFormation type of the enrollments this aspect orders. */
export const ENROLLMENT_RESOURCE_TYPE = 'Custom::FargateTrafficMirrorEnrollment';

const FUNCTION_TYPE = 'AWS::Lambda::Function';
const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';
const ROLE_TYPE = 'AWS::IAM::Role';
const POLICY_TYPES = new Set(['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']);

/**
 * CloudFormation deletes a resource only after every resource that depends on it, and may delete
 * one nothing depends on first (AWS CloudFormation User Guide, "DependsOn attribute"): on a stack
 * delete or a rollback, an enrollment's Delete (which removes every session) must run while the
 * functions it calls still hold their permissions. So every enrollment depends on every policy,
 * inline (`AWS::IAM::Policy`) or managed (`AWS::IAM::ManagedPolicy`), attached to the role of
 * any function or state machine it reaches: its service token's function, and whatever a policy
 * of a reached role names as a resource (the provider framework's onEvent invokes the reconciler
 * and starts the waiter, which invokes isComplete and onTimeout).
 *
 * Derived from the synthesized resources when the app is synthesized, not listed by hand: a
 * policy added later, by us or by aws-cdk-lib, is found the same way.
 */
export class EnrollmentDeleteOrder implements IAspect {
  /** Adds the aspect to `stack` once. */
  public static applyTo(stack: Stack): void {
    if (APPLIED.has(stack)) return;
    APPLIED.add(stack);
    Aspects.of(stack).add(new EnrollmentDeleteOrder());
  }

  public visit(node: IConstruct): void {
    if (!(node instanceof Stack)) return;
    orderEnrollments(node);
  }
}

const APPLIED = new WeakSet<Stack>();

/** The policies each enrollment of `stack` must outlive; adds them as dependencies. Returns them by enrollment logical id. */
export function orderEnrollments(stack: Stack): Map<string, string[]> {
  const byId = new Map<string, CfnResource>();
  for (const c of stack.node.findAll()) {
    if (CfnResource.isCfnResource(c) && Stack.of(c) === stack) byId.set(stack.getLogicalId(c), c);
  }
  // The resource as it will be synthesized (property overrides included), intrinsics resolved.
  const props = (r: CfnResource): any => stack.resolve((r as any)._toCloudFormation()).Resources?.[stack.getLogicalId(r)]?.Properties ?? {};
  const propsCache = new Map<string, any>();
  const propsOf = (id: string) => {
    if (!propsCache.has(id)) propsCache.set(id, props(byId.get(id)!));
    return propsCache.get(id);
  };
  // Policies by the role they attach to; a role's own managed policy ARNs count too.
  const policiesOfRole = new Map<string, Set<string>>();
  const attach = (role: string, policy: string) => {
    if (!policiesOfRole.has(role)) policiesOfRole.set(role, new Set());
    policiesOfRole.get(role)!.add(policy);
  };
  for (const [id, r] of byId) {
    if (POLICY_TYPES.has(r.cfnResourceType)) {
      const p = propsOf(id);
      if (!hasStatements(p.PolicyDocument)) continue;
      for (const role of refsIn(p.Roles)) attach(role, id);
    } else if (r.cfnResourceType === ROLE_TYPE) {
      for (const policy of refsIn(propsOf(id).ManagedPolicyArns)) {
        if (POLICY_TYPES.has(byId.get(policy)?.cfnResourceType ?? '')) attach(id, policy);
      }
    }
  }
  const isReachable = (id: string) => [FUNCTION_TYPE, STATE_MACHINE_TYPE].includes(byId.get(id)?.cfnResourceType ?? '');
  const result = new Map<string, string[]>();
  for (const [id, r] of byId) {
    if (r.cfnResourceType !== ENROLLMENT_RESOURCE_TYPE) continue;
    const reached = new Set<string>();
    const policies = new Set<string>();
    const queue = refsIn(propsOf(id).ServiceToken).filter(isReachable);
    while (queue.length > 0) {
      const fn = queue.pop()!;
      if (reached.has(fn)) continue;
      reached.add(fn);
      const p = propsOf(fn);
      for (const role of refsIn(p.Role ?? p.RoleArn)) {
        for (const policy of policiesOfRole.get(role) ?? []) {
          policies.add(policy);
          // What a reached role may call is reached too (invoke, start execution).
          queue.push(...refsIn(propsOf(policy).PolicyDocument).filter(isReachable));
        }
      }
    }
    for (const policy of policies) r.addDependency(byId.get(policy)!);
    result.set(id, [...policies].sort());
  }
  return result;
}

function hasStatements(document: any): boolean {
  return Array.isArray(document?.Statement) && document.Statement.length > 0;
}

/** The logical ids `value` refers to with Ref or Fn::GetAtt, anywhere inside it. */
function refsIn(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v)) {
        if (k === 'Ref' && typeof inner === 'string') out.push(inner);
        else if (k === 'Fn::GetAtt' && Array.isArray(inner) && typeof inner[0] === 'string') out.push(inner[0]);
        else walk(inner);
      }
    }
  };
  walk(value);
  return out;
}
