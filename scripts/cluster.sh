#!/usr/bin/env bash
# An isolated 3-node RabbitMQ cluster on 127.0.0.1, for rpcwire's failover
# tests and for users who want to try them. It has its own node names, ports,
# Erlang cookie, config, data, logs and pid files under CLUSTER_DIR, and never
# touches the system broker (rabbit@localhost on 5672, /etc/rabbitmq,
# /var/lib/rabbitmq).
#
#   scripts/cluster.sh start            # start 3 nodes, cluster them, print URLs
#   scripts/cluster.sh stop [--clean]   # stop them; --clean also deletes CLUSTER_DIR
#   scripts/cluster.sh status           # nodes and membership (exit 0 only when all 3 run clustered)
#   scripts/cluster.sh kill N           # kill -9 node N's Erlang VM, as a crash would
#   scripts/cluster.sh restart N        # start node N again, wait until it has rejoined
#   scripts/cluster.sh ctl N ARGS...    # rabbitmqctl ARGS against node N
#   scripts/cluster.sh leader QUEUE     # node number (1-3) of quorum queue QUEUE's leader, vhost /
#   scripts/cluster.sh urls             # the URLs `start` prints, without starting
#
# `start` prints one amqp:// URL per node, then the combined URL
# amqp://guest:guest@127.0.0.1:5691,127.0.0.1:5692,127.0.0.1:5693/ on stdout;
# progress goes to stderr. It is idempotent: on a running cluster it only
# re-checks. Node N is named rpcw<port>@localhost, so clusters with different
# CLUSTER_PORTS and CLUSTER_DIR can run side by side.
#
# Environment:
#   CLUSTER_PORTS="5691 5692 5693"  AMQP ports of nodes 1-3; each node's Erlang
#                                   distribution port is AMQP+20000 (RabbitMQ's rule)
#   CLUSTER_DIR=/tmp/rpcwire-cluster
#   CLUSTER_TIMEOUT=60              seconds any one wait may take
#   RABBITMQ_BIN                    dir of the real rabbitmq-server and rabbitmqctl
#                                   (default: beside `rabbitmq-server` after symlinks)
set -euo pipefail

prog=cluster.sh
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
usage() {
	{
		echo "usage:"
		sed -n 's/^#   \(scripts\/cluster.sh \)/  \1/p' "$0"
		echo "environment: CLUSTER_PORTS (default \"5691 5692 5693\"), CLUSTER_DIR (default /tmp/rpcwire-cluster), CLUSTER_TIMEOUT (default 60 s)"
	} >&2
	exit 2
}

dir=${CLUSTER_DIR:-/tmp/rpcwire-cluster}
# Absolute: nodes start in their own directory and RabbitMQ wants absolute paths.
dir=$(realpath -m -- "$dir")
[[ $dir != / ]] || die "CLUSTER_DIR must not be /"
timeout_s=${CLUSTER_TIMEOUT:-60}
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "CLUSTER_TIMEOUT must be a whole number of seconds, not '$timeout_s'"
read -r -a ports <<<"${CLUSTER_PORTS:-5691 5692 5693}"
((${#ports[@]} == 3)) || die "CLUSTER_PORTS must hold 3 ports, not '${CLUSTER_PORTS:-}'"

# rabbitmqctl is an Erlang node too: it listens on a distribution port from
# this range. RabbitMQ's default (35672-35682) is shared with every
# rabbitmqctl run against the system broker; ours is separate.
ctl_port_min=35700
ctl_port_max=35739
for p in "${ports[@]}"; do
	if [[ ! $p =~ ^[1-9][0-9]*$ ]] || ((p > 45535)); then
		die "port '$p' in CLUSTER_PORTS is not a number in 1-45535 (its distribution port is port+20000)"
	fi
	((p + 20000 < ctl_port_min || p + 20000 > ctl_port_max)) ||
		die "port $p: its distribution port $((p + 20000)) lies in the rabbitmqctl range $ctl_port_min-$ctl_port_max"
done
all_ports=("${ports[@]}" $((ports[0] + 20000)) $((ports[1] + 20000)) $((ports[2] + 20000)))
[[ $(printf '%s\n' "${all_ports[@]}" | sort -u | wc -l) == 6 ]] ||
	die "CLUSTER_PORTS '${ports[*]}' and their distribution ports (+20000) must be 6 different ports"

# Debian's /usr/sbin/rabbitmq-server and rabbitmqctl are wrappers that switch
# to the rabbitmq user (and its cookie); the real scripts sit beside the
# file they link to.
if [[ -z ${RABBITMQ_BIN:-} ]]; then
	if s=$(command -v rabbitmq-server); then
		RABBITMQ_BIN=$(dirname "$(readlink -f "$s")")
	else
		RABBITMQ_BIN=/usr/lib/rabbitmq/bin
	fi
fi
bin=$RABBITMQ_BIN

name() { echo "rpcw${ports[$1 - 1]}@localhost"; }
ndir() { echo "$dir/rpcw${ports[$1 - 1]}"; }
port() { echo "${ports[$1 - 1]}"; }
url() { echo "amqp://guest:guest@127.0.0.1:$(port "$1")/"; }

print_urls() {
	local i
	for i in 1 2 3; do url "$i"; done
	echo "amqp://guest:guest@127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}/"
}

check_node_arg() {
	[[ ${1:-} =~ ^[123]$ ]] || die "node must be 1, 2 or 3, not '${1:-}'"
}

need_rabbitmq() {
	[[ -x $bin/rabbitmq-server && -x $bin/rabbitmqctl ]] ||
		die "no rabbitmq-server and rabbitmqctl in $bin: install RabbitMQ (Debian: apt-get install rabbitmq-server) or set RABBITMQ_BIN"
}

# node_env N sets nenv to the whole environment of node N's server and CLI.
# It starts from nothing (env -i) so that RABBITMQ_* or ERL_* variables of
# the caller cannot leak in, and it names every file RabbitMQ would
# otherwise take from /etc/rabbitmq or /var/lib/rabbitmq.
node_env() {
	local i=$1 d
	d=$(ndir "$i")
	nenv=(
		PATH="$PATH"
		LANG=C.UTF-8
		LC_ALL=C.UTF-8
		HOME="$d/home" # Erlang reads the cookie from $HOME/.erlang.cookie
		RABBITMQ_NODENAME="$(name "$i")"
		RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
		RABBITMQ_NODE_PORT="$(port "$i")"
		RABBITMQ_DIST_PORT="$(($(port "$i") + 20000))"
		RABBITMQ_MNESIA_BASE="$d/mnesia"
		RABBITMQ_LOG_BASE="$d/log"
		RABBITMQ_PID_FILE="$d/pid"
		RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
		RABBITMQ_CONFIG_FILES="$d/conf.d/*.conf" # else /etc/rabbitmq/conf.d
		RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
		RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf" # else /etc/rabbitmq/rabbitmq-env.conf
		RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
		RABBITMQ_CTL_DIST_PORT_MIN="$ctl_port_min"
		RABBITMQ_CTL_DIST_PORT_MAX="$ctl_port_max"
		RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
		# -rpcwire_cluster NAME is ignored by Erlang; it marks the VM so that
		# `ps` finds it when the pid file is missing (3.10 passes the node
		# name in the environment, not on the command line).
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -rpcwire_cluster $(name "$i")"
		ERL_EPMD_ADDRESS=127.0.0.1
	)
}

# prepare N writes node N's files (again: the ports may have changed).
prepare() {
	local i=$1 d
	d=$(ndir "$i")
	mkdir -p "$d/home" "$d/mnesia" "$d/log" "$d/conf.d"
	printf '%s\n' \
		"# written by scripts/cluster.sh" \
		"listeners.tcp.default = 127.0.0.1:$(port "$i")" \
		"log.console = false" \
		"log.file.level = info" >"$d/rabbitmq.conf"
	echo '# written by scripts/cluster.sh: nothing from /etc/rabbitmq/rabbitmq-env.conf' >"$d/rabbitmq-env.conf"
	# No plugins: the management plugin of one node would clash with the others on 15672.
	echo '[].' >"$d/enabled_plugins"
	if ! cmp -s "$dir/cookie" "$d/home/.erlang.cookie"; then
		rm -f "$d/home/.erlang.cookie"
		cp "$dir/cookie" "$d/home/.erlang.cookie"
		chmod 400 "$d/home/.erlang.cookie" # Erlang refuses a cookie others can read
	fi
}

prepare_dir() {
	mkdir -p "$dir"
	# The marker lets `stop --clean` delete only a directory this script made.
	touch "$dir/.rpcwire-cluster"
	if [[ ! -s $dir/cookie ]]; then
		# 20 random bytes as 40 hex digits (head reads a bounded amount:
		# `tr </dev/urandom | head` would die of SIGPIPE under pipefail).
		(umask 077 && head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F >"$dir/cookie")
	fi
}

# lock serialises start, stop and restart on one CLUSTER_DIR.
lock() {
	mkdir -p "$dir"
	exec 9>"$dir/.lock"
	flock -w "$timeout_s" 9 || die "another cluster.sh holds $dir/.lock for more than ${timeout_s}s"
}

# node_pid N prints the pid of node N's Erlang VM, if it runs.
node_pid() {
	local i=$1 pf pid
	pf="$(ndir "$i")/pid"
	if [[ -s $pf ]]; then
		pid=$(<"$pf")
		if [[ $pid =~ ^[0-9]+$ ]] && ps -o args= -p "$pid" 2>/dev/null | grep -q -- "-rpcwire_cluster $(name "$i")\b"; then
			echo "$pid"
			return 0
		fi
	fi
	# No pid file yet (early boot) or a stale one (after kill -9).
	pid=$(pgrep -f -- "beam.* -rpcwire_cluster $(name "$i")( |\$)" | head -n 1) || true
	[[ -n $pid ]] && echo "$pid"
}

port_busy() {
	if command -v ss >/dev/null; then
		[[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

port_owner() {
	ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n 1 || true
}

# check_ports N... fails before anything starts if a port of those nodes is taken.
check_ports() {
	local i p what
	for i in "$@"; do
		for p in "$(port "$i")" "$(($(port "$i") + 20000))"; do
			what="AMQP"
			[[ $p == "$(port "$i")" ]] || what="Erlang distribution"
			if port_busy "$p"; then
				die "port $p ($what port of node $i, $(name "$i")) is already in use $(port_owner "$p"); pick other ports with CLUSTER_PORTS=\"p1 p2 p3\""
			fi
		done
	done
}

declare -A wrapper_pid=()
launched=()

# launch N starts node N in the background, in a session of its own so that
# it outlives this script and a Ctrl-C in its terminal.
launch() {
	local i=$1 d
	d=$(ndir "$i")
	prepare "$i"
	node_env "$i"
	rm -f "$d/pid"
	echo "--- $(date '+%F %T') cluster.sh starts $(name "$i")" >>"$d/stdout.log"
	# 9>&-: the node must not inherit our lock. setsid -w: $! stays the
	# server's (or waits for it) even if setsid has to fork.
	(cd "$d" && exec setsid -w env -i "${nenv[@]}" "$bin/rabbitmq-server") \
		>>"$d/stdout.log" 2>&1 </dev/null 9>&- &
	wrapper_pid[$i]=$!
	launched+=("$i")
}

log_tail() {
	local d
	d=$(ndir "$1")
	tail -n 5 "$d/stdout.log" "$d/log/$(name "$1").log" 2>/dev/null | sed 's/^/    /' >&2 || true
}

# wait_ports DEADLINE N... waits until nodes N... listen on their AMQP
# ports. RabbitMQ opens it last, once the node has booted (and found its
# cluster peers). All nodes are watched at once, so that one that dies
# while the others wait for it is reported at once.
wait_ports() {
	local deadline=$1 i left
	shift
	while :; do
		left=()
		for i in "$@"; do
			port_busy "$(port "$i")" && continue
			left+=("$i")
			if [[ -n ${wrapper_pid[$i]:-} ]] && ! kill -0 "${wrapper_pid[$i]}" 2>/dev/null; then
				log_tail "$i"
				die "node $i ($(name "$i")) exited while booting; logs in $(ndir "$i")/stdout.log and log/"
			fi
		done
		((${#left[@]} == 0)) && return 0
		if ((SECONDS >= deadline)); then
			for i in "${left[@]}"; do log_tail "$i"; done
			die "node(s) ${left[*]} did not open their AMQP port within ${timeout_s}s (a clustered node that was not the last to stop waits for its peers); logs in $dir/*/log/"
		fi
		sleep 0.2
	done
}

# ctlq N ARGS... runs rabbitmqctl against node N, bounded in time.
ctlq() {
	local i=$1
	shift
	node_env "$i"
	timeout "$timeout_s" env -i "${nenv[@]}" "$bin/rabbitmqctl" -q -n "$(name "$i")" "$@" 9>&-
}

# json_nodes KEY reads cluster_status JSON on stdin, prints the nodes under KEY.
json_nodes() {
	grep -o "\"$1\":\[[^]]*\]" | grep -o '"[^"]*@[^"]*"' | tr -d '"' || true
}

has_node() { # has_node NAME LIST...
	local n=$1 x
	shift
	for x in "$@"; do [[ $x == "$n" ]] && return 0; done
	return 1
}

# ensure_members REF N... joins each node N to node REF's cluster unless
# REF lists it already; it returns 1 at once when REF sees them all running
# (one rabbitmqctl call: what a `start` on a running cluster costs).
# join_cluster resets node N first, so a node with data of its own (e.g.
# from a standalone boot) can join too.
ensure_members() {
	local ref=$1 st i members running all=0 out join
	shift
	st=$(ctlq "$ref" cluster_status --formatter json) || die "cluster_status on node $ref ($(name "$ref")) failed"
	read -r -a members <<<"$(json_nodes disk_nodes <<<"$st" | tr '\n' ' ') $(json_nodes ram_nodes <<<"$st" | tr '\n' ' ')"
	read -r -a running <<<"$(json_nodes running_nodes <<<"$st" | tr '\n' ' ')"
	for i in "$ref" "$@"; do
		has_node "$(name "$i")" "${running[@]}" || all=1
	done
	((all == 1)) || return 1
	join=()
	for i in "$@"; do
		has_node "$(name "$i")" "${members[@]}" || join+=("$i")
	done
	((${#join[@]} > 0)) || return 0
	log "joining node(s) ${join[*]} to node $ref ($(name "$ref"))"
	# stop_app and start_app run on all joining nodes at once; the joins
	# themselves one at a time, as each changes node REF's schema.
	ctl_all stop_app "${join[@]}"
	for i in "${join[@]}"; do
		# Output only on failure: join_cluster logs harmless "[error] Failed
		# to create a tracked connection table" lines while the app is stopped.
		out=$(ctlq "$i" join_cluster "$(name "$ref")" 2>&1) ||
			die "node $i could not join node $ref: $out
(if node $i holds data of another cluster, start afresh with: $0 stop --clean)"
	done
	ctl_all start_app "${join[@]}"
	return 0
}

# ctl_all CMD N... runs `rabbitmqctl CMD` on nodes N... in parallel.
ctl_all() {
	local cmd=$1 i rc=0 tmp
	shift
	declare -A jobs=()
	tmp=$(mktemp -d)
	for i in "$@"; do
		ctlq "$i" "$cmd" >"$tmp/$i" 2>&1 &
		jobs[$i]=$!
	done
	for i in "$@"; do
		if ! wait "${jobs[$i]}"; then
			log "$cmd on node $i ($(name "$i")) failed: $(cat "$tmp/$i")"
			rc=1
		fi
	done
	rm -rf "$tmp"
	((rc == 0)) || die "$cmd failed"
}

# wait_running REF DEADLINE N... waits until node REF sees nodes N... running.
wait_running() {
	local ref=$1 deadline=$2 st n missing
	shift 2
	while :; do
		missing=()
		st=$(ctlq "$ref" cluster_status --formatter json 2>/dev/null) || st=
		# shellcheck disable=SC2046
		for n in "$@"; do
			has_node "$(name "$n")" $(json_nodes running_nodes <<<"$st") || missing+=("$n")
		done
		((${#missing[@]} == 0)) && return 0
		((SECONDS < deadline)) ||
			die "node(s) ${missing[*]} not running in the cluster (as seen by node $ref) within ${timeout_s}s; see $dir/*/log/"
		sleep 0.5
	done
}

# stop_nodes N... stops nodes cleanly (SIGTERM, which RabbitMQ handles as
# `rabbitmqctl stop` does, without starting a CLI VM per node) and kill -9s
# those that have not exited in time.
stop_nodes() {
	local i pid deadline left
	declare -A pids=()
	for i in "$@"; do
		if pid=$(node_pid "$i"); then
			pids[$i]=$pid
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
	deadline=$((SECONDS + timeout_s))
	while :; do
		left=()
		for i in "${!pids[@]}"; do
			kill -0 "${pids[$i]}" 2>/dev/null && left+=("$i")
		done
		((${#left[@]} == 0)) && break
		if ((SECONDS >= deadline)); then
			for i in "${left[@]}"; do
				log "node $i ($(name "$i")) did not stop within ${timeout_s}s: kill -9 ${pids[$i]}"
				kill -KILL "${pids[$i]}" 2>/dev/null || true
			done
			sleep 0.5
			break
		fi
		sleep 0.1
	done
	for i in "$@"; do
		node_pid "$i" >/dev/null || rm -f "$(ndir "$i")/pid"
	done
}

# On a failed start or restart, stop what this run started.
on_exit() {
	local rc=$?
	if ((rc != 0 && ${#launched[@]} > 0)); then
		log "failed: stopping the node(s) this run started: ${launched[*]}"
		stop_nodes "${launched[@]}"
	fi
	return "$rc"
}

cmd_start() {
	local t0=$EPOCHREALTIME i deadline down=()
	need_rabbitmq
	lock
	prepare_dir
	for i in 1 2 3; do
		node_pid "$i" >/dev/null || down+=("$i")
	done
	check_ports "${down[@]}"
	trap on_exit EXIT
	trap 'exit 130' INT TERM
	# All down nodes start at once: a clustered node that was not the last
	# to stop waits for its peers before it opens its port.
	for i in "${down[@]}"; do
		log "starting node $i ($(name "$i")) on 127.0.0.1:$(port "$i")"
		launch "$i"
	done
	deadline=$((SECONDS + timeout_s))
	wait_ports "$deadline" 1 2 3
	((${#down[@]} == 0)) || log "node(s) ${down[*]} booted ($(elapsed "$t0") s)"
	if ensure_members 1 2 3; then
		deadline=$((SECONDS + timeout_s))
		wait_ports "$deadline" 2 3
		wait_running 1 "$deadline" 1 2 3
	fi
	launched=()
	log "3 nodes running and clustered ($(elapsed "$t0") s)"
	print_urls
}

cmd_restart() {
	local n=$1 t0=$EPOCHREALTIME i ref='' deadline up=()
	check_node_arg "$n"
	need_rabbitmq
	lock
	[[ -s $dir/cookie ]] || die "no cluster in $dir: run $0 start"
	for i in 1 2 3; do
		[[ $i != "$n" ]] && node_pid "$i" >/dev/null && up+=("$i")
	done
	if ((${#up[@]} > 0)); then
		ref=${up[0]}
	else
		log "no other node runs: node $n boots only if it was the last to stop (else it waits for its peers); '$0 start' starts all three"
	fi
	trap on_exit EXIT
	trap 'exit 130' INT TERM
	if node_pid "$n" >/dev/null; then
		log "node $n ($(name "$n")) is already running"
	else
		check_ports "$n"
		log "starting node $n ($(name "$n")) on 127.0.0.1:$(port "$n")"
		launch "$n"
	fi
	deadline=$((SECONDS + timeout_s))
	wait_ports "$deadline" "$n"
	if [[ -n $ref ]] && ensure_members "$ref" "$n"; then
		wait_ports "$deadline" "$n"
	fi
	# Asked of node n itself: it is back once it sees itself and the others running.
	wait_running "$n" "$deadline" "$n" "${up[@]}"
	launched=()
	log "node $n running in the cluster with node(s) ${up[*]:-none} ($(elapsed "$t0") s)"
}

cmd_stop() {
	local t0=$EPOCHREALTIME clean=${1:-} i running=()
	case $clean in
	"" | --clean) ;;
	*) usage ;;
	esac
	if [[ ! -d $dir ]]; then
		log "nothing in $dir"
		return 0
	fi
	lock
	for i in 1 2 3; do
		node_pid "$i" >/dev/null && running+=("$i")
	done
	stop_nodes 1 2 3
	log "stopped node(s) ${running[*]:-none} ($(elapsed "$t0") s)"
	if [[ $clean == --clean ]]; then
		[[ -e $dir/.rpcwire-cluster ]] || die "$dir has no .rpcwire-cluster marker: not deleting it"
		rm -rf -- "$dir"
		log "deleted $dir"
	fi
}

cmd_kill() {
	local n=$1 pid
	check_node_arg "$n"
	pid=$(node_pid "$n") || die "node $n ($(name "$n")) is not running"
	kill -KILL "$pid"
	local deadline=$((SECONDS + 10))
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS < deadline)) || die "node $n (pid $pid) still exists 10s after kill -9"
		sleep 0.05
	done
	log "killed node $n ($(name "$n"), pid $pid)"
}

cmd_status() {
	local i pid ok=0 ref='' st
	for i in 1 2 3; do
		if pid=$(node_pid "$i"); then
			printf 'node %s  %-20s 127.0.0.1:%s  running (pid %s)\n' "$i" "$(name "$i")" "$(port "$i")" "$pid"
			[[ -n $ref ]] || ref=$i
		else
			printf 'node %s  %-20s 127.0.0.1:%s  not running\n' "$i" "$(name "$i")" "$(port "$i")"
			ok=1
		fi
	done
	[[ -n $ref ]] || return 1
	if ! st=$(ctlq "$ref" cluster_status --formatter json 2>&1); then
		echo "cluster_status on node $ref failed: $st"
		return 1
	fi
	echo "as seen by node $ref:"
	echo "  members: $(json_nodes disk_nodes <<<"$st" | tr '\n' ' ')$(json_nodes ram_nodes <<<"$st" | tr '\n' ' ')"
	echo "  running: $(json_nodes running_nodes <<<"$st" | tr '\n' ' ')"
	echo "  alarms:  $(grep -o '"alarms":\[[^]]*\]' <<<"$st" | sed 's/^"alarms"://')"
	for i in 1 2 3; do
		# shellcheck disable=SC2046
		has_node "$(name "$i")" $(json_nodes running_nodes <<<"$st") || ok=1
	done
	return "$ok"
}

cmd_ctl() {
	local n=$1
	shift
	check_node_arg "$n"
	need_rabbitmq
	node_env "$n"
	exec timeout "$timeout_s" env -i "${nenv[@]}" "$bin/rabbitmqctl" -n "$(name "$n")" "$@"
}

cmd_leader() {
	local q=$1 i ref='' out leader
	for i in 1 2 3; do
		if node_pid "$i" >/dev/null; then
			ref=$i
			break
		fi
	done
	[[ -n $ref ]] || die "no node is running"
	out=$(ctlq "$ref" list_queues -p / --no-table-headers name type leader) ||
		die "list_queues on node $ref failed"
	# Tab-separated name, type, leader; a queue name may itself hold tabs.
	leader=$(awk -F'\t' -v q="$q" '{ l = $NF; t = $(NF-1); n = substr($0, 1, length($0) - length(l) - length(t) - 2) }
		n == q { print t "\t" l; exit }' <<<"$out")
	[[ -n $leader ]] || die "no queue '$q' in vhost / (asked node $ref)"
	[[ ${leader%%$'\t'*} == quorum ]] || die "queue '$q' is of type ${leader%%$'\t'*}: only quorum queues have a leader"
	leader=${leader#*$'\t'}
	for i in 1 2 3; do
		if [[ $leader == "$(name "$i")" ]]; then
			echo "$i"
			return 0
		fi
	done
	die "queue '$q' has no leader on nodes 1-3 (leader: '${leader}')"
}

elapsed() {
	local now=$EPOCHREALTIME
	awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

case ${1:-} in
start) (($# == 1)) || usage; cmd_start ;;
stop) (($# <= 2)) || usage; cmd_stop "${2:-}" ;;
status) (($# == 1)) || usage; cmd_status ;;
kill) (($# == 2)) || usage; cmd_kill "$2" ;;
restart) (($# == 2)) || usage; cmd_restart "$2" ;;
ctl) (($# >= 3)) || usage; shift; cmd_ctl "$@" ;;
leader) (($# == 2)) || usage; cmd_leader "$2" ;;
urls) (($# == 1)) || usage; print_urls ;;
*) usage ;;
esac
