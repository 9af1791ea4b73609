#!/usr/bin/env bash
# Starts an isolated 3-node RabbitMQ cluster (scripts/cluster.sh, on its
# own ports, never the broker on 5672), runs the tests that kill its nodes
# and raise a memory alarm on it (amqp.TestCluster*), and stops it again,
# whatever happens. Not part of `go test ./...`: CI runs it after the main
# tests, as it does scripts/broker-restart.sh.
#
#   scripts/cluster-test.sh              # start, test, stop --clean
#   scripts/cluster-test.sh -v           # extra arguments go to go test
set -euo pipefail
cd "$(dirname "$0")/.."

cleanup() { scripts/cluster.sh stop --clean >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

url=$(scripts/cluster.sh start | tail -n 1)
echo "cluster: $url" | sed 's#//[^:]*:[^@]*@#//xxxxx@#'
export RPCWIRE_CLUSTER="$url"
go test -race -count=1 -timeout 5m -run '^TestCluster' -v ./amqp/ "$@"
