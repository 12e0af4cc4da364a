import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../examples/example-stack';

describe('examples/example-stack', () => {
  test('synthesizes with a mirror target per zone, filter, rule and session manager', () => {
    const { stack } = buildExampleApp();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::TrafficMirrorTarget', 2);
    for (const endpoint of ['vpce-0a1b2c3d4e5f6a001', 'vpce-0a1b2c3d4e5f6a002']) {
      template.hasResourceProperties('AWS::EC2::TrafficMirrorTarget', { GatewayLoadBalancerEndpointId: endpoint });
    }
    template.resourceCountIs('AWS::EC2::TrafficMirrorFilter', 1);
    template.resourceCountIs('AWS::EC2::TrafficMirrorFilterRule', 2);
    template.resourceCountIs('AWS::Events::Rule', 2); // task state changes + reconcile schedule
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs22.x' });
  });

  test('template snapshot (asset hashes removed)', () => {
    const { stack } = buildExampleApp();
    // Asset hashes: the Lambda bundle's zip and the capture agent's image tag change with their sources.
    const json = JSON.stringify(Template.fromStack(stack).toJSON()).replace(/[0-9a-f]{64}/g, 'ASSET');
    expect(JSON.parse(json)).toMatchSnapshot();
  });
});
