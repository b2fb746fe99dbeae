//! `sealstrap scan --staged`, `--history`, the baseline and `--output sarif` (issue 26), on
//! throwaway git repositories. Every credential is generated at test time, and no output of any
//! run may hold one.

use std::path::Path;

use crate::common::*;
use rand::RngExt;

/// A fresh random value from `alphabet`.
fn random(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn aws_key_id() -> String {
    format!("AKIA{}", random(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
}
fn github_token() -> String {
    format!("ghp_{}", random(ALNUM, 36))
}
fn password() -> String {
    format!(
        "{}{}",
        random(b"abcdefghijklmnopqrstuvwxyz", 1),
        random(ALNUM, 23)
    )
}

/// Runs sealstrap in `dir`; every output is kept to check no value leaked.
struct Repo {
    dir: tempfile::TempDir,
    outputs: Vec<String>,
}

impl Repo {
    fn new() -> Repo {
        Repo {
            dir: git_repo(),
            outputs: Vec::new(),
        }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn git(&self, args: &[&str]) {
        git(self.path(), args);
    }
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        let o = std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(self.path())
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    }
    fn scan(&mut self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["scan"];
        all.extend(args);
        let o = run_in(self.path(), &all, b"", &[]);
        self.outputs.push(stdout(&o));
        self.outputs.push(stderr(&o));
        o
    }
    /// No output so far holds any of `values`.
    fn assert_never_shown(&self, values: &[&str]) {
        for out in &self.outputs {
            for v in values {
                assert!(!out.contains(v), "an output shows a planted value");
            }
        }
    }
}

#[test]
fn a_staged_secret_is_found_though_the_work_tree_no_longer_holds_it() {
    let mut r = Repo::new();
    let key = aws_key_id();
    r.write("README.md", "# app\n");
    r.commit("readme");
    r.write(
        ".env",
        &format!("REGION=eu-west-1\nAWS_ACCESS_KEY_ID={key}\n"),
    );
    r.git(&["add", ".env"]);
    // The work tree is fixed, the index is not: the commit would carry the key.
    r.write(".env", "REGION=eu-west-1\n");
    let o = r.scan(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = r.scan(&["--staged"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(".env:2: secret-like-value: an AWS access key id"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("1 staged file(s) scanned"),
        "{}",
        stderr(&o)
    );
    // What pre-commit passes: the staged version of the files named.
    let o = r.scan(&["--staged", ".env"]);
    assert_eq!(o.status.code(), Some(1));
    let o = r.scan(&["--staged", "README.md"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Once committed and a clean change staged beside it, the commit carries only the clean
    // change; naming the folder checks every staged file under it.
    r.git(&["commit", "-q", "-m", "the index, key and all"]);
    r.write("notes.md", "nothing secret\n");
    r.git(&["add", "notes.md"]);
    let o = r.scan(&["--staged"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("1 staged file(s) scanned, nothing found"));
    let o = r.scan(&["--staged", "."]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains(".env:2:"), "{}", stdout(&o));
    // Outside a repository --staged is a usage error.
    let outside = tempfile::tempdir().unwrap();
    let o = run_in(outside.path(), &["scan", "--staged"], b"", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not inside a git repository"),
        "{}",
        stderr(&o)
    );
    r.assert_never_shown(&[&key, &key[4..]]);
}

#[test]
fn a_secret_added_then_removed_in_history_is_found_once_and_named_by_its_commit() {
    let mut r = Repo::new();
    let token = github_token();
    let pw = password();
    r.write("app/config.yaml", &format!("name: app\ntoken: {token}\n"));
    let first = r.commit("add config");
    r.write("app/other.yaml", "replicas: 2\n");
    r.commit("unrelated change: the config blob is reachable from both commits");
    r.write(
        "app/config.yaml",
        "name: app\ntokenFile: /run/secrets/token\n",
    );
    r.write("db/values.yaml", &format!("auth:\n  password: {pw}\n"));
    let third = r.commit("move the token out, add the db");
    std::fs::remove_file(r.path().join("db/values.yaml")).unwrap();
    let fourth = r.commit("drop the db values");
    // The work tree is clean; the history is not.
    let o = r.scan(&[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = r.scan(&["--history"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let want = [
        format!(
            "{}:app/config.yaml:2: secret-like-value: a GitHub token",
            &first[..12]
        ),
        format!(
            "{}:db/values.yaml:2: secret-like-value: a random-looking value",
            &third[..12]
        ),
    ];
    for w in &want {
        assert!(out.contains(w.as_str()), "{w}: {out}");
    }
    assert_eq!(out.lines().count(), 2, "each blob once: {out}");
    assert!(
        stderr(&o).contains("of 4 commit(s) scanned"),
        "{}",
        stderr(&o)
    );
    // JSON names the commit in full.
    let o = r.scan(&["--history", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let commits: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["commit"].as_str().unwrap())
        .collect();
    assert!(commits.contains(&first.as_str()) && commits.contains(&third.as_str()));
    // A range: the commits after the third hold nothing new.
    let o = r.scan(&["--history", &format!("{third}..{fourth}")]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = r.scan(&["--history", &format!("{first}..{third}")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("db/values.yaml") && !stdout(&o).contains("config.yaml"));
    // Paths after `--` limit the history to them.
    let o = r.scan(&["--history", "--", "db"]);
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    // A range that is not one is a usage error.
    let o = r.scan(&["--history", "no-such-branch..HEAD"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("git could not list the history"),
        "{}",
        stderr(&o)
    );
    let o = r.scan(&["--history=--exec=x"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    r.assert_never_shown(&[&token, &token[4..], &pw]);
}

#[test]
fn a_baseline_acknowledges_todays_findings_and_only_new_ones_fail() {
    let mut r = Repo::new();
    let (pw, token, new_token) = (password(), github_token(), github_token());
    r.write(
        "values.yaml",
        &format!("db:\n  password: {pw}\nci:\n  token: {token}\nsecret: {}  # sealstrap:allow a public test vector\n", password()),
    );
    r.commit("old repository");
    let o = r.scan(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--baseline write"), "{}", stderr(&o));
    let o = r.scan(&["--baseline", "write"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("wrote .sealstrap-baseline: 2 finding(s) acknowledged"),
        "{}",
        stderr(&o)
    );
    let baseline = std::fs::read_to_string(r.path().join(".sealstrap-baseline")).unwrap();
    assert!(!baseline.contains(&pw) && !baseline.contains(&token[4..]));
    assert_eq!(
        baseline.matches("\"fingerprint\":").count(),
        2,
        "{baseline}"
    );
    r.outputs.push(baseline);
    // Acknowledged: exit 0, said; the allowed finding keeps its reason.
    let o = r.scan(&[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("2 acknowledged in .sealstrap-baseline"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("allowed   values.yaml:5: secret-like-value: a public test vector")
    );
    // The baseline itself is committed and scanned: nothing in it.
    r.commit("baseline");
    assert!(r.scan(&[]).status.success());
    // Moved lines keep their fingerprint.
    let moved = std::fs::read_to_string(r.path().join("values.yaml")).unwrap();
    r.write("values.yaml", &format!("# moved\n\n{moved}"));
    assert!(r.scan(&[]).status.success());
    // A new secret fails, alone.
    r.write(
        "values.yaml",
        &format!("# moved\n\n{moved}extra:\n  token: {new_token}\n"),
    );
    let o = r.scan(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    assert!(stdout(&o).starts_with("values.yaml:9: secret-like-value: a GitHub token"));
    // --baseline off shows everything.
    let o = r.scan(&["--baseline", "off"]);
    assert_eq!(stdout(&o).lines().count(), 3, "{}", stdout(&o));
    // A private key is never acknowledged: writing the baseline still fails on it.
    std::fs::copy(
        vector_key("controller-2048.key.pem"),
        r.path().join("backup.pem"),
    )
    .unwrap();
    let o = r.scan(&["--baseline", "write"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("backup.pem:1: secret-like-value: a PEM private key"));
    std::fs::remove_file(r.path().join("backup.pem")).unwrap();
    // A broken baseline is an error that says how to fix it, not an empty baseline.
    r.write(".sealstrap-baseline", "{\"version\": 1}\n");
    let o = r.scan(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(".sealstrap-baseline: it is not a sealstrap scan baseline")
            && stderr(&o).contains("--baseline write"),
        "{}",
        stderr(&o)
    );
    r.assert_never_shown(&[&pw, &token, &new_token, &token[4..], &new_token[4..]]);
}

#[test]
fn a_history_baseline_keeps_the_work_trees_entries() {
    let mut r = Repo::new();
    let (old, current) = (github_token(), password());
    r.write("ci.env", &format!("GITHUB_TOKEN={old}\n"));
    r.commit("leak");
    r.write("ci.env", "GITHUB_TOKEN_FILE=/run/secrets/gh\n");
    r.write("db.env", &format!("DB_PASSWORD={current}\n"));
    r.commit("rotate, and a new leak");
    assert!(r.scan(&["--baseline", "write"]).status.success());
    assert!(
        r.scan(&["--history", "--baseline", "write"])
            .status
            .success()
    );
    let baseline = std::fs::read_to_string(r.path().join(".sealstrap-baseline")).unwrap();
    assert_eq!(
        baseline.matches("\"fingerprint\":").count(),
        3,
        "{baseline}"
    );
    assert_eq!(baseline.matches("\"commit\":").count(), 2, "{baseline}");
    assert!(r.scan(&[]).status.success());
    assert!(r.scan(&["--history"]).status.success());
    // Writing the work tree's again keeps the history's.
    assert!(r.scan(&["--baseline", "write"]).status.success());
    assert!(r.scan(&["--history"]).status.success());
    r.assert_never_shown(&[&old, &old[4..], &current]);
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_suppressions_and_no_value() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let mut r = Repo::new();
    let (key, pw, token) = (aws_key_id(), password(), github_token());
    r.write(
        "deploy/run.sh",
        &format!("export AWS_ACCESS_KEY_ID={key}\n"),
    );
    r.write(
        "apps/db values.yaml",
        &format!("password: {pw}\nlegacy: {token}  # sealstrap:allow revoked in 2024, kept for the audit\n"),
    );
    r.write(
        "apps/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {user: admin}\n",
    );
    r.write(
        "vendor/chart/values.yaml",
        &format!("token: {}\n", github_token()),
    );
    r.write(
        "sealstrap.yaml",
        "exclude:\n  - path: vendor/\n    reason: third-party charts, scanned upstream\n",
    );
    let first = r.commit("everything");
    let mut logs = Vec::new();
    for args in [
        vec!["--output", "sarif"],
        vec!["--output", "sarif", "--history"],
    ] {
        let o = r.scan(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let log: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{args:?}: {errors:#?}");
        logs.push(log);
    }
    // The validator does reject what SARIF does not allow.
    let mut broken = logs[0].clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    broken["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert_eq!(validator.iter_errors(&broken).count(), 2);
    let results = logs[0]["runs"][0]["results"].as_array().unwrap();
    let by_rule = |id: &str| {
        results
            .iter()
            .filter(|r| r["ruleId"] == id)
            .collect::<Vec<_>>()
    };
    let aws = by_rule("aws-access-key-id");
    assert_eq!(aws.len(), 1);
    let loc = &aws[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "deploy/run.sh");
    assert_eq!(loc["region"]["startLine"], 1);
    assert!(aws[0].get("suppressions").is_none());
    // A path with a space is a valid URI reference.
    let generic = by_rule("generic-credential");
    assert_eq!(
        generic[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "apps/db%20values.yaml"
    );
    // The inline allow and the exclusion are suppressions with their reasons.
    let gh = by_rule("github-token");
    assert_eq!(gh.len(), 2, "{gh:?}");
    let kinds: Vec<(&str, &str)> = gh
        .iter()
        .map(|r| {
            (
                r["suppressions"][0]["kind"].as_str().unwrap(),
                r["suppressions"][0]["justification"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(kinds.contains(&("inSource", "revoked in 2024, kept for the audit")));
    assert!(kinds.contains(&("external", "third-party charts, scanned upstream")));
    assert_eq!(by_rule("plaintext-secret").len(), 1);
    // Every result's rule is described, with the issuer's documentation where there is one.
    let rules = logs[0]["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for r in results {
        assert!(rules.iter().any(|d| d["id"] == r["ruleId"]), "{r}");
    }
    let aws_rule = rules
        .iter()
        .find(|d| d["id"] == "aws-access-key-id")
        .unwrap();
    assert!(
        aws_rule["helpUri"]
            .as_str()
            .unwrap()
            .starts_with("https://docs.aws.amazon.com/")
    );
    // In history, each result names its commit.
    let h = logs[1]["runs"][0]["results"].as_array().unwrap();
    assert!(
        !h.is_empty()
            && h.iter()
                .all(|r| r["properties"]["commit"] == first.as_str())
    );
    r.assert_never_shown(&[&key, &key[4..], &pw, &token[4..]]);
}

#[test]
fn every_core_or_one_the_findings_are_the_same() {
    let mut r = Repo::new();
    let mut values = Vec::new();
    for i in 0..60 {
        let t = github_token();
        r.write(
            &format!("apps/app{i:02}/values.yaml"),
            &format!("replicas: 1\ntoken: {t}\n"),
        );
        values.push(t);
        r.write(&format!("apps/app{i:02}/README.md"), "nothing here\n");
    }
    r.commit("apps");
    let one = r.scan(&["--jobs", "1", "--output", "json"]);
    let many = r.scan(&["-j", "4", "--output", "json"]);
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(stdout(&one), stdout(&many));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&one))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        60
    );
    let h1 = r.scan(&["--history", "-j", "1"]);
    let h4 = r.scan(&["--history", "-j", "4"]);
    assert_eq!(stdout(&h1), stdout(&h4));
    assert_eq!(stdout(&h1).lines().count(), 60);
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    r.assert_never_shown(&refs);
}

/// `--history` reports leaks only: the platform as first committed has ExternalSecrets without
/// a property (a finding of the work-tree scan until `patch-externalsecrets` runs), and an old
/// commit that broke a rule of the tree leaked nothing. A leak beside them is still found.
#[test]
fn history_reports_leaks_not_the_rules_of_the_tree_as_it_stands() {
    let mut r = Repo::new();
    copy_tree(&data("platform"), r.path());
    std::fs::rename(r.path().join("gitignore"), r.path().join(".gitignore")).unwrap();
    r.commit("platform");
    let o = r.scan(&[]);
    assert!(
        stdout(&o).contains("missing-property"),
        "the work tree scan judges the tree: {}",
        stdout(&o)
    );
    let o = r.scan(&["--history"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains("missing-property"), "{}", stdout(&o));
    let token = github_token();
    r.write("app/config.yaml", &format!("token: {token}\n"));
    r.commit("a leak");
    let o = r.scan(&["--history"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("app/config.yaml:1: secret-like-value"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("missing-property"), "{}", stdout(&o));
    r.assert_never_shown(&[&token]);
}

/// A Dex copy committed once and then renamed (or its bytes committed again under another
/// name) is still found by `--history` under the path it was committed at; so is a committed
/// temporary file of it (a killed write's `.dex-admin-password.PID.N.tmp`).
#[test]
fn history_finds_a_dex_copy_that_was_renamed_and_its_temporary() {
    let mut r = Repo::new();
    let pw = password();
    r.write("secrets/ai-dev/dex-admin-password", &pw);
    r.commit("oops");
    r.git(&["mv", "secrets/ai-dev/dex-admin-password", "pw.bak"]);
    r.commit("renamed");
    r.write("secrets/metal/.dex-admin-password.4242.7.tmp", &password());
    r.commit("a temporary");
    let o = r.scan(&["--history"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("secrets/ai-dev/dex-admin-password") && out.contains("committed-plaintext"),
        "{out}"
    );
    assert!(
        out.contains("secrets/metal/.dex-admin-password.4242.7.tmp"),
        "{out}"
    );
    r.assert_never_shown(&[&pw]);
}
