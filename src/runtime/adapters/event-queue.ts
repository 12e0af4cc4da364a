/** Adapter: the event queue, its backlog and the receipt handles of the records the event function is handed. */
import { ChangeMessageVisibilityBatchCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EVENT_QUEUE_VISIBILITY_TIMEOUT_SEC } from '../../contract/timing';

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

/** A queue record as Lambda hands it over. */
export interface QueueReceipt {
  readonly messageId: string;
  readonly receiptHandle?: unknown;
}

/** Which records are not messages of the queue (forged), and which could not be checked now (retry). */
export interface ReceiptCheck {
  readonly forged: string[];
  readonly retry: string[];
}

/**
 * Checks that records are messages of the event queue that this invocation received: SQS accepts
 * a ChangeMessageVisibility only with the receipt handle of a message received and not yet
 * deleted, and refuses any other with `ReceiptHandleIsInvalid` (Amazon SQS API reference). The
 * visibility timeout is set to the queue's own, so a message's handling is unchanged. A direct
 * invoke with made-up records (any principal with lambda:InvokeFunction may make one) fails the
 * check and is ignored; only the stack's rules may send to the queue.
 */
export function receiptCheckerOf(sqs: SQSClient, queueUrl: string): (records: readonly QueueReceipt[]) => Promise<ReceiptCheck> {
  return async records => {
    const forged = records.filter(r => typeof r.receiptHandle !== 'string' || r.receiptHandle === '').map(r => r.messageId);
    const retry: string[] = [];
    const checkable = records.filter(r => !forged.includes(r.messageId));
    // At most 10 entries per batch request.
    for (let i = 0; i < checkable.length; i += 10) {
      const chunk = checkable.slice(i, i + 10);
      try {
        const answer = await sqs.send(new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((r, n) => ({
            Id: String(n), ReceiptHandle: String(r.receiptHandle), VisibilityTimeout: EVENT_QUEUE_VISIBILITY_TIMEOUT_SEC,
          })),
        }));
        for (const failed of answer.Failed ?? []) {
          const record = chunk[Number(failed.Id)];
          if (!record) continue;
          (failed.SenderFault ? forged : retry).push(record.messageId);
        }
      } catch (error) {
        // A batch request refused as a whole for a bad handle is a forged batch; else try later.
        const name = (error as { name?: string }).name ?? '';
        if (/ReceiptHandleIsInvalid|InvalidParameterValue|InvalidIdFormat/.test(name)) forged.push(...chunk.map(r => r.messageId));
        else retry.push(...chunk.map(r => r.messageId));
      }
    }
    return { forged, retry };
  };
}
