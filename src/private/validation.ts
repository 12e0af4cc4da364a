import { Token } from 'aws-cdk-lib';

/**
 * Throws unless `value` is an integer in `[min, max]`. Unresolved tokens pass: their value is
 * only known at deploy time.
 */
export function validateIntegerRange(prop: string, value: number | undefined, min: number, max: number, context = ''): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${prop} must be an integer between ${min} and ${max}${context}, got ${value}`);
  }
}

/** Throws unless `value` matches `pattern`; unresolved tokens pass. */
export function validatePattern(prop: string, value: string, pattern: RegExp, expected: string): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (!pattern.test(value)) {
    throw new Error(`${prop} must be ${expected}, got '${value}'`);
  }
}

/** The IP family of a CIDR block, or undefined when it is not a valid IPv4 or IPv6 CIDR. */
export function cidrFamily(cidr: string): 'ipv4' | 'ipv6' | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0 || slash !== cidr.lastIndexOf('/')) {
    return undefined;
  }
  const address = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) {
    return undefined;
  }
  const prefix = Number(prefixText);
  if (isIpv4(address)) {
    return prefix <= 32 ? 'ipv4' : undefined;
  }
  if (isIpv6(address)) {
    return prefix <= 128 ? 'ipv6' : undefined;
  }
  return undefined;
}

function isIpv4(address: string): boolean {
  const parts = address.split('.');
  return parts.length === 4 && parts.every(p => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIpv6(address: string): boolean {
  if (!/^[0-9a-fA-F:]+$/.test(address)) {
    return false;
  }
  const halves = address.split('::');
  if (halves.length > 2) {
    return false;
  }
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  if (!all.every(g => /^[0-9a-fA-F]{1,4}$/.test(g))) {
    return false;
  }
  return halves.length === 2 ? all.length < 8 : all.length === 8;
}
