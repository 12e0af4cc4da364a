/**
 * Construct side: the stack's one session manager (functions, queues, provider) that every mirror
 * shares.
 */
import {
  ArnFormat, Duration, Stack, Token, aws_cloudwatch as cloudwatch, aws_events as events, aws_iam as iam, aws_lambda as lambda,
  aws_lambda_event_sources as sources, aws_logs as logs, aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { EnrollmentDeleteOrder } from './delete-order';
import { enrollmentProvider } from './enrollment-provider';
import { MAX_SERVICES_PER_STACK, ServiceGrant, ServicePolicies } from './service-policies';
import { METRIC, SERVICE_DIMENSION_VALUE, STACK_DIMENSION } from '../contract/metric-names';
import { configParameterPrefix, stackTagFor } from '../contract/ownership';
import { ENV } from '../contract/session-manager-config';
import { EVENT_BATCH_SIZE, EVENT_QUEUE_VISIBILITY_TIMEOUT_SEC, EVENT_SOURCE_MAX_CONCURRENCY, EVENT_TIMEOUT_SEC, RECONCILER_MAX_EVENT_AGE_SEC, RECONCILER_TIMEOUT_SEC } from '../contract/timing';
import { functionRole } from '../private/function-role';
import { libraryMetric } from '../private/library-metric';
import { suppressNagFindings } from '../private/nag-suppressions';
import { SessionManagerFunction } from '../private/session-manager-function';

/** How cdk-nag writes the stack's region and account in a finding: a literal, or the pseudo parameter. */
const regionFinding = (stack: Stack) => (Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region);
const accountFinding = (stack: Stack) => (Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account);

/** Settings every mirrored service of a stack must agree on, since they share the functions. */
export interface SharedSettings {
  readonly logRetention: logs.RetentionDays;
  readonly reservedConcurrentExecutions?: number;
}

/**
 * The construct id of the stack's `SharedSessionManager`, a direct child of the stack; as such it
 * is also the prefix of the logical ids of every resource it holds. Not part of the public API.
 */
export const SINGLETON_ID = 'FargateTrafficMirrorShared';

/**
 * The session manager every `FargateTrafficMirror` of a stack shares, made by the first one
 * (as aws-cdk-lib's `SingletonFunction` does): the event-path function and its queue and
 * dead-letter queue, the reconciler, the custom resource provider, and the role schedules
 * invoke the reconciler with. The functions hold no service's configuration: each trigger
 * carries its own. Each service adds only what is its own (see `ServiceWiring` and
 * `ServiceEnrollment`) and registers its IAM scope here.
 */
export class SharedSessionManager extends Construct {
  /** The stack's session manager, made on first use with `settings`; later users must agree with them. */
  public static of(scope: IConstruct, settings: SharedSettings): SharedSessionManager {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SINGLETON_ID);
    if (existing instanceof SharedSessionManager) {
      existing.agree(settings, scope.node.path);
      return existing;
    }
    return new SharedSessionManager(stack, SINGLETON_ID, settings);
  }

  /** The event-path function: task state changes from the queue. */
  public readonly eventFunction: lambda.Function;
  /** The reconciler: schedules, deploys, stack deletes. */
  public readonly reconciler: lambda.Function;
  /** Task state changes of every mirrored service, with the service's configuration. */
  public readonly queue: sqs.Queue;
  /** Task state changes that could not be processed after 5 receives. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The service token of the enrollment custom resources. */
  public readonly serviceToken: string;
  /** The role EventBridge Scheduler invokes the reconciler with. */
  public readonly schedulerRole: iam.Role;
  /** The event source mapping of the queue; it starts only after every enrollment. */
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  /** The stack tag's value on every session the stack's mirrors create (contract/ownership.ts STACK_TAG_KEY). */
  public readonly stackTag: string;
  /** Where each service's configuration parameter is: `<configPrefix><ownerId>` (contract/ownership.ts). */
  public readonly configPrefix: string;
  private readonly eventPolicies: ServicePolicies;
  /** The rules the queues admit, one statement per queue listing them all. */
  private readonly rules: string[] = [];
  private readonly admitted: iam.PolicyStatement[] = [];
  private readonly reconcilerPolicies: ServicePolicies;
  private services = 0;
  private deadLetterAlarm?: cloudwatch.Alarm;
  private ignoredTriggersAlarm?: cloudwatch.Alarm;

  private constructor(scope: Construct, id: string, private readonly settings: SharedSettings) {
    super(scope, id);
    const { logRetention, reservedConcurrentExecutions } = settings;
    const stack = Stack.of(this);
    // Constant for the stack's life, so the permissions scoped to it survive any mirror's removal.
    this.stackTag = stackTagFor(Token.isUnresolved(stack.stackName) ? stack.node.path : stack.stackName);
    this.configPrefix = configParameterPrefix(this.stackTag);
    // Every enrollment outlives every policy of the functions it calls (stack delete, rollback).
    EnrollmentDeleteOrder.applyTo(Stack.of(this));

    // Event path: a batch of task state changes at a time, so a short timeout; the queue's
    // visibility timeout is six times as long.
    const eventTimeout = Duration.seconds(EVENT_TIMEOUT_SEC);
    const eventLogs = new logs.LogGroup(this, 'SessionManagerLogs', { retention: logRetention });
    const eventRole = functionRole(this, 'SessionManagerRole', eventLogs, 'Session manager of cdk-fargate-traffic-mirror');
    this.eventFunction = new SessionManagerFunction(this, 'SessionManager', {
      description: 'Mirrors the tasks of the stack\'s mirrored ECS services as they start and stop (cdk-fargate-traffic-mirror)',
      memorySize: 256,
      timeout: eventTimeout,
      logGroup: eventLogs,
      role: eventRole,
      environment: { POWERTOOLS_SERVICE_NAME: SERVICE_DIMENSION_VALUE, [ENV.STACK_TAG]: this.stackTag, [ENV.CONFIG_PREFIX]: this.configPrefix },
      reservedConcurrentExecutions,
    });

    // Whole-service path: a sweep of thousands of tasks is paced by EC2's 5 writes per second.
    const reconcilerLogs = new logs.LogGroup(this, 'ReconcilerLogs', { retention: logRetention });
    const reconcilerRole = functionRole(this, 'ReconcilerRole', reconcilerLogs, 'Reconciler of cdk-fargate-traffic-mirror');
    this.reconciler = new SessionManagerFunction(this, 'Reconciler', {
      description: 'Reconciles the mirror sessions of the stack\'s mirrored ECS services (cdk-fargate-traffic-mirror)',
      memorySize: 256,
      timeout: Duration.seconds(RECONCILER_TIMEOUT_SEC),
      logGroup: reconcilerLogs,
      role: reconcilerRole,
      environment: { POWERTOOLS_SERVICE_NAME: SERVICE_DIMENSION_VALUE, [ENV.STACK_TAG]: this.stackTag, [ENV.CONFIG_PREFIX]: this.configPrefix },
      reservedConcurrentExecutions,
      // A failed scheduled sweep is not retried by Lambda: the next one runs within
      // reconcileInterval anyway, and a retry could start after the stack began deleting.
      retryAttempts: 0,
      // Nor is a throttled one kept waiting: Lambda would otherwise retry it for up to six
      // hours. The stack delete's settle time counts on a sweep starting within a minute.
      maxEventAge: Duration.seconds(RECONCILER_MAX_EVENT_AGE_SEC),
      // A flip's sweep invokes the reconciler again for each chunk (up to MAX_SWEEP_CHUNKS, and
      // only while work is left and the stack is steady). Lambda's recursive loop detection,
      // which also tracks direct invokes, would drop the 17th: the chain bounds itself instead.
      recursiveLoop: lambda.RecursiveLoop.ALLOW,
    });
    // Both functions read the services' configuration, and only under the stack's prefix: the
    // prefix is constant, so a removed mirror's Delete may still read its parameter.
    const configParameters = stack.formatArn({
      service: 'ssm', resource: 'parameter', resourceName: `${this.configPrefix.slice(1)}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    for (const role of [eventRole, reconcilerRole]) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadTheServicesConfiguration', actions: ['ssm:GetParameter'], resources: [configParameters] }));
      suppressNagFindings(role.node.findChild('DefaultPolicy'), [{
        id: 'AwsSolutions-IAM5',
        reason: 'The functions read each mirrored service\'s configuration from its parameter, named by the service\'s owner id under a path '
          + 'that holds this stack\'s tag; the path is constant, so a mirror\'s removal does not take away the read its Delete needs.',
        appliesTo: [`Resource::arn:<AWS::Partition>:ssm:${regionFinding(stack)}:${accountFinding(stack)}:parameter${this.configPrefix}*`],
      }]);
    }
    this.eventPolicies = new ServicePolicies(this, 'SessionManagerPolicies', { role: eventRole, reconciler: false, stackTag: this.stackTag });
    this.reconcilerPolicies = new ServicePolicies(this, 'ReconcilerPolicies', { role: reconcilerRole, reconciler: true, stackTag: this.stackTag });

    // Durable events: EventBridge -> encrypted queue -> Lambda, with partial batch responses,
    // bounded concurrency and a dead-letter queue. Nothing is lost when EC2 throttles.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'TaskStateQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(EVENT_QUEUE_VISIBILITY_TIMEOUT_SEC),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    this.eventFunction.addEventSource(new sources.SqsEventSource(this.queue, {
      batchSize: EVENT_BATCH_SIZE,
      reportBatchItemFailures: true,
      // Few concurrent pollers keep a deployment burst from turning into an EC2 throttling storm.
      maxConcurrency: EVENT_SOURCE_MAX_CONCURRENCY,
    }));
    // EventBridge may send to both queues (the dead-letter queue takes what a rule cannot
    // deliver), from this stack's mirrors' rules only; nobody else may send. Within an account an
    // identity-based Allow suffices to send to a queue unless its policy denies it explicitly
    // (IAM User Guide, "Policy evaluation logic"), so the Deny is what keeps out every other
    // principal; a request without a source ARN (anyone but a service) matches ArnNotEquals.
    // The Allow names the account; the rules are listed once, in the Deny (8,192 bytes per
    // queue policy).
    for (const queue of [this.queue, this.deadLetterQueue]) {
      queue.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'TheMirroredServicesRulesMaySend',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [queue.queueArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }));
      const deny = new iam.PolicyStatement({
        sid: 'OnlyTheMirroredServicesRulesMaySend',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
      });
      queue.addToResourcePolicy(deny);
      this.admitted.push(deny);
    }
    this.eventSourceMapping = this.eventFunction.node.children.find(c => c instanceof lambda.EventSourceMapping) as lambda.EventSourceMapping;
    // A sweep mirrors young tasks only when no task state change is still on its way.
    this.reconciler.addEnvironment(ENV.EVENT_QUEUE_URL, this.queue.queueUrl);
    this.queue.grant(this.reconciler, 'sqs:GetQueueAttributes');
    // A flipped switch starts a sweep of its service at once, on the reconciler.
    this.eventFunction.addEnvironment(ENV.RECONCILER_FUNCTION, this.reconciler.functionName);
    // The event function checks that each record it is handed is a message of this queue it
    // received (its receipt handle), so a direct invoke with forged records does nothing.
    this.eventFunction.addEnvironment(ENV.EVENT_QUEUE_URL, this.queue.queueUrl);
    this.reconciler.grantInvoke(this.eventFunction);
    this.allowChunkedSweeps(stack, reconcilerRole);

    this.serviceToken = enrollmentProvider(this, this.reconciler, logRetention).serviceToken;

    // One role for every service's schedule: it may invoke the reconciler and nothing else.
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Invokes the reconciler of cdk-fargate-traffic-mirror on each mirrored service\'s schedule',
    });
    this.reconciler.grantInvoke(this.schedulerRole);

    const reconcilerVersions = `Resource::<${Stack.of(this).getLogicalId(this.reconciler.node.defaultChild as lambda.CfnFunction)}.Arn>:*`;
    for (const [role, who] of [[eventRole, 'The session manager starts a sweep when a service\'s switch flips: it'], [this.schedulerRole, 'EventBridge Scheduler']] as const) {
      suppressNagFindings(role.node.findChild('DefaultPolicy'), [{
        id: 'AwsSolutions-IAM5',
        reason: `${who} may invoke the reconciler function, and Lambda authorizes invocations of its versions and aliases as `
          + '<function ARN>:*; the grant names this one function and nothing else.',
        appliesTo: [reconcilerVersions],
      }]);
    }
  }

  /**
   * What the reconciler asks CloudFormation, and its own invoke: a custom resource's Delete
   * removes sessions only once CloudFormation says it is deleting that resource (so a Delete
   * anyone hands the function directly does nothing), and a flip's sweep that leaves work starts
   * its next chunk on the reconciler, only while the stack is not being deleted or rolled back.
   */
  private allowChunkedSweeps(stack: Stack, reconcilerRole: iam.Role): void {
    this.reconciler.addEnvironment(ENV.STACK_ID, stack.stackId);
    reconcilerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AskCloudFormationAboutThisStack',
      actions: ['cloudformation:DescribeStackResource', 'cloudformation:DescribeStacks'],
      resources: [stack.stackId],
    }));
    // A policy of its own: in the role's default policy, the function's ARN would make the
    // function depend on a policy that depends on the function.
    new iam.Policy(this, 'ReconcilerChunksPolicy', {
      roles: [reconcilerRole],
      statements: [new iam.PolicyStatement({ sid: 'StartTheNextChunkOfASweep', actions: ['lambda:InvokeFunction'], resources: [this.reconciler.functionArn] })],
    });
  }

  /**
   * Grants the functions what one more mirrored service needs, and makes the queue wait for its
   * enrollment: task changes during the enrollment wait in the queue and are applied after it.
   */
  public register(grant: ServiceGrant, enrollment: Construct): void {
    if (++this.services > MAX_SERVICES_PER_STACK) {
      throw new Error(`A stack can mirror at most ${MAX_SERVICES_PER_STACK} services (each queue's policy lists every service's rule, `
        + 'and SQS takes 8,192 bytes per queue policy); split the services over several stacks');
    }
    this.eventPolicies.add(grant);
    this.reconcilerPolicies.add(grant);
    this.eventSourceMapping.node.addDependency(enrollment);
  }

  /** Lets `rule` send to the queues, beside every rule admitted before. */
  public admit(rule: events.IRule): void {
    this.rules.push(rule.ruleArn);
    for (const statement of this.admitted) statement.addCondition('ArnNotEquals', { 'aws:SourceArn': [...this.rules] });
  }

  /** The alarm on the shared dead-letter queue, made on first request. */
  public deadLetterQueueAlarm(): cloudwatch.Alarm {
    this.deadLetterAlarm ??= this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, 'DeadLetterQueueAlarm', {
        alarmDescription: 'Task state changes of mirrored ECS services could not be processed and are in the dead-letter queue',
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    return this.deadLetterAlarm;
  }

  /**
   * Triggers the stack's functions ignored: queue records, invokes and custom resource Deletes
   * that name no service of the stack or that CloudFormation is not running (sum over 5 minutes
   * unless `props` say otherwise).
   */
  public metricIgnoredTriggers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return libraryMetric(METRIC.IGNORED_TRIGGERS, { [STACK_DIMENSION]: this.stackTag }, props);
  }

  /** One alarm per stack on ignored triggers: someone hands the functions what the stack did not send. */
  public ignoredTriggersAlarmOnce(): cloudwatch.Alarm {
    this.ignoredTriggersAlarm ??= this.metricIgnoredTriggers().createAlarm(this, 'IgnoredTriggersAlarm', {
      alarmDescription: 'The session manager ignored triggers that no rule, schedule or CloudFormation operation of this stack sent '
        + '(forged messages or invokes, or ones left over from a removed mirror); see the functions\' logs',
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return this.ignoredTriggersAlarm;
  }

  private agree(settings: SharedSettings, path: string): void {
    const differs = (['logRetention', 'reservedConcurrentExecutions'] as const).find(k => settings[k] !== this.settings[k]);
    if (differs) {
      throw new Error(`FargateTrafficMirror '${path}': ${differs} must be the same for every FargateTrafficMirror of a stack, `
        + `since they share one session manager (first one: ${this.settings[differs] ?? 'not set'}, this one: ${settings[differs] ?? 'not set'})`);
    }
  }
}
