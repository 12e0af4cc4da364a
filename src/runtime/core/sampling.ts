/** Pure: which tasks a sampled mirror takes, by a hash of the task id (no SDK, no I/O, no clock). */
import { createHash } from 'crypto';
import { taskIdOf } from './task-id';

/**
 * Whether a task is among the mirrored share: a hash of its id, read as a fraction of 1, is
 * below `sampling`. Deterministic, so the event path and every sweep agree, and a task is
 * mirrored for its whole life or not at all. The id, not the ARN: a sweep may know a task by
 * its id only (long ARNs are tagged as ids).
 */
export function isSampled(taskArnOrId: string, sampling: number | undefined): boolean {
  if (sampling === undefined || sampling >= 1) return true;
  const hash = createHash('sha256').update(taskIdOf(taskArnOrId)).digest();
  return hash.readUInt32BE(0) / 2 ** 32 < sampling;
}
