#!/usr/bin/env bash
# Whole-process timings next to OpenSSL's RSA-4096 operations on the same machine, same run:
#   - `sealstrap kubeseal` on a 2000-key Secret        vs  openssl's public operation per value
#   - `sealstrap unseal --check` of a 200-key SealedSecret  vs  openssl's private operation per value
#   - `sealstrap reseal` of a folder of 500 SealedSecrets
# Usage: benches/whole-process.sh [SEALSTRAP_BINARY ...]   (default: target/release/sealstrap)
# Each figure is the median of 5 runs. Needs openssl(1). Prints a table; changes nothing outside a
# temporary folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$root/target/release/sealstrap")
keys="$root/tests/data/vectors/keys"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Runs "$@" 5 times; prints the median wall time in seconds.
timeit() {
  for _ in 1 2 3 4 5; do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo "scale=6; ($t1 - $t0) / 1000000000" | bc
  done | median
}

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

printf '\nOpenSSL RSA-4096: public op %.1f µs, private op %.1f µs\n\n' \
  "$(echo "$pub_s * 1000000" | bc -l)" "$(echo "$priv_s * 1000000" | bc -l)"
printf '%-40s %12s %14s %10s %14s %10s %12s\n' binary "kubeseal 2000" "per value" "×openssl" "unseal 200" "×openssl" "reseal 500"
for bin in "${bins[@]}"; do
  ks=$(timeit "$bin" kubeseal --cert "$keys/controller-4096.crt.pem" -f "$work/secret2000.yaml" -o yaml)
  un=$(timeit "$bin" unseal --check --private-key "$keys/controller-4096.key.pem" "$work/sealed200.yaml")
  rs=$(timeit bash -c "rm -rf '$work/r' && cp -r '$work/folder500' '$work/r' && '$bin' reseal --private-key '$keys/controller-4096.key.pem' --cert '$keys/other-4096.crt.pem' '$work/r'")
  cp0=$(timeit bash -c "rm -rf '$work/r' && cp -r '$work/folder500' '$work/r'")
  rs=$(echo "$rs - $cp0" | bc -l)
  printf '%-40s %10.3f s %11.1f µs %9.2f× %12.3f s %9.2f× %10.3f s\n' \
    "$(basename "$(dirname "$(dirname "$bin")")")/$(basename "$(dirname "$bin")")" \
    "$ks" "$(echo "$ks / 2000 * 1000000" | bc -l)" "$(echo "$ks / 2000 / $pub_s" | bc -l)" \
    "$un" "$(echo "$un / 200 / $priv_s" | bc -l)" "$rs"
done
