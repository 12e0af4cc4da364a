#!/bin/sh
# Builds the static Linux x86-64 capture agent into bin/capture-agent.
set -eu
cd "$(dirname "$0")/.."
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags='-s -w' -o bin/capture-agent ./cmd/capture-agent
echo "built bin/capture-agent"
