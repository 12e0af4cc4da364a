import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The package checker (check_packages.py, run at the end of `npx projen package-all`) on tiny fake
// packages from fake_dist.py: it passes clean ones and fails, naming the problem, on each kind of
// package we have shipped or could ship by mistake.

const here = __dirname;

function check(...fakeOptions: string[]) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'check-packages-'));
  try {
    const fake = spawnSync('python3', [path.join(here, 'fake_dist.py'), root, ...fakeOptions], { encoding: 'utf8' });
    expect(fake.stderr).toBe('');
    const run = spawnSync('python3', [path.join(here, 'check_packages.py'), root], { encoding: 'utf8' });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('clean packages pass, and every artifact is listed with its size', () => {
  const result = check();
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  for (const kind of ['npm tarball', 'Python wheel', 'Python sdist', 'Maven jar', 'Maven sources', 'Maven javadoc', 'Maven POM', 'Go module']) {
    expect(result.stdout).toMatch(new RegExp(`^ok +${kind} +\\d+ bytes`, 'm'));
  }
});

test('a stray file in the npm tarball fails every package that embeds it', () => {
  const result = check('--stray', 'npm:.venv/bin/python');
  expect(result.status).toBe(1);
  const strays = result.stderr.split('\n').filter(line => line.includes('outside the allow-list: .venv/bin/python'));
  // npm tarball, wheel, sdist, jar, sources jar, Go module
  expect(strays).toHaveLength(6);
  expect(result.stdout).toMatch(/^BAD npm tarball/m);
});

test('a stray file beside the embedded tarball fails the wheel only', () => {
  const result = check('--stray', 'wheel:cdk_fargate_traffic_mirror/notes.txt');
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('cdk_fargate_traffic_mirror-0.0.0-py3-none-any.whl: 1 file(s) outside the allow-list: cdk_fargate_traffic_mirror/notes.txt');
  expect(result.stdout).toMatch(/^ok +npm tarball/m);
  expect(result.stdout).toMatch(/^BAD Python wheel/m);
});

test('a POM that pins aws-cdk-lib instead of the supported range fails', () => {
  const result = check('--maven-cdk', '2.263.0');
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('depends on software.amazon.awscdk:aws-cdk-lib 2.263.0, want [2.170.0,3.0.0)');
});

test('a package over 1 MB fails', () => {
  const result = check('--big');
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/cdk-fargate-traffic-mirror@0\.0\.0\.jsii\.tgz: \d+ bytes, over the 1000000-byte limit/);
});

test('a Go test file or the agent binary in the npm tarball fails, though capture-agent/internal/ is allowed', () => {
  for (const stray of ['capture-agent/internal/vxlan/vxlan_test.go', 'capture-agent/bin/capture-agent']) {
    const result = check('--stray', `npm:${stray}`);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${stray.replace(/[/.]/g, '\\$&')}`));
  }
});
