// The TypeScript example (examples/example-stack.ts) written against the Go module: a web
// service on Fargate whose every task is mirrored to an internal Network Load Balancer. Construct
// ids, stack name and environment match the TypeScript example on purpose: test/consumers/run.sh
// compares the two templates.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
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

	// The sensors' load balancer: VXLAN (UDP 4789) from the mirrored tasks.
	nlb := elbv2.NewNetworkLoadBalancer(stack, jsii.String("SensorNlb"), &elbv2.NetworkLoadBalancerProps{
		Vpc: vpc, InternetFacing: jsii.Bool(false),
	})
	sensors := elbv2.NewNetworkTargetGroup(stack, jsii.String("Sensors"), &elbv2.NetworkTargetGroupProps{
		Vpc: vpc, Port: jsii.Number(4789), Protocol: elbv2.Protocol_UDP, TargetType: elbv2.TargetType_IP,
	})
	nlb.AddListener(jsii.String("Vxlan"), &elbv2.BaseNetworkListenerProps{
		Port: jsii.Number(4789), Protocol: elbv2.Protocol_UDP, DefaultTargetGroups: &[]elbv2.INetworkTargetGroup{sensors},
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
		Target:       mirror.MirrorTarget_NetworkLoadBalancer(nlb),
		Filter:       filter,
		PacketLength: jsii.Number(8500),
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
