//! `sealstrap key new|install|backup|list`: the controller key's life cycle. The key pair is made
//! offline, the private key is only ever written inside the age escrow, and the escrow, the
//! certificate bundle and the recipients file are committed beside the sealed output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use sealstrap::cert::Certificate;
use sealstrap::controller_key::{
    self as ck, ControllerKey, DEFAULT_KEY_PREFIX, KEY_LABEL, Template,
};
use sealstrap::escrow::{self, EscrowError};
use sealstrap::journal::{Scope, Transaction};
use sealstrap::rsa::{KeyGeneration, PrivateKey};
use serde_json::Value;

use crate::cli::{EscrowLockArgs, KeyBackupArgs, KeyInstallArgs, KeyListArgs, KeyNewArgs};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::write_stdout;
use crate::workspace::keys::{
    CERT_NAME, ESCROW_NAME, RECIPIENTS_NAME, escrow_keys, passphrase, read_file,
};

/// One line to stdout; a reader that went away (`| head`) ends the command quietly.
fn say(line: std::fmt::Arguments<'_>) -> Result<(), Failure> {
    write_stdout(format!("{line}\n").as_bytes())
}

/// How an escrow is re-encrypted: its recipients, or a passphrase.
pub(super) enum Lock {
    Recipients(Vec<escrow::Recipient>),
    Passphrase(SecretString),
}

impl Lock {
    fn seal(&self, plaintext: &[u8], armor: bool) -> Result<Vec<u8>, Failure> {
        Ok(match self {
            Lock::Recipients(r) => escrow::encrypt_to(r, plaintext, armor)?,
            Lock::Passphrase(p) => escrow::encrypt_passphrase(p.clone(), plaintext, armor)?,
        })
    }
}

fn read_recipients(path: &Path) -> Result<Vec<escrow::Recipient>, Failure> {
    let text = read_file(path, "recipients file")?;
    let text = String::from_utf8_lossy(&text).into_owned();
    escrow::parse_recipients(text.lines()).map_err(|e| {
        let f: Failure = e.into();
        Failure {
            message: format!("{}: {}", path.display(), f.message),
            ..f
        }
    })
}

/// Who can open the escrow: the flags, else the committed recipients file, else the existing
/// escrow's passphrase.
pub(super) fn choose_lock(
    a: &EscrowLockArgs,
    recipients_path: &Path,
    escrow_path: &Path,
) -> Result<Lock, Failure> {
    let mut lines: Vec<String> = a.recipients.clone();
    for f in &a.recipients_files {
        let text = read_file(f, "recipients file")?;
        lines.extend(String::from_utf8_lossy(&text).lines().map(str::to_string));
    }
    let lock = if a.passphrase {
        Lock::Passphrase(passphrase(true)?)
    } else if !lines.is_empty() {
        Lock::Recipients(escrow::parse_recipients(lines.iter().map(String::as_str))?)
    } else if recipients_path.exists() {
        Lock::Recipients(read_recipients(recipients_path)?)
    } else if escrow_path.exists()
        && escrow::is_passphrase(&read_file(escrow_path, "escrow")?).unwrap_or(false)
    {
        Lock::Passphrase(passphrase(false)?)
    } else {
        return Err(EscrowError::NoRecipients.into());
    };
    if let Lock::Recipients(r) = &lock
        && r.is_empty()
    {
        return Err(EscrowError::NoRecipients.into());
    }
    Ok(lock)
}

/// Refuses to write a file that git would ignore: the user commits these. One git call for
/// files side by side.
fn check_not_ignored(paths: &[&Path]) -> Result<(), Failure> {
    let ignored = crate::workspace::git::would_ignore_each(paths);
    if let Some(path) = paths.iter().zip(ignored).find_map(|(p, i)| i.then_some(p)) {
        return Err(Failure::new(format!(
            "{} would be ignored by git, so it would never be committed",
            path.display()
        ))
        .hint(format!(
            "add a re-include rule to .gitignore (see `git check-ignore -v {}`), or choose another path",
            path.display()
        )));
    }
    Ok(())
}

fn print_chart_values(namespace: &str) {
    eprintln!(
        "\nInstall the controller so it keeps this key (Helm chart sealed-secrets 2.18.5, repository\n\
         https://bitnami-labs.github.io/sealed-secrets):\n\
         \x20 fullnameOverride: sealed-secrets-controller   # kubeseal's default --controller-name finds it\n\
         \x20 namespace: {namespace}\n\
         \x20 keyrenewperiod: \"0\"                            # no renewal: the escrowed key stays the sealing key\n\
         (`seal --gitops argocd|flux` writes exactly these). A controller installed another way with\n\
         renewal on makes keys only the cluster holds: run `sealstrap key backup --check` in CI, and\n\
         `sealstrap key backup` when it fails."
    );
}

/// Waits for the key `generation` makes (RSA-4096 takes from a fraction of a second to a few);
/// says so on stderr when it is slow.
fn generate_with_progress(generation: KeyGeneration) -> Result<PrivateKey, Failure> {
    let start = Instant::now();
    let failed = |e: sealstrap::rsa::RsaError| Failure::new(e.to_string());
    if let Some(key) = generation
        .wait_for(Duration::from_secs(1))
        .map_err(failed)?
    {
        return Ok(key);
    }
    eprintln!("sealstrap: generating an RSA-4096 key (this can take a few seconds)...");
    let key = generation.wait().map_err(failed)?;
    eprintln!(
        "sealstrap: key generated in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    Ok(key)
}

fn random_serial() -> Result<[u8; 16], Failure> {
    use rand::Rng as _;
    let mut serial = [0u8; 16];
    rand::rand_core::UnwrapErr(rand::rngs::SysRng).fill_bytes(&mut serial);
    Ok(serial)
}

/// The fleet file's entry for environment `env` (with the repository root its paths are
/// relative to), in the platform repository holding the current folder.
pub(super) fn fleet_entry(
    env: Option<&str>,
) -> Result<Option<(PathBuf, sealstrap::fleet::EnvEntry)>, Failure> {
    let ws = crate::workspace::Workspace::find(None)?;
    let Some(root) = ws.root.as_ref().filter(|r| r.platform) else {
        return Ok(None);
    };
    let Some(env) = crate::workspace::repo::environment(root, env, None, None)? else {
        return Ok(None);
    };
    Ok(ws
        .config
        .fleet
        .environments
        .get(&env)
        .cloned()
        .map(|e| (root.dir.clone(), e)))
}

pub fn new(a: &KeyNewArgs) -> CmdResult {
    let out = &crate::workspace::repo::given_or_env_default(
        a.files.out_dir.as_deref(),
        a.files.env.as_deref(),
        "",
    )?;
    let escrow_path = a.escrow.clone().unwrap_or_else(|| out.join(ESCROW_NAME));
    let cert_path = a
        .files
        .cert_file
        .clone()
        .unwrap_or_else(|| out.join(CERT_NAME));
    // The fleet file may name an environment's recipients (and certificate) elsewhere.
    let fleet_entry = fleet_entry(a.files.env.as_deref())?;
    let recipients_path = a.files.recipients_out.clone().unwrap_or_else(|| {
        fleet_entry
            .as_ref()
            .and_then(|(root, e)| e.recipients.as_ref().map(|r| root.join(r)))
            .unwrap_or_else(|| out.join(RECIPIENTS_NAME))
    });
    let cert_path = if a.files.cert_file.is_none() {
        fleet_entry
            .as_ref()
            .and_then(|(root, e)| e.cert.as_ref().map(|c| root.join(c)))
            .unwrap_or(cert_path)
    } else {
        cert_path
    };
    if !sealstrap::objects::is_dns_label(&a.controller_namespace) {
        return Err(Failure::usage(format!(
            "--controller-namespace {:?} is not a valid namespace (a DNS label)",
            a.controller_namespace
        )));
    }
    // The key is made in the background, one generator per core, while the lock is taken and
    // the escrow, recipients and git are read; a refusal below simply drops it unused.
    let generation = KeyGeneration::start_4096(sealstrap::par::available_threads());

    // One run at a time on the key files; finish an interrupted earlier write first.
    let scope = key_scope(&escrow_path, &cert_path, &recipients_path)?;
    let _locks = crate::workspace::files::lock_scope(&scope, false)?;
    // Recipients on the command line are checked before anything is opened or asked for.
    escrow::parse_recipients(a.lock.recipients.iter().map(String::as_str))?;
    // Read everything first: the existing escrow and its recipients.
    let mut keys = Vec::new();
    let existing_armor = if escrow_path.exists() {
        keys = escrow_keys(&escrow_path, &a.identity.identity)?;
        read_file(&escrow_path, "escrow")?.starts_with(b"-----BEGIN AGE")
    } else {
        false
    };
    let lock = choose_lock(&a.lock, &recipients_path, &escrow_path)?;
    let pin_place = PinPlace::find(a.files.out_dir.as_deref(), a.files.env.as_deref())?;
    let recipients_pin =
        pin_place.check_recipients(&lock, given(&a.lock), a.lock.accept_recipients)?;
    let mut committed = vec![escrow_path.as_path(), cert_path.as_path()];
    if matches!(lock, Lock::Recipients(_)) {
        committed.push(&recipients_path);
    }
    check_not_ignored(&committed)?;

    // Plan: the new key, the List, the encrypted escrow and the bundle, all in memory.
    let key = generate_with_progress(generation)?;
    let template = Template {
        common_name: a.cn.clone(),
        // The controller seals with the newest NotBefore; a key made in the same second as the
        // last one would tie, so it starts one second after it.
        not_before: keys
            .iter()
            .map(|k| k.cert.not_before + 1)
            .fold(crate::workspace::now(), i64::max),
        ttl_secs: a.ttl,
        serial: random_serial()?,
    };
    let new_key = ControllerKey::new(key, &template)?;
    let fingerprint = new_key.cert.fingerprint.clone();
    keys.push(new_key);
    // The new key seals (the newest NotBefore): its certificate is pinned for the folder.
    let pins = pin_place.write(Some(&fingerprint), recipients_pin.as_deref());
    write_key_files(
        &scope,
        &KeyFiles {
            escrow: &escrow_path,
            cert: &cert_path,
            recipients: &recipients_path,
        },
        &keys,
        &a.controller_namespace,
        &lock,
        a.lock.armor || existing_armor,
        pins.as_ref(),
    )?;

    let how = match &lock {
        Lock::Recipients(r) => format!("{} age recipient(s)", r.len()),
        Lock::Passphrase(_) => "a passphrase".into(),
    };
    eprintln!("new controller key {fingerprint}");
    eprintln!(
        "wrote {} (private keys, encrypted to {how}; {} key(s))",
        escrow_path.display(),
        keys.len()
    );
    eprintln!(
        "wrote {} (public certificates, newest first: seal with it)",
        cert_path.display()
    );
    if matches!(lock, Lock::Recipients(_)) {
        eprintln!(
            "wrote {} (who can open the escrow; later runs re-encrypt to these)",
            recipients_path.display()
        );
    }
    if keys.len() > 1 {
        // A rotation: the values sealed for the older key move to the new one, offline.
        let env = a
            .files
            .env
            .as_ref()
            .map(|e| format!(" --env {e}"))
            .unwrap_or_default();
        let ids: String = a
            .identity
            .identity
            .iter()
            .map(|i| format!(" -i {}", i.display()))
            .collect();
        eprintln!(
            "next: reseal the values for the new key (the escrow opens the old ones): sealstrap reseal{env} --private-key {}{} --cert {}",
            escrow_path.display(),
            if ids.is_empty() {
                " -i IDENTITY".to_string()
            } else {
                ids
            },
            cert_path.display()
        );
        eprintln!(
            "then commit the escrow, the bundle and the resealed files, and `sealstrap key install{env}` puts both keys in the cluster (values sealed for either open during the switch)"
        );
    } else if let Some(old) = crate::workspace::walk::read_sealed(out)
        .ok()
        .filter(|files| !files.is_empty())
    {
        // A first escrow beside values sealed for a key it does not hold (one made elsewhere,
        // or the controller's own): they move to the new key with the old one, offline.
        let env = a
            .files
            .env
            .as_ref()
            .map(|e| format!(" --env {e}"))
            .unwrap_or_default();
        eprintln!(
            "next: the {} sealed value(s) in {} were sealed for another key, which this escrow does not hold: reseal them with it: sealstrap reseal{env} --private-key OLD-KEY --cert {} (OLD-KEY: its PEM, or `kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`); without it, make new values: sealstrap rotate{env} KEY...",
            old.len(),
            crate::workspace::repo::shown(&out.join(sealstrap::manifests::SEALED_DIR)).display(),
            cert_path.display()
        );
    } else if let Some(e) = &a.files.env {
        // In an environment, seal finds the certificate by --env (--cert beside it would not
        // say which environment's folder to write).
        eprintln!(
            "next: sealstrap seal --env {e}, commit the new files (sealstrap.yaml's pins too), then `sealstrap key install --env {e}` when the cluster is up"
        );
    } else {
        eprintln!(
            "next: sealstrap seal --cert {}, commit the new files (sealstrap.yaml's pins too, in a repository), then `sealstrap key install` when the cluster is up",
            cert_path.display()
        );
    }
    print_chart_values(&a.controller_namespace);
    Ok(ExitCode::SUCCESS)
}

/// The key Secret as an API object for server-side apply.
fn secret_object(k: &ControllerKey, namespace: &str) -> Result<Value, Failure> {
    let text = ck::key_list_yaml(std::slice::from_ref(k), namespace, DEFAULT_KEY_PREFIX)?;
    let list = sealstrap::yaml::parse_documents(&text)
        .map_err(|e| Failure::new(format!("internal: the key list does not parse: {e}")))?;
    Ok(list[0]["items"][0].clone())
}

fn sealing_line(certs: &[&Certificate]) -> String {
    match ck::sealing_key(certs.iter().copied()) {
        Some(c) => format!(
            "the controller seals with {} (newest NotBefore)",
            c.fingerprint
        ),
        None => "no key".into(),
    }
}

pub fn install(a: &KeyInstallArgs) -> CmdResult {
    let keys = escrow_keys(
        &crate::workspace::repo::given_or_env_default(
            a.escrow.file.as_deref(),
            a.escrow.env.as_deref(),
            sealstrap::defaults::ESCROW_NAME,
        )?,
        &a.escrow.identity.identity,
    )?;
    let ns = &a.cluster.controller_namespace;
    let objects: Vec<Value> = keys
        .iter()
        .map(|k| secret_object(k, ns))
        .collect::<Result<_, _>>()?;
    let opts = crate::workspace::cluster::opts(&a.cluster, Default::default())?;
    let cluster = crate::workspace::cluster::connect(&opts)?;
    // Before the controller exists (the order that keeps the escrowed key the sealing key), its
    // namespace may not either: make it, as Argo CD's CreateNamespace would.
    if ns != "kube-system" {
        let namespace = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns}
        });
        cluster.apply(&namespace, a.dry_run)?;
    }
    for (k, obj) in keys.iter().zip(&objects) {
        cluster.apply(obj, a.dry_run)?;
        say(format_args!(
            "{} secret {ns}/{}  {}",
            if a.dry_run { "checked" } else { "applied" },
            k.secret_name(DEFAULT_KEY_PREFIX),
            k.cert.fingerprint
        ))?;
    }
    let certs: Vec<&Certificate> = keys.iter().map(|k| &k.cert).collect();
    say(format_args!("{}", sealing_line(&certs)))?;

    let name = &a.cluster.controller_name;
    match cluster.deployment_exists(ns, name) {
        Ok(true) if a.restart && !a.dry_run => {
            cluster.restart_deployment(ns, name)?;
            say(format_args!(
                "restarted deployment {ns}/{name}: the controller loads the keys as it starts"
            ))?;
        }
        Ok(true) => {
            eprintln!(
                "the controller is running: it reads key Secrets only at start-up; restart it:\n  kubectl -n {ns} rollout restart deployment/{}\n(or run again with --restart)",
                a.cluster.controller_name
            );
        }
        Ok(false) => {
            eprintln!(
                "no deployment {ns}/{} yet: the controller will load these keys when it starts",
                a.cluster.controller_name
            );
        }
        Err(e) => return Err(e.into()),
    }
    print_chart_values(ns);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn bundle_path(escrow: &Path, given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_path_buf)
        .unwrap_or_else(|| escrow.parent().unwrap_or(Path::new(".")).join(CERT_NAME))
}

pub(super) fn read_bundle(path: &Path) -> Result<Vec<Certificate>, Failure> {
    let data = read_file(path, "certificate bundle")?;
    ck::parse_cert_bundle(&data)
        .map_err(|e| crate::workspace::error::cert_failure(&path.display().to_string(), &e))
}

pub fn backup(a: &KeyBackupArgs) -> CmdResult {
    let escrow_path = crate::workspace::repo::given_or_env_default(
        a.escrow.file.as_deref(),
        a.escrow.env.as_deref(),
        sealstrap::defaults::ESCROW_NAME,
    )?;
    let cert_path = bundle_path(&escrow_path, a.cert_file.as_deref());
    let ns = &a.cluster.controller_namespace;
    let opts = crate::workspace::cluster::opts(&a.cluster, Default::default())?;
    let cluster = crate::workspace::cluster::connect(&opts)?;
    let items = cluster.list_secrets(ns, Some(KEY_LABEL))?;
    if a.check {
        let committed = read_bundle(&cert_path)?;
        let mut missing = 0;
        for item in &items {
            let name = item["metadata"]["name"].as_str().unwrap_or("(unnamed)");
            let crt = item["data"]["tls.crt"]
                .as_str()
                .and_then(|b| {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.decode(b).ok()
                })
                .and_then(|pem| sealstrap::cert::parse(&pem).ok());
            let Some(crt) = crt else {
                return Err(Failure::new(format!(
                    "secret {ns}/{name} has no readable tls.crt"
                )));
            };
            if committed.iter().any(|c| c.fingerprint == crt.fingerprint) {
                say(format_args!("OK      {ns}/{name}  {}", crt.fingerprint))?;
            } else {
                missing += 1;
                say(format_args!("MISSING {ns}/{name}  {}", crt.fingerprint))?;
            }
        }
        if missing > 0 {
            return Err(Failure::new(format!(
                "the cluster holds {missing} key(s) that {} lacks",
                cert_path.display()
            ))
            .hint(format!(
                "run `sealstrap key backup -i IDENTITY {}` and commit the result",
                escrow_path.display()
            )));
        }
        say(format_args!(
            "every key in the cluster is escrowed ({} checked)",
            items.len()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }

    let from_cluster = ck::from_secrets(&items)?;
    let dir = escrow_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let recipients_path = dir.join(RECIPIENTS_NAME);
    let scope = key_scope(&escrow_path, &cert_path, &recipients_path)?;
    let _locks = crate::workspace::files::lock_scope(&scope, false)?;
    let first = !escrow_path.exists();
    let (mut keys, armor) = if first {
        (Vec::new(), a.lock.armor)
    } else {
        let data = read_file(&escrow_path, "escrow")?;
        (
            escrow_keys(&escrow_path, &a.escrow.identity.identity)?,
            a.lock.armor || data.starts_with(b"-----BEGIN AGE"),
        )
    };
    let lock = choose_lock(&a.lock, &recipients_path, &escrow_path)?;
    let pin_place = PinPlace::find(
        a.escrow.file.as_deref().and_then(Path::parent),
        a.escrow.env.as_deref(),
    )?;
    let recipients_pin =
        pin_place.check_recipients(&lock, given(&a.lock), a.lock.accept_recipients)?;
    if first {
        check_not_ignored(&[&escrow_path, &cert_path, &recipients_path])?;
    }
    let added = ck::merge(&mut keys, from_cluster);
    if added.is_empty() {
        say(format_args!(
            "nothing new: the escrow already holds all {} key(s) of the cluster",
            items.len()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    // The cluster's keys are the operator's to escrow: the newest seals, and is pinned.
    let sealing = ck::sealing_key(keys.iter().map(|k| &k.cert)).map(|c| c.fingerprint.clone());
    let pins = pin_place.write(sealing.as_deref(), recipients_pin.as_deref());
    write_key_files(
        &scope,
        &KeyFiles {
            escrow: &escrow_path,
            cert: &cert_path,
            recipients: &recipients_path,
        },
        &keys,
        ns,
        &lock,
        armor,
        pins.as_ref(),
    )?;
    for f in &added {
        say(format_args!("new     {f}"))?;
    }
    say(format_args!(
        "escrowed {} new key(s) into {} and {}; commit both",
        added.len(),
        escrow_path.display(),
        cert_path.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn list(a: &KeyListArgs) -> CmdResult {
    let escrow_path = crate::workspace::repo::given_or_env_default(
        a.escrow.file.as_deref(),
        a.escrow.env.as_deref(),
        sealstrap::defaults::ESCROW_NAME,
    )?;
    let certs: Vec<Certificate> = if a.escrow.identity.identity.is_empty()
        && !(escrow_path.exists()
            && escrow::is_passphrase(&read_file(&escrow_path, "escrow")?).unwrap_or(false)
            && std::env::var_os("SEALSTRAP_PASSPHRASE").is_some())
    {
        let path = bundle_path(&escrow_path, a.cert_file.as_deref());
        let certs = read_bundle(&path)?;
        say(format_args!(
            "# certificates in {} (no identity given)",
            path.display()
        ))?;
        certs
    } else {
        let keys = escrow_keys(&escrow_path, &a.escrow.identity.identity)?;
        say(format_args!("# keys in {}", escrow_path.display()))?;
        keys.into_iter().map(|k| k.cert).collect()
    };
    let sealing = ck::sealing_key(certs.iter()).map(|c| c.fingerprint.clone());
    let mut sorted: Vec<&Certificate> = certs.iter().collect();
    sorted.sort_by_key(|c| c.not_before);
    for c in sorted {
        let mark = if Some(&c.fingerprint) == sealing.as_ref() {
            "  <- seals"
        } else {
            ""
        };
        say(format_args!("{}{mark}", ck::describe(c)))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the three committed key files go.
pub(super) struct KeyFiles<'a> {
    pub(super) escrow: &'a Path,
    pub(super) cert: &'a Path,
    pub(super) recipients: &'a Path,
}

/// The folders the key files go to, as a journal scope (the repository holding the escrow, else
/// the escrow's folder, then the others outside it).
pub(super) fn key_scope(escrow: &Path, cert: &Path, recipients: &Path) -> Result<Scope, Failure> {
    crate::workspace::repo::write_scope(
        None,
        &[
            &parent_or_dot(escrow),
            &parent_or_dot(cert),
            &parent_or_dot(recipients),
        ],
    )
}

/// Encrypts `keys` (the controller's key List, in `namespace`) with `lock`, and writes the
/// escrow, the certificate bundle and (for recipients, not a passphrase) the recipients file in
/// one journaled transaction over `scope` (held locked by the caller). All are meant for git, so
/// 0644: the escrow is encrypted.
pub(super) fn write_key_files(
    scope: &Scope,
    files: &KeyFiles<'_>,
    keys: &[ControllerKey],
    namespace: &str,
    lock: &Lock,
    armor: bool,
    pins: Option<&sealstrap::plan::Write>,
) -> Result<(), Failure> {
    let plaintext = ck::key_list_yaml(keys, namespace, DEFAULT_KEY_PREFIX)?;
    let sealed = lock.seal(plaintext.as_bytes(), armor)?;
    let bundle = ck::cert_bundle(keys);
    let mut tx = Transaction::new(scope);
    for p in [files.escrow, files.cert, files.recipients] {
        let dir = parent_or_dot(p);
        tx.create_dir_all(&dir, None)
            .map_err(|e| crate::workspace::files::io_failure("cannot create", &dir, &e))?;
    }
    let mut stage = |path: &Path, contents: &[u8]| {
        tx.stage_step(path, contents, Some(0o644))
            .map_err(|e| crate::workspace::files::io_failure("cannot write", path, &e))
    };
    stage(files.escrow, &sealed)?;
    stage(files.cert, bundle.as_bytes())?;
    if let Lock::Recipients(r) = lock {
        stage(files.recipients, escrow::recipients_file(r).as_bytes())?;
    }
    if let Some(w) = pins {
        tx.stage_step(&w.path, &w.contents, None)
            .map_err(|e| crate::workspace::files::io_failure("cannot write", &w.path, &e))?;
    }
    tx.commit()
        .map_err(|e| Failure::new(format!("cannot write the key files: {e}")))
}

/// Whether the recipients were named on the command line (the operator's choice).
fn given(a: &EscrowLockArgs) -> bool {
    !a.recipients.is_empty() || !a.recipients_files.is_empty()
}

/// The repository a key command's files belong to and the name their pins go under (`None`
/// outside a repository, or for key files outside the environment's folder).
pub(super) struct PinPlace {
    pub ws: crate::workspace::Workspace,
    pub name: Option<String>,
}

impl PinPlace {
    pub(super) fn find(out_dir: Option<&Path>, env: Option<&str>) -> Result<PinPlace, Failure> {
        let ws = crate::workspace::Workspace::find(None)?;
        let name = match &ws.root {
            Some(_) => crate::workspace::place::Place::resolve(
                &ws,
                &crate::workspace::place::Choice {
                    out: out_dir,
                    env,
                    ..Default::default()
                },
            )?
            .pin_name(),
            None => None,
        };
        Ok(PinPlace { ws, name })
    }

    /// Lists who can open the escrow (every run, so a reviewer and the operator see them) and
    /// checks them against the pinned set: recipients the operator named on the command line
    /// (`given`) or accepted are pinned; ones read from the committed recipients file must be
    /// pinned already, or the first pin of this name is made (and said). A recipient a pull
    /// request added to the file is refused. Returns the recipients to pin.
    pub(super) fn check_recipients(
        &self,
        lock: &Lock,
        given: bool,
        accept: bool,
    ) -> Result<Option<Vec<String>>, Failure> {
        let Lock::Recipients(r) = lock else {
            // A passphrase takes the escrow from every pinned recipient at once.
            let Some(name) = &self.name else {
                return Ok(None);
            };
            let pinned = self.ws.config.pins.dropped_recipients(name, &[]);
            if pinned.is_empty() {
                return Ok(None);
            }
            if !accept {
                return Err(Failure::new(format!(
                    "a passphrase would take the escrow from the {} recipient(s) sealstrap.yaml pins for {name}: {}; they could no longer open it",
                    pinned.len(),
                    pinned.join(", ")
                ))
                .hint("leave out --passphrase (the committed recipients are used); to lock it with a passphrase instead, add --accept-recipients (the recipients' pins are removed from sealstrap.yaml for review)"));
            }
            return Ok(Some(Vec::new()));
        };
        let ids: Vec<String> = r.iter().map(escrow::Recipient::pin_id).collect();
        eprintln!("the escrow opens with these {} recipient(s):", ids.len());
        for id in &ids {
            eprintln!("  {id}");
        }
        let Some(name) = &self.name else {
            return Ok(None);
        };
        // Every pinned recipient stays unless accepted: `-r/-R` replace the escrow's recipients,
        // and a recipients file a pull request shortened would take the escrow from whoever it
        // leaves out (the default, no `-r/-R`, keeps the committed file's recipients).
        let dropped = self.ws.config.pins.dropped_recipients(name, &ids);
        if !accept && !dropped.is_empty() {
            let (what, hint) = if given {
                (
                    "-r/-R name the escrow's recipients in full, and these",
                    "to keep everyone, leave out -r/-R (the committed recipients file is used) or name them all; to remove them on purpose, add --accept-recipients (the new pins are written to sealstrap.yaml for review)",
                )
            } else {
                (
                    "the committed recipients file leaves out these",
                    "if you removed them on purpose, add --accept-recipients (the new pins are written to sealstrap.yaml for review); if not, restore the recipients file from git (git log -p -- FILE shows who removed them)",
                )
            };
            return Err(Failure::new(format!(
                "{what} {} recipient(s) pinned for {name}: {}; re-encrypted, the escrow would no longer open for them",
                dropped.len(),
                dropped.join(", ")
            ))
            .hint(hint));
        }
        if given || accept {
            return Ok(Some(ids));
        }
        match self.ws.config.pins.unpinned_recipients(name, &ids) {
            None => {
                eprintln!(
                    "first use: pinned them for {name} in sealstrap.yaml; review that section before you commit it"
                );
                Ok(Some(ids))
            }
            Some(new) if new.is_empty() => Ok(Some(ids)),
            Some(new) => Err(Failure::new(format!(
                "the committed recipients file names {} recipient(s) sealstrap.yaml does not pin for {name}: {}; they would receive every controller key of the escrow",
                new.len(),
                new.join(", ")
            ))
            .hint("if you added them, accept them: --accept-recipients (the new pins are written to sealstrap.yaml for review); if not, restore the recipients file from git (git log -p -- FILE shows who added them)".to_string())),
        }
    }

    /// sealstrap.yaml with the certificate `fingerprint` and `recipients` pinned under this
    /// name (none outside a repository, or when nothing changes).
    pub(super) fn write(
        &self,
        fingerprint: Option<&str>,
        recipients: Option<&[String]>,
    ) -> Option<sealstrap::plan::Write> {
        let name = self.name.as_ref()?;
        let mut pins = self.ws.config.pins.clone();
        if let Some(f) = fingerprint {
            pins.pin_certificate(name, f);
        }
        if let Some(r) = recipients {
            pins.pin_recipients(name, r);
        }
        self.ws.pins_write(&pins)
    }
}

/// The folder holding `p` (`.` for a bare file name).
fn parent_or_dot(p: &Path) -> PathBuf {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
