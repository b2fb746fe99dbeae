//! Issue 25: a fleet's second day, run as an operator runs it, on the platform fixture. Three
//! environments (edge joins later), a shared value, per-environment provided values and a
//! break-glass certificate, through the whole sequence: rotate the shared value, rotate a
//! per-cluster one, join, rotate a controller key and reseal, rotate the break-glass key, a typo
//! in the fleet file, a committed Dex copy, a shared value that drifted. After each step every
//! sealed value and every break-glass copy is opened by the tests' own decryptor
//! (`common::reference`), and what must be equal is equal; at the end a fresh clone verifies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

const AI_DEV_CERT: &str = "vectors/keys/controller-2048.crt.pem";
const AI_DEV_KEY: &str = "vectors/keys/controller-2048.key.pem";
const BREAK_GLASS_CERT: &str = "vectors/keys/other-4096.crt.pem";
const BREAK_GLASS_KEY: &str = "vectors/keys/other-4096.key.pem";
const SHARED: &str = "example-token";

/// key -> plaintext.
type Values = BTreeMap<String, String>;

struct Site {
    _dir: tempfile::TempDir,
    _outside: tempfile::TempDir,
    root: PathBuf,
    /// The operator's age identity (opens every escrow of the fleet).
    id: PathBuf,
    recipient: String,
    /// Provided values, one file per environment (ENV:KEY=PATH).
    values_dir: PathBuf,
}

impl Site {
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        run_in(&self.root, args, b"", env)
    }

    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let o = self.run(args, env);
        assert!(o.status.success(), "{args:?}:\n{}", stderr(&o));
        stderr(&o)
    }

    fn out(&self, env: &str) -> PathBuf {
        self.root.join(format!("clusters/{env}/secret-source"))
    }

    fn commit(&self, msg: &str) {
        git(&self.root, &["add", "-A"]);
        git(&self.root, &["commit", "-qm", msg]);
    }

    /// The controller keys of an escrow, opened with the operator's identity, as the
    /// reference decryptor's keys (every key it holds: the old ones stay for the switch).
    fn escrowed(&self, escrow: &Path) -> Vec<reference::Key> {
        let ids =
            sealstrap::escrow::parse_identities(&std::fs::read(&self.id).unwrap(), &mut || {
                panic!("no passphrase")
            })
            .unwrap();
        let plain =
            sealstrap::escrow::decrypt_with_identities(&std::fs::read(escrow).unwrap(), &ids)
                .unwrap();
        reference::keys_from_key_list(std::str::from_utf8(&plain).unwrap())
    }

    /// The keys that open environment `env`'s sealed values.
    fn keys(&self, env: &str) -> Vec<reference::Key> {
        match env {
            "ai-dev" => reference::keys_from_file(&data(AI_DEV_KEY)),
            _ => self.escrowed(&self.out(env).join("controller-keys.age")),
        }
    }

    /// Every environment's values, each opened with its own key, and its break-glass copies
    /// opened with `bg` and equal to them.
    fn state(&self, envs: &[&str], bg: &[reference::Key]) -> BTreeMap<String, Values> {
        let mut all = BTreeMap::new();
        for env in envs {
            let sealed = reference::open_folder(&self.out(env).join("sealed"), &self.keys(env))
                .unwrap_or_else(|| panic!("{env}: a sealed value does not open with its key"));
            let copies = reference::open_folder(&self.out(env).join("break-glass"), bg)
                .unwrap_or_else(|| {
                    panic!("{env}: a break-glass copy does not open with the break-glass key")
                });
            assert_eq!(
                copies, sealed,
                "{env}: the break-glass copies hold exactly the sealed values"
            );
            all.insert(env.to_string(), sealed);
        }
        all
    }

    /// The files under clusters/ (what the sequence may change), path -> bytes.
    fn tree(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![self.root.join("clusters")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(&self.root).unwrap().to_path_buf();
                    out.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
        out.insert(
            "sealstrap.yaml".into(),
            std::fs::read(self.root.join("sealstrap.yaml")).unwrap(),
        );
        out
    }

    /// A provided value for `env`, in a file of its own: ENV:KEY=PATH.
    fn value_file(&self, env: &str, key: &str, value: &str) -> String {
        let path = self.values_dir.join(format!("{env}-{key}"));
        std::fs::write(&path, value).unwrap();
        format!("{env}:{key}={}", path.display())
    }
}

/// The files that differ between two trees.
fn changed(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<String> {
    let mut out: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .map(|p| p.display().to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// 64 random hex characters; `n` of them kept.
fn random_hex(n: usize) -> String {
    let v = sealstrap::generate::generate(
        &mut rand::rand_core::UnwrapErr(rand::rngs::SysRng),
        sealstrap::contract::Generator::Hex64,
    );
    v[..n.min(64)].to_string()
}

/// The fleet's first day: ai-dev with a certificate made elsewhere (a vector key), metal with
/// `key new`, a shared value of the fork, per-environment provided values, break-glass.
fn first_day() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path().join("platform");
    std::fs::create_dir(&root).unwrap();
    copy_tree(&data("platform"), &root);
    std::fs::rename(root.join("gitignore"), root.join(".gitignore")).unwrap();
    std::fs::copy(
        data(AI_DEV_CERT),
        root.join("clusters/ai-dev/controller.crt"),
    )
    .unwrap();
    std::fs::create_dir(root.join("recovery")).unwrap();
    std::fs::copy(
        data(BREAK_GLASS_CERT),
        root.join("recovery/break-glass.crt"),
    )
    .unwrap();
    std::fs::write(
        root.join("sealstrap.yaml"),
        "extra:\n  example-token: {generate: hex32}\nenvironments:\n  ai-dev: {cert: clusters/ai-dev/controller.crt}\n  metal: {}\nvalues:\n  example-token: shared\nbreak-glass:\n  cert: recovery/break-glass.crt\n",
    )
    .unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    let (id, recipient) = age_identity(outside.path(), "id.txt");
    let values_dir = outside.path().join("values");
    std::fs::create_dir(&values_dir).unwrap();
    let site = Site {
        _dir: dir,
        _outside: outside,
        root,
        id,
        recipient,
        values_dir,
    };
    site.commit("platform");
    site.ok(
        &["key", "new", "--env", "metal", "-r", &site.recipient],
        &[],
    );
    let cloudflare = site.value_file("metal", "cloudflare-api-token", &random_hex(20));
    let anthropic = format!("sk-ant-api03-{}", random_hex(24));
    site.ok(
        &[
            "seal",
            "--all-envs",
            "--gitops",
            "argocd",
            "--bcrypt-cost",
            "10",
            "--accept-cert",
            "ai-dev,break-glass",
            "--value-file",
            &cloudflare,
        ],
        &[("ANTHROPIC_API_KEY_METAL", &anthropic)],
    );
    site.commit("day one");
    site
}

#[test]
fn the_fleet_s_second_day_keeps_every_value_and_every_recovery_copy_right() {
    let site = first_day();
    let bg = reference::keys_from_file(&data(BREAK_GLASS_KEY));
    let day1 = site.state(&["ai-dev", "metal"], &bg);
    assert_eq!(day1["ai-dev"][SHARED], day1["metal"][SHARED]);
    assert_ne!(
        day1["ai-dev"]["vllm-api-key"],
        day1["metal"]["vllm-api-key"]
    );

    // 1. Rotate the shared value, from one environment's habit (--env): one new value,
    //    every environment and its break-glass copy, nothing else.
    let before = site.tree();
    let err = site.ok(&["rotate", SHARED, "--env", "metal"], &[]);
    assert!(err.contains("changes in every environment"), "{err}");
    let s1 = site.state(&["ai-dev", "metal"], &bg);
    assert_eq!(s1["ai-dev"][SHARED], s1["metal"][SHARED]);
    assert_ne!(s1["metal"][SHARED], day1["metal"][SHARED]);
    assert_eq!(
        changed(&before, &site.tree()),
        [
            "clusters/ai-dev/secret-source/break-glass/example-token.yaml",
            "clusters/ai-dev/secret-source/sealed/example-token.yaml",
            "clusters/metal/secret-source/break-glass/example-token.yaml",
            "clusters/metal/secret-source/sealed/example-token.yaml",
        ]
    );
    // The new shared value is a random one, annotated so.
    let text =
        std::fs::read_to_string(site.out("ai-dev").join("sealed/example-token.yaml")).unwrap();
    assert!(text.contains("sealstrap.dev/origin: generated"), "{text}");
    site.commit("rotate the shared value");

    // 2. Rotate a per-cluster value everywhere: a value of its own in each.
    let before = site.tree();
    site.ok(&["rotate", "--all-envs", "vllm-api-key"], &[]);
    let s2 = site.state(&["ai-dev", "metal"], &bg);
    for env in ["ai-dev", "metal"] {
        assert_ne!(s2[env]["vllm-api-key"], s1[env]["vllm-api-key"], "{env}");
    }
    assert_ne!(s2["ai-dev"]["vllm-api-key"], s2["metal"]["vllm-api-key"]);
    assert_eq!(changed(&before, &site.tree()).len(), 4);
    // One value for two clusters of a per-cluster key is refused, nothing written.
    let one = site.value_file("all", "vllm-api-key", &random_hex(32));
    let before = site.tree();
    let o = site.run(
        &[
            "set",
            "--all-envs",
            "vllm-api-key",
            "--value-file",
            one.trim_start_matches("all:"),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("per-cluster"), "{}", stderr(&o));
    assert_eq!(changed(&before, &site.tree()), Vec::<String>::new());
    site.commit("rotate vllm-api-key");

    // 3. A third cluster joins: its folders (as `make render-config` would make them), its
    //    declaration, its key; then the hint's own command with the operator's identity,
    //    which opens metal's escrow to carry the shared value.
    for (from, to) in [
        ("clusters/metal", "clusters/edge"),
        ("environments/metal", "environments/edge"),
    ] {
        let (src, dst) = (site.root.join(from), site.root.join(to));
        copy_tree(&src, &dst);
        let _ = std::fs::remove_dir_all(dst.join("secret-source"));
        let mut stack = vec![dst.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(t) = std::fs::read_to_string(&path) {
                    std::fs::write(&path, t.replace("metal", "edge")).unwrap();
                }
            }
        }
    }
    let yaml = std::fs::read_to_string(site.root.join("sealstrap.yaml")).unwrap();
    std::fs::write(
        site.root.join("sealstrap.yaml"),
        yaml.replace("  metal: {}\n", "  metal: {}\n  edge: {}\n"),
    )
    .unwrap();
    site.ok(&["key", "new", "--env", "edge", "-r", &site.recipient], &[]);
    let cloudflare = site.value_file("edge", "cloudflare-api-token", &random_hex(20));
    let anthropic = format!("sk-ant-api03-{}", random_hex(24));
    let seal_edge = |extra: &[&str]| {
        let mut args = vec![
            "seal",
            "--all-envs",
            "--gitops",
            "argocd",
            "--bcrypt-cost",
            "10",
            "--value-file",
            &cloudflare,
        ];
        args.extend_from_slice(extra);
        site.run(&args, &[("ANTHROPIC_API_KEY_EDGE", &anthropic)])
    };
    // Without a key the shared value cannot be carried: the error says what to pass.
    let o = seal_edge(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("-i IDENTITY"), "{}", stderr(&o));
    let o = seal_edge(&["-i", p(&site.id)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s3 = site.state(&["ai-dev", "metal", "edge"], &bg);
    assert_eq!(
        s3["edge"][SHARED], s3["metal"][SHARED],
        "the joiner has the shared value"
    );
    assert_eq!(s3["ai-dev"], s2["ai-dev"], "the others keep every value");
    assert_eq!(s3["metal"], s2["metal"]);
    for k in ["vllm-api-key", "litellm-master-key", "dex-admin-password"] {
        assert_ne!(s3["edge"][k], s3["metal"][k], "{k} is the joiner's own");
    }
    site.commit("edge joins");

    // 4. metal's controller key is rotated: the new key joins the escrow, and the command key
    //    new prints reseals the values; the break-glass copies are not touched.
    let before = site.tree();
    let err = site.ok(
        &[
            "key",
            "new",
            "--env",
            "metal",
            "-r",
            &site.recipient,
            "-i",
            p(&site.id),
        ],
        &[],
    );
    let next = err
        .lines()
        .find_map(|l| l.split_once("): sealstrap ").map(|(_, c)| c.to_string()))
        .unwrap_or_else(|| panic!("no reseal command in:\n{err}"));
    let args: Vec<&str> = next.split_whitespace().collect();
    assert_eq!(args[0], "reseal", "{next}");
    let o = site.run(&args, &[]);
    assert!(o.status.success(), "{next}:\n{}", stderr(&o));
    assert!(stderr(&o).contains("0 failed"), "{}", stderr(&o));
    let s4 = site.state(&["ai-dev", "metal", "edge"], &bg);
    assert_eq!(s4, s3, "a controller-key rotation changes no value");
    let now = site.tree();
    for f in changed(&before, &now) {
        assert!(
            f.starts_with("clusters/metal/secret-source/") && !f.contains("/break-glass/")
                || f == "sealstrap.yaml",
            "a controller-key rotation changed {f}"
        );
    }
    // Every metal value is now sealed for the new certificate, and only the new key opens it.
    let newest = site.escrowed(&site.out("metal").join("controller-keys.age"));
    assert_eq!(newest.len(), 2);
    site.commit("rotate metal's controller key");

    // 5. The break-glass key is rotated: a new one (made as key new makes any key), the fleet
    //    file points at it, and the copies (only they) are resealed with the old one.
    site.ok(
        &[
            "key",
            "new",
            "--out",
            "recovery/next",
            "-r",
            &site.recipient,
        ],
        &[],
    );
    let yaml = std::fs::read_to_string(site.root.join("sealstrap.yaml")).unwrap();
    std::fs::write(
        site.root.join("sealstrap.yaml"),
        yaml.replace(
            "cert: recovery/break-glass.crt",
            "cert: recovery/next/controller.crt",
        ),
    )
    .unwrap();
    let before = site.tree();
    site.ok(
        &[
            "reseal",
            "--break-glass",
            "--all-envs",
            "--private-key",
            p(&data(BREAK_GLASS_KEY)),
            "--accept-cert",
            "break-glass",
        ],
        &[],
    );
    let new_bg = site.escrowed(&site.root.join("recovery/next/controller-keys.age"));
    let s5 = site.state(&["ai-dev", "metal", "edge"], &new_bg);
    assert_eq!(s5, s4, "a break-glass key rotation changes no value");
    for f in changed(&before, &site.tree()) {
        assert!(
            f.contains("/break-glass/") || f == "sealstrap.yaml",
            "a break-glass rotation changed {f}"
        );
    }
    // The old break-glass key opens nothing any more.
    assert!(
        reference::open_folder(&site.out("edge").join("break-glass"), &bg).is_none(),
        "the old break-glass key still opens a copy"
    );
    site.commit("rotate the break-glass key");

    // 6. A typo in the fleet file is an error naming the key, its line and the fix; nothing
    //    is written.
    let good = std::fs::read_to_string(site.root.join("sealstrap.yaml")).unwrap();
    for (key, typo, want) in [
        ("break-glass", "break_glass", "break-glass"),
        ("values", "value", "values"),
    ] {
        let line = good
            .lines()
            .position(|l| l == format!("{key}:"))
            .unwrap_or_else(|| panic!("no {key}: in\n{good}"))
            + 1;
        std::fs::write(
            site.root.join("sealstrap.yaml"),
            good.replace(&format!("\n{key}:\n"), &format!("\n{typo}:\n")),
        )
        .unwrap();
        let before = site.tree();
        let o = site.run(&["rotate", SHARED], &[]);
        assert_eq!(o.status.code(), Some(2), "{typo}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains(typo) && e.contains(&format!("line {line}")) && e.contains(want),
            "{typo}: {e}"
        );
        assert_eq!(changed(&before, &site.tree()), Vec::<String>::new());
    }
    std::fs::write(site.root.join("sealstrap.yaml"), &good).unwrap();

    // 7. Someone commits a Dex copy: every writing command refuses, naming it and the fix.
    git(
        &site.root,
        &["add", "-f", "secrets/metal/dex-admin-password"],
    );
    git(&site.root, &["commit", "-qm", "oops"]);
    let before = site.tree();
    for args in [
        vec!["rotate", SHARED],
        vec!["rotate", "--all-envs", "vllm-api-key"],
        vec!["seal", "--all-envs", "-i", p(&site.id)],
    ] {
        let o = site.run(&args, &[]);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("secrets/metal/dex-admin-password")
                && e.contains("git rm --cached")
                && e.contains("reset-dex-admin"),
            "{args:?}: {e}"
        );
    }
    assert_eq!(changed(&before, &site.tree()), Vec::<String>::new());
    git(
        &site.root,
        &["rm", "-q", "--cached", "secrets/metal/dex-admin-password"],
    );
    git(&site.root, &["commit", "-qm", "untrack the Dex copy"]);
    site.ok(
        &["reset-dex-admin", "--env", "metal", "--bcrypt-cost", "10"],
        &[],
    );
    let s7 = site.state(&["ai-dev", "metal", "edge"], &new_bg);
    assert_ne!(
        s7["metal"]["dex-admin-password"],
        s5["metal"]["dex-admin-password"]
    );
    site.commit("new Dex admin password for metal");

    // 8. A shared value drifted (changed while the fleet file did not say shared): verify and
    //    diff name it, and one rotation makes it one value again.
    std::fs::write(
        site.root.join("sealstrap.yaml"),
        good.replace("example-token: shared", "example-token: per-cluster"),
    )
    .unwrap();
    site.ok(&["rotate", SHARED, "--env", "edge"], &[]);
    std::fs::write(site.root.join("sealstrap.yaml"), &good).unwrap();
    let keys_arg = format!(
        "{},{},{},{}",
        p(&data(AI_DEV_KEY)),
        p(&site.out("metal").join("controller-keys.age")),
        p(&site.out("edge").join("controller-keys.age")),
        p(&site.root.join("recovery/next/controller-keys.age")),
    );
    let verify = |root: &Path| {
        run_in(
            root,
            &[
                "verify",
                "--all-envs",
                "--private-key",
                &keys_arg,
                "-i",
                p(&site.id),
            ],
            b"",
            &[],
        )
    };
    let o = verify(&site.root);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(
            "shared example-token FAIL: shared (sealstrap.yaml values:), and the environments hold different values: ai-dev and metal hold one value, edge holds another"
        ),
        "{}",
        stdout(&o)
    );
    let o = site.run(
        &["diff", "--private-key", &keys_arg, "-i", p(&site.id)],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).lines().any(|l| l.starts_with("shared-differs")
            && l.ends_with(
                " example-token  (ai-dev and metal hold one value, edge holds another)"
            )),
        "{}",
        stdout(&o)
    );
    site.ok(&["rotate", SHARED], &[]);
    site.commit("one shared value again");

    // The end: every value of every environment and every copy opened by the reference
    // decryptor; shared equal, per-cluster distinct; verify passes on a fresh clone.
    let end = site.state(&["ai-dev", "metal", "edge"], &new_bg);
    assert_eq!(end["ai-dev"][SHARED], end["metal"][SHARED]);
    assert_eq!(end["metal"][SHARED], end["edge"][SHARED]);
    for k in end["ai-dev"].keys().filter(|k| *k != SHARED) {
        if let (Some(a), Some(b)) = (end["metal"].get(k), end["edge"].get(k)) {
            assert_ne!(a, b, "{k} is per-cluster");
        }
    }
    let clones = tempfile::tempdir().unwrap();
    git(clones.path(), &["clone", "-q", p(&site.root), "clone"]);
    let clone = clones.path().join("clone");
    let o = verify(&clone);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains("FAIL"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("shared example-token OK"),
        "{}",
        stdout(&o)
    );
    // The README's form: the break-glass key (and here ai-dev's, which has no escrow) with
    // --private-key, and -i still opens the environments' escrows (metal, edge).
    let readme_form = format!(
        "{},{}",
        p(&data(AI_DEV_KEY)),
        p(&site.root.join("recovery/next/controller-keys.age")),
    );
    let o2 = run_in(
        &clone,
        &[
            "verify",
            "--all-envs",
            "-i",
            p(&site.id),
            "--private-key",
            &readme_form,
        ],
        b"",
        &[],
    );
    assert!(o2.status.success(), "{}{}", stdout(&o2), stderr(&o2));
    assert!(!stdout(&o2).contains("FAIL"), "{}", stdout(&o2));
    // No value reached any output of the sequence's last commands.
    for (env, values) in &end {
        for (k, v) in values {
            assert!(
                !stdout(&o).contains(v.as_str()) && !stderr(&o).contains(v.as_str()),
                "{env}/{k} printed"
            );
        }
    }
}

/// Issue 25, item 4: `scan` with no flags (the pre-commit hook) knows which certificate each
/// sealed folder is for: a clean fleet gives no finding; a value copied from another cluster's
/// folder, a break-glass copy sealed for a cluster's certificate, a missing or stray copy are
/// findings naming the file; `--cert` (one cluster's certificate) never flags break-glass copies.
#[test]
fn scan_knows_which_certificate_each_sealed_folder_is_for() {
    let site = first_day();
    site.ok(&["patch-externalsecrets"], &[]);
    site.commit("patched");
    let o = site.run(&["scan"], &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let scan = |what: &str| {
        let o = site.run(&["scan"], &[]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", stderr(&o));
        stdout(&o)
    };
    let (ai, metal) = (site.out("ai-dev"), site.out("metal"));
    // A value copied from ai-dev's folder into metal's.
    std::fs::copy(
        ai.join("sealed/vllm-api-key.yaml"),
        metal.join("sealed/vllm-api-key.yaml"),
    )
    .unwrap();
    let out = scan("copied");
    assert!(
        out.contains("clusters/metal/secret-source/sealed/vllm-api-key.yaml:")
            && out.contains("stale-sealed-secret")
            && out.contains("copied from another cluster"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1, "{out}");
    git(&site.root, &["checkout", "-q", "--", "."]);
    // A break-glass copy sealed for the cluster's certificate.
    std::fs::copy(
        metal.join("sealed/vllm-api-key.yaml"),
        metal.join("break-glass/vllm-api-key.yaml"),
    )
    .unwrap();
    let out = scan("copy for the cluster");
    assert!(
        out.contains("clusters/metal/secret-source/break-glass/vllm-api-key.yaml:")
            && out.contains("not the break-glass certificate"),
        "{out}"
    );
    git(&site.root, &["checkout", "-q", "--", "."]);
    // A missing copy, and a stray one.
    std::fs::remove_file(ai.join("break-glass/litellm-salt-key.yaml")).unwrap();
    std::fs::copy(
        ai.join("break-glass/vllm-api-key.yaml"),
        ai.join("break-glass/gone-key.yaml"),
    )
    .unwrap();
    let out = scan("missing and stray");
    assert!(
        out.contains("break-glass/litellm-salt-key.yaml") && out.contains("no break-glass copy"),
        "{out}"
    );
    assert!(
        out.contains("break-glass/gone-key.yaml") && out.contains("stray"),
        "{out}"
    );
    std::fs::remove_file(ai.join("break-glass/gone-key.yaml")).unwrap();
    git(&site.root, &["checkout", "-q", "--", "."]);
    // --cert: ai-dev's certificate over ai-dev's folder; its break-glass copies are not flagged.
    let o = site.run(
        &["scan", "--cert", p(&data(AI_DEV_CERT)), "clusters/ai-dev"],
        &[],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}
