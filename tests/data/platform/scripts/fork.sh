#!/bin/sh
# The platform's fork tooling (abridged): the branch a fork deploys from is the first
# targetRevision under clusters/ that is not a version number (chart versions such as 2.6.0 are
# numbers; a quoted one is not read as a number, which is why chart versions are unquoted).
#   scripts/fork.sh branch          prints it
#   scripts/fork.sh retarget NEW    rewrites every targetRevision equal to it to NEW
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
branch() {
  grep -rh --include='*.yaml' 'targetRevision:' "$root/clusters" \
    | sed 's/.*targetRevision:[[:space:]]*//; s/[[:space:]]*#.*//; s/[[:space:]]*$//' \
    | grep -v '^[0-9][0-9.]*$' | head -n 1
}
case "${1:-}" in
  branch) branch ;;
  retarget)
    old="$(branch)"; new="$2"
    grep -rl --include='*.yaml' "targetRevision: $old\$" "$root/clusters" \
      | while read -r f; do sed -i "s|targetRevision: $old\$|targetRevision: $new|" "$f"; done
    ;;
  *) echo "usage: $0 branch | retarget NEW" >&2; exit 2 ;;
esac
