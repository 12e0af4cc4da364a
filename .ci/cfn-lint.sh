#!/usr/bin/env bash
# Runs the AWS CloudFormation linter, pinned to the version given, from a virtualenv that is
# created (from PyPI, with pip) on first use. The virtualenv lives in the user's cache directory,
# one per version, outside the work tree: nothing the build installs sits where packaging looks.
# Usage: .ci/cfn-lint.sh VERSION [cfn-lint arguments...]   (called by `npx projen lint:cfn`)
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1"
shift

venv="${XDG_CACHE_HOME:-$HOME/.cache}/cdk-fargate-traffic-mirror/cfn-lint-$version"
if [ "$("$venv/bin/cfn-lint" --version 2>/dev/null)" != "cfn-lint $version" ]; then
  echo "installing cfn-lint $version into $venv"
  start=$SECONDS
  mkdir -p "$(dirname "$venv")"
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install --disable-pip-version-check --quiet "cfn-lint==$version"
  echo "cfn-lint $version installed in $((SECONDS - start)) s"
fi
exec "$venv/bin/cfn-lint" "$@"
