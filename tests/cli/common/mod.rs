//! Helpers shared by the CLI tests: run the real binary, find fixtures, run the validator.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A path as the `&str` an argument list takes (the test paths are UTF-8).
pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A fresh temporary folder with `git init` run in it.
pub fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    dir
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn data(rel: &str) -> PathBuf {
    root().join("tests/data").join(rel)
}

pub fn vector_key(name: &str) -> PathBuf {
    data(&format!("vectors/keys/{name}"))
}

/// The binary under test; `SEALSTRAP_TEST_BIN` runs the tests against another build (to record
/// a snapshot with the binary of an earlier commit, say).
pub fn bin() -> PathBuf {
    std::env::var_os("SEALSTRAP_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sealstrap")))
}

/// Runs sealstrap with `args`, feeding `stdin`, in `cwd`, with a clean sealed-secrets env.
pub fn run_in(cwd: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("SEALED_SECRETS_") || k == "KUBECONFIG" {
            cmd.env_remove(k);
        }
    }
    // No kubeconfig: the namespace default is `default`, as on an air-gapped machine.
    cmd.env("HOME", cwd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run sealstrap");
    {
        let mut sin = child.stdin.take().unwrap();
        let _ = sin.write_all(stdin);
    }
    child.wait_with_output().unwrap()
}

pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), args, stdin, &[])
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub mod fake_api;
pub mod reference;
pub mod schema;
pub mod snapshot;

/// Strict schema validation from the repository alone (see `schema.rs`).
#[allow(unused_imports)]
pub use schema::validate;

/// The objects `kubectl kustomize DIR` would build from a plain kustomization (resources only,
/// files or folders with their own kustomization), read without kubectl. CI cross-checks the
/// same folders with the real `kubectl kustomize` (`.ci/run`).
pub fn kustomize(dir: &Path) -> Vec<serde_json::Value> {
    let k = dir.join("kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap_or_else(|e| panic!("{}: {e}", k.display()));
    let doc = &sealstrap::yaml::parse_documents(&text).unwrap()[0];
    let mut out = Vec::new();
    for r in doc["resources"].as_array().into_iter().flatten() {
        let p = dir.join(r.as_str().unwrap());
        if p.is_dir() {
            out.extend(kustomize(&p));
        } else {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("resource {}: {e}", p.display()));
            out.extend(sealstrap::yaml::parse_documents(&text).unwrap());
        }
    }
    out
}

/// Replaces every sealed value (base64 runs of 300+ characters) with `<SEALED>`.
pub fn mask_sealed(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=';
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_b64(chars[i]) {
            let start = i;
            while i < chars.len() && is_b64(chars[i]) {
                i += 1;
            }
            if i - start >= 300 {
                out.push_str("<SEALED>");
            } else {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Copies the folder `from` to `to` (created), files and subfolders.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Runs git in `dir` (quietly, with a fixed identity) and requires success.
pub fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args([
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "user.name=test",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is needed for this test");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A fresh checkout of the platform fixture (tests/data/platform, its `.gitignore` in place),
/// committed on `main`.
pub fn platform_checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_tree(&data("platform"), root);
    std::fs::rename(root.join("gitignore"), root.join(".gitignore")).unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "platform"]);
    dir
}

/// The fleet file the README shows: the fork's key, each environment's certificate, the key
/// shared.
pub const README_FLEET_FILE: &str = "extra:\n  example-token: {generate: hex32}\nenvironments:\n  ai-dev: {cert: clusters/ai-dev/controller.crt}\n  metal: {cert: clusters/metal/controller.crt}\nvalues:\n  example-token: shared\n";

/// A new age identity written to `dir/name`: (its file, its public recipient).
pub fn age_identity(dir: &Path, name: &str) -> (PathBuf, String) {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("# test identity\n{}\n", id.to_string().expose_secret()),
    )
    .unwrap();
    (path, id.to_public().to_string())
}
