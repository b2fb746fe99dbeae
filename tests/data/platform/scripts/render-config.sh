#!/bin/sh
# Renders clusters/<env>/groups.yaml from environments/<env>/config.yaml for every environment
# with a clusters/<env>/ folder: the catalog groups its ApplicationSet switches on. Run by
# `make render-config`; CI checks that the committed files are what it renders.
# Usage: scripts/render-config.sh [OUT_ROOT]   (default: the repository itself)
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root}"
for cfg in "$root"/environments/*/config.yaml; do
  env="$(basename "$(dirname "$cfg")")"
  [ -d "$root/clusters/$env" ] || continue
  # `features:` booleans and `dns.automate`, from the config's two-space block layout.
  flag() {
    awk -v section="$1" -v key="$2" '
      /^[^ #]/ { in_section = ($0 ~ "^" section ":") }
      in_section && $1 == key ":" { v = $2; sub(/#.*/, "", v); print v; exit }
    ' "$cfg"
  }
  onoff() { if [ "$1" = true ]; then echo '"true"'; else echo '"false"'; fi; }
  mkdir -p "$out/clusters/$env"
  {
    echo "# Rendered by \`make render-config\` from environments/$env/config.yaml; do not edit."
    echo "- group: platform-core"
    echo "  enabled: \"true\""
    echo "- group: apps"
    echo "  enabled: \"true\""
    echo "- group: identity"
    echo "  enabled: $(onoff "$(flag features identity)")"
    echo "- group: n8n"
    echo "  enabled: $(onoff "$(flag features n8n)")"
    echo "- group: dns"
    echo "  enabled: $(onoff "$(flag dns automate)")"
  } > "$out/clusters/$env/groups.yaml"
done
