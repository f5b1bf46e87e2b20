#!/bin/sh
# Make sure the PostgreSQL server of DATABASE_URL answers (starting the local cluster if it is
# down) and that its database exists. Used by `make test` and .ci/run.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

url=$(env_value DATABASE_URL 'postgres://postgres@127.0.0.1:5432/mvsic')
case "$url" in
    postgres://* | postgresql://* | pgsql://* | psql://*) ;;
    *)
        say "DATABASE_URL is not PostgreSQL; nothing to start"
        exit 0
        ;;
esac
set -- $("$py" - "$url" <<'EOF'
import sys
from urllib.parse import unquote, urlsplit

url = urlsplit(sys.argv[1])
print(url.hostname or "127.0.0.1", url.port or 5432, unquote(url.username or "postgres"),
      unquote(url.path.lstrip("/")) or "mvsic")
EOF
)
host=$1
port=$2
user=$3
dbname=$4
password=$("$py" -c 'import sys; from urllib.parse import unquote, urlsplit; print(unquote(urlsplit(sys.argv[1]).password or ""))' "$url")
if [ -n "$password" ]; then
    PGPASSWORD=$password
    export PGPASSWORD
fi
wait_seconds=${POSTGRES_WAIT_SECONDS:-60}
PATH="$PATH:/usr/sbin:/sbin"

if tcp_answers "$host" "$port"; then
    say "PostgreSQL answers on $host:$port"
elif ! host_is_local "$host"; then
    fail "No PostgreSQL server answers on $host:$port (DATABASE_URL); start it or point DATABASE_URL at one that runs."
elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql)" ]; then
    version=$(ls /etc/postgresql | sort -n | tail -n 1)
    say "Starting PostgreSQL $version (pg_ctlcluster $version main start)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
else
    fail "PostgreSQL is not installed: install it (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@15) or set DATABASE_URL to a running server."
fi

command -v pg_isready >/dev/null 2>&1 \
    || fail "The PostgreSQL client tools are not installed: install them (Debian/Ubuntu: sudo apt-get install postgresql-client)."
deadline=$(($(date +%s) + wait_seconds))
until pg_isready -q -h "$host" -p "$port"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        fail "PostgreSQL did not accept connections on $host:$port within ${wait_seconds}s; see /var/log/postgresql/."
    fi
    sleep 1
done

exists=$(psql -h "$host" -p "$port" -U "$user" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$(printf '%s' "$dbname" | sed "s/'/''/g")'") \
    || fail "Cannot connect to PostgreSQL on $host:$port as $user; check DATABASE_URL and pg_hba.conf."
if [ "$exists" != 1 ]; then
    say "Creating database $dbname"
    createdb -h "$host" -p "$port" -U "$user" "$dbname"
fi
say "PostgreSQL is up on $host:$port, database $dbname"
