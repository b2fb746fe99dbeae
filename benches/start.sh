#!/usr/bin/env bash
# Whole-process start-up: what a script pays per call, each binary given measured in the same
# hyperfine run (so a before/after comparison shares the machine's load):
#   - `kubeseal --version`                      (start and exit: the binary's floor)
#   - `kubeseal --cert C -o yaml` of a 3-key Secret   (first random number, 3 RSA-4096 public ops)
#   - `unseal --check` of that SealedSecret     (3 RSA-4096 private ops)
#   - `key new` (RSA-4096 key, certificate, age escrow to one recipient)   with --keygen
# /bin/true is the machine's floor for starting any process.
# Usage: benches/start.sh [--keygen] [SEALSTRAP_BINARY ...]   (default: target/release/sealstrap)
# Needs hyperfine (Debian/Ubuntu: apt install hyperfine; brew install hyperfine) and jq. Prints
# one table per case: median, mean ± σ, min and max wall time and the mean user and system CPU
# time; on a shared machine the median and the minimum say more than the mean. Changes nothing
# outside a temporary folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keygen=false
if [ "${1:-}" = --keygen ]; then keygen=true; shift; fi
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$root/target/release/sealstrap")
for tool in hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "benches/start.sh needs $tool" >&2; exit 2; }
done
keys="$root/tests/data/vectors/keys"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Copies under short names, so the tables read `before`, `after`, or the folder they came from.
names=()
for b in "${bins[@]}"; do
  n="$(basename "$(dirname "$(dirname "$b")")")-$(basename "$(dirname "$b")")"
  [ -e "$work/$n" ] && n="$n-${#names[@]}"
  cp "$b" "$work/$n"
  names+=("$n")
done

printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s3, namespace: bench}\nstringData:\n  a: one\n  b: two\n  c: three\n' \
  > "$work/secret3.yaml"
"$work/${names[0]}" kubeseal --cert "$keys/controller-4096.crt.pem" -o yaml -f "$work/secret3.yaml" \
  > "$work/sealed3.yaml"

# Prints hyperfine's JSON export ($1) as a table, times in ms ($2: ms or s).
show() {
  local unit="${2:-ms}" f=1000
  [ "$unit" = s ] && f=1
  printf '| binary | median [%s] | mean ± σ [%s] | min [%s] | max [%s] | user [%s] | system [%s] |\n' \
    "$unit" "$unit" "$unit" "$unit" "$unit" "$unit"
  printf '|:---|---:|---:|---:|---:|---:|---:|\n'
  jq -r --argjson f "$f" '.results[] | "| `\(.command)` | \(.median*$f*100|round/100) | \(.mean*$f*100|round/100) ± \(.stddev*$f*100|round/100) | \(.min*$f*100|round/100) | \(.max*$f*100|round/100) | \(.user*$f*100|round/100) | \(.system*$f*100|round/100) |"' "$1"
}

# One table: $1 title, $2 runs, then the command after the binary.
table() {
  local title="$1" runs="$2"; shift 2
  local args=() n
  for n in "${names[@]}"; do
    args+=(-n "$n" "$work/$n $*")
  done
  echo
  echo "## $title"
  hyperfine -N --style none --warmup 5 --runs "$runs" --export-json "$work/t.json" \
    "${args[@]}" >/dev/null 2>&1
  show "$work/t.json"
}

echo "# Whole-process start ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), hyperfine $(hyperfine --version | cut -d' ' -f2))"
echo
echo "## /bin/true (the floor for any process here)"
hyperfine -N --style none --warmup 5 --runs 200 --export-json "$work/t.json" /bin/true >/dev/null 2>&1
show "$work/t.json"
table "kubeseal --version" 200 kubeseal --version
table "kubeseal: seal a 3-key Secret for an RSA-4096 certificate" 200 \
  kubeseal --cert "$keys/controller-4096.crt.pem" -o yaml -f "$work/secret3.yaml"
table "unseal --check: open the 3 values with the RSA-4096 key" 100 \
  unseal --check --private-key "$keys/controller-4096.key.pem" "$work/sealed3.yaml"

if $keygen; then
  # An ssh-ed25519 recipient locks the escrow (any age recipient would; ssh-keygen makes one
  # without age installed).
  ssh-keygen -q -t ed25519 -N '' -f "$work/id" >/dev/null
  recipient="$(cat "$work/id.pub")"
  args=()
  for n in "${names[@]}"; do
    args+=(-n "$n" "$work/$n key new --out $work/k-$n -r '$recipient'")
  done
  echo
  echo "## key new: an RSA-4096 key, its certificate and the age escrow (random: 30 runs)"
  # Each run starts from no escrow (a growing escrow would make later runs slower).
  prepare="rm -rf"
  for n in "${names[@]}"; do prepare="$prepare $work/k-$n"; done
  hyperfine --style none --warmup 1 --runs 30 --prepare "$prepare" \
    --export-json "$work/t.json" "${args[@]}" >/dev/null 2>&1
  show "$work/t.json" s
fi
