module github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent

go 1.26.0

require (
	golang.org/x/net v0.63.0
	golang.org/x/sys v0.50.0
)
