import { Template } from 'aws-cdk-lib/assertions';
import { withPlaceholders } from './event-pattern';
import { FargateTrafficMirror, MirrorTarget } from '../../src';
import { SINGLETON_ID as MANAGER } from '../../src/fleet/shared-session-manager';
import { serviceStack } from '../support/service-stack';

/** The event path and sweep settings the simulator runs with. */
export interface DeploymentSettings {
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly eventTimeoutMs: number;
  readonly reconcilerTimeoutMs: number;
  readonly reconcileIntervalMs: number;
  /**
   * The service rule's event pattern as synthesized, with `{{clusterArn}}`, `{{serviceName}}`
   * and `{{switchParameter}}` where the template has tokens (see event-pattern.ts).
   */
  readonly rulePattern: object;
  /** The provider framework's waiter: interval between isComplete calls, and how many. */
  readonly providerQueryIntervalMs: number;
  readonly providerMaxAttempts: number;
}

let cached: DeploymentSettings | undefined;
/**
 * Reads the settings from a template the real construct synthesizes, so the simulation runs
 * the same batch size, concurrency, timeouts, redrive and schedule as a deployment would.
 */
export function deploymentSettings(): DeploymentSettings {
  if (cached) return cached;
  const { stack, service, nlb } = serviceStack();
  new FargateTrafficMirror(stack, 'Mirror', { service, target: MirrorTarget.networkLoadBalancer(nlb) });
  const template = Template.fromStack(stack);
  const one = (type: string, prefix?: string): any => {
    const found = Object.entries(template.findResources(type)).filter(([id]) => !prefix || id.startsWith(prefix));
    if (found.length !== 1) throw new Error(`expected one ${type}${prefix ? ` named ${prefix}*` : ''}, found ${found.length}`);
    return found[0][1].Properties;
  };
  const mapping = one('AWS::Lambda::EventSourceMapping');
  const queue = one('AWS::SQS::Queue', `${MANAGER}TaskStateQueue`);
  const schedule = one('AWS::Scheduler::Schedule');
  const rule = one('AWS::Events::Rule');
  const minutes = /^rate\((\d+) minutes?\)$/.exec(schedule.ScheduleExpression);
  if (!minutes) throw new Error(`unexpected schedule ${schedule.ScheduleExpression}`);
  cached = {
    batchSize: mapping.BatchSize,
    maxConcurrency: mapping.ScalingConfig.MaximumConcurrency,
    visibilityTimeoutMs: queue.VisibilityTimeout * 1000,
    maxReceiveCount: queue.RedrivePolicy.maxReceiveCount,
    eventTimeoutMs: one('AWS::Lambda::Function', `${MANAGER}SessionManager`).Timeout * 1000,
    reconcilerTimeoutMs: one('AWS::Lambda::Function', `${MANAGER}Reconciler`).Timeout * 1000,
    reconcileIntervalMs: Number(minutes[1]) * 60_000,
    rulePattern: rulePatternOf(template, rule.EventPattern),
    ...waiterOf(template),
  };
  return cached;
}

/** The rule's pattern, its tokens turned into the placeholders each simulated service fills in. */
function rulePatternOf(template: Template, pattern: unknown): object {
  const idOf = (type: string) => {
    // The switch, not the configuration parameter (whose name is a literal under the stack's prefix).
    const ids = Object.entries(template.findResources(type)).filter(([, r]) => !/\/config\//.test(JSON.stringify(r.Properties?.Name ?? ''))).map(([id]) => id);
    if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
    return ids[0];
  };
  return withPlaceholders(pattern, {
    [`${idOf('AWS::ECS::Cluster')}.Arn`]: 'clusterArn',
    [`${idOf('AWS::ECS::Service')}.Name`]: 'serviceName',
    [idOf('AWS::SSM::Parameter')]: 'switchParameter',
  }) as object;
}

/** The waiter state machine's retry policy: how the provider framework polls isComplete. */
function waiterOf(template: Template): Pick<DeploymentSettings, 'providerQueryIntervalMs' | 'providerMaxAttempts'> {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  if (machines.length !== 1) throw new Error(`expected one waiter state machine, found ${machines.length}`);
  const definition = JSON.stringify(machines[0].Properties.DefinitionString);
  const interval = /IntervalSeconds\\":(\d+)/.exec(definition);
  const attempts = /MaxAttempts\\":(\d+)/.exec(definition);
  if (!interval || !attempts) throw new Error('the waiter state machine has no retry policy');
  return { providerQueryIntervalMs: Number(interval[1]) * 1000, providerMaxAttempts: Number(attempts[1]) };
}
