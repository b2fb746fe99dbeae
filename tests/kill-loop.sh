#!/usr/bin/env bash
# 50 runs of `seal` / `reset-dex-admin` killed with SIGKILL at a random moment; after each, one
# plain `seal` must leave the folder complete: `verify` passes (every value, the Dex pair), the
# Dex copy equals the sealed password, no temporary file or journal is left, and no value that
# existed before the killed run changed (the Dex pair may move to the new pair, together).
# Usage: tests/kill-loop.sh PATH/TO/sealstrap [RUNS]      (run by .ci/run)
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
runs="${2:-50}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cert="$root/tests/data/vectors/keys/controller-2048.crt.pem"
key="$root/tests/data/vectors/keys/controller-2048.key.pem"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

values() {   # one line per sealed file: its hash (an unchanged file is an unchanged value)
  (cd "$1/secret-source/sealed" && sha256sum -- *.yaml)
}

killed=0
for i in $(seq 1 "$runs"); do
  dir="$work/r$i"
  mkdir -p "$dir" && git -C "$dir" init -q
  cmd=seal
  if (( i % 2 == 0 )); then
    (cd "$dir" && "$bin" seal --cert "$cert" --bcrypt-cost 10 >/dev/null 2>&1)
    cmd=reset-dex-admin
  fi
  before="$( [ -d "$dir/secret-source/sealed" ] && values "$dir" || true)"
  (cd "$dir" && exec "$bin" "$cmd" --cert "$cert" --bcrypt-cost 10 >/dev/null 2>&1) &
  pid=$!
  # A random moment within the run (most runs take 0.1-0.4 s here).
  sleep "0.$(printf '%03d' $(( RANDOM % 250 )))"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  (cd "$dir" && "$bin" seal --cert "$cert" --bcrypt-cost 10 >/dev/null 2>"$work/err") \
    || { cat "$work/err"; echo "run $i: the recovery run failed" >&2; exit 1; }
  "$bin" verify --private-key "$key" "$dir/secret-source" >/dev/null \
    || { echo "run $i ($cmd): verify failed" >&2; exit 1; }
  sealed_pw="$("$bin" unseal --private-key "$key" -o json "$dir/secret-source/sealed/dex-admin-password.yaml" \
    | sed -n 's/.*"value": "\(.*\)".*/\1/p' | base64 -d)"
  [ "$sealed_pw" = "$(cat "$dir/secrets/dex-admin-password")" ] \
    || { echo "run $i ($cmd): the Dex copy does not match the sealed password" >&2; exit 1; }
  left="$(find "$dir" -path "$dir/.git" -prune -o \( -name '.*.tmp' -o -name .sealstrap-journal \) -print)"
  # In a work tree the journal lives in .git.
  [ ! -e "$dir/.git/sealstrap-journal" ] || left="$left $dir/.git/sealstrap-journal"
  [ -z "$left" ] || { echo "run $i ($cmd): left behind: $left" >&2; exit 1; }
  after="$(values "$dir")"
  if [ -n "$before" ]; then
    changed="$(diff <(grep -v ' dex-admin-' <<<"$before") <(grep -v ' dex-admin-' <<<"$after") || true)"
    [ -z "$changed" ] || { echo "run $i ($cmd): values changed: $changed" >&2; exit 1; }
  fi
  rm -rf "$dir"
done
echo "kill loop: $runs passed, 0 failed ($killed runs were killed mid-way)"
