module fargate-traffic-mirror-example

go 1.25

require (
	github.com/aws/aws-cdk-go/awscdk/v2 v2.170.0
	github.com/aws/constructs-go/constructs/v10 v10.4.2
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/fargate-traffic-mirror/fargate-traffic-mirror-go/cdkfargatetrafficmirror v0.0.0
)

// The module jsii-pacmak writes to dist/go, used in place of a published one.
replace github.com/fargate-traffic-mirror/fargate-traffic-mirror-go/cdkfargatetrafficmirror => ../../dist/go/cdkfargatetrafficmirror

// aws-cdk-go v2.170.0 requires awscliv1 v2.2.296, which the module proxy this project can reach
// does not serve; a served version of that asset module (unused by this library) stands in.
replace github.com/cdklabs/awscdk-asset-awscli-go/awscliv1/v2 => github.com/cdklabs/awscdk-asset-awscli-go/awscliv1/v2 v2.2.242
