#!/usr/bin/env bash
# Bounded soak: many mixed calls over mem://, http:// and (when RabbitMQ
# answers) amqp:// in one process, printing heap in use and goroutines at
# intervals; fails when either grows beyond its bound after the warm-up,
# when a call fails, or when goroutines are left after closing.
#
#   scripts/soak.sh                       # 1 000 000 calls, at most 5 minutes
#   SOAK_CALLS=100000 scripts/soak.sh     # fewer
#   scripts/soak.sh -transports mem,http -interval 5s   # any examples/soak flag
#
# AMQP_URL names the broker (default amqp://guest:guest@127.0.0.1:5672/);
# with CI set an unreachable broker fails the run instead of skipping amqp.
set -euo pipefail

cd "$(dirname "$0")/.."
exec go run ./examples/soak -calls "${SOAK_CALLS:-1000000}" -max-time "${SOAK_MAX_TIME:-5m}" "$@"
