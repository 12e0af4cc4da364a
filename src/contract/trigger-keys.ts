/**
 * The keys of the shared session manager's triggers. No imports: the construct uses them, and
 * the published package carries none of the handler's SDK dependencies.
 */

/**
 * The key under which a trigger names the service it is about: its owner id, and nothing else.
 * The functions read the service's configuration from its configuration parameter, never from a
 * trigger.
 */
export const SERVICE_KEY = 'service';
/**
 * The key under which triggers of releases before the configuration parameter carried the whole
 * configuration. Of it, only the owner id is read, so a message queued before an upgrade still
 * names its service; the rest is ignored.
 */
export const CONFIG_KEY = 'mirror';
/** The key of a task state change inside an event-queue message. */
export const EVENT_KEY = 'event';
/** The key that marks a scheduled sweep (the schedule's input). */
export const SWEEP_KEY = 'sweep';
/** The key that marks a sweep started by a flipped switch: it does not wait for young tasks' events. */
export const IMMEDIATE_KEY = 'immediate';
/**
 * The key that numbers the chunks of a flipped switch's sweep: each chunk that leaves work starts
 * the next, up to contract/timing.ts MAX_SWEEP_CHUNKS. It bounds the chain and nothing else.
 */
export const CHUNK_KEY = 'chunk';
