//! The planner from fake snapshots: no file, no git, no randomness.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::*;
use crate::bootstrap::{Line, Plan, PlannedFile, Status};

const CWD: &str = "/repo";

/// A snapshot of `/repo/secret-source` in a git work tree at `/repo` that has sealed nothing
/// yet, and git ignoring nothing.
fn snapshot() -> Snapshot {
    Snapshot {
        cwd: PathBuf::from(CWD),
        out: PathBuf::from("secret-source"),
        wiring: Wiring::default(),
        contract: Contract::default(),
        notes: Vec::new(),
        existing: BTreeMap::new(),
        extra: Vec::new(),
        break_glass_copies: BTreeSet::new(),
        platform_root: None,
        reads: None,
        current: manifests::WIRING_FILES
            .iter()
            .map(|f| (f.to_string(), None))
            .collect(),
        user_resources: Vec::new(),
        stale_store: None,
        flux: None,
        store: None,
        argocd: None,
        dex: DexCopy {
            path: PathBuf::from("/repo/secrets/dex-admin-password"),
            git_root: Some(PathBuf::from(CWD)),
            ignored: true,
            ..Default::default()
        },
        gitignore: Some(Gitignore {
            path: PathBuf::from("/repo/.gitignore"),
            bytes: Ok(b"/secrets/\n".to_vec()),
            is_link: false,
        }),
        ignored: Vec::new(),
    }
}

/// A values plan that seals `keys` (the bytes name the key; no crypto here).
fn values(keys: &[&str]) -> Plan {
    Plan {
        lines: keys
            .iter()
            .map(|k| Line {
                key: k.to_string(),
                status: Status::Created,
                detail: String::new(),
                todo: None,
            })
            .collect(),
        sealed: keys
            .iter()
            .map(|k| PlannedFile {
                path: manifests::sealed_path(k),
                contents: Zeroizing::new(format!("sealed {k}\n").into_bytes()),
            })
            .collect(),
        dex_password: None,
        notes: Vec::new(),
    }
}

fn seal() -> Kind {
    Kind::Seal { force: false }
}

fn paths(run: &RunPlan) -> Vec<String> {
    run.writes
        .iter()
        .map(|w| w.path.display().to_string())
        .collect()
}

#[test]
fn a_first_run_writes_the_values_and_the_wiring_that_lists_them() {
    let run = plan_run(
        &Options::default(),
        &seal(),
        &snapshot(),
        &values(&["vllm-api-key"]),
        &[],
    )
    .unwrap();
    assert_eq!(
        paths(&run),
        [
            "secret-source/sealed/vllm-api-key.yaml",
            "secret-source/namespace.yaml",
            "secret-source/rbac.yaml",
            "secret-source/cluster-secret-store.yaml",
            "secret-source/kustomization.yaml",
        ]
    );
    let kustomization = run.writes.last().unwrap();
    assert!(
        String::from_utf8_lossy(&kustomization.contents).contains("sealed/vllm-api-key.yaml"),
        "the kustomization lists the new file"
    );
    assert!(run.removals.is_empty() && run.gitignore_edit.is_none());
    // Nothing new and the wiring as rendered: nothing to write.
    let mut snap = snapshot();
    snap.existing.insert(
        "vllm-api-key".into(),
        crate::bootstrap::ExistingFile { fingerprint: None },
    );
    for (rel, text) in manifests::wiring_files(
        &snap.wiring,
        &["sealed/vllm-api-key.yaml".to_string()],
        true,
        &[],
    ) {
        snap.current.insert(rel, Some(text.into_bytes()));
    }
    let run = plan_run(&Options::default(), &seal(), &snap, &values(&[]), &[]).unwrap();
    assert!(run.writes.is_empty(), "{:?}", paths(&run));
}

#[test]
fn unset_refuses_a_missing_or_needed_key_and_removes_the_file_and_its_copy() {
    let contract = Contract::default();
    let sel = |included| {
        let mut s = crate::bootstrap::select(
            &contract,
            None,
            &[],
            &[],
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        for x in s.iter_mut() {
            x.included = included;
        }
        s
    };
    let cwd = Path::new(CWD);
    let out = Path::new("/repo/secret-source");
    let kind = |force| Kind::Unset {
        keys: BTreeSet::from(["hf-token".to_string()]),
        force,
    };
    let mut existing = BTreeMap::new();
    assert_eq!(
        narrow(&kind(false), cwd, out, &mut sel(false), &mut existing),
        Err(Refusal::NothingToUnset {
            out: PathBuf::from("secret-source"),
            key: "hf-token".into()
        })
    );
    existing.insert(
        "hf-token".to_string(),
        crate::bootstrap::ExistingFile { fingerprint: None },
    );
    assert!(matches!(
        narrow(
            &kind(false),
            cwd,
            out,
            &mut sel(true),
            &mut existing.clone()
        ),
        Err(Refusal::UnsetNeeded { .. })
    ));
    let mut selection = sel(true);
    let mut ex = existing.clone();
    let rotate = narrow(&kind(true), cwd, out, &mut selection, &mut ex).unwrap();
    assert!(rotate.is_empty() && ex.is_empty());
    assert_eq!(selection.len(), 1);
    assert!(!selection[0].included);

    // The plan removes the file and its break-glass copy; the kustomization no longer lists it.
    let mut snap = snapshot();
    snap.break_glass_copies.insert("hf-token".into());
    snap.current.insert(
        manifests::KUSTOMIZATION_FILE.into(),
        Some(b"resources: [sealed/hf-token.yaml]\n".to_vec()),
    );
    let run = plan_run(&Options::default(), &kind(true), &snap, &values(&[]), &[]).unwrap();
    assert_eq!(
        run.removals,
        [
            PathBuf::from("secret-source/sealed/hf-token.yaml"),
            PathBuf::from("secret-source/break-glass/hf-token.yaml")
        ]
    );
    let k = run
        .writes
        .iter()
        .find(|w| w.path.ends_with(manifests::KUSTOMIZATION_FILE))
        .unwrap();
    assert!(!String::from_utf8_lossy(&k.contents).contains("hf-token"));
}

#[test]
fn a_rotation_needs_a_key_of_the_environment_and_a_new_value_for_a_provided_one() {
    let contract = Contract::default();
    let mut selection = crate::bootstrap::select(
        &contract,
        None,
        &[],
        &[],
        &BTreeMap::new(),
        &BTreeMap::new(),
    );
    let kind = |k: &str| Kind::Rotate {
        keys: BTreeSet::from([k.to_string()]),
    };
    // hf-token is provided and not needed without --with hf.
    assert!(matches!(
        narrow(
            &kind("hf-token"),
            Path::new(CWD),
            Path::new("out"),
            &mut selection.clone(),
            &mut BTreeMap::new()
        ),
        Err(Refusal::NotInEnvironment { .. })
    ));
    // ... unless the folder holds it already: then it is the value replaced.
    let mut sel = selection.clone();
    let held = BTreeMap::from([(
        "hf-token".to_string(),
        crate::bootstrap::ExistingFile { fingerprint: None },
    )]);
    assert!(
        narrow(
            &kind("hf-token"),
            Path::new(CWD),
            Path::new("out"),
            &mut sel,
            &mut held.clone()
        )
        .is_ok()
    );
    assert_eq!(sel.len(), 1);
    assert!(sel[0].included);
    let keys = narrow(
        &kind("vllm-api-key"),
        Path::new(CWD),
        Path::new("out"),
        &mut selection,
        &mut BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(selection.len(), 1);
    assert!(check_new_values(&contract, &keys, &BTreeMap::new()).is_ok());
    let provided = BTreeSet::from(["hf-token".to_string()]);
    assert_eq!(
        check_new_values(&contract, &provided, &BTreeMap::new()),
        Err(Refusal::NoNewValue {
            key: "hf-token".into(),
            env: "HF_TOKEN".into()
        })
    );
}

#[test]
fn the_store_at_the_swap_point_is_replaced_only_when_it_is_the_resolvers() {
    let mut snap = snapshot();
    snap.platform_root = Some(PathBuf::from(CWD));
    let store = |text: &str| StoreFile {
        path: PathBuf::from("/repo/platform/external-secrets/config/clustersecretstore.yaml"),
        text: text.into(),
    };
    snap.store = Some(store(
        "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: secret-store\nspec:\n  provider: {}  # <- replace with your provider; see docs\n",
    ));
    let run = plan_run(&Options::default(), &seal(), &snap, &values(&[]), &[]).unwrap();
    assert!(
        paths(&run)
            .iter()
            .any(|p| p.ends_with("clustersecretstore.yaml"))
    );
    // In the platform the store is not in the sealed folder.
    assert!(
        !paths(&run)
            .iter()
            .any(|p| p.ends_with(manifests::STORE_FILE))
    );
    snap.store = Some(store(
        "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: secret-store\nspec:\n  provider:\n    vault: {server: https://vault}\n",
    ));
    let e = plan_run(&Options::default(), &seal(), &snap, &values(&[]), &[])
        .err()
        .unwrap();
    assert!(matches!(e, Refusal::StoreNotOurs { .. }), "{e:?}");
    assert!(e.hint().unwrap().contains("--force"));
    let run = plan_run(
        &Options::default(),
        &Kind::Seal { force: true },
        &snap,
        &values(&[]),
        &[],
    )
    .unwrap();
    assert!(
        paths(&run)
            .iter()
            .any(|p| p.ends_with("clustersecretstore.yaml"))
    );
    // A rotation never touches it.
    let rotate = Kind::Rotate {
        keys: BTreeSet::new(),
    };
    let run = plan_run(&Options::default(), &rotate, &snap, &values(&[]), &[]).unwrap();
    assert!(
        !paths(&run)
            .iter()
            .any(|p| p.ends_with("clustersecretstore.yaml"))
    );
}

#[test]
fn the_plaintext_dex_copy_is_written_0600_only_where_git_ignores_it() {
    let mut pair = values(&["dex-admin-password", "dex-admin-hash"]);
    pair.dex_password = Some(Zeroizing::new("pw".into()));
    // Ignored: written 0600, no rule added.
    let run = plan_run(&Options::default(), &seal(), &snapshot(), &pair, &[]).unwrap();
    let copy = run
        .writes
        .iter()
        .find(|w| w.path.ends_with("dex-admin-password") && w.mode.is_some())
        .unwrap();
    assert_eq!(copy.mode, Some(0o600));
    assert!(run.gitignore_added.is_none());
    // Not ignored: one exact rule appended to .gitignore, its other bytes kept.
    let mut snap = snapshot();
    snap.dex.ignored = false;
    let run = plan_run(&Options::default(), &seal(), &snap, &pair, &[]).unwrap();
    let g = run.gitignore_edit.as_ref().unwrap();
    assert_eq!(g.rules, ["/secrets/dex-admin-password"]);
    let written = run
        .writes
        .iter()
        .find(|w| w.path.ends_with(".gitignore"))
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&written.contents),
        "/secrets/\n/secrets/dex-admin-password\n"
    );
    assert_eq!(run.gitignore_added, Some(PathBuf::from("/repo/.gitignore")));
    // ... refused with --no-gitignore-edit (the rule in the hint), or through a link.
    let no_edit = Options {
        no_gitignore_edit: true,
        ..Default::default()
    };
    let e = plan_run(&no_edit, &seal(), &snap, &pair, &[])
        .err()
        .unwrap();
    assert!(matches!(e, Refusal::GitignoreNotEdited { .. }));
    assert!(e.hint().unwrap().contains("/secrets/dex-admin-password"));
    snap.gitignore.as_mut().unwrap().is_link = true;
    assert!(matches!(
        plan_run(&Options::default(), &seal(), &snap, &pair, &[]),
        Err(Refusal::GitignoreLink { .. })
    ));
    // Tracked by git: no rule helps.
    let mut snap = snapshot();
    snap.dex.tracked = true;
    assert!(matches!(
        plan_run(&Options::default(), &seal(), &snap, &pair, &[]),
        Err(Refusal::DexCopyTracked { .. })
    ));
    // Re-included by a deeper .gitignore.
    let mut snap = snapshot();
    snap.dex.ignored = false;
    snap.dex.rule = Some((
        "secrets/.gitignore".into(),
        "1".into(),
        "!dex-admin-password".into(),
    ));
    assert!(matches!(
        plan_run(&Options::default(), &seal(), &snap, &pair, &[]),
        Err(Refusal::DexCopyReincluded { .. })
    ));
    // A new pair beside a copy of another pair.
    let mut snap = snapshot();
    snap.dex.exists = true;
    assert!(matches!(
        plan_run(&Options::default(), &seal(), &snap, &pair, &[]),
        Err(Refusal::DexCopyOfAnotherPair { .. })
    ));
}

#[test]
fn a_file_git_would_ignore_gets_a_re_include_rule() {
    let mut snap = snapshot();
    snap.ignored = vec![PathBuf::from(
        "secret-source/sealed/dex-argocd-client-secret.yaml",
    )];
    let run = plan_run(
        &Options::default(),
        &seal(),
        &snap,
        &values(&["dex-argocd-client-secret", "vllm-api-key"]),
        &[],
    )
    .unwrap();
    let g = run.gitignore_edit.unwrap();
    assert_eq!(
        g.rules,
        ["!/secret-source/sealed/dex-argocd-client-secret.yaml"]
    );
    assert!(
        run.notes
            .iter()
            .any(|n| n.contains("Argo CD would never see it"))
    );
    // The Dex copy's rule is not involved.
    assert!(run.gitignore_added.is_none());
}

#[test]
fn a_fleet_writes_each_file_once_merges_the_gitignore_rules_and_refuses_a_conflict() {
    let w = |p: &str, b: &str| Write {
        path: PathBuf::from(p),
        contents: Zeroizing::new(b.as_bytes().to_vec()),
        mode: None,
    };
    let edit = |rule: &str| GitignoreEdit {
        path: PathBuf::from("/repo/.gitignore"),
        base: b"/secrets/\n".to_vec(),
        rules: vec![rule.to_string()],
    };
    let a = RunPlan {
        writes: vec![w("/repo/store.yaml", "same"), w("/repo/a.yaml", "a")],
        gitignore_edit: Some(edit("!/a")),
        ..Default::default()
    };
    let b = RunPlan {
        writes: vec![w("/repo/store.yaml", "same"), w("/repo/b.yaml", "b")],
        gitignore_edit: Some(edit("!/b")),
        ..Default::default()
    };
    let merged = merge_runs(&[("a".into(), &a), ("b".into(), &b)]).unwrap();
    let p = paths(&merged);
    assert_eq!(
        p,
        [
            "/repo/store.yaml",
            "/repo/a.yaml",
            "/repo/b.yaml",
            "/repo/.gitignore"
        ]
    );
    assert_eq!(
        String::from_utf8_lossy(&merged.writes[3].contents),
        "/secrets/\n!/a\n!/b\n"
    );
    let c = RunPlan {
        writes: vec![w("/repo/store.yaml", "other")],
        ..Default::default()
    };
    assert_eq!(
        merge_runs(&[("a".into(), &a), ("c".into(), &c)]).err(),
        Some(Refusal::FleetConflict {
            env: "c".into(),
            path: PathBuf::from("/repo/store.yaml")
        })
    );
}
