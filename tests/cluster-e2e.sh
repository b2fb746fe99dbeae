#!/usr/bin/env bash
# End-to-end run of sealstrap's cluster commands against a real cluster, for people who have
# one. Not run in CI (CI has no container engine and no network beyond package registries).
#
# Needs: kind or k3d, kubectl, helm, network access to pull the charts and images, and a built
# sealstrap (cargo build --release). It creates a throwaway cluster named sealstrap-e2e and
# deletes it at the end (keep it with KEEP=1).
#
#   tests/cluster-e2e.sh            # kind
#   TOOL=k3d tests/cluster-e2e.sh   # k3d
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOOL="${TOOL:-kind}"
NAME=sealstrap-e2e
BIN="${SEALSTRAP:-$PWD/target/release/sealstrap}"
[ -x "$BIN" ] || cargo build --release
work="$(mktemp -d)"
trap 'cd /; [ "${KEEP:-}" = 1 ] || { case $TOOL in kind) kind delete cluster --name $NAME ;; k3d) k3d cluster delete $NAME ;; esac; }; rm -rf "$work"' EXIT

case "$TOOL" in
  kind) kind create cluster --name "$NAME" --wait 120s ;;
  k3d) k3d cluster create "$NAME" --wait ;;
  *) echo "TOOL must be kind or k3d" >&2; exit 2 ;;
esac

echo "== controllers"
helm repo add sealed-secrets https://bitnami-labs.github.io/sealed-secrets >/dev/null
helm repo add external-secrets https://charts.external-secrets.io >/dev/null
helm repo update >/dev/null
# The chart's release name is its Service name; keep kubeseal's default so no flags are needed.
helm install sealed-secrets-controller sealed-secrets/sealed-secrets -n kube-system --wait
helm install external-secrets external-secrets/external-secrets -n external-secrets --create-namespace --wait

cd "$work"
git init -q .

echo "== cert fetch, seal --fetch-cert, apply"
"$BIN" cert fetch -o pub.pem
"$BIN" cert inspect pub.pem
"$BIN" seal --fetch-cert --without identity,n8n
"$BIN" apply --dry-run
"$BIN" apply

echo "== an ExternalSecret through the store"
kubectl create namespace litellm --dry-run=client -o yaml | kubectl apply -f -
cat > es.yaml <<'YAML'
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: litellm-secrets, namespace: litellm}
spec:
  refreshInterval: 10s
  secretStoreRef: {kind: ClusterSecretStore, name: secret-store}
  target: {name: litellm-secrets}
  data:
  - secretKey: master
    remoteRef: {key: litellm-master-key}
YAML
"$BIN" patch-externalsecrets es.yaml
kubectl apply -f es.yaml

echo "== doctor (retries while the controllers catch up)"
for i in $(seq 1 30); do
  if "$BIN" doctor; then break; fi
  [ "$i" = 30 ] && { echo "doctor still failing" >&2; exit 1; }
  sleep 5
done
test "$(kubectl get secret -n litellm litellm-secrets -o jsonpath='{.data.master}' | base64 -d | cut -c1-3)" = "sk-"

echo "== kubeseal mode against the controller"
kubectl create secret generic demo --from-literal=k=v --dry-run=client -o yaml | "$BIN" kubeseal -o yaml > demo.yaml
"$BIN" kubeseal --validate -f demo.yaml
"$BIN" kubeseal --re-encrypt -f demo.yaml -o yaml > demo2.yaml
echo "e2e OK"
