/**
 * Construct-side helper: each `MirrorFilter`'s rules as the capture agent reads them
 * (`MIRROR_FILTER`), kept beside the filter without widening its public API. Imports nothing else
 * in src/.
 */

/** One rule, with its number and CIDRs resolved as the filter resource has them. */
export interface AgentFilterRule {
  readonly direction: string;
  readonly ruleNumber: number;
  readonly action: string;
  readonly protocol?: number;
  readonly sourceCidr: string;
  readonly destinationCidr: string;
  readonly sourcePortRange?: { readonly from: number; readonly to: number };
  readonly destinationPortRange?: { readonly from: number; readonly to: number };
}

/** A filter as the agent reads it: rules and whether Amazon DNS traffic is mirrored. */
export interface AgentFilter {
  readonly rules: AgentFilterRule[];
  readonly amazonDns: boolean;
}

/** Filters defined in this app, by their construct; an imported filter has no entry. */
const FILTERS = new WeakMap<object, AgentFilter>();

/** Starts the record of a filter; its rules are added as the filter gets them. */
export function recordFilter(filter: object, amazonDns: boolean): AgentFilter {
  const record: AgentFilter = { rules: [], amazonDns };
  FILTERS.set(filter, record);
  return record;
}

/** The filter's rules, or undefined for a filter this app did not define (its rules are unknown). */
export function agentFilterOf(filter: object): AgentFilter | undefined {
  return FILTERS.get(filter);
}
