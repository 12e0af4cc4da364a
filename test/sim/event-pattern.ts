/**
 * The simulated EventBridge rules match events with the pattern the construct synthesizes, not
 * with a hand-written copy: a pattern that cannot match what it is meant to shows in the
 * simulation. The template's pattern holds tokens (the cluster's ARN, the service's name, the
 * switch parameter's name); they become placeholders, which each simulated service fills in.
 */

/** What a placeholder stands for, per simulated service. */
export type PatternValues = Record<string, string>;

/**
 * Resolves a template value's intrinsics: `Fn::Join` is joined, and each `Ref` or `Fn::GetAtt`
 * found in `names` (keys `LogicalId` or `LogicalId.Attribute`) becomes `{{name}}`. Anything
 * else is an error: the simulation would not know what the rule matches.
 */
export function withPlaceholders(value: unknown, names: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map(v => withPlaceholders(v, names));
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, any>;
  const token = 'Ref' in v ? String(v.Ref) : 'Fn::GetAtt' in v ? (v['Fn::GetAtt'] as string[]).join('.') : undefined;
  if (token !== undefined) {
    if (!(token in names)) throw new Error(`the rule's pattern refers to ${token}, which the simulator cannot resolve`);
    return `{{${names[token]}}}`;
  }
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(p => withPlaceholders(p, names)).join(separator);
  }
  return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, withPlaceholders(inner, names)]));
}

/** The pattern of one service: its placeholders filled in. */
export function instantiate(pattern: unknown, values: PatternValues): unknown {
  return JSON.parse(JSON.stringify(pattern).replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for {{${name}}} in the rule's pattern`);
    return values[name];
  }));
}

/**
 * Whether an event matches an EventBridge pattern (the subset the construct uses): every field
 * of the pattern must match, an array of values matches when the event's value (or one of the
 * event's values) equals one of them, an object matches the event's object field by field, and
 * `$or` holds when one of its patterns matches, in addition to the fields beside it.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) throw new Error('a pattern is an object');
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as unknown[]).some(alternative => matchesPattern(alternative, e));
    if (Array.isArray(expected)) return matchesValues(expected, e[key]);
    return matchesPattern(expected, e[key]);
  });
}

function matchesValues(expected: unknown[], actual: unknown): boolean {
  if (expected.some(x => typeof x === 'object' && x !== null)) {
    throw new Error(`content filters (${JSON.stringify(expected)}) are not modelled by the simulator`);
  }
  const actuals = Array.isArray(actual) ? actual : [actual];
  return actuals.some(a => a !== undefined && expected.includes(a));
}
