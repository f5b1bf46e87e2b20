#!/bin/sh
# A three-node RabbitMQ cluster on this machine, for the tests and the bench:
#   scripts/rabbitmq-cluster.sh start|stop|status [DIR]
# Nodes mvsic-a, mvsic-b and mvsic-c @localhost take AMQP on 127.0.0.1:5681-5683
# (RABBITMQ_CLUSTER_PORT sets the first) and Erlang distribution on 25681-25683; their data
# and logs live under DIR (default var/rabbitmq-cluster). The machine's own broker (5672) is
# never touched. `start` starts whichever node is not running, joins the cluster the nodes
# not yet in it and waits until every node takes AMQP clients; it is safe to run again, e.g.
# to bring back a node that was stopped or killed. RABBITMQ_CLUSTER_NODES names other nodes
# (mvsic-NAME@localhost, on ports from RABBITMQ_CLUSTER_PORT up; the others join the first):
# scripts/fault-services.sh starts a node of the fault tests' own so. CELERY_BROKER_URL for
# the cluster:
#   amqp://guest:guest@127.0.0.1:5681//;amqp://guest:guest@127.0.0.1:5682//;amqp://guest:guest@127.0.0.1:5683//
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PATH="$PATH:/usr/sbin:/sbin"
command -v rabbitmq-server >/dev/null 2>&1 \
    || fail "RabbitMQ is not installed (Debian/Ubuntu: sudo apt-get install rabbitmq-server; macOS: brew install rabbitmq)."

action=${1:-status}
dir=${2:-$root/var/rabbitmq-cluster}
first_port=${RABBITMQ_CLUSTER_PORT:-5681}
wait_seconds=${RABBITMQ_WAIT_SECONDS:-120}
nodes=${RABBITMQ_CLUSTER_NODES:-a b c}
first=${nodes%% *}
seed=mvsic-$first@localhost

node_name() { printf 'mvsic-%s@localhost\n' "$1"; }

node_port() {
    port=$first_port
    for each in $nodes; do
        [ "$each" = "$1" ] && break
        port=$((port + 1))
    done
    echo "$port"
}

ctl() { rabbitmqctl -q -n "$@"; }

running() { ctl "$(node_name "$1")" ping >/dev/null 2>&1; }

node_start() {
    node=$1
    port=$(node_port "$node")
    base="$dir/$node"
    mkdir -p "$base/mnesia" "$base/log"
    # Its own (empty) configuration, environment and plugins files: the machine's
    # /etc/rabbitmq ones name the main node and its port.
    : >"$base/rabbitmq-env.conf"
    [ -f "$base/rabbitmq.conf" ] || printf '%s\n' "loopback_users.guest = true" >"$base/rabbitmq.conf"
    printf '%s\n' '[].' >"$base/enabled_plugins"
    # Debian's rabbitmq-server runs the node as the rabbitmq user when started by root.
    if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
        chown -R rabbitmq: "$dir"
    fi
    say "Starting $(node_name "$node") on 127.0.0.1:$port (data in $base)"
    RABBITMQ_NODENAME=$(node_name "$node") \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT=$port \
        RABBITMQ_DIST_PORT=$((port + 20000)) \
        RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$base/mnesia" \
        RABBITMQ_LOG_BASE="$base/log" \
        RABBITMQ_PID_FILE="$base/rabbitmq.pid" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        rabbitmq-server -detached >"$base/log/detached.out" 2>&1 \
        || fail "$(node_name "$node") did not start: see $base/log/"
}

# in_cluster NODE: true when NODE's cluster already holds the seed node.
in_cluster() {
    ctl "$(node_name "$1")" cluster_status --formatter json 2>/dev/null | grep -q "\"$seed\""
}

await() {
    node=$1
    deadline=$(($(date +%s) + wait_seconds))
    until ctl "$(node_name "$node")" await_startup --timeout 10 >/dev/null 2>&1 \
        && amqp_answers 127.0.0.1 "$(node_port "$node")"; do
        [ "$(date +%s)" -lt "$deadline" ] \
            || fail "$(node_name "$node") did not start within ${wait_seconds}s: see $dir/$node/log/"
        sleep 1
    done
}

start() {
    # Every stopped node first: a node restarted after the others waits for them at boot.
    for node in $nodes; do
        running "$node" || node_start "$node"
    done
    for node in $nodes; do
        await "$node"
    done
    for node in $nodes; do
        if [ "$node" != "$first" ] && ! in_cluster "$node"; then
            name=$(node_name "$node")
            say "Joining $name to the cluster of $seed"
            ctl "$name" stop_app
            ctl "$name" join_cluster "$seed"
            ctl "$name" start_app
            await "$node"
        fi
    done
    say "RabbitMQ cluster up: $(urls)"
}

stop() {
    reversed=""
    for node in $nodes; do reversed="$node $reversed"; done
    for node in $reversed; do
        if running "$node"; then
            say "Stopping $(node_name "$node")"
            ctl "$(node_name "$node")" stop "$dir/$node/rabbitmq.pid" >/dev/null 2>&1 || true
        fi
    done
}

status() {
    for node in $nodes; do
        port=$(node_port "$node")
        if amqp_answers 127.0.0.1 "$port"; then
            state="takes AMQP clients"
        elif running "$node"; then
            state="running, not taking clients"
        else
            state="stopped"
        fi
        printf '%s 127.0.0.1:%s %s\n' "$(node_name "$node")" "$port" "$state"
    done
    for node in $nodes; do
        if running "$node"; then
            ctl "$(node_name "$node")" cluster_status
            return 0
        fi
    done
    return 1
}

urls() {
    out=""
    for node in $nodes; do
        out="$out${out:+;}amqp://guest:guest@127.0.0.1:$(node_port "$node")//"
    done
    printf '%s\n' "$out"
}

case "$action" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    url) urls ;;
    *) fail "usage: $0 start|stop|status|url [DIR]" ;;
esac
