import { App, Stack, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FargateTrafficMirror, MirrorTarget } from '../../src';
import { ENROLLMENT_RESOURCE_TYPE } from '../../src/fleet/delete-order';

/** A stack of `count` mirrors of imported services, each to its own target through the default filter. */
function fleet(count: number) {
  const app = new App();
  const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'] });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  for (let i = 0; i < count; i++) {
    new FargateTrafficMirror(stack, `Mirror${i}`, {
      service: ecs.FargateService.fromFargateServiceAttributes(stack, `Service${i}`, { cluster, serviceName: `svc-${i}` }),
      target: MirrorTarget.fromTrafficMirrorTargetId(`tmt-0123456789abcde${String(i).padStart(2, '0')}`),
    });
  }
  return Template.fromStack(stack).toJSON();
}

/** Logical ids a resource depends on, directly: DependsOn, Ref, Fn::GetAtt, Fn::Sub references. */
function directDependencies(resource: any): string[] {
  const out = new Set<string>([resource.DependsOn ?? []].flat());
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {v.forEach(walk);} else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v)) {
        if (k === 'Ref' && typeof inner === 'string') {out.add(inner);} else if (k === 'Fn::GetAtt') {out.add(Array.isArray(inner) ? inner[0] : String(inner).split('.')[0]);} else if (k === 'Fn::Sub') {
          const text = Array.isArray(inner) ? inner[0] : inner;
          for (const m of String(text).matchAll(/\$\{([^}.!]+)[^}]*\}/g)) out.add(m[1]);
          if (Array.isArray(inner)) walk(inner[1]);
        } else {walk(inner);}
      }
    }
  };
  walk(resource.Properties);
  return [...out];
}

/** Every resource `id` depends on, directly or not: CloudFormation deletes all of them after it. */
function closure(resources: Record<string, any>, id: string): Set<string> {
  const seen = new Set<string>();
  const queue = [id];
  while (queue.length) {
    for (const dep of directDependencies(resources[queue.pop()!])) {
      if (resources[dep] && !seen.has(dep)) {
        seen.add(dep);
        queue.push(dep);
      }
    }
  }
  return seen;
}

/**
 * The policies the enrollment's Delete needs, found independently of the construct: every IAM
 * policy attached to the role of the reconciler, of the provider framework's functions and of
 * its waiter state machine (every function and state machine but the event path's).
 */
function neededPolicies(resources: Record<string, any>): string[] {
  const ids = Object.keys(resources);
  const roleOf = (id: string) => directDependencies({ Properties: resources[id].Properties.Role ?? resources[id].Properties.RoleArn })[0];
  const callers = ids.filter(id => ['AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine'].includes(resources[id].Type)
    && !/SessionManager[0-9A-F]{8}$/.test(id));
  const roles = new Set(callers.map(roleOf));
  return ids.filter(id => ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(resources[id].Type)
    && directDependencies({ Properties: resources[id].Properties.Roles }).some(r => roles.has(r))).sort();
}

describe('every enrollment outlives every policy of the functions it calls (stack delete, rollback)', () => {
  test.each([1, 3, 8])('%s mirrors: each enrollment\'s dependency closure holds every policy of the reconciler and the provider', (count) => {
    const { Resources: resources } = fleet(count);
    const enrollments = Object.keys(resources).filter(id => resources[id].Type === ENROLLMENT_RESOURCE_TYPE);
    expect(enrollments).toHaveLength(count);
    const needed = neededPolicies(resources);
    // The reconciler's services policies (7 services each) and the default policies of the reconciler,
    // the provider's three functions and the waiter.
    const managed = needed.filter(id => resources[id].Type === 'AWS::IAM::ManagedPolicy');
    expect(managed).toHaveLength(Math.ceil(count / 7));
    expect(needed.length).toBeGreaterThanOrEqual(managed.length + 5);
    for (const enrollment of enrollments) {
      const deps = closure(resources, enrollment);
      expect(needed.filter(p => !deps.has(p))).toEqual([]);
    }
  });

  test('the dependencies add no cycle: every resource\'s closure leaves out itself', () => {
    const { Resources: resources } = fleet(3);
    for (const id of Object.keys(resources)) expect(closure(resources, id).has(id)).toBe(false);
  });
});
