#!/bin/sh
# The fork tooling finds this repository's branch, and retargeting moves only branch revisions.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp -r "$root/." "$work/"
got="$("$work/scripts/fork.sh" branch)"
[ "$got" = main ] || { echo "fork: branch is '$got', not main" >&2; exit 1; }
"$work/scripts/fork.sh" retarget my-fork
[ "$("$work/scripts/fork.sh" branch)" = my-fork ] || { echo "fork: retarget failed" >&2; exit 1; }
if grep -rh --include='*.yaml' 'targetRevision:' "$work/clusters" | grep -q 'targetRevision: main$'; then
  echo "fork: a branch revision was left on main" >&2; exit 1
fi
# Chart versions stay as they were.
grep -rq --include='*.yaml' 'targetRevision: 2.6.0$' "$work/clusters" \
  || { echo "fork: a chart version was rewritten" >&2; exit 1; }
echo "fork: ok"
