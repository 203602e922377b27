#!/bin/sh
# Runs the drak-system routing benchmark against a throwaway loopback redis-server:
# redis-benchmark -P 32 -t set ceiling first, then system_bench in several modes.
# Usage: bench/system/run.sh <build dir> [tasks]
set -eu
BUILD=${1:?build dir}
N=${2:-100000}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" >/dev/null &
RPID=$!
trap 'kill $RPID; rm -rf "$DIR"' EXIT
sleep 0.5
echo "load: $(cat /proc/loadavg)"
redis-benchmark -p "$PORT" -P 32 -t set -n 1000000 -q | tr '\r' '\n' | tail -2
for args in "--batch 101 --log-level WARNING" "--batch 101 --log-level INFO" "--batch 1000 --log-level WARNING"; do
  # shellcheck disable=SC2086
  "$BUILD/bench/system/system_bench" --port "$PORT" --tasks "$N" $args 2>/dev/null
done
redis-cli -p "$PORT" info memory | grep used_memory_human
