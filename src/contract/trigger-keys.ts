/**
 * The keys of the shared session manager's triggers. No imports: the construct uses them, and
 * the published package carries none of the handler's SDK dependencies.
 */

/** The key under which every trigger carries its service's configuration (the ENV-keyed record). */
export const CONFIG_KEY = 'mirror';
/** The key of a task state change inside an event-queue message. */
export const EVENT_KEY = 'event';
/** The key that marks a scheduled sweep (the schedule's input). */
export const SWEEP_KEY = 'sweep';
/** The key that marks a sweep started by a flipped switch: it does not wait for young tasks' events. */
export const IMMEDIATE_KEY = 'immediate';
