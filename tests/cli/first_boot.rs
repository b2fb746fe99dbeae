//! Issue 27: the escrowed key is in the cluster before the controller starts, and the key's life
//! offline. On the platform fixture with two environments (ai-dev, metal), each with its own
//! escrowed key, sealed and committed:
//! - `key export --to FORMAT` for every bootstrap: the output passes the bootstrap's own schema
//!   (Talos 1.13 and 1.14, cloud-config, the ClusterResourceSet CRD, the strict core schemas),
//!   and the keys taken back out of it open that environment's committed values and not the
//!   other's;
//! - the export is refused inside a git work tree, on a terminal, in a folder others can enter;
//! - `scan` fails on every export shape committed by mistake, whatever is excluded;
//! - `key usage` on a half-resealed folder; `key retire` refused while a value needs the key;
//! - `doctor --first-boot` against the stand-in API server: a self-made key is BROKEN with the
//!   fix, and without it every link is OK.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::fake_api::{FakeApi, Route};
use crate::common::*;
use age::secrecy::ExposeSecret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealstrap::controller_key::{self as ck, ControllerKey, Template};
use sealstrap::rsa::PrivateKey;
use sealstrap::{escrow, keys, kubeseal, objects};
use serde_json::{Value, json};

/// Each environment's controller key (a vector key pair: the two differ).
const ENVS: [(&str, &str); 2] = [
    ("ai-dev", "controller-2048.key.pem"),
    ("metal", "controller-4096.key.pem"),
];

struct Fleet {
    repo: tempfile::TempDir,
    /// Outside the repository: the identity and the exports.
    outside: tempfile::TempDir,
    id: PathBuf,
}

impl Fleet {
    fn root(&self) -> &Path {
        self.repo.path()
    }

    fn out(&self, env: &str) -> PathBuf {
        self.root().join(format!("clusters/{env}/secret-source"))
    }

    fn run(&self, args: &[&str]) -> Output {
        run_in(self.root(), args, b"", &[])
    }

    fn id(&self) -> &str {
        p(&self.id)
    }

    /// The escrow's keys, opened with the test's identity.
    fn escrowed(&self, env: &str) -> Vec<ControllerKey> {
        let ids = escrow::parse_identities(&std::fs::read(&self.id).unwrap(), &mut || {
            panic!("no passphrase")
        })
        .unwrap();
        let data = std::fs::read(self.out(env).join("controller-keys.age")).unwrap();
        let plain = escrow::decrypt_with_identities(&data, &ids).unwrap();
        ck::parse_key_list(std::str::from_utf8(&plain).unwrap()).unwrap()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The platform with one escrow per environment (what `key new --env ENV` writes, made here from
/// the vector keys so the test needs no RSA-4096 generation), sealed with `seal --all-envs` for
/// each folder's certificate, and committed.
fn fleet() -> Fleet {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    copy_tree(&data("platform"), root);
    std::fs::rename(root.join("gitignore"), root.join(".gitignore")).unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    let outside = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let id = outside.path().join("id.txt");
    std::fs::write(
        &id,
        format!(
            "# test identity\n{}\n",
            identity.to_string().expose_secret()
        ),
    )
    .unwrap();
    let recipients = escrow::parse_recipients([identity.to_public().to_string().as_str()]).unwrap();
    for (i, (env, key)) in ENVS.iter().enumerate() {
        let pem = std::fs::read(vector_key(key)).unwrap();
        let k = ControllerKey::new(
            keys::parse_private_keys(&pem).unwrap().remove(0),
            &Template {
                common_name: None,
                not_before: now() - 86_400,
                ttl_secs: ck::DEFAULT_TTL_SECS,
                serial: [i as u8 + 1; 16],
            },
        )
        .unwrap();
        let out = root.join(format!("clusters/{env}/secret-source"));
        std::fs::create_dir_all(&out).unwrap();
        let list = ck::key_list_yaml(
            std::slice::from_ref(&k),
            "kube-system",
            ck::DEFAULT_KEY_PREFIX,
        )
        .unwrap();
        std::fs::write(
            out.join("controller-keys.age"),
            escrow::encrypt_to(&recipients, list.as_bytes(), false).unwrap(),
        )
        .unwrap();
        std::fs::write(out.join("controller.crt"), ck::cert_bundle(&[k])).unwrap();
        std::fs::write(
            out.join("controller-keys.recipients"),
            escrow::recipients_file(&recipients),
        )
        .unwrap();
    }
    let token = "c".repeat(40);
    let anthropic = format!("sk-ant-api03-{}", "a".repeat(40));
    let o = run_in(
        root,
        &[
            "seal",
            "--all-envs",
            "--bcrypt-cost",
            "10",
            "--accept-cert",
            "ai-dev,metal",
        ],
        b"",
        &[
            ("CLOUDFLARE_API_TOKEN", token.as_str()),
            ("ANTHROPIC_API_KEY", anthropic.as_str()),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "sealed"]);
    Fleet { repo, outside, id }
}

/// Every value of a `sealed/` folder opened with `keys` (the tests' reference decryptor, as in
/// tests/fleet_cli.rs): name -> plaintext, or `None` when some value does not open.
fn open_folder(dir: &Path, keys: &[PrivateKey]) -> Option<BTreeMap<String, String>> {
    let mut all = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for d in kubeseal::parse_sealed_stream(&text).unwrap() {
            let s = objects::unseal_sealed_secret(&d, keys).ok()?;
            all.insert(
                d.name.clone(),
                String::from_utf8(s.items["value"].to_vec()).unwrap(),
            );
        }
    }
    Some(all)
}

/// The key Secrets of a manifest, checked as the controller reads them (type, label, namespace),
/// with their private keys taken out of `tls.key`: (name, key).
fn key_secrets(manifest: &str) -> Vec<(String, PrivateKey)> {
    let docs = sealstrap::yaml::parse_documents(manifest).unwrap();
    let mut out = Vec::new();
    for d in docs.iter().filter(|d| d["kind"] == "Secret") {
        assert_eq!(d["type"], "kubernetes.io/tls", "{d}");
        assert_eq!(d["metadata"]["namespace"], "kube-system");
        assert_eq!(
            d["metadata"]["labels"]["sealedsecrets.bitnami.com/sealed-secrets-key"],
            "active"
        );
        let pem = STANDARD
            .decode(d["data"]["tls.key"].as_str().unwrap())
            .unwrap();
        assert!(
            pem.starts_with(b"-----BEGIN RSA PRIVATE KEY-----\n"),
            "PKCS#1"
        );
        let mut k = keys::parse_private_keys(&pem).unwrap();
        assert_eq!(k.len(), 1);
        out.push((
            d["metadata"]["name"].as_str().unwrap().to_string(),
            k.remove(0),
        ));
    }
    out
}

/// One export case: the flags, and the file it writes.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    file: &'static str,
}

const CASES: [Case; 10] = [
    Case {
        name: "talos-1.14",
        args: &["--to", "talos"],
        file: "sealed-secrets-keys.talos.yaml",
    },
    Case {
        name: "talos-1.13",
        args: &["--to", "talos", "--talos-version", "1.13"],
        file: "sealed-secrets-keys.talos.yaml",
    },
    Case {
        name: "k3s",
        args: &["--to", "k3s"],
        file: "sealed-secrets-keys.yaml",
    },
    Case {
        name: "rke2",
        args: &["--to", "rke2"],
        file: "sealed-secrets-keys.yaml",
    },
    Case {
        name: "k0s",
        args: &["--to", "k0s"],
        file: "sealed-secrets-keys/sealed-secrets-keys.yaml",
    },
    Case {
        name: "cloud-init-k3s",
        args: &["--to", "cloud-init", "--for", "k3s"],
        file: "sealed-secrets-keys.cloud-config.yaml",
    },
    Case {
        name: "cloud-init-rke2",
        args: &["--to", "cloud-init", "--for", "rke2"],
        file: "sealed-secrets-keys.cloud-config.yaml",
    },
    Case {
        name: "cloud-init-kubeadm",
        args: &["--to", "cloud-init", "--for", "kubeadm"],
        file: "sealed-secrets-keys.cloud-config.yaml",
    },
    Case {
        name: "capi",
        args: &["--to", "capi", "--capi-namespace", "fleet"],
        file: "sealed-secrets-keys.capi.yaml",
    },
    Case {
        name: "kubectl",
        args: &["--to", "kubectl"],
        file: "sealed-secrets-keys.yaml",
    },
];

const TALOS_13: &str = "talos-v1.13.9.config.schema.json";
const TALOS_14: &str = "talos-v1.14.0-rc.1.config.schema.json";
const CLOUD_CONFIG: &str = "cloud-init-schema-cloud-config-v1.excerpt.json";

/// Validates one export with its bootstrap's own schema and returns the manifest inside it.
fn validate_export(case: &Case, env: &str, path: &Path, scratch: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains("PRIVATE KEYS IN THE CLEAR") && text.contains("Never commit"),
        "{}: the header says what it is",
        case.name
    );
    let docs = sealstrap::yaml::parse_documents(&text).unwrap();
    let manifest = match case.name {
        "talos-1.14" => {
            assert_eq!(docs.len(), 1);
            let e = crate::common::schema::check_against(TALOS_14, &docs[0]);
            assert!(e.is_empty(), "Talos 1.14 schema: {e:?}");
            // The document is not a Talos 1.13 config: the version flag matters.
            assert!(!crate::common::schema::check_against(TALOS_13, &docs[0]).is_empty());
            assert_eq!(docs[0]["kind"], "KubeInlineManifestConfig");
            assert_eq!(docs[0]["name"], "sealed-secrets-keys");
            docs[0]["manifest"].as_str().unwrap().to_string()
        }
        "talos-1.13" => {
            assert_eq!(docs.len(), 1);
            let e = crate::common::schema::check_against(TALOS_13, &docs[0]);
            assert!(e.is_empty(), "Talos 1.13 schema: {e:?}");
            // 1.14's v1alpha1 cluster section has no inlineManifests any more.
            assert!(!crate::common::schema::check_against(TALOS_14, &docs[0]).is_empty());
            let m = &docs[0]["cluster"]["inlineManifests"][0];
            assert_eq!(m["name"], "sealed-secrets-keys");
            m["contents"].as_str().unwrap().to_string()
        }
        n if n.starts_with("cloud-init") => {
            assert!(text.starts_with("#cloud-config\n"), "cloud-init's marker");
            let e = crate::common::schema::check_against(CLOUD_CONFIG, &docs[0]);
            assert!(e.is_empty(), "cloud-config schema: {e:?}");
            // The schema can say no: an unknown key, a mode that is not a string.
            let mut bad = docs[0].clone();
            bad["write_file"] = json!([]);
            bad["write_files"][0]["permissions"] = json!(384);
            assert_eq!(
                crate::common::schema::check_against(CLOUD_CONFIG, &bad).len(),
                2
            );
            let f = &docs[0]["write_files"][0];
            assert_eq!(f["permissions"], "0600");
            assert_eq!(f["owner"], "root:root");
            let want = match n {
                "cloud-init-k3s" => {
                    "/var/lib/rancher/k3s/server/manifests/sealed-secrets-keys.yaml"
                }
                "cloud-init-rke2" => {
                    "/var/lib/rancher/rke2/server/manifests/sealed-secrets-keys.yaml"
                }
                _ => "/root/sealed-secrets-keys.yaml",
            };
            assert_eq!(f["path"], want);
            assert_eq!(docs[0].get("runcmd").is_some(), n == "cloud-init-kubeadm");
            f["content"].as_str().unwrap().to_string()
        }
        "capi" => {
            let (ok, report) = validate(&[path]);
            assert!(ok, "{report}");
            assert_eq!(docs[0]["kind"], "Secret");
            assert_eq!(docs[0]["type"], "addons.cluster.x-k8s.io/resource-set");
            assert_eq!(docs[0]["metadata"]["namespace"], "fleet");
            let crs = &docs[1];
            assert_eq!(crs["apiVersion"], "addons.cluster.x-k8s.io/v1beta2");
            assert_eq!(crs["kind"], "ClusterResourceSet");
            assert_eq!(crs["spec"]["strategy"], "ApplyOnce");
            assert_eq!(
                crs["spec"]["clusterSelector"]["matchLabels"]["sealstrap.dev/environment"],
                env
            );
            assert_eq!(
                crs["spec"]["resources"],
                json!([{"kind": "Secret", "name": docs[0]["metadata"]["name"]}])
            );
            docs[0]["stringData"]["sealed-secrets-keys.yaml"]
                .as_str()
                .unwrap()
                .to_string()
        }
        _ => {
            let (ok, report) = validate(&[path]);
            assert!(ok, "{report}");
            text.clone()
        }
    };
    // The manifest inside is strict-valid too.
    let inner = scratch.join("inner.yaml");
    std::fs::write(&inner, &manifest).unwrap();
    let (ok, report) = validate(&[inner.as_path()]);
    assert!(ok, "{}: {report}", case.name);
    std::fs::remove_file(&inner).unwrap();
    manifest
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn every_export_passes_its_bootstraps_schema_and_its_keys_open_that_environments_values() {
    let f = fleet();
    // metal gets a second key (the sealing key from now on): the export carries old keys too.
    let o = f.run(&["key", "new", "--env", "metal", "-i", f.id()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let truth: BTreeMap<&str, BTreeMap<String, String>> = ENVS
        .iter()
        .map(|(env, key)| {
            let k = keys::parse_private_keys(&std::fs::read(vector_key(key)).unwrap()).unwrap();
            (
                *env,
                open_folder(&f.out(env).join("sealed"), &k).expect("the vector key opens it"),
            )
        })
        .collect();
    assert!(truth["metal"].len() >= 15 && truth["ai-dev"].len() >= 15);
    let escrowed: BTreeMap<&str, Vec<ControllerKey>> =
        ENVS.iter().map(|(e, _)| (*e, f.escrowed(e))).collect();
    assert_eq!(escrowed["metal"].len(), 2);

    for case in &CASES {
        let dir = f.outside.path().join(case.name);
        let mut args = vec!["key", "export", "--all-envs", "-i", f.id(), "-o", p(&dir)];
        args.extend_from_slice(case.args);
        let o = f.run(&args);
        assert!(o.status.success(), "{}: {}", case.name, stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("PRIVATE KEYS IN THE CLEAR") && err.contains("shred -u"),
            "{}: the summary says what it wrote and when to delete it: {err}",
            case.name
        );
        // It removes only the folders it made, and only when empty.
        let rmdir = err
            .lines()
            .find_map(|l| l.split_once(" && rmdir ").map(|(_, r)| r.to_string()))
            .unwrap_or_else(|| panic!("{err}"));
        let made: Vec<&str> = rmdir.split(' ').collect();
        assert_eq!(
            made.len(),
            if case.name == "k0s" { 5 } else { 3 },
            "{rmdir}"
        );
        assert_eq!(made.last(), Some(&p(&dir)), "the top folder last: {rmdir}");
        assert!(!err.contains("rm -r"), "{err}");
        assert!(o.stdout.is_empty(), "nothing on stdout with -o");
        assert_eq!(mode(&dir), 0o700, "{}", case.name);
        for (env, _) in ENVS {
            let path = dir.join(env).join(case.file);
            assert_eq!(mode(&path), 0o600, "{} {env}", case.name);
            assert_eq!(mode(path.parent().unwrap()), 0o700, "{} {env}", case.name);
            assert!(err.contains(&format!("wrote {}", path.display())), "{err}");
            let manifest = validate_export(case, env, &path, f.outside.path());
            let secrets = key_secrets(&manifest);
            // Every escrowed key, oldest first, the oldest named as the chart's secretName.
            let mut want: Vec<&ControllerKey> = escrowed[env].iter().collect();
            want.sort_by_key(|k| k.cert.not_before);
            assert_eq!(secrets.len(), want.len(), "{} {env}", case.name);
            assert_eq!(secrets[0].0, "sealed-secrets-key");
            for ((name, key), w) in secrets.iter().zip(&want) {
                assert_eq!(
                    key.public_key().spki_der(),
                    w.key.public_key().spki_der(),
                    "{} {env} {name}",
                    case.name
                );
            }
            // The namespace is kube-system: it always exists, so no Namespace object.
            assert!(!manifest.contains("kind: Namespace"));
            // The keys taken out of the export open this environment's committed values, and
            // not the other's.
            let k: Vec<PrivateKey> = secrets.into_iter().map(|(_, k)| k).collect();
            assert_eq!(
                open_folder(&f.out(env).join("sealed"), &k).as_ref(),
                Some(&truth[env]),
                "{} {env}",
                case.name
            );
            let other = if env == "metal" { "ai-dev" } else { "metal" };
            assert!(
                open_folder(&f.out(other).join("sealed"), &k).is_none(),
                "{} {env}: opens {other}'s values",
                case.name
            );
        }
    }
    // A single environment goes straight into -o; a controller namespace of its own comes with
    // its Namespace.
    let dir = f.outside.path().join("single");
    let o = f.run(&[
        "key",
        "export",
        "--env",
        "ai-dev",
        "-i",
        f.id(),
        "--to",
        "kubectl",
        "--controller-namespace",
        "sealed-secrets",
        "-o",
        p(&dir),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(dir.join("sealed-secrets-keys.yaml")).unwrap();
    let docs = sealstrap::yaml::parse_documents(&text).unwrap();
    assert_eq!(docs[0]["kind"], "Namespace");
    assert_eq!(docs[0]["metadata"]["name"], "sealed-secrets");
    assert_eq!(docs[1]["metadata"]["namespace"], "sealed-secrets");
    let (ok, report) = validate(&[dir.as_path()]);
    assert!(ok, "{report}");
    // Nothing in the repository changed.
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(f.root())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).lines().count(),
        3,
        "only key new's escrow, bundle and pin: {}",
        String::from_utf8_lossy(&status.stdout)
    );
}

/// Runs sealstrap with stdout on a pseudo-terminal.
#[cfg(unix)]
fn run_on_terminal(cwd: &Path, args: &[&str]) -> Output {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    std::process::Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::from(slave))
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn the_export_is_refused_inside_a_work_tree_on_a_terminal_and_in_a_folder_others_can_enter() {
    let f = fleet();
    let root = f.root();
    let export = |extra: &[&str]| {
        let mut args = vec![
            "key",
            "export",
            "--env",
            "metal",
            "-i",
            f.id(),
            "--to",
            "k3s",
        ];
        args.extend_from_slice(extra);
        f.run(&args)
    };
    // Inside the work tree, even where .gitignore keeps it out of git.
    let mut gi = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    gi.push_str("/first-boot/\n");
    std::fs::write(root.join(".gitignore"), gi).unwrap();
    for target in [root.join("first-boot"), root.join("clusters/metal/keys")] {
        let o = export(&["-o", p(&target)]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("inside the git work tree")
                && stderr(&o).contains("whatever .gitignore says"),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("/dev/shm"), "a hint where to put it");
        assert!(!target.exists(), "nothing made");
    }
    // Through a symbolic link that leads into the work tree.
    #[cfg(unix)]
    {
        let link = f.outside.path().join("link");
        std::os::unix::fs::symlink(root.join("clusters"), &link).unwrap();
        let o = export(&["-o", p(&link.join("keys"))]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("inside the git work tree"),
            "{}",
            stderr(&o)
        );
        assert!(!root.join("clusters/keys").exists());
    }
    // A folder other users can enter, and a file in place of the folder.
    let open = f.outside.path().join("open");
    std::fs::create_dir(&open).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        let o = export(&["-o", p(&open)]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("can be entered by other users (mode 0755)")
                && stderr(&o).contains("chmod 700"),
            "{}",
            stderr(&o)
        );
        assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0);
    }
    let file = f.outside.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    let o = export(&["-o", p(&file)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a folder"), "{}", stderr(&o));
    // A write that fails half-way (metal's folder is a file) leaves nothing behind: ai-dev's
    // file, written first, is removed again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let half = f.outside.path().join("half");
        std::fs::create_dir(&half).unwrap();
        std::fs::set_permissions(&half, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(half.join("metal"), "in the way").unwrap();
        let o = f.run(&[
            "key",
            "export",
            "--all-envs",
            "-i",
            f.id(),
            "--to",
            "k3s",
            "-o",
            p(&half),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let mut left: Vec<String> = std::fs::read_dir(&half)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["metal"], "ai-dev's export was removed");
    }
    // A terminal: refused before the escrow is opened (no identity needed to be refused).
    #[cfg(unix)]
    {
        let o = run_on_terminal(
            root,
            &["key", "export", "--env", "metal", "--to", "kubectl"],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("refusing to print private keys to a terminal"),
            "{}",
            stderr(&o)
        );
    }
    // A pipe is fine: the manifest on stdout, the summary on stderr.
    let o = export(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(key_secrets(&stdout(&o)).len(), 1);
    assert!(stderr(&o).contains("to stdout") && !stderr(&o).contains("tls.key"));
    // --all-envs writes one file per environment: it needs -o (a usage error).
    let o = f.run(&["key", "export", "--all-envs", "-i", f.id(), "--to", "k3s"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // Bad flags are usage errors, found before anything is read.
    for (args, want) in [
        (
            &["--to", "talos", "--talos-version", "two"][..],
            "not a Talos release",
        ),
        (&["--to", "cloud-init"][..], "--for k3s, rke2 or kubeadm"),
        (
            &["--to", "k3s", "--for", "kubeadm"][..],
            "--for goes with --to cloud-init",
        ),
        (
            &["--to", "capi", "--cluster-selector", "no equals"][..],
            "not a Kubernetes label",
        ),
        (
            &["--to", "k3s", "--controller-namespace", "Bad_NS"][..],
            "not a valid namespace",
        ),
    ] {
        let mut a = vec![
            "key",
            "export",
            "--env",
            "metal",
            "-o",
            "/nonexistent/never",
        ];
        a.extend_from_slice(args);
        let o = f.run(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    // The repository holds nothing new.
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain", "--ignored"])
        .current_dir(root)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    let changed: Vec<&str> = status
        .lines()
        .filter(|l| *l != "!! secrets/") // the Dex copies seal wrote, ignored as ever
        .collect();
    assert_eq!(changed, [" M .gitignore"], "{status}");
}

#[test]
fn scan_fails_on_every_export_shape_committed_by_mistake() {
    let f = fleet();
    for case in &CASES {
        let dir = f.outside.path().join(case.name);
        let mut args = vec![
            "key",
            "export",
            "--env",
            "metal",
            "-i",
            f.id(),
            "-o",
            p(&dir),
        ];
        args.extend_from_slice(case.args);
        let o = f.run(&args);
        assert!(o.status.success(), "{}: {}", case.name, stderr(&o));
        // Someone copies it into a repository and commits it.
        let repo = git_repo();
        let target = repo.path().join("bootstrap").join(case.file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(dir.join(case.file), &target).unwrap();
        git(repo.path(), &["add", "-A"]);
        git(repo.path(), &["commit", "-qm", "bootstrap"]);
        // Found, and hard: no exclusion silences a private key.
        for extra in [&[][..], &["--exclude", "**"][..]] {
            let mut a = vec!["scan"];
            a.extend_from_slice(extra);
            let o = run_in(repo.path(), &a, b"", &[]);
            assert_eq!(
                o.status.code(),
                Some(1),
                "{} {extra:?}: {}",
                case.name,
                stdout(&o)
            );
            let out = stdout(&o);
            let line = out
                .lines()
                .find(|l| l.contains("base64-encoded PEM private key"))
                .unwrap_or_else(|| panic!("{} {extra:?}: {out}", case.name));
            assert!(
                line.starts_with(&format!("bootstrap/{}:", case.file)),
                "{line}"
            );
            assert!(!out.contains("LS0tLS1CRUdJT"), "no key in the report");
        }
    }
}

/// `key usage --output json` for `env`.
fn usage_json(f: &Fleet, args: &[&str]) -> (Output, Value) {
    let mut a = vec!["key", "usage", "-i", f.id(), "--output", "json"];
    a.extend_from_slice(args);
    let o = f.run(&a);
    let v: Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    (o, v)
}

#[test]
fn key_usage_maps_each_value_of_a_half_resealed_folder_to_the_key_that_opens_it() {
    let f = fleet();
    let o = f.run(&["key", "new", "--env", "metal", "-i", f.id()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let keys = f.escrowed("metal");
    let (old, new) = {
        let mut k = keys.clone();
        k.sort_by_key(|k| k.cert.not_before);
        (k[0].clone(), k[1].clone())
    };
    // Half the switch: two files resealed for the new key (the bundle's first certificate).
    let out = f.out("metal");
    let escrow_path = out.join("controller-keys.age");
    let resealed = ["dex-admin-password.yaml", "vllm-api-key.yaml"];
    let mut args = vec![
        "reseal",
        "--private-key",
        p(&escrow_path),
        "-i",
        f.id(),
        "--cert",
    ];
    let cert = out.join("controller.crt");
    args.push(p(&cert));
    let files: Vec<PathBuf> = resealed
        .iter()
        .map(|r| out.join("sealed").join(r))
        .collect();
    args.extend(files.iter().map(|x| p(x)));
    let o = f.run(&args);
    assert!(o.status.success(), "{}", stderr(&o));

    let (o, v) = usage_json(&f, &["--env", "metal"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(v["ok"], true);
    let env = &v["environments"][0];
    assert_eq!(env["environment"], "metal");
    let values = env["values"].as_array().unwrap();
    let total = std::fs::read_dir(out.join("sealed")).unwrap().count();
    assert_eq!(values.len(), total, "every value, break-glass aside");
    // The truth, from the keys themselves (the reference decryptor, one key at a time).
    for val in values {
        let file = val["file"].as_str().unwrap();
        let text = std::fs::read_to_string(f.root().join(file)).unwrap();
        let doc = &kubeseal::parse_sealed_stream(&text).unwrap()[0];
        let opens = |k: &ControllerKey| {
            objects::unseal_sealed_secret(doc, std::slice::from_ref(&k.key)).is_ok()
        };
        let want = if opens(&new) {
            &new.cert.fingerprint
        } else {
            assert!(opens(&old), "{file}");
            &old.cert.fingerprint
        };
        assert_eq!(val["key"], want.as_str(), "{file}");
        assert_eq!(
            resealed.iter().any(|r| file.ends_with(r)),
            want == &new.cert.fingerprint,
            "{file}"
        );
    }
    let per_key: BTreeMap<String, (u64, bool)> = env["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["fingerprint"].as_str().unwrap().to_string(),
                (k["values"].as_u64().unwrap(), k["seals"].as_bool().unwrap()),
            )
        })
        .collect();
    assert_eq!(per_key[&new.cert.fingerprint], (2, true));
    assert_eq!(per_key[&old.cert.fingerprint], (total as u64 - 2, false));

    // A value sealed for a key nobody escrowed is a finding, named.
    let secret = b"apiVersion: v1\nkind: Secret\nmetadata: {name: stray, namespace: secret-source}\nstringData: {value: s3cret}\n";
    let other = vector_key("other-4096.crt.pem");
    let sealed = run_in(
        f.root(),
        &["kubeseal", "--cert", p(&other), "-o", "yaml"],
        secret,
        &[],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    std::fs::write(out.join("sealed/stray.yaml"), &sealed.stdout).unwrap();
    let o = f.run(&["key", "usage", "--env", "metal", "-i", f.id()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let line = stdout(&o)
        .lines()
        .find(|l| l.contains("stray.yaml"))
        .unwrap()
        .to_string();
    assert!(line.ends_with("NO KEY"), "{line}");
    assert!(stderr(&o).contains("key backup"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("s3cret"));
    std::fs::remove_file(out.join("sealed/stray.yaml")).unwrap();

    // Every environment, each with its own escrow.
    let (o, v) = usage_json(&f, &["--all-envs"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let envs: Vec<&str> = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["environment"].as_str().unwrap())
        .collect();
    assert_eq!(envs, ["ai-dev", "metal"]);
    let ai = &v["environments"][0];
    assert_eq!(ai["keys"].as_array().unwrap().len(), 1);
    assert!(
        ai["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["key"] == ai["keys"][0]["fingerprint"])
    );
}

#[test]
fn retire_is_refused_while_a_value_needs_the_key_then_drops_it_from_the_escrow() {
    let f = fleet();
    let o = f.run(&["key", "new", "--env", "metal", "-i", f.id()]);
    assert!(o.status.success(), "{}", stderr(&o));
    git(f.root(), &["add", "-A"]);
    git(f.root(), &["commit", "-qm", "second key"]);
    let mut keys = f.escrowed("metal");
    keys.sort_by_key(|k| k.cert.not_before);
    let (old, new) = (
        keys[0].cert.fingerprint.clone(),
        keys[1].cert.fingerprint.clone(),
    );
    let old_short = old.trim_start_matches("sha256:")[..10].to_string();
    let out = f.out("metal");
    let escrow_path = out.join("controller-keys.age");
    let escrow_before = std::fs::read(&escrow_path).unwrap();
    let retire = |extra: &[&str]| {
        let mut a = vec![
            "key",
            "retire",
            old_short.as_str(),
            "--env",
            "metal",
            "-i",
            f.id(),
        ];
        a.extend_from_slice(extra);
        f.run(&a)
    };
    // Every value still needs the old key.
    let o = retire(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains(&format!("refusing to retire {old}")), "{err}");
    assert!(
        err.contains("clusters/metal/secret-source/sealed/vllm-api-key.yaml"),
        "{err}"
    );
    assert!(err.contains("sealstrap reseal"), "the fix: {err}");
    assert_eq!(std::fs::read(&escrow_path).unwrap(), escrow_before);
    // The newest key seals: never retired; an unknown one is named.
    let o = f.run(&["key", "retire", &new, "--env", "metal", "-i", f.id()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is the newest key"), "{}", stderr(&o));
    let o = f.run(&[
        "key",
        "retire",
        "sha256:00000000",
        "--env",
        "metal",
        "-i",
        f.id(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no escrowed key has the fingerprint"),
        "{}",
        stderr(&o)
    );

    // Reseal the folder: the work tree is free of the old key, HEAD is not.
    let cert = out.join("controller.crt");
    let o = f.run(&[
        "reseal",
        "--private-key",
        p(&escrow_path),
        "-i",
        f.id(),
        "--cert",
        p(&cert),
        p(&out.join("sealed")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = retire(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("HEAD:clusters/metal/secret-source/sealed/"),
        "the committed values: {}",
        stderr(&o)
    );
    // A release branch cut before the reseal still deploys the old values.
    git(f.root(), &["branch", "release"]);
    git(f.root(), &["add", "-A"]);
    git(f.root(), &["commit", "-qm", "resealed for the new key"]);
    // --history REV reads REV's tree: the release branch still needs the key, main does not
    // (its older commits open with the keys the escrow's own history keeps).
    let o = retire(&["--history", "release"]);
    assert_eq!(o.status.code(), Some(1));
    let said = stderr(&o);
    assert!(
        said.contains("release:clusters/metal/secret-source/sealed/"),
        "{said}"
    );
    let listed: Vec<&str> = said.lines().filter(|l| l.starts_with("  ")).collect();
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(listed.len(), unique.len(), "each file once: {said}");
    let o = retire(&["--history", "main", "--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // --reachable: every commit of main, the ones before the reseal included.
    let o = retire(&["--history", "main", "--reachable", "--dry-run"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("main (history):clusters/metal/secret-source/sealed/"),
        "{}",
        stderr(&o)
    );
    let o = retire(&["--history", "no-such-branch"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // Nothing committed needs it now: a dry run changes nothing, a real one drops it.
    let o = retire(&["--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&escrow_path).unwrap(), escrow_before);
    let o = retire(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stdout(&o);
    assert!(said.contains("no value needs it"), "{said}");
    assert!(
        said.contains(&format!(
            "kubectl -n kube-system delete secret {} --ignore-not-found",
            keys[0].secret_name("sealed-secrets-key")
        )),
        "{said}"
    );
    assert!(
        said.contains("rollout restart deployment/sealed-secrets-controller"),
        "{said}"
    );
    let left = f.escrowed("metal");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].cert.fingerprint, new);
    let bundle = ck::parse_cert_bundle(&std::fs::read(&cert).unwrap()).unwrap();
    assert_eq!(bundle.len(), 1);
    assert_eq!(bundle[0].fingerprint, new);
    // Still for the committed recipients: the identity opens it, and so does `key usage`.
    let (o, v) = usage_json(&f, &["--env", "metal"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        v["environments"][0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["key"] == new.as_str())
    );
    // The only key left is not retired.
    let o = f.run(&["key", "retire", &new, "--env", "metal", "-i", f.id()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the only key"), "{}", stderr(&o));
}

// --- doctor --first-boot against the stand-in API server ---

const SVC: &str = "/api/v1/namespaces/kube-system/services/sealed-secrets-controller";
const PROXY: &str =
    "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy";
const SECRETS: &str = "/api/v1/namespaces/kube-system/secrets";

/// The controller serving `cert_pem`, and the key Secrets of its namespace.
fn first_boot_api(cert_pem: &str, secrets: Vec<Value>) -> FakeApi {
    FakeApi::start(vec![
        Route::json(
            "GET",
            SVC,
            200,
            json!({"kind": "Service", "apiVersion": "v1",
                "metadata": {"name": "sealed-secrets-controller", "namespace": "kube-system"},
                "spec": {"ports": [{"name": "http", "port": 8080}]}}),
        ),
        Route::text("GET", format!("{PROXY}/v1/cert.pem"), cert_pem.to_string()),
        Route::json(
            "GET",
            SECRETS,
            200,
            json!({"kind": "SecretList", "apiVersion": "v1", "items": secrets}),
        ),
    ])
}

/// A key Secret as the API server lists it (only the certificate: doctor reads nothing else).
fn key_secret(name: &str, cert_pem: &str, labeled: bool) -> Value {
    let labels = if labeled {
        json!({"sealedsecrets.bitnami.com/sealed-secrets-key": "active"})
    } else {
        json!({})
    };
    json!({"metadata": {"name": name, "namespace": "kube-system", "labels": labels},
           "type": "kubernetes.io/tls",
           "data": {"tls.crt": STANDARD.encode(cert_pem)}})
}

fn doctor(f: &Fleet, api: &FakeApi) -> Output {
    let kc = api.kubeconfig(f.outside.path());
    run_in(
        f.root(),
        &["doctor", "--env", "metal", "--first-boot"],
        b"",
        &[("KUBECONFIG", p(&kc))],
    )
}

#[test]
fn doctor_first_boot_is_ok_with_the_escrowed_key_and_broken_with_a_self_made_one() {
    let f = fleet();
    let ours = std::fs::read_to_string(f.out("metal").join("controller.crt")).unwrap();
    let theirs = std::fs::read_to_string(vector_key("other-4096.crt.pem")).unwrap();

    // The export came first: the controller found the escrowed key and seals with it.
    let api = first_boot_api(&ours, vec![key_secret("sealed-secrets-key", &ours, true)]);
    let o = doctor(&f, &api);
    let table = stdout(&o);
    assert!(o.status.success(), "{table}{}", stderr(&o));
    for link in ["controller ", "certificate ", "sealing-key ", "key-secret/"] {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("OK") && l.contains(link)),
            "{link}: {table}"
        );
    }
    assert!(!table.contains("BROKEN"), "{table}");
    // First boot checks the controller and its keys only: nothing is synced yet.
    let asked: Vec<String> = api.requests().into_iter().map(|r| r.target).collect();
    assert!(
        asked
            .iter()
            .all(|t| !t.contains("sealedsecrets") && !t.contains("externalsecrets")),
        "{asked:?}"
    );

    // The controller started first and made its own key, which it seals with.
    let api = first_boot_api(
        &theirs,
        vec![
            key_secret("sealed-secrets-key", &ours, true),
            key_secret("sealed-secrets-keyq8z2v", &theirs, true),
        ],
    );
    let o = doctor(&f, &api);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let table = stdout(&o);
    let broken: Vec<&str> = table.lines().filter(|l| l.starts_with("BROKEN")).collect();
    assert!(
        broken
            .iter()
            .any(|l| l.contains("sealing-key") && l.contains("made its own key")),
        "{table}"
    );
    let self_made = table
        .lines()
        .skip_while(|l| {
            !(l.starts_with("BROKEN") && l.contains("self-made/sealed-secrets-keyq8z2v"))
        })
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(self_made.contains("the export came too late"), "{table}");
    assert!(
        self_made.contains("kubectl -n kube-system delete secret sealed-secrets-keyq8z2v")
            && self_made.contains(
                "kubectl -n kube-system rollout restart deployment/sealed-secrets-controller"
            )
            && self_made.contains("sealstrap key usage --env metal -i IDENTITY"),
        "the fix: {self_made}"
    );

    // The escrowed key is there, but without the label the controller selects keys by.
    let api = first_boot_api(&ours, vec![key_secret("sealed-secrets-key", &ours, false)]);
    let o = doctor(&f, &api);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(
            "kubectl -n kube-system label secret sealed-secrets-key sealedsecrets.bitnami.com/sealed-secrets-key=active --overwrite"
        ),
        "{}",
        stdout(&o)
    );

    // JSON for machines.
    let api = first_boot_api(&ours, vec![key_secret("sealed-secrets-key", &ours, true)]);
    let kc = api.kubeconfig(f.outside.path());
    let o = run_in(
        f.root(),
        &[
            "doctor",
            "--env",
            "metal",
            "--first-boot",
            "--output",
            "json",
        ],
        b"",
        &[("KUBECONFIG", p(&kc))],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["ok"], true);
}
