import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { eventBacklogOf } from '../../../src/runtime/adapters/event-queue';

const sqsMock = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/task-state';

beforeEach(() => sqsMock.reset());

describe('eventBacklogOf', () => {
  // GetQueueAttributes (SQS API reference): ApproximateNumberOfMessages is "the approximate
  // number of messages available for retrieval", ...Delayed those "delayed and not available for
  // reading immediately", ...NotVisible those "in flight" (not asked for). Values are strings.
  test('adds up waiting and delayed messages, asking for those two only', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({
      Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '2', ApproximateNumberOfMessagesDelayed: '1' },
    });
    expect(await eventBacklogOf(new SQSClient({ region: 'us-east-1' }), QUEUE_URL)()).toBe(4);
    expect(sqsMock.commandCalls(GetQueueAttributesCommand)[0].args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
    });
  });

  test('an empty queue is zero, and a missing attribute counts as none', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    expect(await eventBacklogOf(new SQSClient({ region: 'us-east-1' }), QUEUE_URL)()).toBe(0);
  });

  test('an SQS error reaches the caller, which treats the queue as busy', async () => {
    sqsMock.on(GetQueueAttributesCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(eventBacklogOf(new SQSClient({ region: 'us-east-1' }), QUEUE_URL)()).rejects.toThrow('denied');
  });
});
