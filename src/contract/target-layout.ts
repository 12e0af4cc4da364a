/**
 * Contract: the layout of a mirror's targets (ids, zones, source limits) and its one-variable text
 * form, which the construct writes with {@link formatTargets} and the runtime reads with
 * {@link parseTargets}. Pure: imports nothing.
 */

/** One target of the layout. */
export interface TargetSpec {
  /** The traffic mirror target id (`tmt-...`). */
  readonly targetId: string;
  /** The Availability Zone (name) whose tasks the target serves; undefined: any zone, unknown where it is. */
  readonly availabilityZone?: string;
  /** Distinct sources the target accepts (an ENI target: 10); undefined: no known limit. */
  readonly maxSources?: number;
}

/** What the placement reads from the configuration. */
export interface TargetLayout {
  /** The target of a one-target layout, and the first of a larger one. */
  readonly targetId: string;
  /** Every target; undefined or empty: `targetId` alone, serving every zone. */
  readonly targets?: readonly TargetSpec[];
  /** Use another zone's target when the task's own zone has none that accepts it. */
  readonly allowCrossZone?: boolean;
}

/** Zone names as ECS reports them: `eu-west-1a`, or a Local Zone such as `us-west-2-lax-1a`. */
export const ZONE_PATTERN = /^[a-z]{2}(-[a-z0-9]+)+$/;
const TARGET_ID_PATTERN = /^[A-Za-z0-9-]+$/;

/** Every target of the layout (a one-target layout is its `targetId`, serving every zone). */
export function targetsOf(layout: TargetLayout): readonly TargetSpec[] {
  return layout.targets && layout.targets.length > 0 ? layout.targets : [{ targetId: layout.targetId }];
}

/**
 * The layout as one environment variable: `[zone=]targetId[:maxSources]`, comma-separated, in
 * the construct's order. Target ids may be CloudFormation tokens; they are concatenated, not
 * inspected, so the construct can call this with unresolved values.
 */
export function formatTargets(targets: readonly TargetSpec[]): string {
  return targets.map(t => `${t.availabilityZone ? `${t.availabilityZone}=` : ''}${t.targetId}${t.maxSources !== undefined ? `:${t.maxSources}` : ''}`).join(',');
}

/** Reads {@link formatTargets}' output; throws on anything else, so a broken deployment fails at cold start. */
export function parseTargets(text: string): TargetSpec[] {
  return text.split(',').map(entry => {
    const match = /^(?:([^=:,]+)=)?([^=:,]+)(?::(\d+))?$/.exec(entry.trim());
    if (!match || !TARGET_ID_PATTERN.test(match[2]) || (match[1] !== undefined && !ZONE_PATTERN.test(match[1]))) {
      throw new Error(`malformed target '${entry}' (expected [zone=]targetId[:maxSources])`);
    }
    const [, zone, targetId, limit] = match;
    return { targetId, ...(zone ? { availabilityZone: zone } : {}), ...(limit ? { maxSources: Number(limit) } : {}) };
  });
}
