#!/usr/bin/env bash
# Whole-process throughput next to OpenSSL's RSA-4096 operations on the same machine, same run:
#   - `kubeseal` of a 2000-key Secret              per value vs openssl's public operation
#   - `unseal --check` of a 200-key SealedSecret   per value vs openssl's private operation
#   - `reseal` of a folder of 500 SealedSecrets    per value vs one private + one public op
#   - `key usage --path` over those 500 files      per value vs one private op
#   - `verify` of one bootstrap folder (bcrypt cost 10)
# `openssl speed` is one core; reseal, key usage and verify use every core, so their per-value
# figure can go below it. CPU is (user+sys)/wall of the same run: 2.0 is both cores busy.
# Usage: benches/whole-process.sh [SEALSTRAP_BINARY ...]   (default: target/release/sealstrap)
# Each figure is the median of 5 runs, the binaries taken in turn (its CPU from that run). Needs openssl(1), ssh-keygen(1)
# and GNU time (/usr/bin/time; Debian: apt install time). Prints a table; changes nothing outside
# a temporary folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$root/target/release/sealstrap")
keys="$root/tests/data/vectors/keys"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -x /usr/bin/time ] || { echo "benches/whole-process.sh needs GNU time (/usr/bin/time)" >&2; exit 2; }

# One timed run of "$@" (after "$prep", untimed): prints "wall cpu" (seconds, (user+sys)/wall).
prep=":"
once() {
  bash -c "$prep"
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  awk -v w="$(( t1 - t0 ))" '{ s = w / 1e9; printf "%.6f %.2f\n", s, ($1 + $2) / s }' "$work/cpu"
}
median() { sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }

echo "openssl speed rsa4096 (3 s per operation)..."
speed="$(openssl speed -seconds 3 rsa4096 2>/dev/null | awk '/^rsa 4096 bits/ {sub(/s$/, "", $4); sub(/s$/, "", $5); print $4, $5}')"
priv_s="$(echo "$speed" | awk '{print $1}')"   # seconds per private op (sign)
pub_s="$(echo "$speed" | awk '{print $2}')"    # seconds per public op (verify)

# Inputs, made with the first binary.
first="${bins[0]}"
{
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: big, namespace: bench}\nstringData:\n'
  for i in $(seq -w 0 1999); do printf '  k%s: value-%s-%s\n' "$i" "$i" "$RANDOM$RANDOM"; done
} > "$work/secret2000.yaml"
{
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s200, namespace: bench}\nstringData:\n'
  for i in $(seq -w 0 199); do printf '  k%s: value-%s\n' "$i" "$i"; done
} > "$work/secret200.yaml"
"$first" kubeseal --cert "$keys/controller-4096.crt.pem" -o yaml -f "$work/secret200.yaml" > "$work/sealed200.yaml"
mkdir -p "$work/folder500"
for i in $(seq -w 0 499); do
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s%s, namespace: bench}\nstringData: {value: v%s}\n---\n' "$i" "$i"
done | "$first" kubeseal --cert "$keys/controller-4096.crt.pem" -o yaml > "$work/all500.yaml"
awk -v dir="$work/folder500" '/^---$/ {n++} {print > (dir "/s" n ".yaml")}' "$work/all500.yaml"
rm -f "$work/folder500/s0.yaml"
[ "$(ls "$work/folder500" | wc -l)" -eq 500 ]
# An escrow holding one RSA-4096 key, locked to an ssh-ed25519 key, and 500 files sealed for it.
ssh-keygen -q -t ed25519 -N '' -f "$work/id" >/dev/null
"$first" key new --out "$work/escrowed" -r "$(cat "$work/id.pub")" >/dev/null 2>&1
mkdir -p "$work/usage500"
for i in $(seq -w 0 499); do
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s%s, namespace: bench}\nstringData: {value: v%s}\n---\n' "$i" "$i"
done | "$first" kubeseal --cert "$work/escrowed/controller.crt" -o yaml > "$work/usage500.yaml"
awk -v dir="$work/usage500" '/^---$/ {n++} {print > (dir "/s" n ".yaml")}' "$work/usage500.yaml"
rm -f "$work/usage500/s0.yaml"
# One bootstrap folder (the contract's values, the Dex hash at bcrypt cost 10).
(cd "$work" && "$first" seal --cert "$keys/controller-4096.crt.pem" --out boot --bcrypt-cost 10 >/dev/null 2>&1)
nboot=$(ls "$work/boot/sealed" | wc -l)

printf '\nOpenSSL RSA-4096, one core: public op %.1f µs, private op %.1f µs; %s cores, load %s\n\n' \
  "$(echo "$pub_s * 1000000" | bc -l)" "$(echo "$priv_s * 1000000" | bc -l)" "$(nproc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %-22s %10s %12s %10s %6s\n' operation binary wall "per value" "×openssl" CPU
row() {  # $1 operation, $2 binary name, $3 "wall cpu", $4 values, $5 openssl seconds per value
  local wall cpu
  read -r wall cpu <<<"$3"
  if [ "$4" -gt 0 ]; then
    printf '%-44s %-22s %8.3f s %9.1f µs %9.2f× %6s\n' "$1" "$2" "$wall" \
      "$(echo "$wall / $4 * 1000000" | bc -l)" "$(echo "$wall / $4 / $5" | bc -l)" "$cpu"
  else
    printf '%-44s %-22s %8.3f s %12s %10s %6s\n' "$1" "$2" "$wall" - - "$cpu"
  fi
}
# Each operation runs 5 times per binary, the binaries in turn (so a change in the machine's load
# hits them alike); the row shows the run with the median wall time.
measure() {  # $1 operation, $2 values, $3 openssl seconds per value, $4 prep, then the arguments
  local op="$1" n="$2" per="$3" b i
  prep="$4"; shift 4
  for i in 1 2 3 4 5; do
    for b in "${!bins[@]}"; do once "${bins[$b]}" "$@" >> "$work/m$b"; done
  done
  for b in "${!bins[@]}"; do
    row "$op" "$(basename "$(dirname "$(dirname "${bins[$b]}")")")/$(basename "$(dirname "${bins[$b]}")")" \
      "$(median < "$work/m$b")" "$n" "$per"
    rm -f "$work/m$b"
  done
}
measure "kubeseal, 2000 values" 2000 "$pub_s" ":" \
  kubeseal --cert "$keys/controller-4096.crt.pem" -f "$work/secret2000.yaml" -o yaml
measure "unseal --check, 200 values" 200 "$priv_s" ":" \
  unseal --check --private-key "$keys/controller-4096.key.pem" "$work/sealed200.yaml"
measure "reseal, 500 files (private + public op)" 500 "$(echo "$priv_s + $pub_s" | bc -l)" \
  "rm -rf '$work/r' && cp -r '$work/folder500' '$work/r'" \
  reseal --private-key "$keys/controller-4096.key.pem" --cert "$keys/other-4096.crt.pem" "$work/r"
measure "key usage --path, 500 files" 500 "$priv_s" ":" \
  key usage "$work/escrowed/controller-keys.age" -i "$work/id" --path "$work/usage500"
measure "verify, bootstrap folder ($nboot values)" 0 0 ":" \
  verify --private-key "$keys/controller-4096.key.pem" "$work/boot"
