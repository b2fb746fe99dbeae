#!/bin/sh
# The platform's store resolver (abridged): renders platform/external-secrets/config/
# clustersecretstore.yaml for the environment's secret_backend. gcpsm (or no secret_backend):
# the Google Secret Manager store; any other backend: a placeholder to fill in. A file holding
# neither the placeholder text nor a gcpsm provider is someone's own store and is left alone.
# Usage: scripts/resolve-secret-store.sh ENV [STORE_FILE]
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
env="$1"
store="${2:-$root/platform/external-secrets/config/clustersecretstore.yaml}"
cfg="$root/environments/$env/config.yaml"
backend="$(awk '
  /^secret_backend:/ { v = $2; if (v == "" || v ~ /^#/) { getline; v = $1 } print v; exit }
' "$cfg")"
[ -n "$backend" ] || backend=gcpsm
if [ -f "$store" ] && ! grep -q 'replace with your provider' "$store" && ! grep -q 'gcpsm:' "$store"; then
  echo "resolve-secret-store: $store is your own store; left alone"
  exit 0
fi
if [ "$backend" = gcpsm ]; then
  cat > "$store" <<YAML
# Rendered by \`make resolve-secret-store\` for secret_backend: gcpsm.
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: secret-store
spec:
  provider:
    gcpsm:
      projectID: $(awk '/^cluster_name:/ {print $2}' "$cfg")
YAML
else
  cat > "$store" <<YAML
# Rendered by \`make resolve-secret-store\` for secret_backend: $backend.
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: secret-store
spec:
  provider: {}   # <- replace with your provider; see https://external-secrets.io/latest/provider/
YAML
fi
