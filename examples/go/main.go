// The TypeScript example (examples/example-stack.ts) written against the Go module: a web
// service on Fargate whose every task is mirrored to the Gateway Load Balancer endpoint in its own
// Availability Zone. Construct
// ids, stack name and environment match the TypeScript example on purpose: test/consumers/run.sh
// compares the two templates.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	mirror "github.com/fargate-traffic-mirror/fargate-traffic-mirror-go/cdkfargatetrafficmirror"
)

func newExampleStack(scope constructs.Construct, id string, props *awscdk.StackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), props)

	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})

	taskDefinition := awsecs.NewFargateTaskDefinition(stack, jsii.String("WebTask"), &awsecs.FargateTaskDefinitionProps{
		Cpu: jsii.Number(256), MemoryLimitMiB: jsii.Number(512),
	})
	taskDefinition.AddContainer(jsii.String("web"), &awsecs.ContainerDefinitionOptions{
		Image:        awsecs.ContainerImage_FromRegistry(jsii.String("public.ecr.aws/nginx/nginx:stable"), nil),
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(80)}},
	})
	service := awsecs.NewFargateService(stack, jsii.String("WebService"), &awsecs.FargateServiceProps{
		Cluster: cluster, TaskDefinition: taskDefinition, DesiredCount: jsii.Number(2),
	})

	// The sensors' Gateway Load Balancer has an endpoint in each zone of the service: each task is
	// mirrored to the one in its own zone.
	target := mirror.MirrorTarget_PerAvailabilityZone(&map[string]mirror.MirrorTarget{
		"eu-central-1a": mirror.MirrorTarget_GatewayLoadBalancerEndpoint(jsii.String("vpce-0a1b2c3d4e5f6a001")),
		"eu-central-1b": mirror.MirrorTarget_GatewayLoadBalancerEndpoint(jsii.String("vpce-0a1b2c3d4e5f6a002")),
	})

	// Mirror HTTP in both directions, and everything else the tasks send out.
	filter := mirror.NewMirrorFilter(stack, jsii.String("Filter"), &mirror.MirrorFilterProps{
		Description: jsii.String("HTTP in, everything out"),
		Rules: &[]*mirror.MirrorFilterRule{
			{
				Direction:            mirror.TrafficDirection_INGRESS,
				Protocol:             mirror.MirrorProtocol_TCP(),
				DestinationPortRange: &mirror.MirrorPortRange{From: jsii.Number(80), To: jsii.Number(80)},
			},
			{Direction: mirror.TrafficDirection_EGRESS, DestinationCidr: jsii.String("0.0.0.0/0")},
		},
	})

	mirror.NewFargateTrafficMirror(stack, jsii.String("Mirror"), &mirror.FargateTrafficMirrorProps{
		Service:      service,
		Target:       target,
		Filter:       filter,
		PacketLength: jsii.Number(8500),
	})

	// Another team's service in the same cluster, mirrored to a central sensor: a quarter of its
	// tasks, chosen by task id. Both mirrors share the stack's one session manager.
	worker := awsecs.FargateService_FromFargateServiceAttributes(stack, jsii.String("WorkerService"), &awsecs.FargateServiceAttributes{
		Cluster: cluster, ServiceName: jsii.String("worker"),
	})
	mirror.NewFargateTrafficMirror(stack, jsii.String("WorkerMirror"), &mirror.FargateTrafficMirrorProps{
		Service:  worker,
		Target:   mirror.MirrorTarget_FromTrafficMirrorTargetId(jsii.String("tmt-0123456789abcdef0"), nil),
		Filter:   filter,
		Sampling: jsii.Number(0.25),
	})

	// A payments service captured by a sidecar: a traffic-capture container in each task sends the
	// same VXLAN stream, whatever EC2 accepts as a mirror source, from the task's first packet, to a
	// receiver that writes pcap files to S3. No Lambda and no sessions for this one.
	paymentsTask := awsecs.NewFargateTaskDefinition(stack, jsii.String("PaymentsTask"), &awsecs.FargateTaskDefinitionProps{
		Cpu: jsii.Number(512), MemoryLimitMiB: jsii.Number(1024),
	})
	paymentsTask.AddContainer(jsii.String("payments"), &awsecs.ContainerDefinitionOptions{
		Image:        awsecs.ContainerImage_FromRegistry(jsii.String("public.ecr.aws/nginx/nginx:stable"), nil),
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(80)}},
	})
	payments := awsecs.NewFargateService(stack, jsii.String("PaymentsService"), &awsecs.FargateServiceProps{
		Cluster: cluster, TaskDefinition: paymentsTask,
	})
	receiver := mirror.NewMirrorReceiver(stack, jsii.String("Receiver"), &mirror.MirrorReceiverProps{Vpc: vpc})
	mirror.NewFargateTrafficMirror(stack, jsii.String("PaymentsMirror"), &mirror.FargateTrafficMirrorProps{
		Service:       payments,
		Target:        mirror.MirrorTarget_Receiver(receiver),
		Filter:        filter,
		CaptureMethod: mirror.CaptureMethod_Sidecar(nil),
	})
	return stack
}

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	newExampleStack(app, "FargateTrafficMirrorExample", &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-central-1")},
	})
	app.Synth(nil)
}
