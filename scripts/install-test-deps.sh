#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages: Debian's python3-grpcio and
# python3-grpc-tools, for the polyglot test (a Python gRPC client built from proto/).
# Runs as `pretest`; does nothing when they are already there.
set -euo pipefail
if /usr/bin/python3 -c 'import grpc, grpc_tools.protoc' 2>/dev/null; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-test-deps: python3-grpcio and python3-grpc-tools are missing and cannot be installed here (need root and apt-get); the polyglot test will fail" >&2
  exit 0
fi
echo "install-test-deps: installing python3-grpcio python3-grpc-tools (Debian)" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-grpcio python3-grpc-tools >/dev/null
