//! The README's fleet bring-up on the platform fixture (what CI runs: two environments, the
//! fork's key shared, the Argo CD wiring, the ExternalSecrets patched) gives the same tree as the
//! recorded snapshot, file by file and byte for byte once each sealed value (random by design) is
//! masked. The snapshot was recorded with the binary before the seal command was restructured,
//! so a restructuring that changes any output fails here; a deliberate change updates the
//! snapshot in the same commit (`SEALSTRAP_UPDATE_SNAPSHOTS=1 cargo test --test cli
//! bringup_snapshot`), where review sees it.

use std::path::Path;

use crate::common::snapshot::assert_snapshot;
use crate::common::*;

/// Every file of the tree but `.git` and the plaintext Dex copies, in path order: `== PATH`
/// then its text with the sealed values masked.
fn tree_text(root: &Path) -> String {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel == ".git" || rel == "secrets" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, root, &mut files);
    files.sort();
    let mut text = String::new();
    for f in files {
        let body = std::fs::read(root.join(&f)).unwrap();
        text.push_str(&format!(
            "== {f}\n{}\n",
            mask_sealed(&String::from_utf8_lossy(&body))
        ));
    }
    text
}

#[test]
fn the_fleet_bring_up_writes_the_recorded_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_tree(&data("platform"), root);
    std::fs::rename(root.join("gitignore"), root.join(".gitignore")).unwrap();
    std::fs::copy(
        data("vectors/keys/controller-2048.crt.pem"),
        root.join("clusters/ai-dev/controller.crt"),
    )
    .unwrap();
    std::fs::copy(
        data("vectors/keys/controller-4096.crt.pem"),
        root.join("clusters/metal/controller.crt"),
    )
    .unwrap();
    std::fs::write(
        root.join("sealstrap.yaml"),
        "extra:\n  example-token: {generate: hex32}\nenvironments:\n  ai-dev: {cert: clusters/ai-dev/controller.crt}\n  metal: {cert: clusters/metal/controller.crt}\nvalues:\n  example-token: shared\n",
    )
    .unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "platform"]);
    let cf = "c".repeat(40);
    let anthropic = format!("sk-ant-api03-{}", "a".repeat(40));
    let env = [
        ("CLOUDFLARE_API_TOKEN", cf.as_str()),
        ("ANTHROPIC_API_KEY", anthropic.as_str()),
    ];
    let o = run_in(
        root,
        &[
            "seal",
            "--all-envs",
            "--require-complete",
            "--gitops",
            "argocd",
            // The certificates were copied in (not made by `key new`, which pins them): the
            // operator accepts them once, and the pins go to sealstrap.yaml for review.
            "--accept-cert",
            "ai-dev,metal",
        ],
        b"",
        &env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stderr(&o);
    let o = run_in(root, &["patch-externalsecrets"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));

    assert_snapshot("bringup/tree", &tree_text(root));
    // What the operator reads: the fleet summary (sealed values never appear in it).
    assert_snapshot(
        "bringup/summary",
        &crate::common::snapshot::normalize(&summary, &[(root, "[ROOT]")]),
    );
}
