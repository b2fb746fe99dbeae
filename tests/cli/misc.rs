//! Completions, the man page, --version and --help, as a user meets them.

use crate::common::*;

#[test]
fn bash_completion_loads() {
    let bin = bin();
    let script = format!(
        "source <({} completions bash) && complete -p sealstrap",
        bin.display()
    );
    let o = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("_sealstrap sealstrap"));
    for shell in ["zsh", "fish"] {
        let o = run(&["completions", shell], b"");
        assert!(o.status.success());
        assert!(stdout(&o).contains("patch-externalsecrets"), "{shell}");
    }
}

#[test]
fn man_page_renders() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["man"], b"");
    assert!(o.status.success());
    let page = dir.path().join("sealstrap.1");
    std::fs::write(&page, &o.stdout).unwrap();
    let o = std::process::Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man(1) is needed for this test");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for section in [
        "SEALSTRAP SEAL",
        "SEALSTRAP KUBESEAL",
        "SEALSTRAP VERIFY",
        "--require-complete",
    ] {
        assert!(
            text.contains(section),
            "{section} missing from the rendered page"
        );
    }
}

#[test]
fn version_names_the_git_revision() {
    let o = run(&["--version"], b"");
    assert!(o.status.success());
    let v = stdout(&o);
    assert!(
        v.starts_with(&format!("sealstrap {} (git ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
}

#[test]
fn help_lists_exit_codes() {
    let o = run(&["--help"], b"");
    assert!(stdout(&o).contains("3  seal --require-complete"));
}

/// Offline options are listed under Options, never under the Cluster or ESO wiring headings that
/// the flattened groups open (clap keeps a heading for every argument after it).
#[test]
fn help_headings_hold_only_their_own_options() {
    for cmd in [
        &["seal", "--help"][..],
        &["rotate", "--help"],
        &["reset-dex-admin", "--help"],
    ] {
        let o = run_in(&root(), cmd, b"", &[]);
        assert!(o.status.success());
        let help = stdout(&o);
        let mut heading = String::new();
        let mut under: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for line in help.lines() {
            if !line.starts_with(' ') && line.ends_with(':') {
                heading = line.trim_end_matches(':').to_string();
            } else if line.starts_with(' ')
                && line.trim_start().starts_with('-')
                && let Some(flag) = line
                    .trim_start()
                    .split([' ', ','])
                    .find(|w| w.starts_with("--"))
            {
                under
                    .entry(heading.clone())
                    .or_default()
                    .push(flag.to_string());
            }
        }
        let cluster = &under["Cluster"];
        assert_eq!(
            cluster,
            &[
                "--kubeconfig",
                "--context",
                "--request-timeout",
                "--controller-name",
                "--controller-namespace"
            ],
            "{cmd:?}: {help}"
        );
        assert!(
            under["ESO wiring"].iter().all(|f| !f.contains("out")),
            "{cmd:?}"
        );
        for offline in ["--out", "--dry-run", "--value-file", "--config", "--cert"] {
            assert!(
                under["Options"].iter().any(|f| f == offline),
                "{cmd:?}: {offline} not under Options: {help}"
            );
        }
    }
}

/// A stderr that cannot be written (a full disk, `2>/dev/full`) loses the notes, not the run:
/// the command finishes, writes what it writes and exits as it would (std's `eprintln!` would
/// panic halfway, exit 101).
#[test]
fn an_unwritable_stderr_is_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let cert = data("vectors/keys/controller-2048.crt.pem");
    let status = std::process::Command::new(bin())
        .args(["seal", "--cert", p(&cert), "--bcrypt-cost", "10"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create("/dev/full").unwrap())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        dir.path()
            .join("secret-source/kustomization.yaml")
            .is_file()
    );
}
