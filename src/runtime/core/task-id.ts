/** Pure: a task's id from its ARN. */

/** The id of a task: the last part of its ARN (or the id itself). */
export function taskIdOf(taskArnOrId: string): string {
  return taskArnOrId.slice(taskArnOrId.lastIndexOf('/') + 1);
}
