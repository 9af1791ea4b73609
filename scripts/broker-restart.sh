#!/usr/bin/env bash
# Restarts RabbitMQ (rabbitmqctl stop_app, ~3 s, start_app) under load and
# checks that rpcwire's AMQP clients and servers recover by themselves
# (amqp.TestBrokerRestart). It disturbs everything else using the broker,
# so it is not part of `go test ./...`: run it alone, after the other tests.
#
#   scripts/broker-restart.sh            # the broker at AMQP_URL (default 127.0.0.1:5672)
#   RABBITMQCTL=/path/to/ctl scripts/broker-restart.sh
#
# Whatever happens, the broker is left started.
set -euo pipefail
cd "$(dirname "$0")/.."
ctl="${RABBITMQCTL:-rabbitmqctl}"

restart_broker() {
	"$ctl" -q start_app >/dev/null 2>&1 || true
	timeout 120 "$ctl" -q await_startup >/dev/null 2>&1 || true
}
trap restart_broker EXIT
trap 'exit 130' INT TERM
restart_broker # in case an earlier run was cut off with the app stopped

export RPCWIRE_BROKER_RESTART=1
go test -race -count=1 -timeout 3m -run '^TestBrokerRestart$' -v ./amqp/ "$@"
