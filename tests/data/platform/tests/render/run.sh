#!/bin/sh
# render-config gives the golden files; the golden gcpsm store is what the resolver renders.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$root/scripts/render-config.sh" "$work"
for env in ai-dev metal; do
  diff -u "$root/tests/render/golden/$env-groups.yaml" "$work/clusters/$env/groups.yaml"
done
echo "render: ok"
