import { HttpRequest } from '@smithy/protocol-http';

/** The SDK may hand a fake endpoint its serialized body as a string or as bytes. */
export function bodyText(request: HttpRequest): string {
  const body = request.body as unknown;
  if (body === undefined || body === null) return '';
  return typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array);
}
