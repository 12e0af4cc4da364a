#!/usr/bin/env bash
# Consumer checks: use the built packages the way users of each language would.
#
# Expects dist/ from `npx projen package-all` and examples/cdk.out from `npx projen
# synth:example` (the `test:consumers` task runs both first; package-all ends with
# test/packaging/check_packages.py, which checks each package's files, size, ranges and bundle). Then:
#   1. examples/python synthesizes in a fresh virtualenv with the wheel and aws-cdk-lib from PyPI;
#   2. examples/java synthesizes with Maven against dist/java and aws-cdk-lib from Maven Central;
#   3. examples/go compiles against dist/go (so does the whole generated module) and synthesizes;
#   4. each template's mirroring resources match the TypeScript example's.
# Everything is downloaded by this script: nothing is assumed to be installed or cached.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(node -p "require('./package.json').version")
# Each app starts the jsii runtime, which would print the build's Node.js end-of-life banner again.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-20}
go_module=github.com/fargate-traffic-mirror/fargate-traffic-mirror-go/cdkfargatetrafficmirror

step() {
  echo "== $1"
  step_started=$SECONDS
}
done_step() {
  echo "   ($((SECONDS - step_started)) s)"
}

step "Python: virtualenv, the built wheel, examples/python/app.py"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
  -r examples/python/requirements.txt "dist/python/cdk_fargate_traffic_mirror-$version-py3-none-any.whl"
"$work/venv/bin/pip" show cdk-fargate-traffic-mirror aws-cdk-lib | grep -E '^(Name|Version|Location)'
CDK_OUTDIR="$work/python.out" "$work/venv/bin/python" examples/python/app.py
done_step

step "Java: Maven against dist/java, examples/java"
# Maven keeps artifacts it resolved from the file repository in its local repository, and the
# version is 0.0.0 on every build: forget ours so this run uses the one just built.
maven_repo=${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}
rm -rf "$maven_repo/io/github/cdkfargatetrafficmirror"
CDK_OUTDIR="$work/java.out" mvn --batch-mode --quiet --file examples/java/pom.xml \
  -Dmaven.repo.local="$maven_repo" \
  -Dfargate-traffic-mirror.version="$version" \
  -Dfargate-traffic-mirror.repository="file://$root/dist/java" \
  compile exec:java
done_step

step "Go: examples/go against dist/go"
# A copy, so `go mod tidy` can write go.mod and go.sum without touching the work tree.
cp -r examples/go "$work/go"
(
  cd "$work/go"
  go mod edit -replace="$go_module=$root/dist/go/cdkfargatetrafficmirror"
  go mod tidy
  go build "$go_module/..."
  go build -o "$work/go/example" .
  go list -m github.com/aws/aws-cdk-go/awscdk/v2 github.com/aws/jsii-runtime-go
  CDK_OUTDIR="$work/go.out" "$work/go/example"
)
done_step

step "templates match the TypeScript example"
npx ts-node --transpile-only --project tsconfig.dev.json test/consumers/compare-templates.ts examples/cdk.out \
  python="$work/python.out" java="$work/java.out" go="$work/go.out"
done_step
echo "consumer checks passed in $SECONDS s"
