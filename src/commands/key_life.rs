//! The controller key's life after it is made, offline: `key usage` (which escrowed key opens
//! each sealed value), `key retire` (drop a key from the escrow once nothing committed needs it),
//! and `doctor`'s key links (`--first-boot`: the cluster holds exactly the escrow's keys, and the
//! newest seals). The decisions are `sealstrap::key_usage` and `sealstrap::doctor`; this file
//! reads the escrows, the repository and its history, and the cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sealstrap::cert::Certificate;
use sealstrap::controller_key::{self as ck, ControllerKey, KEY_LABEL};
use sealstrap::doctor::{self, FirstBoot, KeySecret, Link};
use sealstrap::key_usage::{self, FileUsage, SealedValue};
use serde_json::{Value, json};

use super::key as cmd_key;
use super::key_export::targets;
use crate::cli::{DoctorArgs, EscrowLockArgs, KeyRetireArgs, KeyUsageArgs, SummaryFormat};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::{io_failure, write_stdout};
use crate::workspace::keys::{RECIPIENTS_NAME, escrow_keys, open_escrow};
use crate::workspace::repo as tree;

/// Largest file (or blob) read for SealedSecrets.
const MAX_FILE: u64 = 4 << 20;
/// Files that can hold manifests.
const EXTS: [&str; 3] = ["yaml", "yml", "json"];

/// The sealed output folder an escrow belongs to (the escrow sits in it).
fn out_of(escrow: &Path) -> PathBuf {
    escrow
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The texts of an environment's sealed values: `<out>/sealed/` (not the break-glass copies,
/// sealed for the recovery key) and every `--path`, as (shown path, text).
fn folder_texts(out: &Path, paths: &[PathBuf]) -> Result<Vec<(String, String)>, Failure> {
    let mut texts = Vec::new();
    for f in crate::workspace::walk::read_sealed(out)? {
        let text = f
            .text
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", f.path.display())))?;
        texts.push((tree::shown(&f.path).display().to_string(), text));
    }
    if !paths.is_empty() {
        for f in crate::workspace::walk::walk(paths, crate::workspace::walk::SEALED)?.files {
            let text = read_small(&f)?;
            texts.push((tree::shown(&f).display().to_string(), text));
        }
    }
    Ok(texts)
}

fn read_small(f: &Path) -> Result<String, Failure> {
    let meta = std::fs::metadata(f).map_err(|e| io_failure("cannot read", f, &e))?;
    if meta.len() > MAX_FILE {
        return Err(Failure::new(format!(
            "{}: {} bytes; sealstrap reads at most {} MiB of SealedSecrets per file",
            f.display(),
            meta.len(),
            MAX_FILE >> 20
        )));
    }
    std::fs::read_to_string(f).map_err(|e| io_failure("cannot read", f, &e))
}

/// The short form of a fingerprint in tables: `sha256:` and 16 hex digits.
fn short(fp: &str) -> String {
    fp.chars().take(7 + 16).collect()
}

/// One environment's usage report.
struct EnvUsage {
    env: Option<String>,
    escrow: PathBuf,
    keys: Vec<ControllerKey>,
    values: Vec<SealedValue>,
    unreadable: Vec<String>,
}

pub fn usage(a: &KeyUsageArgs) -> CmdResult {
    let mut reports = Vec::new();
    for (env, escrow) in targets(&a.escrow, a.all_envs)? {
        let keys = escrow_keys(&escrow, &a.escrow.identity.identity)?;
        let mut values = Vec::new();
        let mut unreadable = Vec::new();
        // Every file on its own core (each value is opened with the keys in turn), the results
        // gathered in the folder's order.
        let texts = folder_texts(&out_of(&escrow), &a.paths)?;
        let Ok(()) = sealstrap::par::for_each_ordered(
            &texts,
            sealstrap::par::available_threads(),
            |_, (file, text)| key_usage::file_usage(file, text, &keys),
            |_, usage: FileUsage| {
                values.extend(usage.values);
                unreadable.extend(usage.unreadable);
                Ok::<(), std::convert::Infallible>(())
            },
        );
        reports.push(EnvUsage {
            env,
            escrow,
            keys,
            values,
            unreadable,
        });
    }
    let mut problems = 0;
    let mut text = String::new();
    let mut json_envs = Vec::new();
    for r in &reports {
        let (per_key, orphans) = key_usage::tally(&r.keys, &r.values);
        problems += orphans.len() + r.unreadable.len();
        let sealing =
            ck::sealing_key(r.keys.iter().map(|k| &k.cert)).map(|c| c.fingerprint.clone());
        let mut sorted: Vec<&ControllerKey> = r.keys.iter().collect();
        sorted.sort_by_key(|k| k.cert.not_before);
        match a.output {
            SummaryFormat::Text => {
                text.push_str(&format!(
                    "# {}{} ({} key(s)): {} sealed value(s)\n",
                    r.env
                        .as_deref()
                        .map(|e| format!("environment {e}: "))
                        .unwrap_or_default(),
                    tree::shown(&r.escrow).display(),
                    r.keys.len(),
                    r.values.len()
                ));
                text.push_str(&format!(
                    "{:<72} {:<21} {:>6}\n",
                    "KEY", "NOT BEFORE", "VALUES"
                ));
                for k in &sorted {
                    let fp = &k.cert.fingerprint;
                    text.push_str(&format!(
                        "{:<72} {:<21} {:>6}{}\n",
                        fp,
                        sealstrap::timefmt::rfc3339(k.cert.not_before),
                        per_key.get(fp).copied().unwrap_or(0),
                        if Some(fp) == sealing.as_ref() {
                            "  <- seals"
                        } else {
                            ""
                        }
                    ));
                }
                let w = r
                    .values
                    .iter()
                    .map(|v| v.file.len())
                    .max()
                    .unwrap_or(4)
                    .max(4);
                let sw = r
                    .values
                    .iter()
                    .map(|v| v.secret.len())
                    .max()
                    .unwrap_or(6)
                    .max(6);
                text.push_str(&format!(
                    "{:<w$} {:<sw$} {:<12} KEY\n",
                    "FILE", "SECRET", "ITEM"
                ));
                for v in &r.values {
                    text.push_str(&format!(
                        "{:<w$} {:<sw$} {:<12} {}\n",
                        v.file,
                        v.secret,
                        v.item,
                        v.key
                            .as_deref()
                            .map(short)
                            .unwrap_or_else(|| "NO KEY".into())
                    ));
                }
                for u in &r.unreadable {
                    text.push_str(&format!("UNREADABLE {u}\n"));
                }
                text.push('\n');
            }
            SummaryFormat::Json => {
                json_envs.push(json!({
                    "environment": r.env,
                    "escrow": tree::shown(&r.escrow).display().to_string(),
                    "keys": sorted.iter().map(|k| json!({
                        "fingerprint": k.cert.fingerprint,
                        "not_before": sealstrap::timefmt::rfc3339(k.cert.not_before),
                        "seals": Some(&k.cert.fingerprint) == sealing.as_ref(),
                        "values": per_key.get(&k.cert.fingerprint).copied().unwrap_or(0),
                    })).collect::<Vec<_>>(),
                    "values": r.values.iter().map(|v| json!({
                        "file": v.file, "secret": v.secret, "item": v.item, "key": v.key,
                    })).collect::<Vec<_>>(),
                    "unreadable": r.unreadable,
                }));
            }
        }
    }
    match a.output {
        SummaryFormat::Text => write_stdout(text.as_bytes())?,
        SummaryFormat::Json => write_stdout(
            format!(
                "{}\n",
                serde_json::to_string_pretty(
                    &json!({"ok": problems == 0, "environments": json_envs})
                )
                .expect("json")
            )
            .as_bytes(),
        )?,
    }
    if problems > 0 {
        return Err(Failure::new(format!(
            "{problems} sealed value(s) or document(s) open with no escrowed key"
        ))
        .hint("a value sealed for a key nobody escrowed is lost in a rebuild: if the cluster still holds that key, escrow it (sealstrap key backup -i IDENTITY); otherwise seal the value again (sealstrap rotate KEY)"));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line to stdout; a reader that went away (`| head`) ends the command quietly.
fn say(line: std::fmt::Arguments<'_>) -> Result<(), Failure> {
    write_stdout(format!("{line}\n").as_bytes())
}

// --- retire ---

/// Runs git in `root`; `None` when git cannot run.
fn git(root: &Path, args: &[&str]) -> Option<std::process::Output> {
    crate::workspace::git::run(Some(root), args)
}

/// The SealedSecret texts of a repository: the work tree's files git would commit (tracked, or
/// new and not ignored), and the trees of HEAD and of each `history` revision, each blob once.
/// As (where, text).
fn repository_texts(
    root: &Path,
    history: &[String],
    reachable: bool,
) -> Result<Vec<(String, String)>, Failure> {
    let no_git = || {
        Failure::new(format!(
            "cannot run git in {}: retiring a key needs to know every committed value",
            root.display()
        ))
        .hint("install git, or run it where git works")
    };
    let wanted = |p: &str| EXTS.iter().any(|e| p.ends_with(&format!(".{e}")));
    let mut texts = Vec::new();
    // The work tree, as the next commit would hold it.
    let o = git(
        root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )
    .ok_or_else(no_git)?;
    if !o.status.success() {
        return Err(no_git());
    }
    for rel in o.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rel = String::from_utf8_lossy(rel).into_owned();
        if !wanted(&rel) {
            continue;
        }
        let path = root.join(&rel);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue; // deleted in the work tree: HEAD still has it, read below
        };
        if meta.len() > MAX_FILE {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&path)
            && text.contains("SealedSecret")
        {
            texts.push((rel, text));
        }
    }
    // Committed blobs: HEAD's tree and each --history revision's tree (a branch you may still
    // deploy or merge from). Older commits are not read: their values open with the keys the
    // escrow held then, which its own history keeps (git show REV:.../controller-keys.age).
    let mut blobs: BTreeMap<String, String> = BTreeMap::new();
    let has_head = git(root, &["rev-parse", "--verify", "-q", "HEAD^{commit}"])
        .is_some_and(|o| o.status.success());
    let mut trees: Vec<&str> = Vec::new();
    if has_head {
        trees.push("HEAD");
    }
    for rev in history {
        let ok = git(
            root,
            &["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")],
        )
        .is_some_and(|o| o.status.success());
        if !ok {
            return Err(Failure::usage(format!(
                "--history {rev}: no such revision in {}",
                root.display()
            ))
            .hint("name a branch or tag: git branch -a"));
        }
        trees.push(rev);
    }
    for rev in trees {
        let o = git(root, &["ls-tree", "-r", "-z", rev, "--"]).ok_or_else(no_git)?;
        if !o.status.success() {
            return Err(Failure::new(format!(
                "git ls-tree -r {rev} failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )));
        }
        for entry in o.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let mut m = meta.split(' ');
            if m.nth(1) == Some("blob")
                && let Some(oid) = m.next()
                && wanted(path)
            {
                blobs
                    .entry(oid.to_string())
                    .or_insert_with(|| format!("{rev}:{path}"));
            }
        }
    }
    if reachable {
        // Every commit reachable from each revision: `OID PATH` per blob (named once, under the
        // first path git meets it at).
        for rev in history {
            let o = git(root, &["rev-list", "--objects", rev, "--"]).ok_or_else(no_git)?;
            if !o.status.success() {
                return Err(Failure::new(format!(
                    "git rev-list --objects {rev} failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                )));
            }
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                if let Some((oid, path)) = line.split_once(' ')
                    && wanted(path)
                {
                    blobs
                        .entry(oid.to_string())
                        .or_insert_with(|| format!("{rev} (history):{path}"));
                }
            }
        }
    }
    if !blobs.is_empty() {
        texts.extend(read_blobs(root, &blobs)?);
    }
    Ok(texts)
}

/// Reads blobs with one `git cat-file --batch`, keeping those that mention SealedSecret.
fn read_blobs(
    root: &Path,
    blobs: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, Failure> {
    let oids: Vec<String> = blobs.keys().cloned().collect();
    let mut texts = Vec::new();
    crate::workspace::git::cat_blobs(root, &oids, |oid, body| {
        if let Some(body) = body
            && (body.len() as u64) <= MAX_FILE
            && body.windows(12).any(|w| w == b"SealedSecret")
        {
            texts.push((
                blobs[oid].clone(),
                String::from_utf8_lossy(body).into_owned(),
            ));
        }
    })
    .map_err(Failure::new)?;
    Ok(texts)
}

pub fn retire(a: &KeyRetireArgs) -> CmdResult {
    let escrow_path = crate::workspace::repo::given_or_env_default(
        a.escrow.file.as_deref(),
        a.escrow.env.as_deref(),
        sealstrap::defaults::ESCROW_NAME,
    )?;
    let out = out_of(&escrow_path);
    let fleet = cmd_key::fleet_entry(a.escrow.env.as_deref())?;
    let cert_path = a.cert_file.clone().unwrap_or_else(|| {
        fleet
            .as_ref()
            .and_then(|(root, e)| e.cert.as_ref().map(|c| root.join(c)))
            .unwrap_or_else(|| cmd_key::bundle_path(&escrow_path, None))
    });
    let recipients_path = fleet
        .as_ref()
        .and_then(|(root, e)| e.recipients.as_ref().map(|r| root.join(r)))
        .unwrap_or_else(|| out.join(RECIPIENTS_NAME));

    let scope = cmd_key::key_scope(&escrow_path, &cert_path, &recipients_path)?;
    let _locks = crate::workspace::files::lock_scope(&scope, a.dry_run)?;
    let plain = open_escrow(&escrow_path, &a.escrow.identity.identity)?;
    let text = std::str::from_utf8(&plain).map_err(|_| {
        Failure::new(format!(
            "{}: the escrow's content is not a YAML key List",
            escrow_path.display()
        ))
    })?;
    let keys = ck::parse_key_list(text).map_err(|e| Failure::at(escrow_path.display(), &e))?;
    // The namespace the escrow's Secrets carry (key new's --controller-namespace), read from the
    // lines so no other copy of the plaintext is made.
    let namespace = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("namespace:"))
        .map(|n| n.trim().trim_matches('"').to_string())
        .filter(|n| sealstrap::objects::is_dns_label(n))
        .unwrap_or_else(|| a.controller_namespace.clone());
    let key = key_usage::find_key(&keys, &a.fingerprint)
        .map_err(|e| Failure::new(e.to_string()).hint_opt(e.hint()))?;
    let fp = key.cert.fingerprint.clone();
    if keys.len() == 1 {
        return Err(Failure::new(format!(
            "{fp} is the only key in {}: an escrow keeps at least one",
            escrow_path.display()
        ))
        .hint("make its successor first: sealstrap key new, sealstrap reseal, sealstrap key install --restart"));
    }
    let newest = ck::sealing_key(keys.iter().map(|k| &k.cert)).map(|c| c.fingerprint.clone());
    if newest.as_deref() == Some(fp.as_str()) {
        return Err(Failure::new(format!(
            "{fp} is the newest key: the controller seals with it, and so does everyone sealing with {}",
            cert_path.display()
        ))
        .hint("retire a key once a newer one seals: sealstrap key new, reseal, key install --restart, then retire the old one"));
    }

    // Every place a value that needs the key could be.
    let only = std::slice::from_ref(key);
    let mut texts = folder_texts(&out, &a.paths)?;
    let root = tree::git_root(&out);
    match &root {
        Some(r) => texts.extend(repository_texts(r, &a.history, a.reachable)?),
        None if !a.history.is_empty() => {
            return Err(Failure::usage(format!(
                "--history: {} is not in a git repository",
                out.display()
            )));
        }
        None => {}
    }
    let mut seen = BTreeSet::new();
    let mut checked = 0usize;
    let mut needing: Vec<SealedValue> = Vec::new();
    let mut unreadable = Vec::new();
    for (label, text) in &texts {
        if !seen.insert(text.as_str()) {
            continue;
        }
        let u = key_usage::file_usage(label, text, only);
        checked += u.values.len();
        needing.extend(u.values.into_iter().filter(|v| v.key.is_some()));
        unreadable.extend(u.unreadable);
    }
    for u in &unreadable {
        eprintln!("sealstrap: warning: {u} (not checked)");
    }
    let where_checked = format!(
        "{} value(s) in the sealed folder{}{}{}",
        checked,
        if a.paths.is_empty() { "" } else { ", --path" },
        if root.is_some() {
            ", the work tree and HEAD"
        } else {
            ""
        },
        if a.history.is_empty() {
            String::new()
        } else {
            format!(
                ", and {} {}",
                if a.reachable {
                    "every commit reachable from"
                } else {
                    "the tree of"
                },
                a.history.join(", ")
            )
        }
    );
    if !needing.is_empty() {
        let mut files: Vec<String> = needing
            .iter()
            .map(|v| format!("{} ({} {})", v.file, v.secret, v.item))
            .collect();
        files.sort();
        files.dedup();
        let n = files.len();
        let mut list = files.into_iter().take(20).collect::<Vec<_>>().join("\n  ");
        if n > 20 {
            list.push_str(&format!("\n  ... and {} more", n - 20));
        }
        return Err(Failure::new(format!(
            "refusing to retire {fp}: {} value(s) need it (only it opens them):\n  {list}",
            needing.len()
        ))
        .hint(format!(
            "reseal them for the newest key and commit: sealstrap reseal --private-key {} -i IDENTITY --cert {} PATH...; a value in a --history revision (REV:path) needs that branch resealed too",
            escrow_path.display(),
            cert_path.display()
        )));
    }

    let remaining: Vec<ControllerKey> = keys
        .iter()
        .filter(|k| k.cert.fingerprint != fp)
        .cloned()
        .collect();
    let oldest = keys
        .iter()
        .min_by_key(|k| k.cert.not_before)
        .map(|k| k.cert.fingerprint.clone());
    say(format_args!(
        "{fp}: no value needs it ({where_checked} checked)"
    ))?;
    if a.dry_run {
        say(format_args!(
            "dry run: {} and {} unchanged",
            escrow_path.display(),
            cert_path.display()
        ))?;
    } else {
        let lock = cmd_key::choose_lock(
            &EscrowLockArgs {
                recipients: Vec::new(),
                recipients_files: Vec::new(),
                passphrase: false,
                armor: false,
                accept_recipients: false,
            },
            &recipients_path,
            &escrow_path,
        )?;
        // The escrow is re-encrypted to the committed recipients: only pinned ones.
        let pin_place = cmd_key::PinPlace::find(escrow_path.parent(), a.escrow.env.as_deref())?;
        let recipients_pin = pin_place.check_recipients(&lock, false, false)?;
        let sealing =
            ck::sealing_key(remaining.iter().map(|k| &k.cert)).map(|c| c.fingerprint.clone());
        let pins = pin_place.write(sealing.as_deref(), recipients_pin.as_deref());
        let armor = crate::workspace::keys::read_file(&escrow_path, "escrow")?
            .starts_with(b"-----BEGIN AGE");
        cmd_key::write_key_files(
            &scope,
            &cmd_key::KeyFiles {
                escrow: &escrow_path,
                cert: &cert_path,
                recipients: &recipients_path,
            },
            &remaining,
            &namespace,
            &lock,
            armor,
            pins.as_ref(),
        )?;
        say(format_args!(
            "removed it from {} ({} key(s) left) and {}; commit both",
            escrow_path.display(),
            remaining.len(),
            cert_path.display()
        ))?;
    }
    let ns = &a.controller_namespace;
    say(format_args!(
        "then take it out of the cluster (the controller keeps a key it loaded until it restarts):"
    ))?;
    say(format_args!(
        "  kubectl -n {ns} delete secret {} --ignore-not-found",
        key.secret_name(&a.secret_name)
    ))?;
    if oldest.as_deref() == Some(fp.as_str()) {
        say(format_args!(
            "  # a first-boot export (sealstrap key export) named the oldest key {}: check which key it holds with `sealstrap doctor` before deleting it",
            a.secret_name
        ))?;
    }
    say(format_args!(
        "  kubectl -n {ns} rollout restart deployment/{}",
        a.controller_name
    ))?;
    say(format_args!(
        "`sealstrap doctor` names any key Secret the escrow no longer holds"
    ))?;
    Ok(ExitCode::SUCCESS)
}

// --- doctor ---

/// The key Secrets of the controller's namespace (any Secret with a readable `tls.crt`).
fn key_secrets(items: &[Value]) -> Vec<KeySecret> {
    items
        .iter()
        .filter_map(|item| {
            let crt = item
                .pointer("/data/tls.crt")
                .and_then(Value::as_str)
                .and_then(|b| {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.decode(b).ok()
                })
                .and_then(|pem| sealstrap::cert::parse(&pem).ok())?;
            Some(KeySecret {
                name: item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("(unnamed)")
                    .to_string(),
                labeled: item
                    .pointer("/metadata/labels")
                    .and_then(|l| l.get(KEY_LABEL))
                    .and_then(Value::as_str)
                    == Some("active"),
                fingerprint: crt.fingerprint.clone(),
                not_before: sealstrap::timefmt::rfc3339(crt.not_before),
            })
        })
        .collect()
}

/// `doctor`'s links between the escrow (the committed bundle at `bundle`) and the cluster: the
/// escrow's newest key seals and every escrowed key is in the cluster, labeled; with
/// `--first-boot` also every key Secret the escrow lacks, as a key the controller made itself.
pub fn doctor_key_links(
    cluster: &sealstrap::cluster::Cluster,
    args: &DoctorArgs,
    bundle: &Path,
    served: &Certificate,
) -> Vec<Link> {
    let Ok(data) = std::fs::read(bundle) else {
        return Vec::new(); // the key-custody link already says nothing is escrowed
    };
    let Ok(escrow) = ck::parse_cert_bundle(&data) else {
        return Vec::new();
    };
    let ns = &args.cluster.controller_namespace;
    let env = args
        .env
        .as_deref()
        .map(|e| format!(" --env {e}"))
        .unwrap_or_default();
    let install = format!("sealstrap key install{env} -i IDENTITY --restart");
    let usage = format!("sealstrap key usage{env} -i IDENTITY");
    let bundle_shown = bundle.display().to_string();
    let fb = FirstBoot {
        namespace: ns,
        controller: &args.cluster.controller_name,
        bundle: &bundle_shown,
        install: &install,
        usage: &usage,
    };
    // Every Secret of the namespace: an escrowed key without the label is one too.
    let secrets = match cluster.list_secrets(ns, None) {
        Ok(items) => key_secrets(&items),
        Err(e) => {
            return vec![Link::broken(
                "key-secrets",
                format!("cannot list the Secrets in {ns}: {e}"),
                "let doctor's account list secrets in the controller's namespace",
            )];
        }
    };
    let mut links = doctor::escrow_links(&fb, served, &escrow, &secrets);
    if args.first_boot {
        let escrowed: Vec<String> = escrow.iter().map(|c| c.fingerprint.clone()).collect();
        for s in secrets.iter().filter(|s| s.labeled) {
            if !escrowed.contains(&s.fingerprint) {
                links.push(doctor::self_made_link(&fb, s, &escrowed));
            }
        }
    }
    links
}
