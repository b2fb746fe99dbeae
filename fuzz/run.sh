#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 600 s each), two at a time, seeded from
# the project's test data. Needs cargo-fuzz (cargo install cargo-fuzz); the stable toolchain is
# enough with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly -Z flags for the sanitizer).
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
# A crash is saved under fuzz/artifacts/<target>/; add it as a regression test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
secs="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cert_pem manifests unseal private_keys patch config scan)
export RUSTC_BOOTSTRAP=1

seed() {
  local t="$1" d="corpus/$1"
  mkdir -p "$d"
  case "$t" in
    cert_pem) cp ../tests/data/vectors/keys/*.crt.pem ../tests/data/certs/* "$d"/ ;;
    private_keys) cp ../tests/data/vectors/keys/*.key.pem "$d"/ ;;
    manifests) cp ../tests/data/secrets/* ../tests/data/vectors/sealedsecrets/*.yaml "$d"/ ;;
    unseal) python3 -c "
import json,base64,sys
items=json.load(open('../tests/data/vectors/items.json'))['items']
for i,it in enumerate(items):
    try: raw=base64.b64decode(it['ciphertext'])
    except Exception: continue
    open('$d/item%02d'%i,'wb').write(bytes([len(it['label'])])+it['label'].encode()+raw[:4096])
" ;;
    patch) find ../tests/data/externalsecrets -name '*.y*ml' -exec cp {} "$d"/ \; ;;
    config) printf 'features: {identity: true, n8n: false}\ndns: {automate: true, provider: cloudflare}\n' > "$d/c1.yaml" ;;
    scan) cp ../tests/data/vectors/keys/*.pem ../tests/data/externalsecrets/tree/*/*.yaml "$d"/ 2>/dev/null || true ;;
  esac
}

cargo fuzz build -O "${targets[@]/#/}" >/dev/null 2>&1 || cargo fuzz build -O
run_one() {
  local t="$1"
  seed "$t"
  local log="logs/$t.log"
  mkdir -p logs
  if cargo fuzz run -O "$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
    echo "$t: ok, $(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}') executions in ${secs}s"
  else
    echo "$t: FAILED, see fuzz/$log and fuzz/artifacts/$t/"
    return 1
  fi
}
status=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" & pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
