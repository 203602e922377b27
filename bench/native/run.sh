#!/bin/bash
# bench/native/run.sh [BUILD_DIR] — native engine throughput and tracing overhead (README.md).
# Runs `drakrun analyze` (engine + postprocessing) on the ground-truth programs: N analyses of
# the ELF and the Win64 PE program with 1 and 2 concurrent analyses, then the same programs
# untraced (engine option tracing=0: same sandbox, netsim and Wine, no tracing; it cannot see
# when the sample's processes are gone, so it is compared with early_exit=0), and the PE
# without the warm-up run (warm_up=0). Samples run only inside a loopback-only network
# namespace: the script re-executes itself under `unshare --net` (and the engine adds its own).
# Environment: N_ELF (default 20), N_PE (default 8). Needs root.
set -euo pipefail

if [ -z "${DRAK_BENCH_NETNS:-}" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "run as root (namespaces, cgroups, mounts)" >&2
    exit 2
  fi
  export DRAK_BENCH_NETNS=1
  exec unshare --net -- "$0" "$@"
fi

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
N_ELF=${N_ELF:-20}
N_PE=${N_PE:-8}
DRAKRUN=$BUILD/bin/drakrun
ELF=$BUILD/programs/elf_behaviour
PE=$BUILD/programs/pe_behaviour64.exe
for f in "$DRAKRUN" "$ELF" "$PE" "$BUILD/bin/drak-trace-elf"; do
  [ -e "$f" ] || { echo "missing $f: cmake --build $BUILD --target drakrun drak-trace-elf test_programs" >&2; exit 2; }
done

T=$(mktemp -d /tmp/drak-native-bench.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT

# config NAME TRACING WARM_UP EARLY_EXIT
config() {
  cat > "$T/$1.ini" <<EOF
[drakrun]
engine = native
[native]
golden_prefix = $BUILD/wine-prefix-cache
scratch_root = $T/scratch
tools_dir = $BUILD/bin
hooks_file = $SRC/data/hooks.txt
tracing = $2
warm_up = $3
early_exit = $4
EOF
}
config traced 1 1 1
config traced-late 1 1 0
config untraced 0 1 0
config nowarmup 1 0 1

# stage_seconds ERRFILE: seconds between "engine/run: starting" and "engine/collect" (the
# sandboxed run itself, without netsim set-up and postprocessing).
stage_seconds() {
  awk '
    function t(s,   a) { split(substr(s, 13, 12), a, ":"); return a[1]*3600 + a[2]*60 + a[3] }
    /engine\/run: starting/ { r = t($0) }
    /engine\/collect:/ { c = t($0) }
    END { if (r && c) printf "%.3f\n", c - r }' "$1"
}

# batch LABEL CONFIG SAMPLE N CONCURRENCY: N analyses, CONCURRENCY at a time.
batch() {
  local label=$1 cfg=$2 sample=$3 n=$4 conc=$5
  local start end fails
  # Warm caches (golden prefix, page cache) outside the measurement.
  "$DRAKRUN" --config-file "$T/$cfg.ini" analyze -o "$T/warm-$label" -t 30 "$sample" \
    >/dev/null 2>&1 || true
  rm -rf "$T/warm-$label"
  : > "$T/stages-$label"
  start=$(date +%s.%N)
  for w in $(seq 1 "$conc"); do
    (
      for i in $(seq "$w" "$conc" "$n"); do
        out=$T/out-$label-$i
        if ! "$DRAKRUN" --config-file "$T/$cfg.ini" analyze -o "$out" -t 30 "$sample" \
          >/dev/null 2>"$out.err"; then
          echo "  analysis $label #$i exited non-zero: $(grep -v '^\[' "$out.err" | tail -2 | tr '\n' ' ')" >&2
        fi
        stage_seconds "$out.err" >> "$T/stages-$label"
        rm -rf "$out" "$out.err"
      done
    ) &
  done
  wait
  end=$(date +%s.%N)
  awk -v l="$label" -v n="$n" -v c="$conc" -v s="$start" -v e="$end" '
    { sum += $1; k++ }
    END {
      w = e - s
      printf "%-30s n=%-3d conc=%d  wall %6.1f s  %6.1f analyses/min  %5.2f s/analysis  run stage %5.2f s\n",
             l, n, c, w, n * 60 / w, w / n, (k ? sum / k : 0)
    }' "$T/stages-$label"
}

echo "# native engine benchmark $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "# wine: $(/usr/lib/wine/wine64 --version 2>/dev/null || echo '?'), cgroup: $(stat -fc %T /sys/fs/cgroup)"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
batch "elf traced"          traced   "$ELF" "$N_ELF" 1
batch "elf traced"          traced   "$ELF" "$N_ELF" 2
batch "elf untraced"        untraced "$ELF" "$N_ELF" 1
batch "pe64 traced"         traced   "$PE"  "$N_PE"  1
batch "pe64 traced"         traced   "$PE"  "$N_PE"  2
batch "pe64 traced, no early exit" traced-late "$PE" "$N_PE" 1
batch "pe64 untraced"       untraced "$PE"  "$N_PE"  1
batch "pe64 traced, no warm-up" nowarmup "$PE" "$N_PE" 1
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
