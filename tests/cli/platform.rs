//! The README's bring-up on the platform, run as a user runs it, on a copy of a platform-shaped
//! tree (`tests/data/platform`, FACTS §12 / docs/format.md §10): seal (with the Argo CD wiring),
//! declare the fork's extra key, patch the ExternalSecrets, commit with `git add -A`, clone the
//! commit fresh, and check what a cluster would get from that clone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::*;
use sealstrap::{patch, yaml};

const CERT: &str = "vectors/keys/controller-2048.crt.pem";
const KEY: &str = "vectors/keys/controller-2048.key.pem";

/// Every file under `dir`, outside `.git`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_name() == ".git" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn is_yaml(f: &Path) -> bool {
    f.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// The platform checkout a user starts from: the fixture, its .gitignore, one commit.
fn platform() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&data("platform"), dir.path());
    // Kept as `gitignore` in this repository so its rules do not apply to sealstrap's own files.
    std::fs::rename(dir.path().join("gitignore"), dir.path().join(".gitignore")).unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "platform"]);
    dir
}

fn seal_in(cwd: &Path, extra: &[&str]) -> std::process::Output {
    let cert = data(CERT);
    let mut args = vec!["seal", "--cert", p(&cert), "--bcrypt-cost", "10"];
    args.extend_from_slice(extra);
    run_in(
        cwd,
        &args,
        b"",
        &[("CLOUDFLARE_API_TOKEN", &"c".repeat(40))],
    )
}

/// The platform's own offline checks (its Makefile's `test` target runs `tests/*/run.sh`), and
/// its config-render job: `make render-config` leaves no diff in git.
fn platform_checks(root: &Path) {
    for t in [
        "tests/fork/run.sh",
        "tests/render/run.sh",
        "tests/resolver/run.sh",
    ] {
        let o = std::process::Command::new("sh")
            .arg(t)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{t}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = std::process::Command::new("sh")
        .arg("scripts/render-config.sh")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let diff = std::process::Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--",
            "clusters/ai-dev/groups.yaml",
            "clusters/metal/groups.yaml",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&diff.stdout),
        "",
        "render-config changed files"
    );
}

/// Every value sealed under `out/sealed`, decrypted: key -> plaintext.
fn values(out: &Path) -> BTreeMap<String, String> {
    reference::open_folder(&out.join("sealed"), &reference::keys_from_file(&data(KEY)))
        .expect("every value opens")
}

#[test]
fn the_readme_bring_up_on_the_platform_gives_a_clone_a_cluster_can_use() {
    let repo = platform();
    let root = repo.path();
    let config = "environments/ai-dev/config.yaml";
    let out = root.join("clusters/ai-dev/secret-source");

    // 0. The platform's own checks pass before the bring-up.
    platform_checks(root);

    // 1. seal, with the Argo CD wiring. The fork's own key is read by an ExternalSecret but is
    //    in no contract yet: NEEDS VALUE with the file and line that read it.
    let o = seal_in(root, &["--config", config, "--gitops", "argocd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("NEEDS VALUE  example-token")
            && err.contains(
                "platform/example-app/externalsecret.yaml:15 (ExternalSecret example/example-app)"
            ),
        "{err}"
    );
    // identity is off in this config, yet every random value is sealed (LiteLLM and Grafana read
    // Dex client secrets whatever it says).
    assert!(
        err.contains("CREATED      dex-grafana-client-secret"),
        "{err}"
    );
    assert!(err.contains("add `secret_backend: kubernetes`"), "{err}");
    // dns is off in ai-dev (its groups.yaml): the Cloudflare token an ExternalSecret of it reads
    // is not needed, and the summary says why.
    assert!(
        err.contains("SKIPPED      cloudflare-api-token             not needed while dns is off (enabled: \"false\" in clusters/ai-dev/groups.yaml)"),
        "{err}"
    );
    // The resolver's golden files under tests/ are never deployed: never named as a conflict.
    assert!(!err.contains("tests/resolver/golden"), "{err}");
    assert!(
        err.contains(
            "platform/key-portal/values.yaml:13: Helm values externalSecret read litellm-master-key"
        ),
        "{err}"
    );
    // The store is at the platform's swap point, and not in secret-source.
    let store = std::fs::read_to_string(
        root.join("platform/external-secrets/config/clustersecretstore.yaml"),
    )
    .unwrap();
    assert!(store.contains("remoteNamespace: secret-source"), "{store}");
    assert!(!store.contains("replace with your provider") && !store.contains("gcpsm:"));
    assert!(
        !root
            .join("clusters/ai-dev/secret-source/cluster-secret-store.yaml")
            .exists()
    );
    // git would have dropped the Dex client secrets (`*-secret.yaml`): re-included, precisely.
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(
        gitignore
            .contains("\n!/clusters/ai-dev/secret-source/sealed/dex-argocd-client-secret.yaml\n"),
        "{gitignore}"
    );
    assert!(gitignore.starts_with("# platform .gitignore (abridged)\n.env\n*.pem\n"));

    // 2. Declare the fork's key (beside the pin the first run wrote); seal again makes only it.
    let pinned = std::fs::read_to_string(root.join("sealstrap.yaml")).unwrap();
    assert!(
        pinned.contains("pins:\n  ai-dev:\n    certificate: sha256:2e8a12cc"),
        "{pinned}"
    );
    std::fs::write(
        root.join("sealstrap.yaml"),
        format!("extra:\n  example-token: {{generate: hex32}}\n\n{pinned}"),
    )
    .unwrap();
    let o = seal_in(root, &["--config", config, "--gitops", "argocd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("CREATED      example-token"), "{err}");
    assert!(err.contains("wrote 2 file(s)"), "{err}"); // the value and the kustomization
    assert!(
        !err.contains("differs from what sealstrap renders"),
        "{err}"
    );
    assert!(!err.contains("NEEDS VALUE"), "{err}");

    // 3. Patch the ExternalSecrets; the template is skipped, the Helm values get their fix.
    let o = run_in(root, &["patch-externalsecrets"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("tenant-externalsecret.example.yaml: skipped: a template"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("remoteProperty: value"),
        "{}",
        stdout(&o)
    );
    // --check still fails: the key portal's chart renders its ExternalSecret from Helm values
    // that name no property. The operator sets the chart's value, as the report says.
    let o = run_in(root, &["patch-externalsecrets", "--check"], b"", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("1 consumer(s) of ClusterSecretStore secret-store read it without property"),
        "{}",
        stderr(&o)
    );
    let helm_values = root.join("platform/key-portal/values.yaml");
    let text = std::fs::read_to_string(&helm_values).unwrap();
    std::fs::write(
        &helm_values,
        text.replace(
            "  remoteKey: litellm-master-key\n",
            "  remoteKey: litellm-master-key\n  remoteProperty: value\n",
        ),
    )
    .unwrap();
    let o = run_in(root, &["patch-externalsecrets", "--check"], b"", &[]);
    assert!(
        o.status.success(),
        "--check after the patch: {}{}",
        stdout(&o),
        stderr(&o)
    );
    // scan passes on the tree (Terraform's lock file, the template and the golden files
    // included).
    let o = run_in(root, &["scan", "--cert", p(&data(CERT))], b"", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(out.join("sealed").is_dir());

    // 4. Running from a subfolder neither makes a second set nor touches the Dex copy.
    let copy = root.join("secrets/ai-dev/dex-admin-password");
    let copy_before = std::fs::read(&copy).unwrap();
    let sub = root.join("environments/ai-dev");
    let o = seal_in(&sub, &["--config", "config.yaml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("is up to date"), "{}", stderr(&o));
    assert!(!sub.join("secret-source").exists());
    assert!(!sub.join("secrets").exists());
    assert!(
        !root.join("secret-source").exists(),
        "no root folder in the per-environment layout"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), copy_before);

    // The platform's own checks still pass after the bring-up (render-config leaves no diff).
    platform_checks(root);

    // 5. Commit everything the way a user does, and clone that commit fresh.
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "bring-up"]);
    let clone_parent = tempfile::tempdir().unwrap();
    let clone = clone_parent.path().join("clone");
    let o = std::process::Command::new("git")
        .args(["clone", "-q", p(root), p(&clone)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Every kustomization builds: each resource it lists is in the clone.
    let all = files(&clone);
    let mut kustomizations = 0;
    for k in all.iter().filter(|f| f.ends_with("kustomization.yaml")) {
        kustomizations += 1;
        let docs = yaml::parse_documents(&std::fs::read_to_string(k).unwrap()).unwrap();
        for r in docs[0]["resources"].as_array().unwrap() {
            let r = r.as_str().unwrap();
            assert!(
                k.parent().unwrap().join(r).is_file(),
                "{}: {r} missing in the clone",
                k.display()
            );
        }
    }
    assert_eq!(
        kustomizations, 4,
        "secret-source's, the store's, dex's and litellm's"
    );
    // The output passes the validator.
    let clone_out = clone.join("clusters/ai-dev/secret-source");
    let (ok, report) = validate(&[
        clone_out.as_path(),
        clone.join("platform/external-secrets/config").as_path(),
    ]);
    assert!(ok, "{report}");

    // Exactly one ClusterSecretStore named secret-store outside the platform's own test golden
    // files (which are never deployed).
    let mut stores = 0;
    let mut read_keys = BTreeSet::new();
    for f in all
        .iter()
        .filter(|f| is_yaml(f) && !f.starts_with(clone.join("tests")))
    {
        let text = std::fs::read_to_string(f).unwrap();
        let Ok(docs) = yaml::parse_documents(&text) else {
            continue;
        };
        stores += docs
            .iter()
            .filter(|d| {
                d["kind"] == "ClusterSecretStore" && d["metadata"]["name"] == "secret-store"
            })
            .count();
        if f.to_string_lossy().ends_with(".example.yaml") {
            continue;
        }
        if let Ok(pt) = patch::patch_text(&text, &patch::Options::default()) {
            read_keys.extend(pt.refs.into_iter().map(|r| r.key));
        }
        read_keys.extend(
            patch::helm_refs(&text, "secret-store")
                .into_iter()
                .map(|h| h.key),
        );
    }
    assert_eq!(stores, 1);
    // Every key an ExternalSecret (or Helm values) reads is sealed in the clone, but the one only
    // a switched-off feature reads (dns: external-dns's Cloudflare token).
    let sealed = values(&clone_out);
    for k in &read_keys {
        assert!(
            sealed.contains_key(k) || k == "cloudflare-api-token",
            "{k} is read but not sealed in the clone"
        );
    }
    assert!(!sealed.contains_key("cloudflare-api-token"));
    assert_eq!(sealed.len(), 16, "15 random and the fork's key");
    // No value is in any committed file in plaintext, and the Dex copy is not committed.
    assert!(!clone.join("secrets").exists());
    for f in &all {
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for (k, v) in &sealed {
            assert!(
                !text.contains(v.as_str()),
                "{k}'s value is in {}",
                f.display()
            );
        }
    }
    // The Argo CD wiring: controller before secret-source before the store, chart allowed.
    let app = std::fs::read_to_string(
        clone.join("clusters/ai-dev/catalog/platform-core/sealed-secrets.yaml"),
    )
    .unwrap();
    assert!(
        app.contains("sync-wave: \"1\"")
            && app.contains("fullnameOverride: sealed-secrets-controller")
    );
    let src = std::fs::read_to_string(
        clone.join("clusters/ai-dev/catalog/platform-core/secret-source.yaml"),
    )
    .unwrap();
    assert!(
        src.contains("sync-wave: \"2\"") && src.contains("path: clusters/ai-dev/secret-source"),
        "{src}"
    );
    // Written as the platform writes its Applications: no `---`, the chart version unquoted.
    assert!(
        !app.contains("---") && app.contains("targetRevision: 2.18.5\n"),
        "{app}"
    );
    let project =
        std::fs::read_to_string(clone.join("clusters/ai-dev/projects/platform.yaml")).unwrap();
    assert!(
        project.contains("    - https://bitnami-labs.github.io/sealed-secrets\n"),
        "{project}"
    );

    // verify agrees, from the clone (where no Dex copy exists).
    let key = data(KEY);
    let o = run_in(
        &clone,
        &["verify", "--private-key", p(&key), "--config", config],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    // 6. A second run in the clone changes nothing (the Dex copy is not restored without a key:
    //    it says so), and the patch has nothing left to do.
    let o = seal_in(&clone, &["--config", config, "--gitops", "argocd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("is up to date"), "{}", stderr(&o));
    let o = run_in(&clone, &["patch-externalsecrets", "--check"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(&clone)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "",
        "the clone stays clean"
    );
}

#[test]
fn a_hand_written_store_is_kept_unless_forced_and_no_second_store_is_left() {
    let repo = platform();
    let root = repo.path();
    let swap = root.join("platform/external-secrets/config/clustersecretstore.yaml");
    let vault = "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: secret-store\nspec:\n  provider:\n    vault:\n      server: https://vault.example\n";
    std::fs::write(&swap, vault).unwrap();
    let before = files(root);
    let o = seal_in(root, &["--env", "ai-dev"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a hand-written store (provider vault)"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(files(root), before, "nothing written");
    // An older standalone run left a second store in secret-source: removed, and said.
    std::fs::create_dir_all(root.join("clusters/ai-dev/secret-source")).unwrap();
    std::fs::write(
        root.join("clusters/ai-dev/secret-source/cluster-secret-store.yaml"),
        vault,
    )
    .unwrap();
    let o = seal_in(root, &["--env", "ai-dev", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cluster-secret-store.yaml removed"),
        "{}",
        stderr(&o)
    );
    assert!(
        !root
            .join("secret-source/cluster-secret-store.yaml")
            .exists()
    );
    assert!(
        std::fs::read_to_string(&swap)
            .unwrap()
            .contains("kubernetes:")
    );
}

#[test]
fn rotate_names_the_trees_external_secrets() {
    let repo = platform();
    let root = repo.path();
    assert!(seal_in(root, &["--env", "metal"]).status.success());
    let cert = data(CERT);
    let o = run_in(
        root,
        &[
            "rotate",
            "--env",
            "metal",
            "--cert",
            p(&cert),
            "dex-argocd-client-secret",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    // identity is on in metal. ExternalSecret argocd-oidc writes Secret argocd-dex-oidc: the
    // ExternalSecret is named.
    assert!(
        err.contains("kubectl annotate externalsecret -n argocd argocd-oidc force-sync"),
        "{err}"
    );
    assert!(
        err.contains("kubectl annotate externalsecret -n dex dex-secrets force-sync"),
        "{err}"
    );
    assert!(!err.contains("argocd-secret"), "{err}");
}

#[test]
fn scan_reports_sealed_files_git_would_drop() {
    let repo = platform();
    let root = repo.path();
    assert!(seal_in(root, &["--env", "ai-dev"]).status.success());
    let clean = run_in(root, &["scan"], b"", &[]);
    assert!(
        !stdout(&clean).contains("ignored-by-git"),
        "{}",
        stdout(&clean)
    );
    // Without seal's re-include rules, `*-secret.yaml` drops seven sealed files.
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    let without: String = gitignore
        .lines()
        .filter(|l| !l.starts_with("!/"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(root.join(".gitignore"), without).unwrap();
    let o = run_in(root, &["scan"], b"", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out.matches(": ignored-by-git: a SealedSecret").count(),
        7,
        "{out}"
    );
    assert!(
        out.contains("clusters/ai-dev/secret-source/sealed/dex-argocd-client-secret.yaml:0: ignored-by-git: a SealedSecret that git ignores"),
        "{out}"
    );
    assert!(
        out.contains("`!/clusters/ai-dev/secret-source/sealed/dex-argocd-client-secret.yaml`"),
        "{out}"
    );
}

/// The tree read is the one of the output folder's repository, not the current folder's: a folder
/// in another repository verifies against its own ExternalSecrets.
#[test]
fn verify_reads_the_repository_of_the_folder_it_checks() {
    let here = platform(); // its ExternalSecrets read example-token, which nothing here seals
    let other = tempfile::tempdir().unwrap();
    git(other.path(), &["init", "-q"]);
    assert!(seal_in(other.path(), &[]).status.success());
    let key = data(KEY);
    let out = other.path().join("secret-source");
    let o = run_in(
        here.path(),
        &["verify", "--private-key", p(&key), p(&out)],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // In the platform itself, the unsealed key is a FAIL with where it is read.
    assert!(seal_in(here.path(), &["--env", "ai-dev"]).status.success());
    let o = run_in(
        here.path(),
        &["verify", "--env", "ai-dev", "--private-key", p(&key)],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("example-token FAIL: not a key of the contract, and platform/example-app/externalsecret.yaml:15 (ExternalSecret example/example-app) read it"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn the_config_variants_get_the_right_secret_backend_advice() {
    let repo = platform();
    let root = repo.path();
    let run = |config: &str| {
        let o = seal_in(root, &["--config", config, "--dry-run"]);
        assert!(o.status.success(), "{config}: {}", stderr(&o));
        stderr(&o)
    };
    assert!(run("environments/ai-dev/config.yaml").contains(
        "environments/ai-dev/config.yaml has no secret_backend, which the platform reads as gcpsm"
    ));
    assert!(run("environments/gcp/config.yaml").contains(
        "environments/gcp/config.yaml has secret_backend: gcpsm; set `secret_backend: kubernetes`"
    ));
    // `secret_backend:` with its value on the next line and a comment: read as kubernetes.
    let metal = run("environments/metal/config.yaml");
    assert!(
        !metal.contains("has no secret_backend") && !metal.contains("has secret_backend:"),
        "{metal}"
    );
    // egress on: the Anthropic key is needed, and nothing in the tree reads it yet.
    assert!(metal.contains("NEEDS VALUE  anthropic-api-key"), "{metal}");
    assert!(metal.contains("dry run: nothing written"), "{metal}");
}

#[test]
fn the_dex_copy_is_never_orphaned_and_always_ignored_alone() {
    // A second output folder in the same repository would make a new pair next to the existing
    // copy: refused, naming both.
    let repo = platform();
    let root = repo.path();
    assert!(seal_in(root, &["--env", "ai-dev"]).status.success());
    let copy = std::fs::read(root.join("secrets/ai-dev/dex-admin-password")).unwrap();
    let o = seal_in(
        root,
        &["--env", "ai-dev", "--out", "elsewhere/secret-source"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("elsewhere/secret-source has no Dex admin pair")
            && err.contains("secrets/ai-dev/dex-admin-password already holds a Dex admin password"),
        "{err}"
    );
    assert!(!root.join("elsewhere").exists(), "nothing written");
    assert_eq!(
        std::fs::read(root.join("secrets/ai-dev/dex-admin-password")).unwrap(),
        copy
    );

    // --secrets-dir . and --secrets-dir secret-source: the copy is ignored by an exact rule, and
    // the sealed output is not.
    for secrets_dir in [".", "secret-source"] {
        let repo = platform();
        let root = repo.path();
        let o = seal_in(root, &["--env", "ai-dev", "--secrets-dir", secrets_dir]);
        assert!(o.status.success(), "{secrets_dir}: {}", stderr(&o));
        git(root, &["add", "-A"]);
        let status = std::process::Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=all"])
            .current_dir(root)
            .output()
            .unwrap();
        let staged = String::from_utf8_lossy(&status.stdout).into_owned();
        assert!(
            !staged
                .lines()
                .any(|l| l.ends_with("/dex-admin-password") || l.ends_with(" dex-admin-password")),
            "{secrets_dir}: the plaintext copy would be committed: {staged}"
        );
        assert_eq!(
            staged
                .lines()
                .filter(|l| l.contains("secret-source/sealed/"))
                .count(),
            15,
            "{secrets_dir}: every sealed file (15 random; dns, and with it the Cloudflare token, is off) is committed: {staged}"
        );
    }
}

#[test]
fn resources_a_user_adds_to_the_kustomization_are_kept() {
    let repo = platform();
    let root = repo.path();
    assert!(seal_in(root, &["--env", "ai-dev"]).status.success());
    let k = root.join("clusters/ai-dev/secret-source/kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap();
    std::fs::write(
        root.join("clusters/ai-dev/secret-source/extra-configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: secret-source}\n",
    )
    .unwrap();
    std::fs::write(
        &k,
        text.replace("resources:\n", "resources:\n- extra-configmap.yaml\n"),
    )
    .unwrap();
    std::fs::remove_file(root.join("clusters/ai-dev/secret-source/sealed/vllm-api-key.yaml"))
        .unwrap();
    let o = seal_in(root, &["--env", "ai-dev"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("keeps your own resources: extra-configmap.yaml"),
        "{}",
        stderr(&o)
    );
    let after = std::fs::read_to_string(&k).unwrap();
    assert!(after.contains("- extra-configmap.yaml\n"), "{after}");
    assert!(after.contains("- sealed/vllm-api-key.yaml\n"), "{after}");
}

/// Issue 20: a hand edit of the generated controller Application (an air-gapped mirror, a sync
/// option) survives a re-run; --chart-repo sets the mirror in place and allows it in the
/// AppProject; an edit of a field the wiring needs is refused with a diff, and --force sets it.
#[test]
fn the_generated_application_keeps_the_users_edits() {
    let repo = platform();
    let root = repo.path();
    let gitops = ["--env", "ai-dev", "--gitops", "argocd"];
    assert!(seal_in(root, &gitops).status.success());
    let app = root.join("clusters/ai-dev/catalog/platform-core/sealed-secrets.yaml");
    let text = std::fs::read_to_string(&app).unwrap();
    let edited = text
        .replace(
            "repoURL: https://bitnami-labs.github.io/sealed-secrets",
            "repoURL: https://charts.mirror.internal/bitnami   # our mirror",
        )
        .replace(
            "syncOptions: [ServerSideApply=true]",
            "syncOptions: [ServerSideApply=true, PruneLast=true]",
        );
    assert_ne!(edited, text);
    std::fs::write(&app, &edited).unwrap();
    let o = seal_in(root, &gitops);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&app).unwrap(),
        edited,
        "the edits survive"
    );
    // The mirror is allowed in the AppProject.
    let project =
        std::fs::read_to_string(root.join("clusters/ai-dev/projects/platform.yaml")).unwrap();
    assert!(
        project.contains("- https://charts.mirror.internal/bitnami\n"),
        "{project}"
    );

    // --chart-repo and --chart-version: set in place (an OCI registry in the Helm-repository
    // form Argo CD resolves, with its repository Secret), kept by later runs.
    let mut args = gitops.to_vec();
    args.extend([
        "--chart-repo",
        "oci://registry.internal/charts",
        "--chart-version",
        "2.18.6",
    ]);
    let o = seal_in(root, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let now = std::fs::read_to_string(&app).unwrap();
    assert_eq!(
        now,
        edited
            .replace(
                "https://charts.mirror.internal/bitnami   # our mirror",
                "registry.internal/charts   # our mirror"
            )
            .replace("targetRevision: 2.18.5", "targetRevision: 2.18.6")
    );
    let secret = std::fs::read_to_string(
        root.join("clusters/ai-dev/catalog/platform-core/sealed-secrets-repository.yaml"),
    )
    .unwrap();
    assert!(
        secret.contains("url: registry.internal/charts\n")
            && secret.contains("enableOCI: \"true\""),
        "{secret}"
    );
    let o = seal_in(root, &gitops);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&app).unwrap(),
        now,
        "kept by a later run"
    );

    // Renaming the controller would break kubeseal's defaults: refused with a diff.
    let renamed = now.replace(
        "fullnameOverride: sealed-secrets-controller",
        "fullnameOverride: my-sealer",
    );
    std::fs::write(&app, &renamed).unwrap();
    let o = seal_in(root, &gitops);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("/spec/source/helm/valuesObject/fullnameOverride\n  - \"my-sealer\"\n  + \"sealed-secrets-controller\""),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&app).unwrap(),
        renamed,
        "nothing written"
    );
    let mut forced = gitops.to_vec();
    forced.push("--force");
    let o = seal_in(root, &forced);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&app).unwrap(), now);
}

/// Issue 20: a key read only by a switched-off feature is not needed (seal says why, verify
/// passes); switching the feature on (the platform's own render-config) makes it NEEDS VALUE.
#[test]
fn needed_means_deployed() {
    let repo = platform();
    let root = repo.path();
    let o = seal_in(root, &["--env", "ai-dev"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cloudflare-api-token             not needed while dns is off"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        root.join("sealstrap.yaml"),
        "extra:\n  example-token: {generate: hex32}\n",
    )
    .unwrap();
    assert!(seal_in(root, &["--env", "ai-dev"]).status.success());
    let key = data(KEY);
    let verify = || {
        run_in(
            root,
            &["verify", "--env", "ai-dev", "--private-key", p(&key)],
            b"",
            &[],
        )
    };
    let o = verify();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // dns on in the config, rendered as the platform renders it.
    let config = root.join("environments/ai-dev/config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("  automate: false", "  automate: true"),
    )
    .unwrap();
    let o = std::process::Command::new("sh")
        .arg("scripts/render-config.sh")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = run_in(
        root,
        &[
            "seal",
            "--env",
            "ai-dev",
            "--cert",
            p(&data(CERT)),
            "--dry-run",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("NEEDS VALUE  cloudflare-api-token"),
        "{}",
        stderr(&o)
    );
    let o = verify();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("cloudflare-api-token"),
        "{}",
        stdout(&o)
    );
}

/// Issue 20: the README's commands from a subfolder, with paths given relative to it: what you
/// give is read from the current folder, defaults from the repository root, and the summary
/// says which is which.
#[test]
fn the_bring_up_runs_from_a_subfolder_with_relative_paths() {
    let repo = platform();
    let root = repo.path();
    let sub = root.join("environments/ai-dev");
    std::fs::copy(data(CERT), root.join("pub.pem")).unwrap();
    let o = run_in(
        &sub,
        &[
            "seal",
            "--cert",
            "../../pub.pem",
            "--config",
            "config.yaml",
            "--gitops",
            "argocd",
            "--bcrypt-cost",
            "10",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let want = format!(
        "paths: out {} (default), certificate ../../pub.pem (given), config config.yaml (given), environment ai-dev (from --config)",
        root.join("clusters/ai-dev/secret-source").display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(root.join("clusters/ai-dev/secret-source/sealed").is_dir());
    assert!(!sub.join("clusters").exists() && !sub.join("secret-source").exists());
    // patch and scan from the subfolder work on the whole work tree.
    let o = run_in(&sub, &["patch-externalsecrets"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_in(&sub, &["scan"], b"", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("file(s) scanned"), "{}", stderr(&o));
    // key new from the subfolder writes into the environment's folder, and seal then finds its
    // certificate by default.
    let o = run_in(
        &sub,
        &["key", "new", "--env", "ai-dev", "--passphrase"],
        b"",
        &[("SEALSTRAP_PASSPHRASE", "correct horse battery staple")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        root.join("clusters/ai-dev/secret-source/controller.crt")
            .is_file()
    );
}

/// Issue 18: a repository that already keeps `secret-source/` at its root (the layout before
/// environments) keeps it for the environment whose Application deploys it, and seal says how
/// to move to the per-environment layout; the other environment gets its own folder.
#[test]
fn the_layout_before_environments_keeps_working() {
    let repo = platform();
    let root = repo.path();
    // Sealed before environments: the root folder, and ai-dev's Application pointing at it.
    let o = seal_in(
        root,
        &[
            "--env",
            "ai-dev",
            "--out",
            "secret-source",
            "--secrets-dir",
            "secrets",
            "--gitops",
            "argocd",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(root.join("secret-source/sealed").is_dir());
    let app = root.join("clusters/ai-dev/catalog/platform-core/secret-source.yaml");
    assert!(
        std::fs::read_to_string(&app)
            .unwrap()
            .contains("path: secret-source\n")
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "before environments"]);
    // Now without --out: ai-dev keeps the root folder, and is told how to move.
    let o = seal_in(root, &["--env", "ai-dev", "--secrets-dir", "secrets"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("is up to date"), "{err}");
    assert!(
        err.contains("secret-source at the repository root is environment ai-dev's (the layout before environments); kept. To give each environment its own folder: git mv secret-source clusters/ai-dev/secret-source"),
        "{err}"
    );
    assert!(!root.join("clusters/ai-dev/secret-source").exists());
    // metal, whose Application does not deploy it, gets its own folder.
    let o = seal_in(root, &["--env", "metal"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(root.join("clusters/metal/secret-source/sealed").is_dir());
    assert!(
        !stderr(&o).contains("layout before environments"),
        "{}",
        stderr(&o)
    );
}

/// The follow-up of a rotation of a key of `sealstrap.yaml` names what the tree says reads it
/// (the contract has no consumer for it): the force-sync and the restart both name the
/// ExternalSecret.
#[test]
fn a_rotated_extra_key_names_its_readers_in_the_follow_up() {
    let dir = platform_checkout();
    let root = dir.path();
    std::fs::write(
        root.join("sealstrap.yaml"),
        "extra:\n  example-token: {generate: hex32}\n",
    )
    .unwrap();
    let cert = data("vectors/keys/controller-2048.crt.pem");
    let seal = [
        "seal",
        "--env",
        "metal",
        "--cert",
        p(&cert),
        "--bcrypt-cost",
        "10",
    ];
    let o = run_in(root, &seal, b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_in(
        root,
        &[
            "rotate",
            "example-token",
            "--env",
            "metal",
            "--cert",
            p(&cert),
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("kubectl annotate externalsecret -n example example-app force-sync"),
        "{err}"
    );
    assert!(
        err.contains("restart what reads example-token: the workloads that use the Secret written by ExternalSecret example/example-app"),
        "{err}"
    );
}
