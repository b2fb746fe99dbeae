#!/usr/bin/env bash
# The pre-commit hooks (.pre-commit-hooks.yaml) with the real pre-commit (PyPI), as a user runs
# them: `pre-commit try-repo` on throwaway repositories. A planted plaintext Secret and a staged
# AWS key must fail the scan hook (`scan --staged`, never printing the key), an ExternalSecret
# without property must fail the patch-check hook, and a clean tree must pass both.
# Usage: tests/pre-commit.sh PATH/TO/sealstrap   (run by .ci/run)
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/sealstrap-pre-commit"
if ! "$venv/bin/pre-commit" --version >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'pre-commit>=3,<5'
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
ln -s "$bin" "$work/bin/sealstrap"
export PATH="$work/bin:$PATH" PRE_COMMIT_HOME="$work/cache"
hooks="$work/hooks"
# try-repo takes a git repository; use this checkout's hooks file as committed or not.
git clone -q "$root" "$hooks"
cp "$root/.pre-commit-hooks.yaml" "$hooks/"
git -C "$hooks" add -A
git -C "$hooks" -c user.email=ci@local -c user.name=ci commit -qm hooks --allow-empty

repo() {
  rm -rf "$work/r" && mkdir "$work/r" && cd "$work/r" && git init -q
}
try() {
  "$venv/bin/pre-commit" try-repo "$hooks" "$1" --all-files >"$work/out" 2>&1
}
passed=0
# An ExternalSecret reading vllm-api-key from the store, with the remoteRef given.
external_secret() {
  printf '%s\n' 'apiVersion: external-secrets.io/v1' 'kind: ExternalSecret' \
    'metadata: {name: vllm, namespace: serving}' 'spec:' \
    '  secretStoreRef: {kind: ClusterSecretStore, name: secret-store}' \
    '  target: {name: vllm}' '  data:' '    - secretKey: key' "      remoteRef: $1"
}

expect_fail() {
  if try "$1"; then cat "$work/out"; echo "pre-commit: $1 passed on $2" >&2; exit 1; fi
  grep -q "Failed" "$work/out" || { cat "$work/out"; exit 1; }
  echo "ok: $1 fails on $2"; passed=$((passed + 1))
}
expect_pass() {
  if ! try "$1"; then cat "$work/out"; echo "pre-commit: $1 failed on $2" >&2; exit 1; fi
  echo "ok: $1 passes on $2"; passed=$((passed + 1))
}

repo
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData:\n  password: hunter2-plaintext\n' > secret.yaml
git add -A
expect_fail sealstrap-scan-system "a planted plaintext Secret"

repo
# An AWS access key id made now (the documented shape: AKIA + 16 base32 characters).
key="AKIA$(head -c 10 /dev/urandom | base32)"
printf 'REGION=eu-west-1\nAWS_ACCESS_KEY_ID=%s\n' "$key" > .env
git add -A
expect_fail sealstrap-scan-system "a staged AWS access key"
if grep -q "$key" "$work/out"; then echo "pre-commit: the hook printed the key" >&2; exit 1; fi

repo
external_secret '{key: vllm-api-key}' > es.yaml
git add -A
expect_fail sealstrap-patch-check-system "an ExternalSecret without property"

repo
external_secret '{key: vllm-api-key, property: value}' > es.yaml
printf '# notes\nnothing secret here\n' > README.md
git add -A
expect_pass sealstrap-scan-system "a clean tree"
expect_pass sealstrap-patch-check-system "a clean tree"
echo "pre-commit hooks: $passed passed, 0 failed"
