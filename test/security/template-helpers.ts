import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FargateTrafficMirror } from '../../src';

export type Resources = Record<string, any>;

/** The synthesized template of a stack and the mirror constructs in it. */
export function synthesized(stack: Stack) {
  const template = Template.fromStack(stack).toJSON();
  const mirrors = stack.node.findAll().filter((c): c is FargateTrafficMirror => c instanceof FargateTrafficMirror);
  return { template, resources: template.Resources as Resources, mirrors };
}

/** Logical ids of the resources a mirror construct created (its ids start with its own). */
export function resourcesOf(mirror: FargateTrafficMirror, resources: Resources): Resources {
  const prefix = mirror.node.path.split('/').slice(1).join('');
  return Object.fromEntries(Object.entries(resources).filter(([id]) => id.startsWith(prefix)));
}

export function ofType(resources: Resources, type: string): Array<[string, any]> {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** Every IAM statement of a policy document, with Action and Resource as arrays. */
export function statementsOf(policy: any): any[] {
  return policy.Properties.PolicyDocument.Statement.map((s: any) => ({
    ...s,
    Action: [].concat(s.Action),
    Resource: [].concat(s.Resource),
  }));
}

/** Whether a resource or condition value (possibly an Fn::Join) is exactly the string '*'. */
export function isStar(resource: unknown): boolean {
  return resource === '*';
}

/** A CloudFormation value rendered as text, so intrinsic functions can be matched by pattern. */
export function text(value: unknown): string {
  return JSON.stringify(value);
}

/** Logical ids of the resources whose definition mentions `logicalId` (Ref, GetAtt, DependsOn). */
export function referrersOf(resources: Resources, logicalId: string): string[] {
  return Object.entries(resources)
    .filter(([id, r]) => id !== logicalId && new RegExp(`"(Ref|Fn::GetAtt)":(\\["|")${logicalId}"`).test(JSON.stringify({ Properties: r.Properties })))
    .map(([id]) => id);
}
