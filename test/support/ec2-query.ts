import { Readable } from 'stream';
import { HttpResponse } from '@smithy/protocol-http';

/**
 * The EC2 Query protocol as the fakes need it: reading form-encoded request parameters and
 * writing XML answers the real SDK parses. No EC2 semantics live here.
 */

/** An XML answer with the given status. */
export function xml(statusCode: number, body: string): HttpResponse {
  return new HttpResponse({ statusCode, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body: Readable.from([Buffer.from(body)]) });
}

/** An EC2 Query API error answer. */
export function error(status: number, code: string, message = code): HttpResponse {
  return xml(status, `<Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>r</RequestID></Response>`);
}

/** Text made safe for an XML element. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<name>value</name>`, or nothing when the value is absent (EC2 omits unset members). */
export function element(name: string, value: string | number | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** The values of a Query list parameter: `Prefix.1`, `Prefix.2`, … until one is missing. */
export function queryList(params: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) values.push(params.get(`${prefix}.${i}`)!);
  return values;
}

/** The Filter.N.Name / Filter.N.Value.M pairs of an EC2 Query request. */
export function queryFilters(params: URLSearchParams): Array<[string, string[]]> {
  const filters: Array<[string, string[]]> = [];
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
    filters.push([params.get(`Filter.${i}.Name`)!, queryList(params, `Filter.${i}.Value`)]);
  }
  return filters;
}

/** The tags of a request's first TagSpecification (the SDK sends `TagSpecification.1.Tag.N.*`). */
export function requestTags(params: URLSearchParams): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 1; params.has(`TagSpecification.1.Tag.${i}.Key`); i++) {
    tags[params.get(`TagSpecification.1.Tag.${i}.Key`)!] = params.get(`TagSpecification.1.Tag.${i}.Value`) ?? '';
  }
  return tags;
}

/**
 * An optional integer parameter: undefined when absent, NaN when present but not an integer
 * (the caller answers that with InvalidParameterValue, as EC2 does for a malformed value).
 */
export function optionalInt(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  return /^-?\d+$/.test(raw) ? Number(raw) : NaN;
}
