#!/bin/sh
# Make sure a RabbitMQ broker answers at CELERY_BROKER_URL: start the local one, or install it
# (root on Debian) when there is none. Used by `make run`, `make test` and .ci/run.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

url=$(env_value CELERY_BROKER_URL 'amqp://guest:guest@127.0.0.1:5672//')
case "$url" in
    *";"*)
        # A cluster's nodes (`;` between them): one answering is enough, clients fail over.
        for node_url in $(printf '%s\n' "$url" | tr ';' ' '); do
            set -- $(url_host_port "$node_url" 5672)
            if amqp_answers "$1" "$2"; then
                say "RabbitMQ answers on $1:$2"
                exit 0
            fi
        done
        fail "No node of CELERY_BROKER_URL's cluster answers; for the local test cluster: scripts/rabbitmq-cluster.sh start"
        ;;
esac
set -- $(url_host_port "$url" 5672)
host=$1
port=$2
wait_seconds=${RABBITMQ_WAIT_SECONDS:-60}

if amqp_answers "$host" "$port"; then
    say "RabbitMQ answers on $host:$port"
    exit 0
fi

if ! host_is_local "$host"; then
    fail "No RabbitMQ broker answers on $host:$port (CELERY_BROKER_URL); start that broker or point CELERY_BROKER_URL at one that runs."
fi

PATH="$PATH:/usr/sbin:/sbin"
if ! command -v rabbitmq-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "RabbitMQ is not installed; installing Debian's rabbitmq-server"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server
    else
        fail "RabbitMQ is not installed: install it (Debian/Ubuntu: sudo apt-get install rabbitmq-server; macOS: brew install rabbitmq) or set CELERY_BROKER_URL to a running broker."
    fi
fi

# A node that answers ping is running: booting (the Debian package may have started it), or
# with its application stopped (`rabbitmqctl stop_app`), which start_app undoes.
if rabbitmqctl -q ping >/dev/null 2>&1; then
    say "RabbitMQ's node is running but does not take clients; rabbitmqctl start_app"
    rabbitmqctl -q start_app >/dev/null 2>&1 || true
else
    # Debian's packaged server runs as root or rabbitmq only (Homebrew's runs as anyone).
    if [ "$(id -u)" != 0 ] && [ -f /etc/debian_version ]; then
        fail "RabbitMQ is installed but not running: start it with 'sudo rabbitmq-server -detached' (or 'sudo systemctl start rabbitmq-server')."
    fi
    say "Starting RabbitMQ (rabbitmq-server -detached)"
    rabbitmq-server -detached \
        || fail "RabbitMQ is installed but could not be started by $(id -un): run 'sudo rabbitmq-server -detached' (or 'sudo systemctl start rabbitmq-server')."
fi

deadline=$(($(date +%s) + wait_seconds))
until rabbitmqctl --quiet await_startup --timeout 10 >/dev/null 2>&1 && amqp_answers "$host" "$port"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        fail "RabbitMQ did not start within ${wait_seconds}s; see /var/log/rabbitmq/ (rabbitmqctl status tells more)."
    fi
    sleep 1
done
say "RabbitMQ is up on $host:$port"
