#!/usr/bin/env bash
# Interoperability of the key escrow with the Go reference age CLI (Debian package `age`):
#   1. an escrow made by `sealstrap key new` decrypts with `age -d` to a controller key List that
#      opens values sealed for the new certificate;
#   2. an escrow made by `age` (binary and armored) from a controller-style key List is read by
#      sealstrap (`key list`, `unseal`).
# Usage: tests/age-interop.sh PATH/TO/sealstrap        (run by .ci/run)
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v age >/dev/null || { echo "age-interop: the Go age CLI is missing (apt-get install age)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
umask 077
age-keygen -o id.txt 2>/dev/null
recipient="$(age-keygen -y id.txt)"

echo "-- sealstrap key new, then age -d"
"$bin" key new -r "$recipient" 2>/dev/null
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: interop-value}\n' \
  | "$bin" kubeseal --cert secret-source/controller.crt -o yaml > sealed.yaml
age -d -i id.txt -o list.yaml secret-source/controller-keys.age
grep -q '^kind: List$' list.yaml
grep -q 'sealedsecrets.bitnami.com/sealed-secrets-key: active' list.yaml
"$bin" unseal --check --private-key list.yaml sealed.yaml | grep -q '^app/db password OK$'
rm -f list.yaml
echo "ok: age decrypts sealstrap's escrow, and its key opens what was sealed for the certificate"

echo "-- age -r, then sealstrap reads it"
crt_b64="$(base64 -w0 < "$root/tests/data/vectors/keys/controller-4096.crt.pem")"
key_b64="$(base64 -w0 < "$root/tests/data/vectors/keys/controller-4096.key.pem")"
list="apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  type: kubernetes.io/tls
  metadata:
    name: sealed-secrets-keyabcde
    namespace: kube-system
    labels: {sealedsecrets.bitnami.com/sealed-secrets-key: active}
  data:
    tls.crt: $crt_b64
    tls.key: $key_b64"
printf '%s\n' "$list" | age -r "$recipient" -o go.age
printf '%s\n' "$list" | age -a -r "$recipient" -o go-armored.age
for f in go.age go-armored.age; do
  "$bin" key list -i id.txt "$f" | grep -q '^sha256:43a032dc.*<- seals$'
  "$bin" unseal --check --private-key "$f" -i id.txt "$root/tests/data/vectors/sealedsecrets/strict-opaque.yaml" >/dev/null
done
echo "ok: sealstrap reads age's escrows (binary and armored)"
if grep -rl 'PRIVATE KEY' . ; then echo "age-interop: plaintext key left on disk" >&2; exit 1; fi
echo "age interop: 2 passed, 0 failed"
