# Helpers shared by the scripts in this folder (POSIX sh; sourced, not run).

root=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '%s\n' "==> $*"; }

fail() {
    printf '%s\n' "$*" >&2
    exit 1
}

# The interpreter for the small socket checks: the system's python3 (the venv may not exist yet).
py=$(command -v python3 || command -v python || true)
[ -n "$py" ] || fail "Python 3 is not installed: install python3 (3.11)."

# env_value NAME DEFAULT: the environment's value, else the last NAME=... line of .env, else DEFAULT
# (the same order mvsic/settings/environment.py reads them in).
env_value() {
    eval "_v=\${$1-}"
    if [ -z "$_v" ] && [ -f "$root/.env" ]; then
        _v=$(sed -n "s/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}$1[[:space:]]*=[[:space:]]*//p" "$root/.env" \
            | tail -n 1 | sed "s/^[\"']//; s/[\"'][[:space:]]*\$//")
    fi
    printf '%s\n' "${_v:-$2}"
}

# url_host_port URL DEFAULT_PORT: prints "host port" of a URL (amqp://, postgres://, ...).
url_host_port() {
    "$py" - "$1" "$2" <<'EOF'
import sys
from urllib.parse import urlsplit

url = urlsplit(sys.argv[1])
print(url.hostname or "127.0.0.1", url.port or int(sys.argv[2]))
EOF
}

host_is_local() {
    case "$1" in
        127.* | localhost | ::1 | "[::1]") return 0 ;;
        *) return 1 ;;
    esac
}

# amqp_answers HOST PORT: true when an AMQP 0-9-1 broker answers the protocol header there
# (an open port alone is not enough: RabbitMQ refuses clients until it has booted).
amqp_answers() {
    "$py" - "$1" "$2" <<'EOF'
import socket
import sys

try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as sock:
        sock.settimeout(3)
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        # A broker replies with a method frame (type 1): Connection.Start.
        sys.exit(0 if sock.recv(1) == b"\x01" else 1)
except OSError:
    sys.exit(1)
EOF
}

# tcp_answers HOST PORT: true when something accepts a TCP connection there.
tcp_answers() {
    "$py" - "$1" "$2" <<'EOF'
import socket
import sys

try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
except OSError:
    sys.exit(1)
EOF
}
