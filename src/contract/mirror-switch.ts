/**
 * The switch that turns a service's mirroring on and off at run time: an SSM parameter holding
 * `on`, `off`, or `on until <ISO 8601 time>`.
 */

/** What the switch says now. */
export type SwitchState = 'on' | 'off';

const UNTIL = /^on until (.+)$/;

/**
 * Reads a switch value at `now` (epoch ms). An unknown value counts as on, so a typo never
 * stops mirroring silently: the caller logs it.
 *
 * @returns the state, and whether the value was understood
 */
export function switchStateOf(value: string | undefined, now: number): { state: SwitchState; understood: boolean } {
  const text = (value ?? '').trim().toLowerCase();
  if (text === 'on') return { state: 'on', understood: true };
  if (text === 'off') return { state: 'off', understood: true };
  const until = UNTIL.exec(text);
  if (until) {
    const end = Date.parse(until[1].toUpperCase());
    if (Number.isFinite(end)) return { state: now < end ? 'on' : 'off', understood: true };
  }
  return { state: 'on', understood: false };
}
