/** Pure: the one test for a JSON object that the runtime's parsers share. */

/** Whether `value` is a plain object (not null, not an array), so its fields can be read. */
export function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
