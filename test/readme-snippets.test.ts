import * as fs from 'fs';
import * as path from 'path';

// jsii-rosetta compiles the README's TypeScript snippets; the Python and Java ones are excerpts of
// the consumer apps, which CI compiles and synthesizes through the built packages. This keeps the
// excerpts in step with the apps.

const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function blocks(language: string): string[] {
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
  return [...readme.matchAll(fence)].map(match => match[1]);
}

/** Lines without indentation and blank lines: the snippets are dedented excerpts. */
function lines(text: string): string[] {
  return text.split('\n').map(line => line.trim()).filter(line => line.length > 0);
}

function containsRun(haystack: string[], needle: string[]): boolean {
  return haystack.some((_, start) => needle.every((line, i) => haystack[start + i] === line));
}

const apps: Array<[string, string]> = [
  ['python', 'examples/python/app.py'],
  ['java', 'examples/java/src/main/java/io/github/cdkfargatetrafficmirror/examples/ExampleApp.java'],
];

describe.each(apps)('README %s snippets', (language, app) => {
  const source = lines(fs.readFileSync(path.join(root, app), 'utf8'));
  const snippets = blocks(language);

  test('exist', () => {
    expect(snippets.length).toBeGreaterThan(0);
  });

  test.each(snippets.map((snippet, i) => [i + 1, snippet]))(`snippet %i is an excerpt of ${app}`, (_, snippet) => {
    expect(containsRun(source, lines(snippet as string))).toBe(true);
  });
});
