#!/bin/sh
# A PostgreSQL server and a RabbitMQ node of the fault tests' own, which they stop and start
# while the rest of the suite runs on the machine's (`make test` runs both at once):
#   scripts/fault-services.sh start|stop|env|postgres-start|postgres-stop
# PostgreSQL listens on 127.0.0.1:5442 (FAULT_POSTGRES_PORT), RabbitMQ node
# mvsic-faults@localhost on 127.0.0.1:5691 (FAULT_RABBITMQ_PORT); their data and logs live
# under FAULT_SERVICES_DIR (default /var/tmp/mvsic-fault-services). `start` is safe to run
# again; `env` prints the variables that point the fault tests at these servers.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PATH="$PATH:/usr/sbin:/sbin"
action=${1:-}
dir=${FAULT_SERVICES_DIR:-/var/tmp/mvsic-fault-services}
pg_port=${FAULT_POSTGRES_PORT:-5442}
mq_port=${FAULT_RABBITMQ_PORT:-5691}
pg_data=$dir/postgres

# pg_bin NAME: a PostgreSQL server program, on the PATH or Debian's newest version's.
pg_bin() {
    command -v "$1" 2>/dev/null && return 0
    found=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -t/ -k5 -n | tail -n 1)
    [ -n "$found" ] || fail "$1 not found: install the PostgreSQL server (Debian/Ubuntu: sudo apt-get install postgresql)."
    echo "$found"
}

# The server refuses to run as root: as root, it runs as the postgres user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

postgres_start() {
    if [ ! -f "$pg_data/PG_VERSION" ]; then
        mkdir -p "$pg_data"
        [ "$(id -u)" != 0 ] || chown postgres "$pg_data"
        say "Creating the fault tests' PostgreSQL in $pg_data"
        as_owner "$(pg_bin initdb)" -D "$pg_data" -U postgres --auth=trust -E UTF8 >/dev/null
        printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" \
            "$pg_port" "$pg_data" | as_owner tee -a "$pg_data/postgresql.conf" >/dev/null
    fi
    if ! pg_isready -q -h 127.0.0.1 -p "$pg_port"; then
        as_owner "$(pg_bin pg_ctl)" -D "$pg_data" -l "$pg_data/server.log" -w -t 90 start >/dev/null \
            || fail "the fault tests' PostgreSQL did not start: see $pg_data/server.log"
    fi
    psql -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'mvsic'" \
        | grep -q 1 || createdb -h 127.0.0.1 -p "$pg_port" -U postgres mvsic
}

postgres_stop() {
    [ ! -f "$pg_data/postmaster.pid" ] \
        || as_owner "$(pg_bin pg_ctl)" -D "$pg_data" -m fast -w stop >/dev/null
}

rabbitmq() {
    RABBITMQ_CLUSTER_NODES=faults RABBITMQ_CLUSTER_PORT=$mq_port \
        sh "$here/rabbitmq-cluster.sh" "$1" "$dir/rabbitmq" >/dev/null
}

case "$action" in
    start)
        postgres_start
        rabbitmq start
        say "Fault tests' services up: PostgreSQL 127.0.0.1:$pg_port, RabbitMQ 127.0.0.1:$mq_port"
        ;;
    stop)
        rabbitmq stop
        postgres_stop
        ;;
    postgres-start) postgres_start ;;
    postgres-stop) postgres_stop ;;
    env)
        echo "DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/mvsic"
        echo "CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:$mq_port//"
        echo "MVSIC_FAULT_RABBITMQ_NODE=mvsic-faults@localhost"
        echo "MVSIC_FAULT_SERVICES=$here/fault-services.sh"
        ;;
    *) fail "usage: $0 start|stop|env|postgres-start|postgres-stop" ;;
esac
