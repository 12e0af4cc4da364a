import { awscdk, javascript } from 'projen';
import { applyLayoutRules } from './projenrc/layout-rules';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-fargate-traffic-mirror',
  description:
    'AWS CDK construct that keeps every task of an ECS Fargate service mirrored to a VPC Traffic Mirroring target.',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'ecs', 'fargate', 'traffic-mirroring', 'vpc', 'security', 'ids', 'ndr'],
  author: 'fargate-traffic-mirror contributors',
  authorAddress: 'dev@fargate-traffic-mirror.invalid',
  repositoryUrl: 'https://github.com/fargate-traffic-mirror/fargate-traffic-mirror.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  // The floor we build and test against: Lambda logGroup, addWarningV2 and every L1 we use.
  cdkVersion: '2.170.0',
  constructsVersion: '10.3.0',

  // Released like other construct libraries: on every push to main, projen's release workflow
  // takes the version from the conventional commits since the last tag (0.x: a breaking change
  // bumps the minor), writes the changelog (dist/changelog.md, the GitHub release's notes),
  // builds every package and publishes them with publib to npm, PyPI, Maven Central and the Go
  // module repository. `npx projen release` does the same locally up to publishing.
  github: true,
  githubOptions: { mergify: false },
  release: true,
  releaseToNpm: true,
  majorVersion: 0,

  tsconfigDevFile: 'tsconfig.dev.json',

  publishToPypi: {
    distName: 'cdk-fargate-traffic-mirror',
    module: 'cdk_fargate_traffic_mirror',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkfargatetrafficmirror',
    mavenGroupId: 'io.github.cdkfargatetrafficmirror',
    mavenArtifactId: 'cdk-fargate-traffic-mirror',
  },
  publishToGo: {
    moduleName: 'github.com/fargate-traffic-mirror/fargate-traffic-mirror-go',
  },

  // The one handler is declared below (not auto-discovered), so its generated construct lands on
  // the construct side (src/private/) while its entry stays in src/runtime/.
  lambdaAutoDiscover: false,

  // Handler-only libraries: bundled into the Lambda asset at build time, never needed by
  // consumers of the package.
  devDeps: [
    '@aws-sdk/client-ec2@^3',
    '@aws-sdk/client-ecs@^3',
    '@aws-sdk/client-sqs@^3',
    '@aws-sdk/client-ssm@^3',
    '@aws-sdk/client-lambda@^3',
    '@aws-sdk/client-cloudformation@^3',
    '@aws-lambda-powertools/logger@^2',
    '@aws-lambda-powertools/metrics@^2',
    'fast-check@^3',
    '@types/aws-lambda@^8',
    'aws-sdk-client-mock@^4',
    'aws-sdk-client-mock-jest@^4',
    '@smithy/protocol-http',
    '@smithy/util-retry',
    // Tests apply the AwsSolutions pack. 2.36.50 is the last release whose peer range accepts
    // our aws-cdk-lib floor (2.36.54 and later want ^2.176.0, 3.x wants ^2.257.0). The construct
    // itself does not import cdk-nag: it writes the suppression metadata cdk-nag reads.
    'cdk-nag@2.36.50',
    // Integration tests (test/integ/). integ-tests-alpha is released with aws-cdk-lib; 2.168.0-alpha.0 is
    // the newest release this registry serves whose peer range accepts our floor (2.173.2-alpha.0 wants
    // ^2.173.2). integ-runner has no peer range: it synthesizes with the aws-cdk-lib installed here.
    '@aws-cdk/integ-tests-alpha@2.168.0-alpha.0',
    '@aws-cdk/integ-runner@2.197.10',
  ],

  jestOptions: {
    // CI must never rewrite snapshots; `npx projen test:update` exists to change them on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testPathIgnorePatterns: ['/node_modules/', '/examples/cdk.out/'],
    },
  },

  gitignore: ['cdk.out/', 'examples/**/cdk.out/', '.venv/', 'examples/java/target/', 'examples/go/local.go.*', '.jsii.tabl.json'],
  // The npm package is an allow-list (`files` below), not a deny-list, so nothing a build leaves
  // in the tree can ship. The Python, Java and Go packages embed the npm tarball, so this decides
  // what every package holds; test/packaging/check_packages.py checks them all.
  npmignoreEnabled: false,
});

// The session manager's Lambda: bundled from its entry in src/runtime/ (one asset), loaded by a
// generated construct in src/private/, the construct side's one link to the runtime.
new awscdk.LambdaFunction(project, {
  entrypoint: 'src/runtime/session-manager.lambda.ts',
  constructFile: 'src/private/session-manager-function.ts',
  constructName: 'SessionManagerFunction',
  cdkDeps: project.cdkDeps,
  // A fixed runtime that matches the esbuild target, so the bundle runs on the Node.js it was
  // built and tested for. determineLatestNodeRuntime() would pick nodejs20.x (end of life) on
  // our aws-cdk-lib floor.
  runtime: awscdk.LambdaRuntime.NODEJS_22_X,
  // The SDK v3 reuses connections by default; the v2 environment variable is noise.
  awsSdkConnectionReuse: false,
  // Bundle the AWS SDK instead of using the runtime's copy, so the code that ships is the
  // code the tests ran (same SDK version, same retry behaviour). `minify` is an esbuild
  // option projen's bundler honours but does not declare on BundlingOptions.
  // `module` first: the SDK's ES module builds let esbuild drop what the handler never calls
  // (measured: 1.14 MB instead of 2.06 MB, 299 KB instead of 507 KB gzipped), which keeps every
  // package under its 1 MB budget. aws-cdk-lib's NodejsFunction bundles the same way.
  bundlingOptions: { externals: [], minify: true, mainFields: ['module', 'main'] } as awscdk.LambdaFunctionCommonOptions['bundlingOptions'],
});

// projen's tsconfig has tsc inline a source map with the whole TypeScript source into every
// lib/*.js (measured: 155 KB of each package, the Go module 970,731 -> 815,135 bytes). The
// compiled JavaScript is plain and unminified and keeps the source's names, so stack traces
// still read; without the maps every package keeps room under its 1 MB budget.
project.tsconfig!.file.addOverride('compilerOptions.inlineSourceMap', false);
project.tsconfig!.file.addOverride('compilerOptions.inlineSources', false);

project.package.addField('files', [
  'lib/**/*.js',
  'lib/**/*.d.ts',
  // What the Lambda runs ships as the bundle in assets/; its compiled modules are not needed by
  // any consumer (lint keeps the construct side from importing them) and would add about 150 KB
  // to every package.
  '!lib/runtime/',
  'assets/',
  '.jsii', // the assembly every language's jsii runtime loads
  '.jsii.tabl.json', // rosetta's translations of the README and @example snippets, for docs in other languages
  'API.md',
  'README.md',
  'LICENSE',
  // The capture agent's sources and Dockerfile: CaptureMethod.sidecar() builds its image from them
  // with ContainerImage.fromAsset at deploy (not the binary, tests or benchmark).
  'capture-agent/Dockerfile',
  'capture-agent/.dockerignore',
  'capture-agent/go.mod',
  'capture-agent/go.sum',
  'capture-agent/cmd/capture-agent/',
  'capture-agent/internal/',
  '!capture-agent/**/*_test.go',
]);

// The rooms of src/ and the arrows allowed between them (docs/ARCHITECTURE.md), enforced by lint;
// test/architecture/lint-rules.test.ts shows each fence fails on a violating import. Handler
// modules import the bundled, dev-only SDK and Powertools; only the bundle ships them.
project.eslint?.allowDevDeps('src/runtime/**');
applyLayoutRules(project);
// Lint src, test, examples and projenrc through one config that sees all of them.
project.tsconfigDev.addInclude('.projenrc.ts');
project.eslint?.addLintPattern('examples');
const eslintrc = project.tryFindObjectFile('.eslintrc.json')!;
eslintrc.addDeletionOverride('parserOptions.projectService');
eslintrc.addOverride('parserOptions.project', './tsconfig.dev.json');
eslintrc.addOverride('settings.import/resolver.typescript.project', './tsconfig.dev.json');

// ts-jest runs with isolatedModules (no type checking), so type-check tests and examples here.
const typecheck = project.addTask('typecheck', {
  description: 'Type-check src, test, examples and .projenrc.ts',
  exec: 'tsc --noEmit -p tsconfig.dev.json',
});
project.testTask.prependSpawn(typecheck);

/** A task that bundles the handler (the scripts synthesize or load it), then runs a TypeScript script. */
function scriptTask(name: string, description: string, script: string) {
  const task = project.addTask(name, { description });
  task.spawn(project.tasks.tryFind('bundle')!);
  task.exec(`ts-node --project tsconfig.dev.json ${script}`);
  return task;
}

// The main job: synthesize the example stack and print what it holds.
const synthExample = scriptTask('synth:example', 'Synthesize the example stack in examples/ and summarize its template', 'examples/synth.ts');

// Scale figures from the deterministic simulator (test/sim), against a naive baseline.
scriptTask('bench', 'Run the simulator scenarios with this library and a naive baseline; print figures and write bench/results.json', 'test/sim/bench.ts');

// The AWS CloudFormation linter on the example and every test variant (test/support/variants.ts),
// installed from PyPI on first use into a virtualenv in the user's cache directory, outside the
// package root (.ci/cfn-lint.sh). Pinned: a new cfn-lint release brings new rules and schemas,
// which should land as a deliberate change, not break a build. The templates go under
// node_modules/.cache, which no package ever takes in.
const CFN_LINT_VERSION = '1.58.0';
const LINT_TEMPLATES = 'node_modules/.cache/cdk-fargate-traffic-mirror/lint';
const cfnLint = scriptTask('lint:cfn', 'Synthesize the example and test stacks and run cfn-lint on every template',
  `test/support/synth-variants.ts ${LINT_TEMPLATES}`);
// Every finding fails the build except these, which aws-cdk-lib or the offline test fixtures
// produce and which say nothing about this construct:
// - W3005: aws-cdk-lib makes a function DependsOn its role although Role: GetAtt already does.
// - W3010: stacks synthesized without context lookups get aws-cdk-lib's dummy AZ names.
// - W7001: in environment-agnostic stacks aws-cdk-lib adds a runtime mapping for the provider
//   framework, which then goes unused because we pin the framework's runtime.
cfnLint.exec(`bash .ci/cfn-lint.sh ${CFN_LINT_VERSION} --ignore-checks W3005 W3010 W7001 -- ${LINT_TEMPLATES}/*.template.json`);
project.testTask.spawn(cfnLint);

// actionlint on the GitHub workflows projen writes, built from the Go module proxy into the user's
// cache directory on first use (.ci/actionlint.sh). Pinned like cfn-lint. Its shellcheck and
// pyflakes passes are off: they run only where those tools happen to be installed, and a lint
// result must not depend on the machine.
const ACTIONLINT_VERSION = 'v1.7.12';
const lintWorkflows = project.addTask('lint:workflows', {
  description: 'Check .github/workflows with actionlint',
  exec: `bash .ci/actionlint.sh ${ACTIONLINT_VERSION} -shellcheck= -pyflakes= .github/workflows/*.yml`,
});
project.testTask.spawn(lintWorkflows);

// Integration test (test/integ/integ.mirror.ts, integ-tests-alpha): deploys a VPC, a traffic generator service, a
// VXLAN receiver behind a Network Load Balancer and FargateTrafficMirror between them, then asserts
// on what arrives. integ-runner runs the app with ts-node (transpile only: the typecheck task checks
// it) from the handler bundle the construct loads.
const INTEG_RUNNER = 'integ-runner --directory test/integ --language typescript --app "node -r ts-node/register/transpile-only {filePath}"';
// Without an account: synthesize and compare the templates with the committed snapshot; any
// difference fails. Part of the build.
const integSnapshot = project.addTask('integ:snapshot', {
  description: 'Compare the integration test\'s templates with the committed snapshot (no AWS account needed)',
});
integSnapshot.spawn(project.tasks.tryFind('bundle')!);
integSnapshot.exec(INTEG_RUNNER);
project.testTask.spawn(integSnapshot);
// Writes the snapshot anew without deploying (integ-runner's --dry-run), for a change that
// integ:deploy has shown to work, or that cannot be deployed here; git shows what changed. The old
// snapshot goes first: integ-runner refuses to update one over a change that replaces a resource,
// and it then compares again.
const integSnapshotUpdate = project.addTask('integ:snapshot:update', {
  description: 'Write the integration test\'s snapshot anew from the current code, without deploying it',
});
integSnapshotUpdate.spawn(project.tasks.tryFind('bundle')!);
integSnapshotUpdate.exec('rm -rf test/integ/integ.mirror.ts.snapshot');
integSnapshotUpdate.exec(`${INTEG_RUNNER} --update-on-failed --dry-run --parallel-regions us-east-1`);
integSnapshotUpdate.exec(INTEG_RUNNER);
// With AWS credentials: deploy to AWS_REGION (else AWS_DEFAULT_REGION, else us-east-1), run the
// assertions, destroy, and write the snapshot. --force: the snapshot is unchanged, deploy anyway.
const integDeploy = project.addTask('integ:deploy', {
  description: 'Deploy the integration test with your AWS credentials, run its assertions and destroy it (about 30 minutes)',
});
integDeploy.spawn(project.tasks.tryFind('bundle')!);
integDeploy.exec(`${INTEG_RUNNER} --force --no-update-workflow --parallel-regions \${AWS_REGION:-\${AWS_DEFAULT_REGION:-us-east-1}}`);
// The snapshot's asset directories are the bundled handler and integ-tests' assertion provider
// (about 2 MB), which the snapshot comparison does not read (it ignores asset hashes).
project.gitignore.addPatterns('/test/integ/*.snapshot/asset.*');

// The capture sidecar's agent (capture-agent/, a Go module of its own). The build leaves a static
// Linux x86-64 executable at capture-agent/bin/capture-agent (gitignored, never packaged); the
// tests run its unit tests and the end-to-end test in network namespaces it creates (root,
// iproute2 and tcpdump: .ci/run installs them; CAPTURE_E2E_REQUIRED=1 makes a missing one fail).
const buildAgent = project.addTask('build:capture-agent', {
  description: 'Build the capture agent and the mirror receiver into capture-agent/bin/ (static, linux/amd64)',
  exec: 'sh capture-agent/scripts/build.sh',
});
project.preCompileTask.spawn(buildAgent);
const testAgent = project.addTask('test:capture-agent', {
  description: 'gofmt, go vet and go test of the capture agent (the end-to-end test needs root, ip and tcpdump)',
  exec: 'sh capture-agent/scripts/check.sh',
});
project.testTask.spawn(testAgent);
// Loss-free packet rates of the agent against tcpdump in network namespaces (root); figures in
// README and bench/capture-results.json, never asserted in a test.
// The receiver's loss-free rates against tcpdump on a vxlan interface (root); bench/receiver-results.json.
project.addTask('bench:receiver', {
  description: 'Benchmark the mirror receiver against tcpdump in network namespaces; writes bench/receiver-results.json',
  exec: 'go run ./cmd/receiver-bench -out ../bench/receiver-results.json',
  cwd: 'capture-agent',
});
project.addTask('bench:capture', {
  description: 'Benchmark the capture agent against tcpdump in network namespaces; writes bench/capture-results.json',
  exec: 'go run ./cmd/capture-bench -out ../bench/capture-results.json',
  cwd: 'capture-agent',
});

// Every TypeScript snippet in the README and in @example tags must compile (fixtures in rosetta/).
// The tablet it writes (.jsii.tabl.json) is what jsii-pacmak uses to translate the snippets into
// the Python, Java and Go packages' docs.
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile the README and @example snippets with jsii-rosetta in strict mode',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosetta);
// API.md from the assemblies we compiled against, which for each peer is the floor of its range:
// bare jsii-docgen would pick up projen's newer `constructs` from node_modules and document
// members a user on our floor does not have (test/support/docgen.ts).
project.tasks.tryFind('docgen')!.reset('ts-node --transpile-only --project tsconfig.dev.json test/support/docgen.ts API.md');
// Summaries, @default on optional props and no {@link} (printed literally in every language).
const docsCheck = project.addTask('docs:check', {
  description: 'Check the public API docs in the compiled assembly',
  // Type-checked by the typecheck task; here it only runs.
  exec: 'ts-node --transpile-only --project tsconfig.dev.json test/check-api-docs.ts',
});
project.postCompileTask.spawn(docsCheck);

// Every package task. --no-npmignore: jsii-pacmak writes a default .npmignore when there is none;
// the npm package is defined by `files` alone.
const pacmak = (target: string) => `jsii-pacmak -v --no-npmignore --target ${target}`;
project.tasks.tryFind('package:js')!.reset(pacmak('js'));
project.tasks.tryFind('package:python')!.reset(pacmak('python'));
// jsii-pacmak writes our peer ranges into the POM ([2.170.0,3.0.0) and [10.3.0,11.0.0)), then runs
// Maven's versions:resolve-ranges, which replaces every range with the newest release at
// packaging time: a Java user would get that aws-cdk-lib, not the one they chose. Keep the ranges
// (the plugin's processDependencies=false; pacmak passes --mvn-X options to Maven as --X).
project.tasks.tryFind('package:java')!.reset(`${pacmak('java')} --mvn-define=processDependencies=false`);
// jsii-pacmak's Go target runs `go mod tidy` and `go build` on the module it generates, against
// the aws-cdk-go version matching our aws-cdk-lib floor; the module proxy this project reaches
// refuses one of that version's dependencies. Generate the module only: test:consumers compiles
// it (and an app that uses it) with that dependency replaced.
project.tasks.tryFind('package:go')!.reset(`${pacmak('go')} --code-only`);

// Every file of every package against an allow-list, each package's size and the dependency
// ranges each declares (test/packaging/check_packages.py). Runs at the end of package-all, so in
// the same tree the build and CI package in, after whatever they left behind.
const testPackages = project.addTask('test:packages', {
  description: 'Check the content, size and dependency ranges of every package in dist/',
  exec: 'python3 test/packaging/check_packages.py .',
});
project.tasks.tryFind('package-all')!.spawn(testPackages);

// Build every language's package and use each the way a user would (test/consumers/run.sh).
// Not part of `build`: it needs the network and a few minutes; CI runs it after the build.
const consumers = project.addTask('test:consumers', {
  description: 'Package for every language, synthesize examples/{python,java,go} through the packages, compare with the TypeScript example',
});
consumers.spawn(synthExample);
consumers.spawn(project.compileTask);
consumers.spawn(project.tasks.tryFind('package-all')!);
consumers.exec('bash test/consumers/run.sh');

project.synth();
