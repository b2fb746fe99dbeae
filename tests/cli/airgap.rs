//! Issue 29: an air-gapped bring-up that Argo CD and Flux really accept. On the platform fixture
//! and on a plain Flux repository: the first run with a mirror writes only the mirror (no internet
//! URL or public registry anywhere it writes, the AppProject and the image values included); an
//! OCI registry in the form each tool resolves (Argo CD's Helm repository with `enableOCI`, Flux's
//! `type: oci`); the files strict-valid against the Argo CD and Flux CRDs; a second run without
//! the flags changes nothing and says no conflict; the neighbours' finalizer and retry carried.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::schema::validate;
use crate::common::*;

const CERT: &str = "vectors/keys/controller-2048.crt.pem";
const MIRROR: &str = "oci://registry.internal/charts";
/// What a site without the internet must never be pointed at.
const INTERNET: [&str; 3] = ["bitnami-labs.github.io", "docker.io", "ghcr.io"];

fn pinned_tag() -> String {
    format!("0.36.6@sha256:{}", "ab".repeat(32))
}

fn platform() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&data("platform"), dir.path());
    std::fs::rename(dir.path().join("gitignore"), dir.path().join(".gitignore")).unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "platform"]);
    dir
}

fn seal(root: &Path, extra: &[&str]) -> std::process::Output {
    let cert = data(CERT);
    let mut args = vec!["seal", "--cert", p(&cert), "--bcrypt-cost", "10"];
    args.extend_from_slice(extra);
    run_in(
        root,
        &args,
        b"",
        &[("CLOUDFLARE_API_TOKEN", &"c".repeat(40))],
    )
}

/// The files a run added or changed (git's view), path -> text.
fn written(root: &Path) -> BTreeMap<String, String> {
    let out = std::process::Command::new("git")
        .args(["status", "--porcelain", "-uall", "-z"])
        .current_dir(root)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|l| l.len() > 3)
        .map(|l| l[3..].to_string())
        .filter(|f| root.join(f).is_file())
        .map(|f| {
            let t = std::fs::read_to_string(root.join(&f)).unwrap_or_default();
            (f, t)
        })
        .collect()
}

fn clean(root: &Path) -> bool {
    let out = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(root)
        .output()
        .unwrap();
    out.stdout.is_empty()
}

fn yaml(path: &Path) -> serde_json::Value {
    sealstrap::yaml::parse_documents(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .remove(0)
}

#[test]
fn the_first_argo_cd_run_with_a_mirror_points_only_at_the_mirror() {
    let repo = platform();
    let root = repo.path();
    let tag = pinned_tag();
    let o = seal(
        root,
        &[
            "--env",
            "ai-dev",
            "--gitops",
            "argocd",
            "--chart-repo",
            MIRROR,
            "--image-registry",
            "registry.internal",
            "--image-tag",
            &tag,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let files = written(root);
    assert!(files.len() > 10, "{:?}", files.keys());
    for (f, text) in &files {
        for site in INTERNET {
            assert!(!text.contains(site), "{f} points at {site}:\n{text}");
        }
    }
    let catalog = root.join("clusters/ai-dev/catalog/platform-core");
    // Argo CD's Helm-repository form of an OCI registry: no scheme, chart: beside it, and the
    // repository Secret that says enableOCI.
    let app = yaml(&catalog.join("sealed-secrets.yaml"));
    assert_eq!(app["spec"]["source"]["repoURL"], "registry.internal/charts");
    assert_eq!(app["spec"]["source"]["chart"], "sealed-secrets");
    assert_eq!(app["spec"]["source"]["targetRevision"], "2.18.5");
    assert_eq!(
        app["spec"]["source"]["helm"]["valuesObject"]["image"],
        serde_json::json!({
            "registry": "registry.internal",
            "repository": "bitnami/sealed-secrets-controller",
            "tag": tag
        })
    );
    let secret = yaml(&catalog.join("sealed-secrets-repository.yaml"));
    assert_eq!(
        secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"],
        "repository"
    );
    assert_eq!(
        secret["stringData"],
        serde_json::json!({"name": "sealed-secrets", "type": "helm", "url": "registry.internal/charts", "enableOCI": "true"})
    );
    // The AppProject allows exactly the string the Application names.
    let project = yaml(&root.join("clusters/ai-dev/projects/platform.yaml"));
    let repos = project["spec"]["sourceRepos"].as_array().unwrap();
    assert!(
        repos.contains(&"registry.internal/charts".into()),
        "{repos:?}"
    );
    // What the neighbours carry: the finalizer, and external-secrets-config's retry; and
    // secret-source converges without an Application health check.
    let source = yaml(&catalog.join("secret-source.yaml"));
    for a in [&app, &source] {
        assert_eq!(
            a["metadata"]["finalizers"],
            serde_json::json!(["resources-finalizer.argocd.argoproj.io"])
        );
        assert_eq!(
            a["spec"]["syncPolicy"]["retry"],
            serde_json::json!({"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}})
        );
    }
    assert!(
        source["spec"]["syncPolicy"]["syncOptions"]
            .as_array()
            .unwrap()
            .contains(&"SkipDryRunOnMissingResource=true".into())
    );
    // Strict-valid against the Argo CD CRDs and the core Secret schema.
    let (ok, report) = validate(&[catalog.as_path(), &root.join("clusters/ai-dev/projects")]);
    assert!(ok, "{report}");
    // The repository Secret holds no credential: scan passes over it.
    let o = run_in(root, &["scan", p(&catalog)], b"", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    // A second run without the flags keeps the mirror: nothing changes, no conflict said.
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "bring-up"]);
    let o = seal(root, &["--env", "ai-dev", "--gitops", "argocd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(clean(root), "{:?}", written(root).keys());
    for word in ["conflict", "fight", "refus"] {
        assert!(!stderr(&o).contains(word), "{word}: {}", stderr(&o));
    }
}

/// `sealstrap.yaml`'s `chart:` gives every environment the mirror; an Application written before
/// with an `oci://` repoURL (which Argo CD's native OCI source reads as the whole artifact) is
/// put in the form Argo CD resolves.
#[test]
fn the_fleet_file_s_mirror_applies_and_an_old_oci_form_is_mended() {
    let repo = platform();
    let root = repo.path();
    std::fs::write(
        root.join("sealstrap.yaml"),
        "chart:\n  repo: oci://registry.internal/charts\n  version: 2.18.5\n  image:\n    registry: registry.internal:5000\n",
    )
    .unwrap();
    let o = seal(root, &["--env", "metal", "--gitops", "argocd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let catalog = root.join("clusters/metal/catalog/platform-core");
    let app = yaml(&catalog.join("sealed-secrets.yaml"));
    assert_eq!(app["spec"]["source"]["repoURL"], "registry.internal/charts");
    assert_eq!(
        app["spec"]["source"]["helm"]["valuesObject"]["image"]["registry"],
        "registry.internal:5000"
    );
    for (f, text) in written(root) {
        for site in INTERNET {
            assert!(!text.contains(site), "{f} points at {site}");
        }
    }
    // An older Application with repoURL oci://...: mended, with the repository Secret.
    std::fs::write(root.join("sealstrap.yaml"), "").unwrap();
    let file = catalog.join("sealed-secrets.yaml");
    let old = std::fs::read_to_string(&file).unwrap().replace(
        "repoURL: registry.internal/charts",
        "repoURL: oci://registry.internal/charts",
    );
    std::fs::write(&file, &old).unwrap();
    std::fs::remove_file(catalog.join("sealed-secrets-repository.yaml")).unwrap();
    let o = seal(root, &["--env", "metal", "--gitops", "argocd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Argo CD's native OCI form, which ignores chart:"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        yaml(&file)["spec"]["source"]["repoURL"],
        "registry.internal/charts"
    );
    assert!(catalog.join("sealed-secrets-repository.yaml").is_file());
    // mirror-list names both artifacts with the copy to run first.
    let o = run_in(root, &["mirror-list"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list = stdout(&o);
    assert!(
        list.contains("-> oci://registry.internal/charts/sealed-secrets:2.18.5")
            && list.contains("helm push sealed-secrets-2.18.5.tgz oci://registry.internal/charts")
            && list.contains("-> registry.internal:5000/bitnami/sealed-secrets-controller:0.36.6")
            && list.contains("skopeo copy --all docker://docker.io/bitnami/sealed-secrets-controller:0.36.6 docker://registry.internal:5000/bitnami/sealed-secrets-controller:0.36.6"),
        "{list}"
    );
}

/// A plain Flux repository: `type: oci` for an OCI mirror, the image from the mirror, the store
/// waiting for the Kustomization that installs ESO; valid against Flux's CRDs; a second run
/// without the flags keeps the mirror and names no conflict with its own store.
#[test]
fn a_flux_repository_gets_an_oci_mirror_it_resolves_and_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(root.join("clusters/prod")).unwrap();
    std::fs::create_dir_all(root.join("infrastructure/eso")).unwrap();
    std::fs::write(
        root.join("clusters/prod/infrastructure.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infrastructure\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./infrastructure\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    )
    .unwrap();
    std::fs::write(
        root.join("infrastructure/eso/release.yaml"),
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: external-secrets\n  namespace: external-secrets\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: external-secrets\n      version: 2.6.0\n      sourceRef: {kind: HelmRepository, name: external-secrets, namespace: flux-system}\n",
    )
    .unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "flux"]);
    let tag = pinned_tag();
    let o = seal(
        root,
        &[
            "--gitops",
            "flux",
            "--chart-repo",
            MIRROR,
            "--image-registry",
            "registry.internal",
            "--image-tag",
            &tag,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the store also waits for flux-system/infrastructure"),
        "{}",
        stderr(&o)
    );
    for (f, text) in written(root) {
        for site in INTERNET {
            assert!(!text.contains(site), "{f} points at {site}:\n{text}");
        }
    }
    let flux = root.join("flux");
    let docs = sealstrap::yaml::parse_documents(
        &std::fs::read_to_string(flux.join("sealed-secrets/controller.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(docs[0]["kind"], "HelmRepository");
    assert_eq!(docs[0]["spec"]["type"], "oci");
    assert_eq!(docs[0]["spec"]["url"], MIRROR);
    assert_eq!(docs[1]["spec"]["values"]["image"]["tag"], tag.as_str());
    let ks = sealstrap::yaml::parse_documents(
        &std::fs::read_to_string(flux.join("sealstrap.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        ks[2]["spec"]["dependsOn"],
        serde_json::json!([{"name": "secret-source"}, {"name": "infrastructure"}])
    );
    let (ok, report) = validate(&[
        flux.as_path(),
        &flux.join("sealed-secrets"),
        &flux.join("store"),
    ]);
    assert!(ok, "{report}");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "wiring"]);
    let o = seal(root, &["--gitops", "flux"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(clean(root), "{:?}", written(root).keys());
    assert!(
        !stderr(&o).contains("two stores of one name"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_bad_mirror_is_refused_and_nothing_is_written() {
    let repo = platform();
    let root = repo.path();
    let bad_tag = "0.36.6@sha256:abc".to_string();
    for (args, says) in [
        (
            vec![
                "--env",
                "ai-dev",
                "--gitops",
                "argocd",
                "--chart-repo",
                "ftp://x/charts",
            ],
            "neither an https:// Helm repository nor an oci://",
        ),
        (
            vec![
                "--env",
                "ai-dev",
                "--gitops",
                "argocd",
                "--image-tag",
                &bad_tag,
            ],
            "the image tag",
        ),
        (
            vec!["--env", "ai-dev", "--chart-repo", MIRROR],
            "pass --gitops argocd or --gitops flux",
        ),
    ] {
        let o = seal(root, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
        assert!(clean(root), "{args:?}");
    }
    std::fs::write(root.join("sealstrap.yaml"), "chart:\n  repo: ftp://x\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "bad chart"]);
    // A bad file is bad input (1), as any other error in sealstrap.yaml but a typo'd key.
    let o = seal(root, &["--env", "ai-dev", "--gitops", "argocd"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("sealstrap.yaml: the chart repository \"ftp://x\""),
        "{}",
        stderr(&o)
    );
    assert!(clean(root));
}
