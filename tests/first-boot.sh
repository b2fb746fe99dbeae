#!/usr/bin/env bash
# Cross-check of `sealstrap key export` (issue 27) with each bootstrap's own checker, outside
# `cargo test` because they need outside tools:
# - cloud-init's own `cloud-init schema --config-file` (Debian package cloud-init) on the three
#   cloud-config exports (k3s, RKE2, kubeadm);
# - the shared strict validator on the plain manifests (k3s, k0s, kubectl) and on the Cluster API
#   resource-set Secret with its ClusterResourceSet (the upstream CRD in ../shared/conformance/crds);
# - Python's jsonschema (Draft 2020-12, from the validator's environment) on the Talos exports,
#   against the Talos schemas in ../shared/conformance/schemas (1.14 document, 1.13 patch), and
#   each refused by the other release's schema.
# Usage: tests/first-boot.sh BIN VALIDATOR
set -euo pipefail
bin="$1"
validator="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
schemas="${SEALSTRAP_TALOS_SCHEMAS:-$here/../shared/conformance/schemas}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
export SEALSTRAP_PASSPHRASE=first-boot-cross-check
# A key of its own, outside any repository (a passphrase escrow: no identity file needed).
(cd "$work" && "$bin" key new --passphrase --controller-namespace sealed-secrets --out "$work/ss" >/dev/null 2>&1)
escrow="$work/ss/controller-keys.age"
export_to() { "$bin" key export "$escrow" --controller-namespace sealed-secrets -o "$work/out/$1" "${@:2}" 2>/dev/null; }
export_to talos-1.14 --to talos
export_to talos-1.13 --to talos --talos-version 1.13
export_to k3s --to k3s
export_to k0s --to k0s
export_to kubectl --to kubectl
export_to capi --to capi --cluster-selector sealstrap.dev/environment=ci
for b in k3s rke2 kubeadm; do
  export_to "cloud-init-$b" --to cloud-init --for "$b"
  cloud-init schema --config-file "$work/out/cloud-init-$b/sealed-secrets-keys.cloud-config.yaml"
done
bash "$validator" "$work/out/k3s" "$work/out/k0s" "$work/out/kubectl" "$work/out/capi"
venv="${CONFORMANCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-conformance-venv}"
"$venv/bin/python" - "$schemas" "$work/out" <<'PY'
import json, sys, yaml, jsonschema
schemas, out = sys.argv[1], sys.argv[2]
def load(v):
    with open(f"{schemas}/talos-{v}.config.schema.json") as f:
        return jsonschema.Draft202012Validator(json.load(f))
v13, v14 = load("v1.13.9"), load("v1.14.0-rc.1")
for case, good, other in (("talos-1.14", v14, v13), ("talos-1.13", v13, v14)):
    with open(f"{out}/{case}/sealed-secrets-keys.talos.yaml") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    assert len(docs) == 1, case
    errors = list(good.iter_errors(docs[0]))
    assert not errors, f"{case}: {[e.message for e in errors]}"
    assert list(other.iter_errors(docs[0])), f"{case} passed the other release's schema"
    print(f"ok      {case}: valid against its Talos schema, refused by the other release's")
PY
# The manifests inside the Talos and cloud-init exports are strict-valid too.
"$venv/bin/python" - "$work/out" <<'PY'
import sys, yaml
out = sys.argv[1]
def inner(case, f, get):
    with open(f"{out}/{case}/{f}") as fh:
        doc = yaml.safe_load(fh)
    with open(f"{out}/{case}-inner.yaml", "w") as fh:
        fh.write(get(doc))
inner("talos-1.14", "sealed-secrets-keys.talos.yaml", lambda d: d["manifest"])
inner("talos-1.13", "sealed-secrets-keys.talos.yaml", lambda d: d["cluster"]["inlineManifests"][0]["contents"])
inner("cloud-init-k3s", "sealed-secrets-keys.cloud-config.yaml", lambda d: d["write_files"][0]["content"])
PY
bash "$validator" "$work/out/talos-1.14-inner.yaml" "$work/out/talos-1.13-inner.yaml" "$work/out/cloud-init-k3s-inner.yaml"
echo "ok: every key export passes its bootstrap's own checker"
