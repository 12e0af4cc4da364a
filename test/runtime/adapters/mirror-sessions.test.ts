import { OWNER_TAG_KEY, STACK_TAG_KEY } from '../../../src/contract/ownership';
import { harness } from '../../support/harness';

afterEach(() => jest.restoreAllMocks());

describe('MirrorSessions on the fake EC2 endpoint', () => {
  test('every session carries the owner tag and the stack tag, which IAM scopes Delete and Modify to', async () => {
    const h = harness({ stackTag: 'ftms-0123456789abcdef01234567' });
    await h.deps.sessions.create('eni-0123456789abcdef0', 'arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef');
    const [session] = [...h.ec2.sessions.values()];
    expect(session.tags[OWNER_TAG_KEY]).toBe(h.config.ownerId);
    expect(session.tags[STACK_TAG_KEY]).toBe('ftms-0123456789abcdef01234567');
  });
});
