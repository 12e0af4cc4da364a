/** Construct-side helper: cdk-nag suppressions with reasons. Imports nothing else in src/. */
import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * One cdk-nag rule that does not apply to a resource, and why. `appliesTo` narrows it to
 * single findings of a granular rule (such as one wildcard resource of `AwsSolutions-IAM5`).
 */
export interface NagSuppression {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo?: ReadonlyArray<string | { readonly regex: string }>;
}

/**
 * Records cdk-nag suppressions on `construct`'s CloudFormation resource (and, with
 * `applyToChildren`, on every resource below it), in the `cdk_nag` metadata format cdk-nag
 * reads. Written directly rather than through `NagSuppressions` so that consumers inherit clean
 * results without this library depending on cdk-nag at run time. Existing suppressions, such as
 * those a user adds with `NagSuppressions`, are kept.
 */
export function suppressNagFindings(construct: IConstruct, suppressions: NagSuppression[], applyToChildren = false): void {
  for (const s of suppressions) {
    // cdk-nag rejects shorter reasons at synth; fail here, where the cause is visible.
    if (s.reason.length < 10) {
      throw new Error(`cdk-nag suppression of ${s.id} needs a reason of at least 10 characters`);
    }
  }
  const targets = applyToChildren ? construct.node.findAll() : [construct];
  for (const target of targets) {
    const resource = target.node.defaultChild ?? target;
    if (!CfnResource.isCfnResource(resource)) {
      continue;
    }
    const existing: unknown[] = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
    const added = suppressions.map(({ id, reason, appliesTo }) => ({ reason, id, ...(appliesTo ? { applies_to: [...appliesTo] } : {}) }));
    const unique = [...new Set([...existing, ...added].map(rule => JSON.stringify(rule)))].map(rule => JSON.parse(rule));
    resource.addMetadata('cdk_nag', { rules_to_suppress: unique });
  }
}
