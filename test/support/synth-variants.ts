import * as fs from 'fs';
import * as path from 'path';
import { RECEIVER_VARIANTS, SIDECAR_VARIANTS, VARIANTS } from './variants';
import { buildExampleApp } from '../../examples/example-stack';

// Writes the template of the example and of every test variant to one directory, for cfn-lint
// (`npx projen lint:cfn`). Usage: ts-node test/support/synth-variants.ts <outdir>
const outdir = process.argv[2];
if (!outdir) {
  throw new Error('usage: synth-variants.ts <outdir>');
}
fs.rmSync(outdir, { recursive: true, force: true });
fs.mkdirSync(outdir, { recursive: true });

const stacks = [
  { name: 'example', ...buildExampleApp() },
  ...[...VARIANTS, ...SIDECAR_VARIANTS, ...RECEIVER_VARIANTS].map(v => ({ name: v.name, ...v.build() })),
];
for (const { name, app, stack } of stacks) {
  const template = app.synth().getStackByName(stack.stackName).template;
  fs.writeFileSync(path.join(outdir, `${name}.template.json`), JSON.stringify(template, undefined, 1));
}
console.log(`${stacks.length} templates written to ${outdir}`);
