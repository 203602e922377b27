#!/usr/bin/env bash
# Native engine set-up (run by scripts/setup after the base packages, as root).
# Tries to make 32-bit PEs work: wine32:i386 next to Debian's wine64, with version pins
# computed at install time (design/native-engine-notes.md "Wine"): Multi-Arch "same" packages
# must have identical versions on amd64 and i386, and the i386 index often lags. The install
# only proceeds when apt's simulation removes nothing. On failure the engine keeps working
# for 64-bit PEs and ELF samples, and 32-bit PEs fail fast with "32-bit PE needs wine32".
# Skip with DRAK_SKIP_WINE32=1; DRAK_WINE32_DRYRUN=1 only computes the pins.
set -uo pipefail

log() { printf '\033[1m[engine]\033[0m %s\n' "$*" >&2; }

if [ "${DRAK_SKIP_WINE32:-0}" = 1 ]; then
  log "DRAK_SKIP_WINE32=1: not installing wine32"
  exit 0
fi
status=$(dpkg-query -W -f='${Status}' wine32:i386 2>/dev/null)
if [ "$status" = "install ok installed" ]; then
  log "wine32:i386 already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "not root: skipping wine32 (32-bit PEs will be refused)"
  exit 0
fi
# The pin computation takes minutes; remember a failed attempt (retry: DRAK_RETRY_WINE32=1).
marker=/var/lib/drakrun/wine32-unavailable
if [ -e "$marker" ] && [ "${DRAK_RETRY_WINE32:-0}" != 1 ]; then
  log "wine32 could not be installed earlier ($(cat "$marker")); DRAK_RETRY_WINE32=1 retries"
  exit 0
fi
mkdir -p /var/lib/drakrun

archs=$(dpkg --print-foreign-architectures)
if ! grep -qx i386 <<<"$archs"; then
  dpkg --add-architecture i386
fi
# A partial update (e.g. one mirror index mid-sync) is fine as long as wine32 has a candidate.
apt-get update -q >/dev/null 2>&1 || log "apt-get update reported errors; continuing"
policy=$(apt-cache policy wine32:i386 2>/dev/null)
if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
  log "no wine32:i386 candidate in the package index; skipping wine32"
  exit 0
fi

# common_version NAME: the newest version offered for both NAME (amd64) and NAME:i386.
common_version() {
  local name=$1
  comm -12 <(apt-cache madison "$name" 2>/dev/null | awk -F'|' '$3 ~ /amd64|all/ {gsub(/ /,"",$2); print $2}' | sort -u) \
           <(apt-cache madison "$name:i386" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -u) |
    sort -V | tail -n1
}

declare -A pinned=()
pins=()
for round in $(seq 1 40); do
  sim=$(apt-get install -s --no-install-recommends wine32:i386 "${pins[@]}" 2>&1)
  rc=$?
  removals=$(printf '%s\n' "$sim" | awk '/^Remv /{print $2}')
  if [ $rc -eq 0 ] && [ -z "$removals" ]; then
    log "wine32 resolves after $round round(s) with ${#pins[@]} pins: ${pins[*]}"
    if [ "${DRAK_WINE32_DRYRUN:-0}" = 1 ]; then
      log "DRAK_WINE32_DRYRUN=1: not installing"
      exit 0
    fi
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        wine32:i386 "${pins[@]}"; then
      log "wine32 installed"
      exit 0
    fi
    break
  fi
  # Libraries apt cannot co-install ("... but X is to be installed" / "not going to be
  # installed"), and -dev packages the simulation would remove, get pinned to a common version.
  names=$( { printf '%s\n' "$sim" | sed -n 's/.*Depends: \([a-z0-9][a-z0-9.+-]*\).*/\1/p; s/^ *\([a-z0-9][a-z0-9.+-]*\)\(:i386\)\? : Depends.*/\1/p' ;
             printf '%s\n' $removals | sed 's/:.*//' ; } | sort -u)
  progress=0
  for n in $names; do
    [ -n "${pinned[$n]:-}" ] && continue
    base=${n%-dev}
    v=$(common_version "$n")
    if [ -z "$v" ] && [ "$base" != "$n" ]; then
      v=$(apt-cache madison "$n" | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -V | head -n1)
    fi
    [ -z "$v" ] && continue
    pinned[$n]=$v
    pins+=("$n=$v")
    apt-cache show "$n:i386" >/dev/null 2>&1 && pins+=("$n:i386=$v")
    progress=1
  done
  if [ $progress = 0 ]; then
    break
  fi
done
printf '%s\n' "${sim:-}" | tail -n 25 >&2
log "pins tried: ${pins[*]:-none}"
date -u +%Y-%m-%dT%H:%MZ > "$marker"
log "wine32:i386 cannot be installed consistently on this host; 32-bit PEs will fail with"
log "'32-bit PE needs wine32' (64-bit PEs and ELF samples are unaffected)"
exit 0
