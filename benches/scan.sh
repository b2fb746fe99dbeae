#!/usr/bin/env bash
# `sealstrap scan` throughput, whole process (listing through git, reading, matching, report):
#   1. the platform fixture (tests/data/platform, as a git work tree);
#   2. a synthetic tree of 10,000 files: the real-world shapes of tests/data/scan-corpus/negatives
#      and tests/data/scan-shapes copied round-robin into 100 folders (YAML, JSON, .env, shell,
#      Python, HCL, properties, Markdown, kubeconfig, docker config, lock files);
#   3. `scan --history` over 1,000 commits (made with git fast-import: each commit changes 5 of 200
#      files and each change is new, so 5,000 distinct blobs).
# Each on every core and with `--jobs 1`; each figure is the median of 5 runs. Files/s and MB/s
# count what was read (for the history: blobs and their bytes); commits/s counts commits walked.
# The load average is printed: on a shared machine, other work takes the cores the runs share.
# Usage: benches/scan.sh [SEALSTRAP_BINARY]   (default: target/release/sealstrap, built by
#        `cargo build --release` or `cargo build --profile bench`)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$(cd "$(dirname "${1:-$root/target/release/sealstrap}")" && pwd)/$(basename "${1:-sealstrap}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Seconds of one `sealstrap scan ARGS` in $1 (exit 0 or 1: findings do not stop the bench).
timed() {
  local dir="$1"; shift
  local t0 t1 rc=0
  t0=$(date +%s%N)
  (cd "$dir" && "$bin" scan "$@" >/dev/null 2>&1) || rc=$?
  t1=$(date +%s%N)
  if [ "$rc" -gt 1 ]; then echo "sealstrap scan $* failed in $dir (exit $rc)" >&2; exit 1; fi
  echo "scale=4; ($t1 - $t0) / 1000000000" | bc
}
run5() { for _ in 1 2 3 4 5; do timed "$@"; done | median; }
row() {   # name files bytes seconds [commits]
  local rate mb per
  rate=$(echo "scale=0; $2 / $4" | bc)
  mb=$(echo "scale=6; $3 / ($4 * 1048576)" | bc)
  per="-"
  [ -n "${5:-}" ] && per=$(echo "scale=0; $5 / $4" | bc)
  printf '%-44s %7s %9s %8.3f %9s %7.1f %9s\n' "$1" "$2" "$3" "$4" "$rate" "$mb" "$per"
}
bytes_of() { (cd "$1" && git ls-files -z | xargs -0 cat | wc -c); }

# 1. The platform fixture.
mkdir -p "$work/platform"
cp -r "$root/tests/data/platform/." "$work/platform/"
mv "$work/platform/gitignore" "$work/platform/.gitignore"
(cd "$work/platform" && git init -q && git add -A)
pf_files=$(cd "$work/platform" && git ls-files | wc -l)
pf_bytes=$(bytes_of "$work/platform")

# 2. 10,000 files of real-world shapes.
mkdir -p "$work/tree"
mapfile -t shapes < <(cd "$root/tests/data" && find scan-corpus/negatives scan-shapes -type f | sort)
for d in $(seq -w 0 99); do mkdir -p "$work/tree/team$d"; done
i=0
while [ "$i" -lt 10000 ]; do
  src="${shapes[$((i % ${#shapes[@]}))]}"
  cp "$root/tests/data/$src" "$work/tree/team$(printf '%02d' $((i / 100)))/$i-$(basename "$src")"
  i=$((i + 1))
done
(cd "$work/tree" && git init -q && git add -A)
tree_files=$(cd "$work/tree" && git ls-files | wc -l)
tree_bytes=$(bytes_of "$work/tree")

# 3. 1,000 commits, each changing 5 of 200 files (fast-import: seconds, not minutes).
mkdir -p "$work/history"
(cd "$work/history" && git init -q)
{
  for c in $(seq 1 1000); do
    echo "commit refs/heads/main"
    echo "mark :$c"
    echo "committer bench <bench@example.invalid> $((1700000000 + c)) +0000"
    msg="change $c"
    echo "data ${#msg}"
    echo "$msg"
    [ "$c" -gt 1 ] && echo "from :$((c - 1))"
    for k in 0 1 2 3 4; do
      f=$(( (c * 5 + k) % 200 ))
      src="${shapes[$((f % ${#shapes[@]}))]}"
      body="$(cat "$root/tests/data/$src")
# revision $c"
      echo "M 100644 inline apps/app$((f / 20))/$f-$(basename "$src")"
      echo "data $(printf '%s\n' "$body" | wc -c)"
      printf '%s\n' "$body"
    done
  done
} | (cd "$work/history" && git fast-import --quiet && git checkout -q main)
hist_commits=$(cd "$work/history" && git rev-list --count --all)
hist_blobs=$(cd "$work/history" && git rev-list --objects --filter=object:type=blob --all | awk 'NF == 2' | wc -l)
hist_bytes=$(cd "$work/history" && git rev-list --objects --filter=object:type=blob --all | awk 'NF == 2 {print $1}' \
  | git cat-file --batch-check='%(objectsize)' | awk '{s += $1} END {print s}')

echo "sealstrap scan, $(nproc) core(s), load average $(cut -d' ' -f1-3 /proc/loadavg), median of 5 runs ($("$bin" --version))"
printf '%-44s %7s %9s %8s %9s %7s %9s\n' "case" "files" "bytes" "seconds" "files/s" "MB/s" "commits/s"
row "platform fixture (every core)" "$pf_files" "$pf_bytes" "$(run5 "$work/platform")"
row "platform fixture (--jobs 1)" "$pf_files" "$pf_bytes" "$(run5 "$work/platform" --jobs 1)"
row "10,000-file tree (every core)" "$tree_files" "$tree_bytes" "$(run5 "$work/tree")"
row "10,000-file tree (--jobs 1)" "$tree_files" "$tree_bytes" "$(run5 "$work/tree" --jobs 1)"
row "--history, $hist_commits commits (every core)" "$hist_blobs" "$hist_bytes" "$(run5 "$work/history" --history)" "$hist_commits"
row "--history, $hist_commits commits (--jobs 1)" "$hist_blobs" "$hist_bytes" "$(run5 "$work/history" --history --jobs 1)" "$hist_commits"
