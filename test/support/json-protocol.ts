import { Readable } from 'stream';
import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { bodyText } from './body-text';

/** A request of the AWS JSON 1.1 protocol: its operation (the end of its X-Amz-Target header) and its parsed body. */
export function jsonRequest(request: HttpRequest): { action: string; input: any } {
  const action = String(request.headers['x-amz-target'] ?? '').split('.').pop()!;
  return { action, input: JSON.parse(bodyText(request) || '{}') };
}

/** A JSON 1.1 answer with the given status. */
export function json(statusCode: number, body: object): HttpResponse {
  return new HttpResponse({
    statusCode, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([Buffer.from(JSON.stringify(body))]),
  });
}

/** A JSON 1.1 client error (status 400) of the given `__type`, with a message when there is one. */
export function jsonError(type: string, message?: string): HttpResponse {
  return json(400, message === undefined ? { __type: type } : { __type: type, message });
}
