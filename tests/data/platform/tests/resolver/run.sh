#!/bin/sh
# The resolver renders the golden stores, and leaves a store of the operator's own alone.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$root/scripts/resolve-secret-store.sh" gcp "$work/gcp.yaml" >/dev/null
diff -u "$root/tests/resolver/golden/clustersecretstore-gcpsm.yaml" "$work/gcp.yaml"
"$root/scripts/resolve-secret-store.sh" metal "$work/metal.yaml" >/dev/null
diff -u "$root/tests/resolver/golden/clustersecretstore-placeholder.yaml" "$work/metal.yaml"
printf 'kind: ClusterSecretStore\nspec:\n  provider:\n    vault: {}\n' > "$work/own.yaml"
cp "$work/own.yaml" "$work/own.before"
"$root/scripts/resolve-secret-store.sh" metal "$work/own.yaml" >/dev/null
cmp -s "$work/own.yaml" "$work/own.before" || { echo "resolver: an own store was rewritten" >&2; exit 1; }
echo "resolver: ok"
