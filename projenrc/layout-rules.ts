/**
 * The lint fences of src/'s rooms (docs/ARCHITECTURE.md): which folder may import which, and who
 * may import the AWS SDK, Powertools or aws-cdk-lib. A violation fails `npx projen build`;
 * test/architecture/lint-rules.test.ts lints a violating fixture for each fence.
 */
import { typescript } from 'projen';

/** Packages only the Lambda runtime may import; the bundle carries them, the package does not. */
const RUNTIME_ONLY = ['@aws-sdk/*', '@aws-lambda-powertools/*', '@smithy/*', '@types/aws-lambda'];
/** Packages only the construct side may import: the runtime runs without them. */
const CONSTRUCT_ONLY = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag'];

/** One `no-restricted-imports` setting that names the room and the rule it breaks. */
function restrict(patterns: string[], message: string) {
  return ['error', { patterns: [{ group: patterns, message }] }];
}

/** The construct side's files: the public API, internal constructs, private helpers. */
const CONSTRUCT_SIDE = ['./src/*.ts', './src/fleet', './src/private'];

/** Adds the fences to the project's eslint configuration. */
export function applyLayoutRules(project: typescript.TypeScriptProject): void {
  const eslint = project.eslint!;
  eslint.addRules({
    'import/no-restricted-paths': ['error', {
      zones: [
        {
          target: './src/contract',
          from: './src',
          except: ['./contract'],
          message: 'contract/ imports only contract/ and Node built-ins: both sides depend on it, it depends on neither',
        },
        {
          target: './src/runtime',
          from: './src',
          except: ['./runtime', './contract'],
          message: 'runtime/ never imports the construct side (the public files, fleet/, private/): share through contract/',
        },
        ...CONSTRUCT_SIDE.map(target => ({
          target,
          from: './src/runtime',
          message: 'the construct side never imports runtime/: its one link is the bundled asset\'s path (src/private/session-manager-function.ts); share through contract/',
        })),
        {
          target: './src/runtime/core',
          from: './src/runtime',
          except: ['./core'],
          message: 'runtime/core/ is pure: it imports only core/ and contract/, never adapters/, operations/ or the entry files',
        },
        {
          target: './src/runtime/adapters',
          from: './src/runtime',
          except: ['./core', './adapters'],
          message: 'runtime/adapters/ imports core/ and contract/, never operations/ or the entry files',
        },
        {
          target: './src/runtime/operations',
          from: './src/runtime',
          except: ['./core', './adapters', './operations'],
          message: 'runtime/operations/ imports adapters/, core/ and contract/, never the entry files',
        },
      ],
    }],
  });
  eslint.addOverride({
    files: ['src/*.ts', 'src/fleet/**/*.ts', 'src/private/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(RUNTIME_ONLY, 'only src/runtime/ may import the AWS SDK and Powertools: users\' cdk synth loads the construct side without them'),
    },
  });
  eslint.addOverride({
    files: ['src/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([...RUNTIME_ONLY, ...CONSTRUCT_ONLY], 'contract/ imports only contract/ and Node built-ins'),
    },
  });
  eslint.addOverride({
    files: ['src/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(CONSTRUCT_ONLY, 'runtime/ never imports aws-cdk-lib or constructs: the Lambda runs without them'),
    },
  });
  // Later overrides win for the same rule, so core's list repeats the runtime's.
  eslint.addOverride({
    files: ['src/runtime/core/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([...RUNTIME_ONLY, ...CONSTRUCT_ONLY], 'runtime/core/ is pure: no SDK, no Powertools, no aws-cdk-lib'),
    },
  });
}
