#!/usr/bin/env bash
# A fleet of 10, 100 and 1,000 environments sealed by one `seal --all-envs` (one transaction),
# next to one environment sealed alone (`seal --env env0001` on the same fleet), on the platform
# fixture grown to N environments: each a copy of clusters/ai-dev with a certificate of its own
# (an RSA-2048 key each, made once per run with openssl: sealstrap refuses two environments
# sealing for one key). bcrypt cost 10 (the Dex hash dominates otherwise).
# Reports, per fleet size and binary: wall time, wall time per environment and its ratio to the
# single run, CPU utilisation ((user+sys)/wall: 2.0 is both of 2 cores busy) and peak memory
# (GNU time's maximum resident set size).
# Usage: benches/fleet.sh [-n "10 100 1000"] [-r RUNS] [SEALSTRAP_BINARY ...]
#        (default: target/release/sealstrap; RUNS fleet runs per size up to 100 environments,
#        median shown, default 3; larger fleets run once)
# Needs git, openssl and GNU time (/usr/bin/time; Debian: apt install time). Changes nothing
# outside a temporary folder (about 250 MB at 1,000 environments).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes="10 100 1000"
runs=3
while getopts "n:r:" opt; do
  case $opt in
    n) sizes="$OPTARG" ;;
    r) runs="$OPTARG" ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$root/target/release/sealstrap")
[ -x /usr/bin/time ] || { echo "benches/fleet.sh needs GNU time (/usr/bin/time)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A certificate of its own for each environment of the largest fleet, made on every core.
largest=$(printf '%s\n' $sizes | sort -n | tail -1)
mkdir -p "$work/certs"
seq -f 'env%04g' 1 "$largest" | xargs -P "$(nproc)" -I{} openssl req -x509 -newkey rsa:2048 \
  -nodes -keyout /dev/null -subj "/CN={}" -days 3650 -out "$work/certs/{}.crt" 2>/dev/null

# The fleet: N environments, each sealing for its own certificate.
grow() {  # $1: N; builds $work/base
  local n=$1 i e
  rm -rf "$work/base"
  mkdir -p "$work/base"
  cp -r "$root/tests/data/platform/." "$work/base/"
  mv "$work/base/gitignore" "$work/base/.gitignore"
  rm -rf "$work/base/clusters/metal" "$work/base/environments/metal"
  printf 'environments:\n' > "$work/base/sealstrap.yaml"
  for i in $(seq 1 "$n"); do
    e=$(printf 'env%04d' "$i")
    cp -r "$work/base/clusters/ai-dev" "$work/base/clusters/$e"
    mkdir -p "$work/base/environments/$e"
    cp "$work/base/environments/ai-dev/config.yaml" "$work/base/environments/$e/config.yaml"
    sed -i "s|clusters/ai-dev|clusters/$e|g; s|ai-dev-|$e-|g" "$work/base/clusters/$e/bootstrap/catalog.yaml"
    cp "$work/certs/$e.crt" "$work/base/clusters/$e/controller.crt"
    printf '  %s: {cert: clusters/%s/controller.crt}\n' "$e" "$e" >> "$work/base/sealstrap.yaml"
  done
  rm -rf "$work/base/clusters/ai-dev" "$work/base/environments/ai-dev"
  (cd "$work/base" && git init -q && git add -A && git -c user.email=b@e -c user.name=b commit -qm base)
}

# One timed run from a fresh copy of the fleet: prints "wall user sys maxrss_kib". A binary that
# pins certificates (`--accept-cert`) is told to accept every environment's: the fixture's are
# new to it, as on a first bring-up.
once() {  # $1: binary, then the seal arguments
  local bin=$1; shift
  local accept=()
  if "$bin" seal --help 2>/dev/null | grep -q -- '--accept-cert'; then
    accept=(--accept-cert "$(cd "$work/base/clusters" && ls -d env* | paste -sd, -)")
  fi
  rm -rf "$work/run" && cp -r "$work/base" "$work/run"
  (cd "$work/run" && /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$bin" seal "$@" "${accept[@]}" --gitops argocd --bcrypt-cost 10 >/dev/null 2>"$work/err") || {
    echo "failed: $bin seal $*" >&2; tail -5 "$work/err" >&2; exit 1; }
  cat "$work/time"
}
median_run() {  # $1: runs, then once's arguments; prints the line of the median wall time
  local n=$1; shift
  for _ in $(seq 1 "$n"); do once "$@"; done | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'
}

echo "# seal --all-envs on a fleet ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-6s %-24s %9s %10s %12s %9s %6s %10s\n' envs binary wall "per env" "single env" "fleet/1" CPU "peak RSS"
for n in $sizes; do
  grow "$n"
  r=$runs; [ "$n" -gt 100 ] && r=1
  for bin in "${bins[@]}"; do
    # target/release/sealstrap -> target/release; a copy named for what it is -> that name.
    name="$(basename "$bin")"
    [ "$name" != sealstrap ] || name="$(basename "$(dirname "$(dirname "$bin")")")/$(basename "$(dirname "$bin")")"
    single=$(median_run "$runs" "$bin" --env env0001)
    fleet=$(median_run "$r" "$bin" --all-envs)
    read -r sw _ _ _ <<<"$single"
    read -r w u s m <<<"$fleet"
    printf '%-6s %-24s %7.2f s %8.3f s %10.3f s %8.2f× %6.2f %6.0f MiB\n' "$n" "$name" "$w" \
      "$(echo "$w / $n" | bc -l)" "$sw" "$(echo "$w / $n / $sw" | bc -l)" \
      "$(echo "($u + $s) / $w" | bc -l)" "$(echo "$m / 1024" | bc -l)"
  done
done
# The fleet run wrote what the single runs would: every environment's folder.
(cd "$work/run" && test "$(ls -d clusters/env*/secret-source | wc -l)" -eq "$(echo "$sizes" | awk '{print $NF}')")
