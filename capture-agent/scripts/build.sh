#!/bin/sh
# Builds the static Linux x86-64 capture agent and mirror receiver into bin/.
set -eu
cd "$(dirname "$0")/.."
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags='-s -w' -o bin/ ./cmd/capture-agent ./cmd/mirror-receiver
echo "built bin/capture-agent and bin/mirror-receiver"
