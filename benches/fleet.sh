#!/usr/bin/env bash
# The time to seal a 10-environment fleet with one `seal --all-envs`, next to 10 single runs
# (`seal --env envNN`, one after the other), on the platform fixture grown to 10 environments
# (each a copy of clusters/ai-dev with its own certificate). Each figure is the median of 5 runs
# from a fresh copy; bcrypt cost 10 (the Dex hash dominates otherwise).
# Usage: benches/fleet.sh [SEALSTRAP_BINARY]   (default: target/release/sealstrap)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/target/release/sealstrap}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
envs=$(seq -f 'env%02g' 1 10)

# The fleet: ten environments, each sealing for its own certificate (two vector keys in turn).
mkdir -p "$work/base"
cp -r "$root/tests/data/platform/." "$work/base/"
mv "$work/base/gitignore" "$work/base/.gitignore"
rm -rf "$work/base/clusters/metal" "$work/base/environments/metal"
printf 'environments:\n' > "$work/base/sealstrap.yaml"
i=0
for e in $envs; do
  cp -r "$work/base/clusters/ai-dev" "$work/base/clusters/$e"
  mkdir -p "$work/base/environments/$e"
  cp "$work/base/environments/ai-dev/config.yaml" "$work/base/environments/$e/config.yaml"
  sed -i "s|clusters/ai-dev|clusters/$e|g; s|ai-dev-|$e-|g" "$work/base/clusters/$e/bootstrap/catalog.yaml"
  cert=controller-2048.crt.pem; [ $((i % 2)) -eq 1 ] && cert=controller-4096.crt.pem
  cp "$root/tests/data/vectors/keys/$cert" "$work/base/clusters/$e/controller.crt"
  printf '  %s: {cert: clusters/%s/controller.crt}\n' "$e" "$e" >> "$work/base/sealstrap.yaml"
  i=$((i + 1))
done
rm -rf "$work/base/clusters/ai-dev" "$work/base/environments/ai-dev"
(cd "$work/base" && git init -q && git add -A && git -c user.email=b@e -c user.name=b commit -qm base)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() {   # $1: fleet | single; prints seconds
  rm -rf "$work/run" && cp -r "$work/base" "$work/run"
  local t0 t1
  t0=$(date +%s%N)
  if [ "$1" = fleet ]; then
    (cd "$work/run" && "$bin" seal --all-envs --gitops argocd --bcrypt-cost 10 >/dev/null 2>&1)
  else
    for e in $envs; do
      (cd "$work/run" && "$bin" seal --env "$e" --gitops argocd --bcrypt-cost 10 >/dev/null 2>&1)
    done
  fi
  t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
fleet=$(for _ in 1 2 3 4 5; do run fleet; done | median)
single=$(for _ in 1 2 3 4 5; do run single; done | median)
# Both wrote the same files.
run fleet >/dev/null; (cd "$work/run" && git add -A && git status --porcelain | wc -l) > "$work/fleet.count"
run single >/dev/null; (cd "$work/run" && git add -A && git status --porcelain | wc -l) > "$work/single.count"
printf '%-42s %8s\n' "10 environments" "seconds"
printf '%-42s %8s\n' "seal --all-envs (one run, one transaction)" "$fleet"
printf '%-42s %8s\n' "10 x seal --env ENV" "$single"
echo "files written: fleet $(cat "$work/fleet.count"), single runs $(cat "$work/single.count")"
