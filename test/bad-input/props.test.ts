import { PROPS_CASES } from './props.cases';

function errorOf(build: () => void): string | undefined {
  try {
    build();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}

describe('bad props fail at synth with an error naming the prop', () => {
  test('the catalogue covers every category', () => {
    expect(new Set(PROPS_CASES.map(c => c.category))).toEqual(new Set([
      'range', 'conflicting options', 'imported service', 'resource id', 'CIDR', 'port and protocol', 'rule count', 'wrong type', 'targets',
    ]));
    expect(new Set(PROPS_CASES.map(c => c.name)).size).toBe(PROPS_CASES.length);
  });

  test.each(PROPS_CASES.map(c => [`${c.category}: ${c.name}`, c] as const))('%s', (_name, c) => {
    expect(errorOf(c.build)).toBe(c.error);
  });
});
