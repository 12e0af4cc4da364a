import * as path from 'path';
import { buildExampleApp } from './example-stack';

// The README's main job: synthesize the example and say what the template holds.
const outdir = path.join(__dirname, 'cdk.out');
const { app, stack } = buildExampleApp(outdir);
const assembly = app.synth();
const artifact = assembly.getStackByName(stack.stackName);
const resources: Record<string, { Type: string }> = artifact.template.Resources;

const counts = new Map<string, number>();
for (const resource of Object.values(resources)) {
  counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
}
console.log(`Synthesized ${stack.stackName}`);
console.log(`Template: ${path.relative(process.cwd(), path.join(outdir, artifact.templateFile))}`);
console.log(`${Object.keys(resources).length} resources:`);
for (const [type, count] of [...counts].sort()) {
  console.log(`  ${String(count).padStart(3)}  ${type}`);
}
for (const message of artifact.messages) {
  console.log(`${message.level}: ${message.id}: ${String(message.entry.data)}`);
}
