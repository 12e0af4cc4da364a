import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MirrorFilter, MirrorFilterRule, MirrorProtocol, MirrorRuleAction, TrafficDirection } from '../src';

const IN = TrafficDirection.INGRESS;
const OUT = TrafficDirection.EGRESS;

function newStack() {
  return new Stack(new App(), 'FilterStack');
}

describe('MirrorFilter', () => {
  test('typed rules become filter rules with every 5-tuple field', () => {
    const stack = newStack();
    new MirrorFilter(stack, 'Filter', {
      description: 'web only',
      rules: [{
        direction: IN,
        action: MirrorRuleAction.REJECT,
        protocol: MirrorProtocol.TCP,
        ruleNumber: 5,
        sourceCidr: '10.0.0.0/8',
        destinationCidr: '10.1.0.0/16',
        sourcePortRange: { from: 1024, to: 65535 },
        destinationPortRange: { from: 443, to: 443 },
        description: 'no tls',
      }],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::TrafficMirrorFilter', { Description: 'web only', NetworkServices: Match.absent() });
    template.hasResourceProperties('AWS::EC2::TrafficMirrorFilterRule', {
      TrafficMirrorFilterId: { Ref: Match.stringLikeRegexp('^Filter') },
      TrafficDirection: 'ingress',
      RuleAction: 'reject',
      RuleNumber: 5,
      Protocol: 6,
      SourceCidrBlock: '10.0.0.0/8',
      DestinationCidrBlock: '10.1.0.0/16',
      SourcePortRange: { FromPort: 1024, ToPort: 65535 },
      DestinationPortRange: { FromPort: 443, ToPort: 443 },
      Description: 'no tls',
    });
  });

  test('mirrorAmazonDns adds the amazon-dns network service', () => {
    const stack = newStack();
    new MirrorFilter(stack, 'Filter', { mirrorAmazonDns: true });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::TrafficMirrorFilter', { NetworkServices: ['amazon-dns'] });
  });

  test('rule numbers are assigned per direction after the highest one used', () => {
    const stack = newStack();
    const filter = new MirrorFilter(stack, 'Filter', {
      rules: [{ direction: IN }, { direction: IN, ruleNumber: 250 }, { direction: IN }, { direction: OUT }],
    });
    filter.addRule({ direction: OUT, destinationCidr: '::/0' });
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::EC2::TrafficMirrorFilterRule'))
      .map((r: any) => `${r.Properties.TrafficDirection}:${r.Properties.RuleNumber}`);
    expect(rules).toEqual(['ingress:100', 'ingress:250', 'ingress:300', 'egress:100', 'egress:200']);
  });

  test('an IPv6 CIDR on one side defaults the other side to ::/0', () => {
    const stack = newStack();
    new MirrorFilter(stack, 'Filter', { rules: [{ direction: OUT, destinationCidr: '2001:db8::/32' }] });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::TrafficMirrorFilterRule', {
      SourceCidrBlock: '::/0', DestinationCidrBlock: '2001:db8::/32',
    });
  });

  test('fromMirrorFilterId refers to an existing filter', () => {
    const stack = newStack();
    const filter = MirrorFilter.fromMirrorFilterId(stack, 'Existing', 'tmf-0123456789abcdef0');
    expect(filter.trafficMirrorFilterId).toBe('tmf-0123456789abcdef0');
    Template.fromStack(stack).resourceCountIs('AWS::EC2::TrafficMirrorFilter', 0);
    expect(() => MirrorFilter.fromMirrorFilterId(stack, 'Bad', 'filter-1')).toThrow(/trafficMirrorFilterId must be a traffic mirror filter id like 'tmf-0123456789abcdef0', got 'filter-1'/);
  });

  test('tokens are passed through unvalidated', () => {
    const stack = newStack();
    const port = new CfnParameter(stack, 'Port', { type: 'Number' }).valueAsNumber;
    const cidr = new CfnParameter(stack, 'Cidr').valueAsString;
    expect(() => new MirrorFilter(stack, 'Filter', {
      rules: [{ direction: IN, protocol: 6, sourceCidr: cidr, destinationPortRange: { from: port, to: port }, ruleNumber: port }],
    })).not.toThrow();
  });

  describe('validation', () => {
    const one = (rule: Partial<MirrorFilterRule>): MirrorFilterRule[] => [{ direction: IN, ...rule }];
    const cases: Array<[string, MirrorFilterRule[], RegExp]> = [
      ['11 rules', Array.from({ length: 11 }, () => ({ direction: IN })), /rules\[10\]: a traffic mirror filter holds at most 10 rules, got 11/],
      ['duplicate rule number in one direction', [{ direction: IN, ruleNumber: 10 }, { direction: IN, ruleNumber: 10 }], /rules\[1\]\.ruleNumber 10 is already used by another ingress rule/],
      ['rule number 0', one({ ruleNumber: 0 }), /rules\[0\]\.ruleNumber must be an integer between 1 and 32766, got 0/],
      ['rule number 32767', one({ ruleNumber: 32767 }), /ruleNumber must be an integer between 1 and 32766, got 32767/],
      ['invalid IPv4 CIDR', one({ sourceCidr: '10.0.0.256/8' }), /rules\[0\]\.sourceCidr must be an IPv4 or IPv6 CIDR block .*got '10.0.0.256\/8'/],
      ['CIDR without prefix', one({ destinationCidr: '10.0.0.0' }), /destinationCidr must be an IPv4 or IPv6 CIDR block .*got '10.0.0.0'/],
      ['IPv4 prefix above 32', one({ destinationCidr: '10.0.0.0/33' }), /destinationCidr must be an IPv4 or IPv6 CIDR block/],
      ['invalid IPv6 CIDR', one({ sourceCidr: '2001:db8:::/32' }), /sourceCidr must be an IPv4 or IPv6 CIDR block/],
      ['mixed IP families', one({ sourceCidr: '10.0.0.0/8', destinationCidr: '::/0' }), /must be of the same IP family/],
      ['protocol 256', one({ protocol: 256 }), /rules\[0\]\.protocol must be an integer between 0 and 255, got 256/],
      ['protocol -1', one({ protocol: -1 }), /protocol must be an integer between 0 and 255, got -1/],
      ['port above 65535', one({ protocol: 6, destinationPortRange: { from: 1, to: 65536 } }), /destinationPortRange\.to must be an integer between 0 and 65535, got 65536/],
      ['negative port', one({ protocol: 17, sourcePortRange: { from: -1, to: 5 } }), /sourcePortRange\.from must be an integer between 0 and 65535, got -1/],
      ['from greater than to', one({ protocol: 6, destinationPortRange: { from: 443, to: 80 } }), /destinationPortRange\.from \(443\) must not be greater than to \(80\)/],
      ['ports on ICMP', one({ protocol: 1, destinationPortRange: { from: 1, to: 2 } }), /destinationPortRange is only allowed with protocol TCP \(6\) or UDP \(17\), got protocol 1/],
      ['ports on all protocols', one({ sourcePortRange: { from: 1, to: 2 } }), /sourcePortRange is only allowed with protocol TCP \(6\) or UDP \(17\), got protocol all/],
      ['unknown direction', [{ direction: 'sideways' as TrafficDirection }], /direction must be 'ingress' or 'egress', got 'sideways'/],
    ];
    test.each(cases)('%s fails at synth', (_name, rules, message) => {
      expect(() => new MirrorFilter(newStack(), 'Filter', { rules })).toThrow(message);
    });

    test('the same rule number in both directions is allowed', () => {
      expect(() => new MirrorFilter(newStack(), 'Filter', {
        rules: [{ direction: IN, ruleNumber: 10 }, { direction: OUT, ruleNumber: 10 }],
      })).not.toThrow();
    });

    test('addRule beyond 10 rules fails', () => {
      const filter = new MirrorFilter(newStack(), 'Filter'); // 4 default rules
      for (let i = 0; i < 6; i++) filter.addRule({ direction: OUT });
      expect(() => filter.addRule({ direction: OUT })).toThrow(/at most 10 rules, got 11/);
    });
  });
});
