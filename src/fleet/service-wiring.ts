/** Construct side: one service's triggers, its task-state rule and its reconcile schedule. */
import { Duration, Stack, aws_events as events, aws_scheduler as scheduler } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SharedSessionManager } from './shared-session-manager';
import { ENV } from '../contract/session-manager-config';
import { EARLY_START_STATE, START_STATE, STOP_STATE } from '../contract/task-states';
import { RECONCILER_MAX_EVENT_AGE_SEC } from '../contract/timing';
import { EVENT_KEY, SERVICE_KEY, SWEEP_KEY } from '../contract/trigger-keys';

/** What a service's triggers carry and where they go. */
export interface ServiceWiringProps {
  readonly manager: SharedSessionManager;
  /** The service's configuration, ENV-keyed; triggers carry only its owner id. */
  readonly config: Record<string, string>;
  readonly clusterArn: string;
  readonly serviceName: string;
  /** How often the service is swept; none when undefined. */
  readonly reconcileInterval?: Duration;
  /** The service's switch parameter: its changes go to the queue too. */
  readonly switchParameterName: string;
}

/**
 * One service's triggers of the shared session manager: the EventBridge rule that sends its
 * task state changes, naming the service, to the shared queue, and the schedule that sweeps
 * it. Neither needs a resource of its own beyond itself: the queue's policy takes a statement
 * per rule, and every schedule assumes the shared scheduler role.
 */
export class ServiceWiring extends Construct {
  /** The rule on the service's task state changes. */
  public readonly rule: events.Rule;
  /** The service's sweep schedule, when periodic reconciliation is on. */
  public readonly schedule?: scheduler.CfnSchedule;

  constructor(scope: Construct, id: string, props: ServiceWiringProps) {
    super(scope, id);
    const { manager, config } = props;
    this.rule = new events.Rule(this, 'TaskStateChange', {
      description: `ECS task state changes of service ${props.serviceName}, for traffic mirroring`,
      // Replaced below by the whole pattern; the Rule needs one to be valid.
      eventPattern: { source: ['aws.ecs'] },
    });
    // The queues' policies admit every mirror's rule in one statement each (see
    // SharedSessionManager.admit): aws-cdk-lib's SqsQueue target would add a statement per rule,
    // and SQS takes at most 20 statements in a queue policy.
    this.rule.addTarget({
      bind: () => ({
        arn: manager.queue.queueArn,
        // The whole event, with the service it is about; never its configuration, which the
        // functions read from the service's parameter.
        input: events.RuleTargetInput.fromObject({ [SERVICE_KEY]: config[ENV.OWNER_ID], [EVENT_KEY]: events.EventField.fromPath('$') }),
        deadLetterConfig: { arn: manager.deadLetterQueue.queueArn },
        retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: Duration.hours(24).toSeconds() },
      }),
    });
    manager.admit(this.rule);
    // One rule for both: the service's task state changes, or a change of its switch. The whole
    // pattern is one EventBridge `$or` (which aws-cdk-lib's EventPattern type cannot express at
    // our floor): fields beside an `$or` would have to match too.
    const cfnRule = this.rule.node.defaultChild as events.CfnRule;
    cfnRule.eventPattern = {
      $or: [
        {
          'source': ['aws.ecs'],
          'detail-type': ['ECS Task State Change'],
          'detail': {
            clusterArn: [props.clusterArn],
            group: [`service:${props.serviceName}`],
            // Only the states the session manager acts on (first ENI, running, stopped), so the
            // other transitions of a task cost neither a queue message nor an invocation.
            lastStatus: [EARLY_START_STATE, START_STATE, STOP_STATE],
          },
        },
        { 'source': ['aws.ssm'], 'detail-type': ['Parameter Store Change'], 'detail': { name: [props.switchParameterName] } },
      ],
    };

    if (props.reconcileInterval) {
      const minutes = props.reconcileInterval.toMinutes();
      this.schedule = new scheduler.CfnSchedule(this, 'ReconcileSchedule', {
        description: `Periodic reconciliation of the mirror sessions of ECS service ${props.serviceName}`,
        scheduleExpression: `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: manager.reconciler.functionArn,
          roleArn: manager.schedulerRole.roleArn,
          input: Stack.of(this).toJsonString({ [SERVICE_KEY]: config[ENV.OWNER_ID], [SWEEP_KEY]: true }),
          // Not retried, and dropped when it could not start within a minute: the stack
          // delete's settle time counts on a sweep starting within a minute of its schedule.
          retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: RECONCILER_MAX_EVENT_AGE_SEC },
        },
      });
    }
  }
}
