//! The kubeseal drop-in, run as a real binary: output validity, stability, compatibility with
//! the vectors' keys, kubeseal's flags and its error conditions.

use std::path::Path;

use crate::common::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealstrap::{objects, yaml};
use serde_json::Value;

const CERT: &str = "vectors/keys/controller-4096.crt.pem";
const KEY: &str = "vectors/keys/controller-4096.key.pem";

/// Items of every Secret in a fixture, as `name -> key -> base64(plaintext)`.
fn expected_items(fixture: &str, default_ns: &str) -> Vec<(String, String, Value)> {
    let text = std::fs::read_to_string(data(fixture)).unwrap();
    yaml::parse_documents(&text)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let s = objects::parse_secret(d, i + 1).ok().unwrap();
            let data: serde_json::Map<String, Value> = s
                .items
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(STANDARD.encode(v))))
                .collect();
            let ns = s.namespace().unwrap_or(default_ns).to_string();
            (ns, s.name().unwrap().to_string(), Value::Object(data))
        })
        .collect()
}

#[test]
fn output_validates_and_unseals_with_the_vector_key() {
    let dir = tempfile::tempdir().unwrap();
    let cert = data(CERT);
    let mut outputs = Vec::new();
    for fixture in [
        "secrets/opaque.yaml",
        "secrets/multi.yaml",
        "secrets/opaque.json",
    ] {
        for fmt in ["yaml", "json"] {
            let out = dir
                .path()
                .join(format!("{}.{fmt}", fixture.replace(['/', '.'], "-")));
            let o = run_in(
                dir.path(),
                &[
                    "kubeseal",
                    "--cert",
                    p(&cert),
                    "-f",
                    p(&data(fixture)),
                    "-o",
                    fmt,
                    "-w",
                    p(&out),
                ],
                b"",
                &[],
            );
            assert!(o.status.success(), "{fixture} {fmt}: {}", stderr(&o));
            assert!(o.stdout.is_empty());
            outputs.push((fixture, out));
        }
    }
    // The validator reads one JSON document per file (kubectl also reads JSON streams, as
    // kubeseal writes them for several Secrets): split JSON streams into one file each.
    let mut to_validate = Vec::new();
    for (_, out) in &outputs {
        if out.extension().unwrap() == "json" {
            let text = std::fs::read_to_string(out).unwrap();
            for (i, doc) in yaml::parse_documents(&text).unwrap().iter().enumerate() {
                let part = out.with_extension(format!("{i}.json"));
                std::fs::write(&part, serde_json::to_string_pretty(doc).unwrap()).unwrap();
                to_validate.push(part);
            }
        } else {
            to_validate.push(out.clone());
        }
    }
    let paths: Vec<&Path> = to_validate.iter().map(|p| p.as_path()).collect();
    let (ok, report) = validate(&paths);
    assert!(ok, "conformance validator refused the output:\n{report}");

    for (fixture, out) in &outputs {
        let o = run(
            &[
                "unseal",
                "--private-key",
                p(&data(KEY)),
                "-o",
                "json",
                p(out),
            ],
            b"",
        );
        assert!(o.status.success(), "{}: {}", out.display(), stderr(&o));
        let got = yaml::parse_documents(&stdout(&o)).unwrap();
        let want = expected_items(fixture, "default");
        assert_eq!(got.len(), want.len());
        for (g, (ns, name, items)) in got.iter().zip(&want) {
            assert_eq!(g["metadata"]["name"], name.as_str());
            if g["metadata"]["name"] != "global-token" {
                assert_eq!(g["metadata"]["namespace"], ns.as_str());
            }
            assert_eq!(&g["data"], items, "{fixture}: {name}");
        }
    }
}

#[test]
fn template_keeps_metadata_but_never_last_applied_or_server_fields() {
    let o = run(
        &[
            "kubeseal",
            "--cert",
            p(&data(CERT)),
            "-f",
            p(&data("secrets/opaque.yaml")),
            "-o",
            "yaml",
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("hunter2"), "plaintext leaked:\n{out}");
    assert!(!out.contains("last-applied"));
    assert!(
        !out.contains("resourceVersion")
            && !out.contains("uid:")
            && !out.contains("creationTimestamp")
    );
    let doc = &yaml::parse_documents(&out).unwrap()[0];
    assert_eq!(doc["spec"]["template"]["metadata"]["labels"]["app"], "db");
    assert_eq!(
        doc["spec"]["template"]["metadata"]["annotations"]["team"],
        "platform"
    );
    assert_eq!(doc["spec"]["template"]["type"], "Opaque");
    // Top-level metadata: name and namespace only (strict has no scope annotation).
    assert_eq!(doc["metadata"].as_object().unwrap().len(), 2);
}

fn snapshot(name: &str, actual: &str) {
    let path = data(&format!("snapshots/{name}"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {} (UPDATE_SNAPSHOTS=1 writes it)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "snapshot {name} differs");
}

#[test]
fn yaml_and_json_output_are_stable_apart_from_ciphertexts() {
    for (fixture, fmt, snap) in [
        ("secrets/opaque.yaml", "yaml", "opaque.sealed.yaml"),
        ("secrets/opaque.yaml", "json", "opaque.sealed.json"),
        ("secrets/multi.yaml", "yaml", "multi.sealed.yaml"),
        ("secrets/multi.yaml", "json", "multi.sealed.json"),
    ] {
        let (cert, input) = (data(CERT), data(fixture));
        let args = ["kubeseal", "--cert", p(&cert), "-f", p(&input), "-o", fmt];
        let a = run(&args, b"");
        let b = run(&args, b"");
        assert!(a.status.success(), "{}", stderr(&a));
        assert_ne!(a.stdout, b.stdout, "two runs must use fresh session keys");
        assert_eq!(mask_sealed(&stdout(&a)), mask_sealed(&stdout(&b)));
        snapshot(snap, &mask_sealed(&stdout(&a)));
    }
}

#[test]
fn called_as_kubeseal_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kubeseal");
    std::os::unix::fs::symlink(bin(), &link).unwrap();
    let secret = std::fs::read(data("secrets/opaque.yaml")).unwrap();
    let o = std::process::Command::new(&link)
        .args(["--cert", p(&data(CERT)), "-o", "yaml"])
        .stdin(std::fs::File::open(data("secrets/opaque.yaml")).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"));
    assert!(!secret.is_empty());
    let o = std::process::Command::new(&link)
        .arg("--help")
        .output()
        .unwrap();
    assert!(stdout(&o).contains("--merge-into keeps the file's format"));
}

#[test]
fn env_fallbacks_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let secret = std::fs::read(data("secrets/opaque.yaml")).unwrap();
    let cert = data(CERT);
    let o = run_in(
        dir.path(),
        &["kubeseal", "-o", "yaml"],
        &secret,
        &[("SEALED_SECRETS_CERT", p(&cert))],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The flag wins over a broken env value.
    let o = run_in(
        dir.path(),
        &["kubeseal", "--cert", p(&cert)],
        &secret,
        &[
            ("SEALED_SECRETS_CERT", "/nonexistent.pem"),
            ("SEALED_SECRETS_FORMAT", "yaml"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("---\n"),
        "SEALED_SECRETS_FORMAT=yaml applies"
    );
}

#[test]
fn format_follows_the_output_file_extension_unless_given() {
    let dir = tempfile::tempdir().unwrap();
    let secret = std::fs::read(data("secrets/opaque.yaml")).unwrap();
    let cert = data(CERT);
    for (file, explicit, yaml_expected) in [
        ("a.yaml", None, true),
        ("b.yml", None, true),
        ("c.json", None, false),
        ("d.out", None, false),
        ("e.yaml", Some("json"), false),
    ] {
        let out = dir.path().join(file);
        let mut args = vec!["kubeseal", "--cert", p(&cert), "-w", p(&out)];
        if let Some(f) = explicit {
            args.extend(["-o", f]);
        }
        let o = run_in(dir.path(), &args, &secret, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text.starts_with("---\n"), yaml_expected, "{file}");
    }
}

#[test]
fn raw_values_are_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let value = dir.path().join("value");
    std::fs::write(&value, b"line one\nline two\n").unwrap();
    let cert = data(CERT);
    let o = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--cert",
            p(&cert),
            "--raw",
            "--name",
            "app-secret",
            "-n",
            "ns-1",
            "--from-file",
            &format!("pw={}", p(&value)),
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sealed = stdout(&o);
    assert!(!sealed.ends_with('\n'), "bare base64 without newline");
    let keys = sealstrap::keys::parse_private_keys(&std::fs::read(data(KEY)).unwrap()).unwrap();
    let plain = sealstrap::seal::unseal(&keys, b"ns-1/app-secret", &sealed).unwrap();
    assert_eq!(plain.as_slice(), b"line one\nline two\n");

    // From stdin, cluster-wide needs neither name nor namespace.
    let o = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--cert",
            p(&cert),
            "--raw",
            "--scope",
            "cluster-wide",
        ],
        b"v",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        sealstrap::seal::unseal(&keys, b"", &stdout(&o))
            .unwrap()
            .as_slice(),
        b"v"
    );

    let o = run_in(
        dir.path(),
        &["kubeseal", "--cert", p(&cert), "--raw", "-n", "x"],
        b"v",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("must provide the --name flag with --raw and --scope strict"));
}

#[test]
fn merge_into_keeps_yaml_and_the_files_scope() {
    let dir = tempfile::tempdir().unwrap();
    let cert = data(CERT);
    let target = dir.path().join("sealed.yaml");
    std::fs::copy(data("vectors/sealedsecrets/namespace-wide.yaml"), &target).unwrap();
    let before = yaml::parse_documents(&std::fs::read_to_string(&target).unwrap()).unwrap();
    let input = b"apiVersion: v1\nkind: Secret\nmetadata: {name: whatever, labels: {extra: 'yes'}}\nstringData: {second: two}\n";
    let o = run_in(
        dir.path(),
        &["kubeseal", "--cert", p(&cert), "--merge-into", p(&target)],
        input,
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.starts_with("---\n"), "stays YAML");
    let after = &yaml::parse_documents(&text).unwrap()[0];
    assert_eq!(after["metadata"], before[0]["metadata"]);
    assert_eq!(
        after["spec"]["encryptedData"]["token"],
        before[0]["spec"]["encryptedData"]["token"]
    );
    assert_eq!(
        after["spec"]["template"]["metadata"]["labels"]["extra"],
        "yes"
    );
    let o = run(
        &[
            "unseal",
            "--private-key",
            p(&data(KEY)),
            "-o",
            "json",
            p(&target),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let secret = &yaml::parse_documents(&stdout(&o)).unwrap()[0];
    assert_eq!(secret["data"]["second"], STANDARD.encode("two"));
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(data("vectors/sealedsecrets/namespace-wide.expected.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(secret["data"]["token"], expected["data"]["token"]);

    // An explicit scope that contradicts the file is refused and the file is untouched.
    let o = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--cert",
            p(&cert),
            "--merge-into",
            p(&target),
            "--scope",
            "strict",
        ],
        input,
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("does not match the --merge-into file"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), text);
}

#[test]
fn recovery_unseal_prints_the_secret() {
    let o = run(
        &[
            "kubeseal",
            "--recovery-unseal",
            "--recovery-private-key",
            &format!(
                "{},{}",
                p(&data("vectors/keys/other-4096.key.pem")),
                p(&data(KEY))
            ),
            "-f",
            p(&data("vectors/sealedsecrets/strict-opaque.yaml")),
            "-o",
            "yaml",
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let doc = &yaml::parse_documents(&stdout(&o)).unwrap()[0];
    assert_eq!(doc["kind"], "Secret");
    assert_eq!(doc["data"]["username"], "YWRtaW4=");
}

#[test]
fn cluster_flags_without_a_cluster_fail_clearly() {
    let sealed = std::fs::read(data("vectors/sealedsecrets/strict-opaque.yaml")).unwrap();
    let secret = std::fs::read(data("secrets/opaque.yaml")).unwrap();
    let cases: [(&[&str], &[u8]); 3] = [
        (&["kubeseal", "--fetch-cert"], b""),
        (
            &[
                "kubeseal",
                "--re-encrypt",
                "--controller-name",
                "x",
                "--controller-namespace",
                "y",
            ],
            &sealed,
        ),
        (&["kubeseal", "-o", "yaml"], &secret),
    ];
    for (args, input) in cases {
        let o = run(args, input);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains("no kubeconfig found"), "{args:?}: {err}");
        assert!(err.contains("--kubeconfig"), "{args:?}");
    }
}

/// One bad input: the exit code, a message naming the problem, and no output file.
fn assert_refused(args: &[&str], stdin: &[u8], expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.yaml");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-w", p(&out)]);
    let o = run_in(dir.path(), &all, stdin, &[]);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(expect),
        "{args:?}: expected {expect:?} in:\n{err}"
    );
    assert!(err.starts_with("error: "), "kubeseal-style message: {err}");
    assert!(!out.exists(), "{args:?} left an output file");
    assert!(o.stdout.is_empty(), "{args:?} printed output");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp files left"
    );
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_nothing_written() {
    let good = std::fs::read(data("secrets/opaque.yaml")).unwrap();
    let cert = data(CERT);
    let c = p(&cert);
    let expired = data("vectors/keys/expired-2048.crt.pem");
    let ec = data("vectors/keys/ec-p256.crt.pem");
    let weak = data("certs/rsa-1024.crt.pem");
    let not_pem = data("certs/not-pem.txt");
    let key_only = data("certs/key-only.pem");
    assert_refused(
        &["kubeseal", "--cert", p(&expired)],
        &good,
        "failed to encrypt using an expired certificate on November 28, 2026",
    );
    assert_refused(
        &["kubeseal", "--cert", p(&ec)],
        &good,
        "expected RSA public key but found an EC key",
    );
    assert_refused(
        &["kubeseal", "--cert", p(&weak)],
        &good,
        "has 1024 bits; sealstrap refuses keys under 2048 bits",
    );
    assert_refused(
        &["kubeseal", "--cert", p(&not_pem)],
        &good,
        "not a PEM file",
    );
    assert_refused(
        &["kubeseal", "--cert", p(&key_only)],
        &good,
        "no CERTIFICATE block in the PEM data (found: RSA PRIVATE KEY)",
    );
    assert_refused(
        &["kubeseal", "--cert", "/nonexistent/pub.pem"],
        &good,
        "cannot read /nonexistent/pub.pem",
    );
    assert_refused(
        &["kubeseal", "--cert", c],
        b"apiVersion: v1\nkind: Secret\nmetadata: {namespace: a}\nstringData: {k: v}\n",
        "missing metadata.name in input Secret",
    );
    assert_refused(
        &["kubeseal", "--cert", c],
        b"apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n",
        "secret.data is empty in input Secret",
    );
    assert_refused(
        &["kubeseal", "--cert", c],
        b"apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {pw: 'c2VjcmV0!!'}\n",
        "document 1 (Secret a): data.pw is not valid base64",
    );
    assert_refused(
        &["kubeseal", "--cert", c, "-n", "other"],
        &good,
        "namespace mismatch: document 1 (Secret db-credentials) is in namespace \"app-1\" but --namespace says \"other\"",
    );
    assert_refused(
        &["kubeseal", "--cert", c],
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n stringData: {pw: topsecret}\n",
        "invalid YAML: while parsing a block mapping, did not find expected key at line 5, column 2",
    );
    assert_refused(
        &["kubeseal", "--cert", c],
        b"{\"kind\": \"Secret\", ",
        "invalid JSON at line 1",
    );
    assert_refused(
        &["kubeseal", "--cert", c, "-o", "xml"],
        &good,
        "unsupported output format: xml",
    );
    // The second document is bad: nothing at all is written for the first.
    let mut two = good.clone();
    two.extend_from_slice(b"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    assert_refused(
        &["kubeseal", "--cert", c],
        &two,
        "document 2: expected a Secret, found kind ConfigMap",
    );
}

#[test]
fn errors_never_contain_secret_values() {
    let o = run(
        &["kubeseal", "--cert", p(&data(CERT))],
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  pw: hunter2-topsecret\n  bad: [unclosed\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("hunter2"), "{}", stderr(&o));
}

#[test]
fn input_and_output_may_not_be_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.yaml");
    std::fs::copy(data("secrets/opaque.yaml"), &f).unwrap();
    let before = std::fs::read(&f).unwrap();
    let o = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--cert",
            p(&data(CERT)),
            "-f",
            p(&f),
            "-w",
            p(&f),
        ],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("same file"));
    assert_eq!(std::fs::read(&f).unwrap(), before);
}

#[test]
fn unwritable_output_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, input) = (data(CERT), data("secrets/opaque.yaml"));
    let seal_to = |out: &Path| {
        run_in(
            dir.path(),
            &[
                "kubeseal",
                "--cert",
                p(&cert),
                "-f",
                p(&input),
                "-w",
                p(out),
            ],
            b"",
            &[],
        )
    };
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // root ignores permission bits: then use an output path under a regular file, which no
    // one can create.
    let as_root = std::fs::write(ro.join("probe"), b"x").is_ok();
    let out = if as_root {
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        file.join("sealed.yaml")
    } else {
        ro.join("sealed.yaml")
    };
    let o = seal_to(&out);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn allow_empty_data_and_the_kubeconfig_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let cert = data(CERT);
    let empty = b"apiVersion: v1\nkind: Secret\nmetadata: {name: placeholder}\n";
    let o = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--cert",
            p(&cert),
            "--allow-empty-data",
            "-o",
            "yaml",
        ],
        empty,
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let doc = &yaml::parse_documents(&stdout(&o)).unwrap()[0];
    assert_eq!(doc["spec"]["encryptedData"], serde_json::json!({}));
    // No namespace in the Secret: the kubeconfig context's namespace, read from the file only.
    assert_eq!(doc["metadata"]["namespace"], "default");
    let kc = dir.path().join("kc");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\ncurrent-context: work\ncontexts:\n- name: work\n  context: {cluster: c, user: u, namespace: team-a}\n- name: other\n  context: {cluster: c, user: u, namespace: team-b}\nclusters: []\nusers: []\n",
    )
    .unwrap();
    let o = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--cert",
            p(&cert),
            "--allow-empty-data",
            "-o",
            "yaml",
        ],
        empty,
        &[("KUBECONFIG", p(&kc))],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        yaml::parse_documents(&stdout(&o)).unwrap()[0]["metadata"]["namespace"],
        "team-a"
    );
    let o = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--cert",
            p(&cert),
            "--allow-empty-data",
            "-o",
            "yaml",
            "--kubeconfig",
            p(&kc),
            "--context",
            "other",
        ],
        empty,
        &[],
    );
    assert_eq!(
        yaml::parse_documents(&stdout(&o)).unwrap()[0]["metadata"]["namespace"],
        "team-b"
    );
}
