import * as fs from 'fs';
import * as path from 'path';

/*
 * Fails when the public API's docs would read badly in any language: a type, property, method,
 * parameter or enum member without a summary, an optional struct property without `@default`,
 * or a `{@link}` tag (jsii-docgen and jsii-pacmak print it literally, in TypeScript syntax).
 * Reads the compiled assembly, so it runs after `jsii` (post-compile).
 */

interface Docs { summary?: string; remarks?: string; default?: string; example?: string; returns?: string }
interface Parameter { name: string; optional?: boolean; docs?: Docs }
interface Callable { name?: string; docs?: Docs; parameters?: Parameter[] }
interface Property { name: string; optional?: boolean; docs?: Docs }
interface JsiiType {
  fqn: string;
  kind: 'class' | 'interface' | 'enum';
  datatype?: boolean;
  docs?: Docs;
  initializer?: Callable;
  methods?: Callable[];
  properties?: Property[];
  members?: Array<{ name: string; docs?: Docs }>;
}

const assemblyFile = path.join(__dirname, '..', '.jsii');
const assembly: { types: Record<string, JsiiType> } = JSON.parse(fs.readFileSync(assemblyFile, 'utf8'));
const problems: string[] = [];

function check(what: string, docs: Docs | undefined): void {
  if (!docs?.summary?.trim()) problems.push(`${what}: no summary`);
  for (const [field, text] of Object.entries(docs ?? {})) {
    if (typeof text === 'string' && text.includes('{@link')) problems.push(`${what}: {@link} in ${field}`);
  }
}

function checkParameters(what: string, callable: Callable): void {
  for (const parameter of callable.parameters ?? []) check(`${what} parameter ${parameter.name}`, parameter.docs);
}

for (const type of Object.values(assembly.types)) {
  check(type.fqn, type.docs);
  if (type.initializer && (type.initializer.parameters ?? []).length > 0) {
    checkParameters(`${type.fqn} constructor`, type.initializer);
  }
  for (const method of type.methods ?? []) {
    check(`${type.fqn}.${method.name}()`, method.docs);
    checkParameters(`${type.fqn}.${method.name}()`, method);
  }
  for (const property of type.properties ?? []) {
    check(`${type.fqn}.${property.name}`, property.docs);
    if (type.datatype && property.optional && property.docs?.default === undefined) {
      problems.push(`${type.fqn}.${property.name}: optional without @default`);
    }
  }
  for (const member of type.members ?? []) check(`${type.fqn}.${member.name}`, member.docs);
}

if (problems.length > 0) {
  console.error(`API docs of ${Object.keys(assembly.types).length} types:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
} else {
  console.log(`API docs complete: ${Object.keys(assembly.types).length} types`);
}
