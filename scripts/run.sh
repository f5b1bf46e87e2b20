#!/bin/sh
# Runs web, worker and beat from the Procfile with honcho until Ctrl-C (the end of `make run`).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cd "$root"

# honcho gives each process its own PORT (5000, 5100, ... unless told): the web process is
# first in the Procfile, so it gets the base port. A PORT in .env beats this one in honcho.
port=$(sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}PORT[[:space:]]*=[[:space:]]*//p' .env 2>/dev/null \
    | tail -n 1 | tr -d "\"' ")
port=${port:-${PORT:-8000}}

cat <<EOF

  Mvsic is starting: open http://127.0.0.1:$port/
    artist dashboard  http://127.0.0.1:$port/dashboard/  (log in with a demo login above)
    admin             http://127.0.0.1:$port/admin/
    API docs          http://127.0.0.1:$port/api/docs/
  Web, worker and beat log below; Ctrl-C stops all three.

EOF
exec .venv/bin/honcho start --port "$port"
