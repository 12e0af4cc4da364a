package io.github.cdkfargatetrafficmirror.examples;

import io.github.cdkfargatetrafficmirror.CaptureMethod;
import io.github.cdkfargatetrafficmirror.FargateTrafficMirror;
import io.github.cdkfargatetrafficmirror.MirrorFilter;
import io.github.cdkfargatetrafficmirror.MirrorFilterRule;
import io.github.cdkfargatetrafficmirror.MirrorPortRange;
import io.github.cdkfargatetrafficmirror.MirrorProtocol;
import io.github.cdkfargatetrafficmirror.MirrorReceiver;
import io.github.cdkfargatetrafficmirror.MirrorTarget;
import io.github.cdkfargatetrafficmirror.TrafficDirection;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.ec2.Vpc;
import software.amazon.awscdk.services.ecs.Cluster;
import software.amazon.awscdk.services.ecs.ContainerDefinitionOptions;
import software.amazon.awscdk.services.ecs.ContainerImage;
import software.amazon.awscdk.services.ecs.FargateService;
import software.amazon.awscdk.services.ecs.FargateServiceAttributes;
import software.amazon.awscdk.services.ecs.FargateTaskDefinition;
import software.amazon.awscdk.services.ecs.IBaseService;
import software.amazon.awscdk.services.ecs.PortMapping;
import software.constructs.Construct;

/**
 * The TypeScript example (examples/example-stack.ts) written against the Java package: a web
 * service on Fargate whose every task is mirrored to the Gateway Load Balancer endpoint in its own
 * Availability Zone. Construct
 * ids, stack name and environment match the TypeScript example on purpose: test/consumers/run.sh
 * compares the two templates.
 */
public final class ExampleApp {
  static final class ExampleStack extends Stack {
    ExampleStack(final Construct scope, final String id, final StackProps props) {
      super(scope, id, props);

      Vpc vpc = Vpc.Builder.create(this, "Vpc").maxAzs(2).natGateways(1).build();
      Cluster cluster = Cluster.Builder.create(this, "Cluster").vpc(vpc).build();

      FargateTaskDefinition taskDefinition = FargateTaskDefinition.Builder.create(this, "WebTask")
          .cpu(256)
          .memoryLimitMiB(512)
          .build();
      taskDefinition.addContainer("web", ContainerDefinitionOptions.builder()
          .image(ContainerImage.fromRegistry("public.ecr.aws/nginx/nginx:stable"))
          .portMappings(List.of(PortMapping.builder().containerPort(80).build()))
          .build());
      FargateService service = FargateService.Builder.create(this, "WebService")
          .cluster(cluster)
          .taskDefinition(taskDefinition)
          .desiredCount(2)
          .build();

      // The sensors' Gateway Load Balancer has an endpoint in each zone of the service: each task is
      // mirrored to the one in its own zone.
      MirrorTarget target = MirrorTarget.perAvailabilityZone(Map.of(
          "eu-central-1a", MirrorTarget.gatewayLoadBalancerEndpoint("vpce-0a1b2c3d4e5f6a001"),
          "eu-central-1b", MirrorTarget.gatewayLoadBalancerEndpoint("vpce-0a1b2c3d4e5f6a002")));

      // Mirror HTTP in both directions, and everything else the tasks send out.
      MirrorFilter filter = MirrorFilter.Builder.create(this, "Filter")
          .description("HTTP in, everything out")
          .rules(List.of(
              MirrorFilterRule.builder()
                  .direction(TrafficDirection.INGRESS)
                  .protocol(MirrorProtocol.TCP)
                  .destinationPortRange(MirrorPortRange.builder().from(80).to(80).build())
                  .build(),
              MirrorFilterRule.builder()
                  .direction(TrafficDirection.EGRESS)
                  .destinationCidr("0.0.0.0/0")
                  .build()))
          .build();

      FargateTrafficMirror.Builder.create(this, "Mirror")
          .service(service)
          .target(target)
          .filter(filter)
          .packetLength(8500)
          .build();

      // Another team's service in the same cluster, mirrored to a central sensor: a quarter of its
      // tasks, chosen by task id. Both mirrors share the stack's one session manager.
      IBaseService worker = FargateService.fromFargateServiceAttributes(this, "WorkerService",
          FargateServiceAttributes.builder().cluster(cluster).serviceName("worker").build());
      FargateTrafficMirror.Builder.create(this, "WorkerMirror")
          .service(worker)
          .target(MirrorTarget.fromTrafficMirrorTargetId("tmt-0123456789abcdef0"))
          .filter(filter)
          .sampling(0.25)
          .build();

      // A payments service captured by a sidecar: a traffic-capture container in each task sends
      // the same VXLAN stream, whatever EC2 accepts as a mirror source, from the task's first
      // packet, to a receiver that writes pcap files to S3. No Lambda and no sessions for this one.
      FargateTaskDefinition paymentsTask = FargateTaskDefinition.Builder.create(this, "PaymentsTask")
          .cpu(512)
          .memoryLimitMiB(1024)
          .build();
      paymentsTask.addContainer("payments", ContainerDefinitionOptions.builder()
          .image(ContainerImage.fromRegistry("public.ecr.aws/nginx/nginx:stable"))
          .portMappings(List.of(PortMapping.builder().containerPort(80).build()))
          .build());
      FargateService payments = FargateService.Builder.create(this, "PaymentsService")
          .cluster(cluster)
          .taskDefinition(paymentsTask)
          .build();
      MirrorReceiver receiver = MirrorReceiver.Builder.create(this, "Receiver").vpc(vpc).build();
      FargateTrafficMirror.Builder.create(this, "PaymentsMirror")
          .service(payments)
          .target(MirrorTarget.receiver(receiver))
          .filter(filter)
          .captureMethod(CaptureMethod.sidecar())
          .build();
    }
  }

  private ExampleApp() {
  }

  public static void main(final String[] args) {
    App app = new App();
    new ExampleStack(app, "FargateTrafficMirrorExample", StackProps.builder()
        .env(Environment.builder().account("123456789012").region("eu-central-1").build())
        .build());
    app.synth();
  }
}
