//! `sealstrap key export --to FORMAT`: the escrowed key Secrets, in the clear, in the format a
//! bare-metal bootstrap applies before the controller's first start (`sealstrap::export` renders
//! them). This file owns where they go and how: never into a git work tree, never to a
//! terminal, files 0600 in a 0700 folder, nothing left half-written, and a summary that says
//! where they went and when to delete them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sealstrap::export::{self, CloudInitFor, Export, ExportError, Format, Options, TalosVersion};

use crate::cli::{CloudInitTarget, EscrowArgs, ExportFormat, KeyExportArgs};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::{io_failure, is_dash, stdout_is_terminal, write_stdout};
use crate::workspace::keys::{ESCROW_NAME, escrow_keys};
use crate::workspace::repo as tree;

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Self {
        // A flag that cannot work is a usage error; what the escrow holds is not.
        let usage = !matches!(
            e,
            ExportError::Key(_) | ExportError::NoKeys | ExportError::NameClash(..)
        );
        let f = Failure::new(e.to_string()).hint_opt(e.hint());
        if usage {
            Failure {
                code: crate::workspace::error::EXIT_USAGE,
                ..f
            }
        } else {
            f
        }
    }
}

/// The escrows a key command reads: one (`--env`, the only environment, or the path given), or
/// every environment's (`--all-envs`). Each with its environment, when there is one.
pub fn targets(
    escrow: &EscrowArgs,
    all_envs: bool,
) -> Result<Vec<(Option<String>, PathBuf)>, Failure> {
    if all_envs {
        let root = tree::Root::find(None)?
            .filter(|r| r.platform)
            .ok_or_else(|| {
                Failure::usage("--all-envs works in the platform repository (clusters/<env>/)")
                    .hint("run it in a checkout of the platform, or name one escrow")
            })?;
        let envs = tree::environments(&root.dir);
        if envs.is_empty() {
            return Err(Failure::usage(format!(
                "--all-envs: {} has no clusters/<env>/ folder",
                root.dir.display()
            )));
        }
        return Ok(envs
            .into_iter()
            .map(|e| {
                let out = tree::layout(Some(&root), Some(&e)).out;
                (Some(e), out.join(ESCROW_NAME))
            })
            .collect());
    }
    let path = crate::workspace::repo::given_or_env_default(
        escrow.file.as_deref(),
        escrow.env.as_deref(),
        sealstrap::defaults::ESCROW_NAME,
    )?;
    let env = match &escrow.env {
        Some(e) => Some(e.clone()),
        None => match tree::Root::find(None)?.filter(|r| r.platform) {
            Some(root) => tree::environment(&root, None, None, path.parent())?,
            None => None,
        },
    };
    Ok(vec![(env, path)])
}

/// Where the export goes.
enum Destination {
    Stdout,
    Folder(PathBuf),
}

pub fn run(a: &KeyExportArgs) -> CmdResult {
    let format = match a.to {
        ExportFormat::Talos => Format::Talos,
        ExportFormat::K3s => Format::K3s,
        ExportFormat::Rke2 => Format::Rke2,
        ExportFormat::K0s => Format::K0s,
        ExportFormat::CloudInit => Format::CloudInit,
        ExportFormat::Capi => Format::Capi,
        ExportFormat::Kubectl => Format::Kubectl,
    };
    let talos = TalosVersion::parse(&a.talos_version)?;
    let selector = a
        .cluster_selector
        .as_deref()
        .map(export::parse_selector)
        .transpose()?;
    if a.for_bootstrap.is_some() && format != Format::CloudInit {
        return Err(Failure::usage("--for goes with --to cloud-init"));
    }
    let base = Options {
        namespace: a.controller_namespace.clone(),
        secret_name: a.secret_name.clone(),
        environment: None,
        talos,
        cloud_init_for: a.for_bootstrap.map(|f| match f {
            CloudInitTarget::K3s => CloudInitFor::K3s,
            CloudInitTarget::Rke2 => CloudInitFor::Rke2,
            CloudInitTarget::Kubeadm => CloudInitFor::Kubeadm,
        }),
        capi_namespace: a.capi_namespace.clone(),
        cluster_selector: selector,
    };
    // Every flag is checked before an escrow is opened (or a passphrase asked for).
    base.check_flags(format)?;

    // Where it goes is checked before anything is read: a refusal costs nothing.
    let dest = match a.output.as_deref() {
        None => Destination::Stdout,
        Some(p) if is_dash(p) => Destination::Stdout,
        Some(p) => Destination::Folder(p.to_path_buf()),
    };
    match &dest {
        Destination::Stdout => {
            if stdout_is_terminal() {
                return Err(Failure::new(
                    "refusing to print private keys to a terminal: the export holds the controller's keys in the clear",
                )
                .hint("write it to a folder outside any git work tree (-o /dev/shm/first-boot), or pipe it where it goes (| ssh root@node 'cat > FILE')"));
            }
        }
        Destination::Folder(dir) => check_folder(dir)?,
    }

    let targets = targets(&a.escrow, a.all_envs)?;
    // Read and render everything first: all or nothing.
    let mut rendered: Vec<(Option<String>, PathBuf, Export)> = Vec::new();
    for (env, escrow) in &targets {
        if !escrow.is_file() {
            return Err(Failure::new(format!(
                "{}: no escrow{}",
                escrow.display(),
                env.as_deref()
                    .map(|e| format!(" for environment {e}"))
                    .unwrap_or_default()
            ))
            .hint("make the key first: sealstrap key new (or key backup from a running cluster)"));
        }
        let keys = escrow_keys(escrow, &a.escrow.identity.identity)?;
        let opts = Options {
            environment: env.clone(),
            ..base.clone()
        };
        let e = export::render(format, &keys, &opts).map_err(|e| {
            let f: Failure = e.into();
            Failure {
                message: format!("{}: {}", escrow.display(), f.message),
                ..f
            }
        })?;
        rendered.push((env.clone(), escrow.clone(), e));
    }

    match dest {
        Destination::Stdout => {
            if rendered.len() != 1 {
                return Err(Failure::usage(
                    "--all-envs writes one file per environment: pass -o DIR",
                ));
            }
            let (env, escrow, e) = &rendered[0];
            write_stdout(e.text.as_bytes())?;
            summary(a, format, env.as_deref(), escrow, e, None);
        }
        Destination::Folder(dir) => {
            let mut written: Vec<PathBuf> = Vec::new();
            let result = (|| -> Result<(), Failure> {
                make_private_dir(&dir, &mut written)?;
                for (env, _, e) in &rendered {
                    let base = match (a.all_envs, env) {
                        (true, Some(env)) => dir.join(env),
                        _ => dir.clone(),
                    };
                    let path = base.join(&e.rel_path);
                    if let Some(parent) = path.parent() {
                        make_private_dir(parent, &mut written)?;
                    }
                    sealstrap::output::write_atomic(&path, e.text.as_bytes(), Some(0o600))
                        .map_err(|err| io_failure("cannot write", &path, &err))?;
                    written.push(path);
                }
                Ok(())
            })();
            if let Err(f) = result {
                // Nothing half-written: what this run wrote goes (files, then the folders it made).
                for p in written.iter().rev() {
                    let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir(p));
                }
                return Err(f);
            }
            for (env, escrow, e) in &rendered {
                let base = match (a.all_envs, env) {
                    (true, Some(env)) => dir.join(env),
                    _ => dir.clone(),
                };
                summary(
                    a,
                    format,
                    env.as_deref(),
                    escrow,
                    e,
                    Some(&base.join(&e.rel_path)),
                );
            }
            // The files, then the folders this run made (deepest first; rmdir leaves a folder
            // that holds anything else).
            let files: Vec<String> = written
                .iter()
                .filter(|p| p.is_file())
                .map(|p| shell_word(p))
                .collect();
            let made: Vec<String> = written
                .iter()
                .rev()
                .filter(|p| p.is_dir())
                .map(|p| shell_word(p))
                .collect();
            eprintln!(
                "\nThese files are the controller's private keys in the clear. Delete them once `sealstrap doctor{} --first-boot` passes:\n  shred -u {}{}",
                if a.all_envs { " --env ENV" } else { "" },
                files.join(" "),
                if made.is_empty() {
                    String::new()
                } else {
                    format!(" && rmdir {}", made.join(" "))
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a destination inside a git work tree (whatever `.gitignore` says: one `git add -A`
/// with a changed ignore file commits the keys) and an existing folder others can read.
fn check_folder(dir: &Path) -> Result<(), Failure> {
    if let Some(tree) = work_tree_of(dir) {
        return Err(Failure::new(format!(
            "refusing to write private keys to {}: it is inside the git work tree {}, whatever .gitignore says (one `git add -A` away from being committed)",
            dir.display(),
            tree.display()
        ))
        .hint("write them outside any repository, on a tmpfs: -o /dev/shm/first-boot"));
    }
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(Failure::new(format!(
            "{} is a symbolic link; name the folder itself",
            dir.display()
        ))),
        Ok(m) if !m.is_dir() => Err(Failure::new(format!(
            "{} exists and is not a folder",
            dir.display()
        ))),
        Ok(m) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = m.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(Failure::new(format!(
                        "{} can be entered by other users (mode {mode:04o}); the export holds private keys",
                        dir.display()
                    ))
                    .hint(format!(
                        "chmod 700 {}, or name a new folder (sealstrap makes it 0700)",
                        dir.display()
                    )));
                }
            }
            let _ = m;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_failure("cannot read", dir, &e)),
    }
}

/// The git work tree holding `path`, by name or through symbolic links (the nearest existing
/// ancestor, resolved): any folder with a `.git` above it.
pub fn work_tree_of(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    let existing = abs.ancestors().find(|a| a.exists())?.to_path_buf();
    let real = std::fs::canonicalize(&existing).unwrap_or_else(|_| existing.clone());
    for start in [&abs, &real] {
        if let Some(t) = start.ancestors().find(|d| d.join(".git").exists()) {
            return Some(t.to_path_buf());
        }
    }
    None
}

/// Makes `dir` (and missing parents) mode 0700, recording the folders it made.
fn make_private_dir(dir: &Path, made: &mut Vec<PathBuf>) -> Result<(), Failure> {
    if dir.is_dir() {
        return Ok(());
    }
    let missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .map(Path::to_path_buf)
        .collect();
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| io_failure("cannot create", dir, &e))?;
    made.extend(missing.into_iter().rev());
    Ok(())
}

/// A path as one shell word (single-quoted when it needs it).
fn shell_word(p: &Path) -> String {
    let s = p.display().to_string();
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+,=:@".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// What was written, and what to do with it next, on stderr.
fn summary(
    a: &KeyExportArgs,
    format: Format,
    env: Option<&str>,
    escrow: &Path,
    e: &Export,
    path: Option<&Path>,
) {
    let what = match format {
        Format::Talos
            if TalosVersion::parse(&a.talos_version).is_ok_and(|t| t.takes_document()) =>
        {
            "Talos 1.14+ KubeInlineManifestConfig document".to_string()
        }
        Format::Talos => format!(
            "Talos {} machine-config patch (cluster.inlineManifests)",
            a.talos_version
        ),
        Format::K3s => "k3s AddOn manifest".into(),
        Format::Rke2 => "RKE2 AddOn manifest".into(),
        Format::K0s => "k0s manifest stack".into(),
        Format::CloudInit => format!(
            "#cloud-config for {}",
            match a.for_bootstrap {
                Some(CloudInitTarget::K3s) => "k3s",
                Some(CloudInitTarget::Rke2) => "RKE2",
                _ => "kubeadm",
            }
        ),
        Format::Capi => "Cluster API resource-set Secret and ClusterResourceSet".into(),
        Format::Kubectl => "kubectl manifest".into(),
    };
    let env_txt = env
        .map(|e| format!(" of environment {e}"))
        .unwrap_or_default();
    let shown = path.map(shell_word).unwrap_or_else(|| "FILE".to_string());
    match path {
        Some(p) => eprintln!(
            "wrote {} ({what}: {} key Secret(s){env_txt} from {}; PRIVATE KEYS IN THE CLEAR, mode 0600 in a 0700 folder)",
            p.display(),
            e.keys,
            escrow.display()
        ),
        None => eprintln!(
            "wrote the {what} to stdout ({} key Secret(s){env_txt} from {}; PRIVATE KEYS IN THE CLEAR)",
            e.keys,
            escrow.display()
        ),
    }
    let ns = &a.controller_namespace;
    let next: Vec<String> = match format {
        Format::Talos => vec![
            format!("add it to the control plane's machine config before the cluster is bootstrapped: talosctl gen config CLUSTER https://ENDPOINT:6443 --config-patch-control-plane @{shown}"),
            "Talos applies inline manifests at bootstrap only, and the key then sits in the machine config (keep it as secret as the escrow identity); later keys go in with `sealstrap key install`".into(),
        ],
        Format::K3s | Format::Rke2 => {
            let d = if format == Format::K3s { "k3s" } else { "rke2" };
            vec![
                format!("on the first server, before {d} starts: sudo install -D -m 0600 {shown} {}", export::k3s_path(d)),
                format!("{d} applies it at start; removing the file afterwards does not delete the keys: remove it once `sealstrap doctor --first-boot` passes"),
            ]
        }
        Format::K0s => vec![
            format!("on the first controller, before k0s starts: sudo install -d -m 0700 /var/lib/k0s/manifests/{m} && sudo install -m 0600 {shown} /var/lib/k0s/manifests/{m}/", m = export::MANIFEST_NAME),
            format!("WARNING: k0s PRUNES what a stack applied when its files are removed: removing /var/lib/k0s/manifests/{m} deletes the key Secrets{}. To take the plaintext off the node and keep the keys, first: kubectl -n {ns} label secret -l {} k0s.k0sproject.io/stack-{}", if export::carries_namespace(ns) { format!(" and the Namespace {ns} with everything in it") } else { String::new() }, sealstrap::controller_key::KEY_LABEL, if export::carries_namespace(ns) { format!(" && kubectl label namespace {ns} k0s.k0sproject.io/stack-") } else { String::new() }, m = export::MANIFEST_NAME),
        ],
        Format::CloudInit => {
            let mut v = vec![format!("give it to the node as a part of its user-data, after yours: cloud-init devel make-mime -a user-data.yaml:cloud-config -a {shown}:cloud-config > user-data (merge_how appends its lists to yours)")];
            if a.for_bootstrap == Some(CloudInitTarget::Kubeadm) {
                v.push(format!("its runcmd applies {} with {} right after your `kubeadm init` and removes it", export::KUBEADM_MANIFEST_PATH, export::KUBEADM_ADMIN_CONF));
            }
            v.push("the node keeps its user-data (/var/lib/cloud/instance/user-data.txt) and so does the seed (ISO, metadata service): remove both after the first boot".into());
            v
        }
        Format::Capi => vec![
            format!("on the management cluster, before the workload cluster comes up: kubectl apply --server-side -f {shown}"),
            format!("label the Cluster so the ClusterResourceSet selects it: kubectl -n {} label cluster CLUSTER {}", a.capi_namespace, a.cluster_selector.clone().unwrap_or_else(|| format!("{}={}", export::ENVIRONMENT_LABEL, env.unwrap_or("ENV")))),
            "ApplyOnce applies it once per cluster; once applied, delete the ClusterResourceSet and the Secret from the management cluster (the keys stay in the workload cluster)".into(),
        ],
        Format::Kubectl => vec![format!(
            "before the controller's first start: kubectl apply --server-side -f {shown}"
        )],
    };
    for n in next {
        eprintln!("  {n}");
    }
}
