import { SCENARIOS } from './scenarios';
import { TAG_FILTER_MODES } from '../support/ec2-model';

// 10,000 tasks: the account's session quota. Simulated half hours take real seconds.
jest.setTimeout(300_000);

const run = (name: string, tagFilters: typeof TAG_FILTER_MODES[number]) => SCENARIOS.find(s => s.name === name)!.run('ours', 1, { tagFilters });

// The enrollment and the stack delete run through the provider framework's isComplete polling,
// each call within the reconciler's 15-minute timeout, so they finish at any scale up to the
// quota (about 33 minutes of EC2's 5-per-second token bucket), and under every tag-filter mode.
describe.each(TAG_FILTER_MODES)('at the 10,000-session account quota, EC2 tag filters: %s', tagFilters => {
  test('enroll-10000: every task mirrored within 1.1x of the token-bucket bound, through the provider framework polling isComplete', async () => {
    const figures = await run('enroll-10000', tagFilters);
    expect(figures.violations).toEqual([]);
    expect(figures.enrollmentResults).toEqual(['Create: SUCCESS']);
    expect(figures.sweepApiCalls.CreateTrafficMirrorSession).toBeGreaterThanOrEqual(10_000);
    expect(figures.tokenBucketBoundSec).toBe(1990);
    expect(figures.ratioToBound).toBeLessThanOrEqual(1.1);
    expect(figures.undocumentedFilterRequests).toBe(0);
  });

  test('stack-delete-10000: no owned session left, within 1.1x of the token-bucket bound', async () => {
    const figures = await run('stack-delete-10000', tagFilters);
    expect(figures.violations).toEqual([]);
    expect(figures.enrollmentResults).toEqual(['Create: SUCCESS', 'Delete: SUCCESS']);
    expect(figures.sweepApiCalls.DeleteTrafficMirrorSession).toBeGreaterThanOrEqual(10_000);
    expect(figures.ratioToBound).toBeLessThanOrEqual(1.1);
    expect(figures.undocumentedFilterRequests).toBe(0);
  });
});
