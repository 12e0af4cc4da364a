import { App, Stack, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FargateTrafficMirror, MirrorFilter, MirrorTarget } from '../../src';

/** CloudFormation's limit of resources in one stack. */
export const STACK_RESOURCE_LIMIT = 500;
/** IAM's limit of a managed policy document, in characters without whitespace. */
export const MANAGED_POLICY_LIMIT = 6144;
/** SQS's limits of a queue policy (Amazon SQS policy quotas): statements, and bytes. */
export const QUEUE_POLICY_LIMITS = { statements: 20, bytes: 8192 };

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/**
 * A stack that mirrors `services` imported Fargate services of one imported cluster, all to one
 * existing target through one existing filter (`distinct`: each to a target and through a filter
 * of its own, which IAM statements then list one by one; `targetsPerService` more than 1: a pool
 * of that many targets of its own): the resources are the mirrors' own.
 */
export function fleetStack(services: number, distinct = false, targetsPerService = 1): Stack {
  const stack = new Stack(new App(), 'FleetStack', { env: { account: ACCOUNT, region: REGION } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: [`${REGION}a`] });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  const id = (i: number) => (distinct ? i : 0).toString(16).padStart(17, '0');
  const target = (i: number) => (targetsPerService === 1 ? MirrorTarget.fromTrafficMirrorTargetId(`tmt-${id(i)}`)
    : MirrorTarget.pool(Array.from({ length: targetsPerService }, (_, k) => MirrorTarget.fromTrafficMirrorTargetId(`tmt-${(i * 1000 + k).toString(16).padStart(17, '0')}`))));
  const filters = new Map<string, ReturnType<typeof MirrorFilter.fromMirrorFilterId>>();
  const filter = (i: number) => {
    if (!filters.has(id(i))) filters.set(id(i), MirrorFilter.fromMirrorFilterId(stack, `Filter${id(i)}`, `tmf-${id(i)}`));
    return filters.get(id(i))!;
  };
  for (let i = 1; i <= services; i++) {
    const service = ecs.FargateService.fromFargateServiceAttributes(stack, `Service${i}`, { cluster, serviceName: `web-${i}` });
    new FargateTrafficMirror(stack, `Mirror${i}`, { service, target: target(i), filter: filter(i) });
  }
  return stack;
}

/** What a stack of mirrored services synthesizes to. */
export interface FleetTemplateFigures {
  readonly services: number;
  /** Resources in the template. */
  readonly total: number;
  /** Resources by type. */
  readonly byType: Record<string, number>;
  /**
   * The largest IAM managed policy document, in characters of its JSON without whitespace (as
   * IAM counts), with the template's intrinsics resolved to values of realistic length.
   */
  readonly largestManagedPolicyChars: number;
  /** The same document's JSON with the intrinsics left as they are in the template. */
  readonly largestManagedPolicyTemplateChars: number;
  /** Managed policies in the template. */
  readonly managedPolicies: number;
  /** The queue policy with the most statements: its statements, and its bytes with intrinsics resolved as above. */
  readonly largestQueuePolicy: { statements: number; bytes: number };
  /** The template's JSON, in bytes. */
  readonly templateBytes: number;
}

/** Synthesizes a stack of `services` mirrored services and measures its template. */
export function fleetTemplateFigures(services: number, distinct = false, targetsPerService = 1): FleetTemplateFigures {
  const template = Template.fromStack(fleetStack(services, distinct, targetsPerService)).toJSON();
  const resources = Object.values(template.Resources) as Array<{ Type: string; Properties?: any }>;
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
  const policies = resources.filter(r => r.Type === 'AWS::IAM::ManagedPolicy').map(r => r.Properties.PolicyDocument);
  const resolved = policies.map(p => JSON.stringify(resolveIntrinsics(p, template.Resources)).length);
  const largest = resolved.indexOf(Math.max(0, ...resolved));
  const queuePolicies = resources.filter(r => r.Type === 'AWS::SQS::QueuePolicy').map(r => ({
    statements: r.Properties.PolicyDocument.Statement.length,
    bytes: Buffer.byteLength(JSON.stringify(resolveIntrinsics(r.Properties.PolicyDocument, template.Resources))),
  })).sort((a, b) => b.statements - a.statements || b.bytes - a.bytes);
  return {
    services,
    total: resources.length,
    byType,
    largestManagedPolicyChars: largest >= 0 ? resolved[largest] : 0,
    largestManagedPolicyTemplateChars: largest >= 0 ? JSON.stringify(policies[largest]).length : 0,
    managedPolicies: policies.length,
    largestQueuePolicy: queuePolicies[0] ?? { statements: 0, bytes: 0 },
    templateBytes: Buffer.byteLength(JSON.stringify(template)),
  };
}

/**
 * The value a deployed stack would put where the template has an intrinsic: pseudo parameters
 * are this stack's; a resource's Ref or attribute becomes a stand-in as long as the real one
 * (an SSM parameter CloudFormation names `CFN-<logical id>-<12 characters>`, an ARN of 80).
 */
function resolveIntrinsics(value: unknown, resources: Record<string, { Type: string }>): unknown {
  if (Array.isArray(value)) return value.map(v => resolveIntrinsics(v, resources));
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, any>;
  if ('Ref' in v) {
    const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com' };
    if (v.Ref in pseudo) return pseudo[v.Ref];
    return resources[v.Ref]?.Type === 'AWS::SSM::Parameter' ? `CFN-${v.Ref}-ABCDEFGHIJKL` : `${v.Ref}-ABCDEFGHIJKL`;
  }
  if ('Fn::GetAtt' in v) return `arn:aws:${'x'.repeat(72)}`;
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'];
    return (parts as unknown[]).map(p => String(resolveIntrinsics(p, resources))).join(separator);
  }
  return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, resolveIntrinsics(inner, resources)]));
}
