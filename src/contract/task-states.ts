/**
 * Contract: the ECS task states both sides name, the construct in its event rule and the runtime
 * when it reads events. Imports nothing.
 */

/**
 * The state in which a starting task is first mirrored: with Fargate platform 1.4 the task's
 * ENI is attached at PENDING, and everything the task sends from then on (image pull, secrets,
 * its first connections) goes through it. The PENDING event with the ENI costs the one write
 * of a task start.
 */
export const EARLY_START_STATE = 'PENDING';
/**
 * The running state: ECS emits a RUNNING task state change on the transition and again for each
 * container transition after it (a sidecar starting, an init container exiting), so one task has
 * several. They cost nothing: the PENDING event created the session, and a lost PENDING is healed
 * by the sweep (runtime/route-invocation.ts), which reads by the account, not by the task. Only a task whose PENDING
 * event came without an attached ENI is mirrored on RUNNING, its first event with one, when the
 * same function container saw that PENDING (runtime/adapters/recent-tasks.ts).
 */
export const START_STATE = 'RUNNING';
/**
 * The one state in which a stopped task's leftovers are removed. EC2 deletes a session with its
 * ENI, which ECS deletes before STOPPED, so this is a check, not the usual way sessions go; and
 * a draining task (DEACTIVATING, STOPPING) keeps being mirrored until its ENI is gone.
 */
export const STOP_STATE = 'STOPPED';
