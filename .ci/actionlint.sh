#!/usr/bin/env bash
# Runs actionlint, the GitHub Actions workflow checker, pinned to the version given. On first use
# it is built with `go install` from the Go module proxy into the user's cache directory, one
# binary per version, outside the work tree.
# Usage: .ci/actionlint.sh VERSION [actionlint arguments...]   (called by `npx projen lint:workflows`)
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1"
shift

bin="${XDG_CACHE_HOME:-$HOME/.cache}/cdk-fargate-traffic-mirror/actionlint-$version"
if [ ! -x "$bin/actionlint" ]; then
  echo "building actionlint $version into $bin"
  start=$SECONDS
  mkdir -p "$bin"
  GOBIN="$bin" go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
  echo "actionlint $version built in $((SECONDS - start)) s"
fi
"$bin/actionlint" "$@"
echo "actionlint $version found no problems"
