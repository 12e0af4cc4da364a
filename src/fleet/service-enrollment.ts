/**
 * Construct side: one service's enrollment custom resource and the order it deploys and deletes in.
 */
import { CfnResource, CustomResource, Stack, aws_ssm as ssm } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SharedSessionManager } from './shared-session-manager';
import { ENV } from '../contract/session-manager-config';
import { ENROLLMENT_SERVICE_TIMEOUT_SEC } from '../contract/timing';

/** What a service's enrollment needs. */
export interface ServiceEnrollmentProps {
  readonly manager: SharedSessionManager;
  /** The service's configuration, ENV-keyed: the custom resource's properties. */
  readonly config: Record<string, string>;
  /** Properties for the enrollment only (options of the deploy-time report). */
  readonly extraProperties?: Record<string, string>;
}

/**
 * One service's deploy-time work, as a custom resource of the shared provider: on create and
 * update, sweep the service (every running task mirrored, every owned session at the
 * configuration); on delete, remove every session the service's mirror owns.
 */
export class ServiceEnrollment extends Construct {
  /** The custom resource. */
  public readonly resource: CustomResource;
  /**
   * The service's configuration, the one source the functions act on: a String parameter under
   * the stack's prefix, named by the owner id, that CloudFormation writes. Triggers only name
   * the service.
   */
  public readonly configParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: ServiceEnrollmentProps) {
    super(scope, id);
    const ownerId = props.config[ENV.OWNER_ID];
    this.configParameter = new ssm.StringParameter(this, 'Config', {
      parameterName: `${props.manager.configPrefix}${ownerId}`,
      description: `Configuration of the traffic mirroring of ECS service ${ownerId}, written by CloudFormation only (cdk-fargate-traffic-mirror)`,
      stringValue: Stack.of(this).toJsonString(props.config),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.manager.serviceToken,
      resourceType: 'Custom::FargateTrafficMirrorEnrollment',
      // The reconciler reads only the owner id from these, and the configuration from the
      // parameter; they hold the configuration so that a change re-enrolls (Update).
      properties: { ...props.config, ...props.extraProperties },
    });
    // The configuration is written before the enrollment's Create or Update reads it, and
    // deleted only after its Delete (which reads it too).
    this.resource.node.addDependency(this.configParameter);
    // aws-cdk-lib has no prop for it at our floor. An integer, as in the resource's registry
    // schema, which cfn-lint checks (one page of the user guide says String).
    (this.resource.node.defaultChild as CfnResource).addPropertyOverride('ServiceTimeout', ENROLLMENT_SERVICE_TIMEOUT_SEC);
  }

  /**
   * Orders the service's triggers around its enrollment. The rule comes first: a deploy updates
   * it (and the configuration its events carry) before the enrollment's Update sweeps, and task
   * changes during a first enrollment wait in the queue, whose event source mapping waits for
   * every enrollment of the stack. The schedule comes after: a stack delete removes it (and the
   * shared event source mapping) before the enrollment's Delete removes every owned session, so
   * no sweep re-creates one after it.
   */
  public order(rule: Construct, schedule?: Construct): void {
    this.resource.node.addDependency(rule);
    schedule?.node.addDependency(this.resource);
  }
}
