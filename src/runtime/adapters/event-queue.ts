import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

/** Messages waiting to be received: visible now, or delayed. */
const WAITING_ATTRIBUTES = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'] as const;

/**
 * How many task state changes wait in the event queue to be received. Messages in flight are
 * not counted: they are being handled now, or belong to a batch whose function died and come
 * back only after the visibility timeout (6 minutes), which a sweep should not wait for. SQS
 * documents the counts as approximate; the sweep only asks whether the sum is within what one
 * round of polls takes (contract/timing.ts KEEPING_UP_BACKLOG), and an error either way costs time to
 * heal or one extra write, never a lost or a second session.
 */
export function eventBacklogOf(sqs: SQSClient, queueUrl: string): () => Promise<number> {
  return async () => {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...WAITING_ATTRIBUTES] }));
    return WAITING_ATTRIBUTES.reduce((sum, name) => sum + Number(Attributes[name] ?? 0), 0);
  };
}
