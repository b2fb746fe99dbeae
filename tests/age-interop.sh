#!/usr/bin/env bash
# Interoperability of the key escrow with the Go reference age CLI (Debian package `age`):
#   1. an escrow made by `sealstrap key new` decrypts with `age -d` to a controller key List that
#      opens values sealed for the new certificate;
#   2. an escrow made by `age` (binary and armored) from a controller-style key List is read by
#      sealstrap (`key list`, `unseal`);
#   3. the same both ways with SSH recipients (ssh-ed25519, ssh-rsa) and SSH identities, including
#      a passphrase-protected OpenSSH key.
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
echo "-- SSH recipients and identities, both ways"
ssh="$root/tests/data/ssh"
mkdir sshout
"$bin" key new --out sshout -R "$ssh/id_ed25519.pub" -r "$(cat "$ssh/id_rsa.pub")" -R "$ssh/id_ed25519_pass.pub" 2>/dev/null
grep -q '^ssh-ed25519 ' sshout/controller-keys.recipients
grep -q '^ssh-rsa ' sshout/controller-keys.recipients
for key in id_ed25519 id_rsa id_rsa_pem; do
  age -d -i "$ssh/$key" sshout/controller-keys.age | grep -q '^kind: List$'
  "$bin" key list -i "$ssh/$key" sshout/controller-keys.age | grep -q '<- seals$'
done
SEALSTRAP_SSH_PASSPHRASE=sealstrap-test "$bin" key list -i "$ssh/id_ed25519_pass" sshout/controller-keys.age | grep -q '<- seals$'
if SEALSTRAP_SSH_PASSPHRASE=wrong "$bin" key list -i "$ssh/id_ed25519_pass" sshout/controller-keys.age 2>err.txt; then
  echo "age-interop: a wrong SSH passphrase opened the escrow" >&2; exit 1
fi
grep -q 'passphrase does not open the SSH private key' err.txt
for key in id_ed25519 id_rsa; do
  printf '%s\n' "$list" | age -R "$ssh/$key.pub" -o "go-$key.age"
  "$bin" key list -i "$ssh/$key" "go-$key.age" | grep -q '^sha256:43a032dc.*<- seals$'
done
echo "ok: age and sealstrap open each other's escrows with SSH keys (ed25519, rsa, encrypted)"
if grep -rl 'PRIVATE KEY' . ; then echo "age-interop: plaintext key left on disk" >&2; exit 1; fi
echo "age interop: 3 passed, 0 failed"
