import { HttpResponse } from '@smithy/protocol-http';
import { DOCUMENTED_SESSION_FILTERS, FakeSession, invalidValue, MAX_RESULTS_RANGE, TagFilterMode } from './ec2-mirror-rules';
import { error, optionalInt, queryFilters, queryList, xml } from './ec2-query';

/** The sessions as Describe reads them: by id, in the order to list them, and by source ENI. */
export interface DescribableSessions extends ReadonlyMap<string, FakeSession> {
  /** The sessions on any of the ENIs, each once, in the map's order. */
  onInterfaces(enis: readonly string[]): FakeSession[];
}

/** What DescribeTrafficMirrorSessions reads of the model. */
export interface DescribedSessions {
  readonly sessions: DescribableSessions;
  readonly accountId: string;
  readonly tagFilters: TagFilterMode;
  vniOf(session: FakeSession): number;
  sessionXml(session: FakeSession): string;
}

type FilterName = typeof DOCUMENTED_SESSION_FILTERS[number];

/** One session's value for each documented filter; every value compares as a string. */
function filterValue(model: DescribedSessions, s: FakeSession, name: FilterName): string | number | undefined {
  switch (name) {
    case 'description': return s.description;
    case 'network-interface-id': return s.networkInterfaceId;
    case 'owner-id': return model.accountId;
    case 'packet-length': return s.packetLength;
    case 'session-number': return s.sessionNumber;
    case 'traffic-mirror-filter-id': return s.filterId;
    case 'traffic-mirror-session-id': return s.id;
    case 'traffic-mirror-target-id': return s.targetId;
    case 'virtual-network-id': return model.vniOf(s);
  }
}

/**
 * DescribeTrafficMirrorSessions (API reference): the sessions matching every filter (a filter
 * matches when any of its values does) and any TrafficMirrorSessionId.N, one page of them.
 * Filter names other than the nine documented are refused; `tag:KEY` follows the model's mode.
 */
export function describeSessions(model: DescribedSessions, params: URLSearchParams, pageSize = 1000): HttpResponse {
  const tests: Array<(s: FakeSession) => boolean> = [];
  /** The ENIs of the first `network-interface-id` filter: only their sessions can match. */
  let enis: string[] | undefined;
  for (const [name, values] of queryFilters(params)) {
    if (name === 'network-interface-id') enis ??= values;
    if ((DOCUMENTED_SESSION_FILTERS as readonly string[]).includes(name)) {
      tests.push(s => values.includes(String(filterValue(model, s, name as FilterName) ?? '\u0000')));
    } else if (name.startsWith('tag:') && model.tagFilters !== 'reject') {
      // 'ignore' drops the filter, as an API that does not know it might.
      if (model.tagFilters === 'honour') tests.push(s => Object.hasOwn(s.tags, name.slice(4)) && values.includes(s.tags[name.slice(4)]));
    } else {
      return invalidValue(`The filter '${name}' is invalid`);
    }
  }
  const ids = queryList(params, 'TrafficMirrorSessionId');
  if (ids.length > 0) tests.push(s => ids.includes(s.id));
  const maxResults = optionalInt(params, 'MaxResults');
  const [min, max] = MAX_RESULTS_RANGE;
  if (maxResults !== undefined && !(maxResults >= min && maxResults <= max)) {
    return invalidValue(`The parameter MaxResults must be between ${min} and ${max}.`);
  }
  // Narrowing to the filter's ENIs first changes nothing but the cost: the same sessions, in the same order.
  const candidates = enis === undefined ? [...model.sessions.values()] : model.sessions.onInterfaces(enis);
  const matching = candidates.filter(s => tests.every(test => test(s)));
  const token = params.get('NextToken');
  const start = token === null ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0 || start > matching.length) {
    return error(400, 'InvalidPaginationToken', 'The specified pagination token is not valid or is expired.');
  }
  const page = matching.slice(start, start + Math.min(pageSize, maxResults ?? max));
  const end = start + page.length;
  const next = end < matching.length ? `<nextToken>${end}</nextToken>` : '';
  const items = page.map(s => `<item>${model.sessionXml(s)}</item>`).join('');
  return xml(200, `<DescribeTrafficMirrorSessionsResponse><requestId>r</requestId><trafficMirrorSessionSet>${items}</trafficMirrorSessionSet>${next}</DescribeTrafficMirrorSessionsResponse>`);
}
