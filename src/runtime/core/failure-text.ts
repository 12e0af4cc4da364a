/** Core: cuts a failure reason to what CloudFormation's custom resource response can carry. Pure. */

/**
 * CloudFormation takes a custom resource response body of at most 4,096 bytes (AWS
 * CloudFormation User Guide, "Custom resources": response objects). The provider framework puts
 * the reason beside the stack id, request id, physical and logical ids (up to 255 characters) and
 * the Data, as JSON: about 700 bytes besides the reason at most. The reason, JSON-escaped, keeps
 * to this budget.
 */
export const REASON_BUDGET_BYTES = 3000;
/** Each part of a reason (`; `-separated: a task's line, a target's refusal) keeps at most this much. */
const PART_BUDGET_BYTES = 240;
const CUT = '…';
const TAIL = ' … (cut to fit CloudFormation\'s 4,096-byte response; the reconciler\'s log has the whole text)';

/** Bytes `text` takes inside a JSON document (quotes and backslashes escaped, UTF-8). */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

/** The longest start of `text` that takes at most `bytes` inside a JSON document. */
function head(text: string, bytes: number): string {
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonBytes(text.slice(0, mid)) <= bytes) low = mid;
    else high = mid - 1;
  }
  return text.slice(0, low);
}

/**
 * A failure reason that fits {@link REASON_BUDGET_BYTES} whatever EC2 answered: counts and codes
 * come first in our reasons (`3 of 5 running tasks ... (NoUsableTarget=3): create {...}:
 * TrafficMirrorSourcesPerTargetLimitExceeded: ...`), so each `; `-separated part keeps its start
 * (task, target, code) and loses the end of a long message; EC2's encoded authorization
 * messages are dropped; and if that is still too long, the end goes. Unchanged when it fits.
 */
export function fitFailureReason(reason: string, budget = REASON_BUDGET_BYTES): string {
  if (jsonBytes(reason) <= budget) return reason;
  const shorter = reason
    .replace(/(Encoded authorization failure message:)\s*\S+/gi, '$1 (in the log)')
    .split('; ')
    .map(part => (jsonBytes(part) <= PART_BUDGET_BYTES ? part : head(part, PART_BUDGET_BYTES - jsonBytes(CUT)) + CUT))
    .join('; ');
  if (jsonBytes(shorter) <= budget) return shorter;
  return head(shorter, budget - jsonBytes(TAIL)) + TAIL;
}
