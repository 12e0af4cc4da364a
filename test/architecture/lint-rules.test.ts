/**
 * The lint fences between src/'s rooms (projenrc/layout-rules.ts, docs/ARCHITECTURE.md) fail on
 * violating imports: each fixture under fixtures/ is linted as if it stood at the path its first
 * line names, with the layout rules exactly as the generated .eslintrc.json holds them, and must
 * get the error its second line names (or none, for the allowed imports).
 */
import * as fs from 'fs';
import * as path from 'path';
// ESLint 9 runs our .eslintrc.json through its legacy class (projen sets ESLINT_USE_FLAT_CONFIG=false).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LegacyESLint } = require('eslint/use-at-your-own-risk');

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(__dirname, 'fixtures');
const LAYOUT_RULES = ['import/no-restricted-paths', 'no-restricted-imports'];

/** The generated configuration, narrowed to the layout rules (type-aware rules need a file on disk). */
function layoutConfig(): Record<string, unknown> {
  // projen's header comment is the file's first line; the rest is JSON.
  const eslintrc = JSON.parse(fs.readFileSync(path.join(ROOT, '.eslintrc.json'), 'utf8').replace(/^\/\/.*\n/, ''));
  const pick = (rules: Record<string, unknown> = {}) => Object.fromEntries(Object.entries(rules).filter(([name]) => LAYOUT_RULES.includes(name)));
  return {
    root: true,
    parser: eslintrc.parser,
    parserOptions: { ecmaVersion: 2018, sourceType: 'module' },
    plugins: ['import'],
    settings: eslintrc.settings,
    rules: pick(eslintrc.rules),
    overrides: (eslintrc.overrides ?? [])
      .map((o: { files: string[]; rules?: Record<string, unknown> }) => ({ files: o.files, rules: pick(o.rules) }))
      .filter((o: { rules: Record<string, unknown> }) => Object.keys(o.rules).length > 0),
  };
}

const fixtures = fs.readdirSync(FIXTURES).filter(f => f.endsWith('.ts.txt')).sort();

describe('lint fences between rooms', () => {
  const eslint = new LegacyESLint({ cwd: ROOT, useEslintrc: false, baseConfig: layoutConfig() });

  test('the generated configuration holds every fence', () => {
    const config = layoutConfig() as { rules: Record<string, any>; overrides: unknown[] };
    expect(config.rules['import/no-restricted-paths'][1].zones.length).toBeGreaterThanOrEqual(7);
    expect(config.overrides.length).toBeGreaterThanOrEqual(4);
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
  });

  test.each(fixtures)('%s', async fixture => {
    const text = fs.readFileSync(path.join(FIXTURES, fixture), 'utf8');
    const lintAs = /^\/\/ lint as: (\S+)$/m.exec(text)?.[1];
    const expected = /^\/\/ expect: (\S+)$/m.exec(text)?.[1];
    expect(lintAs).toBeDefined();
    expect(expected).toBeDefined();
    const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, lintAs!) });
    const errors = result.messages.filter((m: { severity: number }) => m.severity === 2);
    // A resolver failure would hide a zone violation: every import in the fixtures exists.
    expect(errors.filter((m: { ruleId: string | null }) => !LAYOUT_RULES.includes(m.ruleId ?? ''))).toEqual([]);
    if (expected === 'nothing') {
      expect(errors).toEqual([]);
    } else {
      expect(errors.map((m: { ruleId: string }) => m.ruleId)).toEqual([expected]);
    }
  });
});
