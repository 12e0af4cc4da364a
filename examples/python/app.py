"""The TypeScript example (examples/example-stack.ts) written against the Python package.

A web service on Fargate whose every task is mirrored to the Gateway Load Balancer endpoint in
its own Availability Zone.
Construct ids, stack name and environment match the TypeScript example on purpose:
test/consumers/run.sh compares the two templates.
"""
import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from cdk_fargate_traffic_mirror import (
    CaptureMethod,
    FargateTrafficMirror,
    MirrorFilter,
    MirrorFilterRule,
    MirrorPortRange,
    MirrorProtocol,
    MirrorReceiver,
    MirrorTarget,
    TrafficDirection,
)


class ExampleStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)
        cluster = ecs.Cluster(self, "Cluster", vpc=vpc)

        task_definition = ecs.FargateTaskDefinition(self, "WebTask", cpu=256, memory_limit_mib=512)
        task_definition.add_container(
            "web",
            image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:stable"),
            port_mappings=[ecs.PortMapping(container_port=80)],
        )
        service = ecs.FargateService(
            self, "WebService", cluster=cluster, task_definition=task_definition, desired_count=2
        )

        # The sensors' Gateway Load Balancer has an endpoint in each zone of the service: each task is
        # mirrored to the one in its own zone.
        target = MirrorTarget.per_availability_zone({
            "eu-central-1a": MirrorTarget.gateway_load_balancer_endpoint("vpce-0a1b2c3d4e5f6a001"),
            "eu-central-1b": MirrorTarget.gateway_load_balancer_endpoint("vpce-0a1b2c3d4e5f6a002"),
        })

        # Mirror HTTP in both directions, and everything else the tasks send out.
        mirror_filter = MirrorFilter(
            self, "Filter",
            description="HTTP in, everything out",
            rules=[
                MirrorFilterRule(
                    direction=TrafficDirection.INGRESS,
                    protocol=MirrorProtocol.TCP,
                    destination_port_range=MirrorPortRange(from_=80, to=80),
                ),
                MirrorFilterRule(direction=TrafficDirection.EGRESS, destination_cidr="0.0.0.0/0"),
            ],
        )

        FargateTrafficMirror(
            self, "Mirror",
            service=service,
            target=target,
            filter=mirror_filter,
            packet_length=8500,
        )

        # Another team's service in the same cluster, mirrored to a central sensor: a quarter of its
        # tasks, chosen by task id. Both mirrors share the stack's one session manager.
        worker = ecs.FargateService.from_fargate_service_attributes(
            self, "WorkerService", cluster=cluster, service_name="worker"
        )
        FargateTrafficMirror(
            self, "WorkerMirror",
            service=worker,
            target=MirrorTarget.from_traffic_mirror_target_id("tmt-0123456789abcdef0"),
            filter=mirror_filter,
            sampling=0.25,
        )

        # A payments service captured by a sidecar: a traffic-capture container in each task sends the
        # same VXLAN stream, whatever EC2 accepts as a mirror source, from the task's first packet, to a
        # receiver that writes pcap files to S3. No Lambda and no sessions for this one.
        payments_task = ecs.FargateTaskDefinition(self, "PaymentsTask", cpu=512, memory_limit_mib=1024)
        payments_task.add_container(
            "payments",
            image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:stable"),
            port_mappings=[ecs.PortMapping(container_port=80)],
        )
        payments = ecs.FargateService(self, "PaymentsService", cluster=cluster, task_definition=payments_task)
        receiver = MirrorReceiver(self, "Receiver", vpc=vpc)
        FargateTrafficMirror(
            self, "PaymentsMirror",
            service=payments,
            target=MirrorTarget.receiver(receiver),
            filter=mirror_filter,
            capture_method=CaptureMethod.sidecar(),
        )


app = cdk.App()
ExampleStack(
    app, "FargateTrafficMirrorExample",
    env=cdk.Environment(account="123456789012", region="eu-central-1"),
)
app.synth()
