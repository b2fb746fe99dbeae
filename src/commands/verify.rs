//! `sealstrap verify`: decrypt every sealed value of a bootstrap folder in memory and check it;
//! with a break-glass certificate, check the copies against the rule `sealstrap::verify`
//! owns; with `--all-envs`, every environment and then each shared value across them. The
//! values are opened on every core (`sealstrap::par`), the report is in the folder's order.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use sealstrap::contract::{DEX_HASH, DEX_PASSWORD};
use sealstrap::manifests::{self, SEALED_DIR, VALUE_KEY};
use sealstrap::rsa::PrivateKey;
use sealstrap::verify::Problem;
use sealstrap::{kubeseal, objects, par, verify};
use zeroize::Zeroizing;

use crate::cli::VerifyArgs;
use crate::workspace::Workspace;
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::write_stdout;
use crate::workspace::place::{Choice, Place};
use crate::workspace::repo;

/// What one folder's check found: the report lines, the failures and their fixes, and the
/// values that opened (for the shared check across environments).
#[derive(Default)]
struct Checked {
    report: String,
    failed: usize,
    hints: Vec<String>,
    opened: BTreeMap<String, Zeroizing<Vec<u8>>>,
}

impl Checked {
    fn line(&mut self, key: &str, generated: bool, r: Result<(), Problem>) {
        match r {
            Ok(()) => self.report.push_str(&format!("{key} OK\n")),
            Err(why) => self.fail(key, generated, &why),
        }
    }

    fn fail(&mut self, key: &str, generated: bool, why: &Problem) {
        self.failed += 1;
        self.report.push_str(&format!("{key} FAIL: {why}\n"));
        // The key itself, for the hint: "break-glass/KEY" and "shared KEY" name one.
        let bare = key.rsplit(['/', ' ']).next().unwrap_or(key);
        let hint = why.hint(bare, generated);
        if !self.hints.contains(&hint) {
            self.hints.push(hint);
        }
    }
}

pub fn run(args: &VerifyArgs) -> CmdResult {
    let ws = Workspace::for_out(args.platform_root.as_deref(), args.dir.as_deref())?;
    let keys = crate::workspace::keys::keys_for(
        &args.private_keys,
        &args.identity.identity,
        ws.root.as_ref(),
    )?;
    let mut all = Checked::default();
    if args.all_envs {
        let root = ws.root.as_ref().filter(|r| r.platform).ok_or_else(|| {
            Failure::usage(format!(
                "--all-envs checks the platform's environments, and this is not the platform repository (no {})",
                sealstrap::platform::STORE_PATH
            ))
            .hint("run it in a checkout of the platform, or pass --platform-root DIR")
        })?;
        let (envs, skipped) = repo::environment_folders(&root.dir);
        for s in &skipped {
            eprintln!("sealstrap: note: clusters/{s} is skipped");
        }
        if envs.is_empty() {
            return Err(Failure::usage("--all-envs: clusters/ holds no environment"));
        }
        let mut per_env = Vec::new();
        for env in &envs {
            let place = Place::resolve(
                &ws,
                &Choice {
                    env: Some(env),
                    ..Default::default()
                },
            )?;
            let c = check_folder(args, &ws, &place, &keys)?;
            all.report.push_str(&format!("== {env}\n{}", c.report));
            all.failed += c.failed;
            for h in c.hints {
                if !all.hints.contains(&h) {
                    all.hints.push(h);
                }
            }
            per_env.push((env.clone(), c.opened));
        }
        // A shared value is one value: compared where it opened (a value that did not open is a
        // FAIL of its environment already).
        for key in ws.config.fleet.shared() {
            let held: Vec<(&str, &[u8])> = per_env
                .iter()
                .filter_map(|(env, opened)| opened.get(key).map(|v| (env.as_str(), v.as_slice())))
                .collect();
            if held.is_empty() {
                continue;
            }
            let r = match verify::shared_differs(&held) {
                Some(p) => Err(p),
                None => Ok(()),
            };
            let generated = ws
                .contract(None)
                .entry(key)
                .is_some_and(|e| e.is_generated());
            all.line(&format!("shared {key}"), generated, r);
        }
    } else {
        let place = Place::resolve(
            &ws,
            &Choice {
                out: args.dir.as_deref(),
                env: args.selection.env.as_deref(),
                config: args.selection.config.as_deref(),
            },
        )?;
        all = check_folder(args, &ws, &place, &keys)?;
    }
    write_stdout(all.report.as_bytes())?;
    if all.failed > 0 {
        let mut f = Failure::new(format!("{} check(s) failed", all.failed));
        for h in all.hints {
            f = f.hint(h);
        }
        return Err(f);
    }
    Ok(ExitCode::SUCCESS)
}

/// The checks of one environment's sealed folder.
fn check_folder(
    args: &VerifyArgs,
    ws: &Workspace,
    place: &Place,
    keys: &[PrivateKey],
) -> Result<Checked, Failure> {
    let config = place.load_config()?;
    let (root, out) = (place.root.clone(), place.out.clone());
    // The same reading of the tree as seal's: what the environment deploys reads from the store.
    let graph = match &root {
        Some(r) => crate::workspace::reads::graph(r, place.layout.env.as_deref())?,
        None => None,
    };
    let reads = match &root {
        Some(r) => Some(crate::workspace::reads::reads(
            r,
            graph.as_ref(),
            std::slice::from_ref(&out),
            &sealstrap::patch::Options {
                store: args.store_name.clone(),
                property: VALUE_KEY.into(),
                contract: place.contract.clone(),
            },
        )?),
        None => None,
    };
    let no_refs = BTreeMap::new();
    let refs = reads.as_ref().map(|r| &r.by_key).unwrap_or(&no_refs);
    let off = reads.as_ref().map(|r| &r.off).unwrap_or(&no_refs);
    let selection = sealstrap::bootstrap::select(
        &place.contract,
        config.as_ref(),
        &args.selection.with,
        &args.selection.without,
        refs,
        off,
    );
    // A leftover journal means an interrupted write: what is on disk may be half old, half new.
    crate::workspace::files::refuse_interrupted(&repo::scope_of(root.as_ref(), &[&out])?, &out)?;
    let dir = out.join(SEALED_DIR);
    if !dir.is_dir() {
        return Err(Failure::new(format!("{} is not a folder", dir.display()))
            .hint("pass the output folder of `sealstrap seal` (default secret-source)"));
    }
    let open = |text: &Result<String, String>, name: &str| {
        let text = text.clone().map_err(Problem::Read)?;
        let docs = kubeseal::parse_sealed_stream(&text)?;
        let [doc] = docs.as_slice() else {
            return Err(Problem::Documents(docs.len()));
        };
        if doc.name != name || doc.namespace != args.source_namespace {
            return Err(Problem::WrongObject {
                found: doc.id(),
                expected: format!("{}/{name}", args.source_namespace),
            });
        }
        let mut secret = objects::unseal_sealed_secret(doc, keys)
            .map_err(|f| Problem::Decrypt(f.to_string()))?;
        if secret.items.len() != 1 {
            return Err(Problem::DataKeys(secret.items.len()));
        }
        secret.items.remove(VALUE_KEY).ok_or(Problem::NoValueKey)
    };

    // key -> decrypted value, or why it could not be read. Each file is opened on its own core
    // (RSA private-key operations); the maps are filled in the folder's order.
    let files: Vec<_> = crate::workspace::walk::read_sealed(&out)?
        .into_iter()
        .filter(|f| f.name.ends_with(".yaml"))
        .collect();
    let mut values: BTreeMap<String, Result<Zeroizing<Vec<u8>>, Problem>> = BTreeMap::new();
    let mut paths = BTreeMap::new();
    // The Dex pair's bcrypt check is the one slow check (a quarter of a second at cost 12): it
    // starts on a thread of its own as soon as both values are open, beside the other files.
    let dex_pair: Option<Result<(), Problem>> = std::thread::scope(|s| {
        let mut pair = None;
        let Ok(()) = par::for_each_ordered(
            &files,
            par::available_threads(),
            |_, file| open(&file.text, &file.stem),
            |i, result| {
                values.insert(files[i].stem.clone(), result);
                paths.insert(files[i].stem.clone(), files[i].path.clone());
                if pair.is_none()
                    && let (Some(Ok(pw)), Some(Ok(hash))) =
                        (values.get(DEX_PASSWORD), values.get(DEX_HASH))
                {
                    let (pw, hash) = (pw.clone(), hash.clone());
                    pair =
                        Some(s.spawn(move || {
                            verify::check_dex_pair(&pw, &hash).map_err(Problem::from)
                        }));
                }
                Ok::<(), std::convert::Infallible>(())
            },
        );
        pair.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    drop(files);

    let mut c = Checked::default();
    let generated = |k: &str| place.contract.entry(k).is_some_and(|e| e.is_generated());
    for e in place.contract.all() {
        let needed = selection.iter().any(|s| s.entry.key == e.key && s.included);
        let r = match values.get(e.key) {
            None if needed => match refs.get(e.key) {
                Some(at) => Err(Problem::Unsealed(at.join(", "))),
                None => Err(Problem::Missing),
            },
            None => continue,
            Some(Err(why)) => Err(why.clone()),
            Some(Ok(v)) => verify::check_value(Some(e), v)
                .map_err(Problem::from)
                .and_then(|()| {
                    if e.key == DEX_HASH {
                        // Checked above as soon as both opened; not when the password did not.
                        dex_pair.clone().unwrap_or(Err(Problem::PairUncheckable))
                    } else {
                        Ok(())
                    }
                }),
        };
        c.line(e.key, generated(e.key), r);
    }
    // Sealed files of keys this environment does not make: another environment's key (kept,
    // checked only to open), or an orphan whose key left sealstrap.yaml.
    let every_key = ws.contract(None);
    for (k, v) in &values {
        if place.contract.entry(k).is_some() {
            continue;
        }
        let r = match v {
            Err(why) => Err(why.clone()),
            Ok(_) if every_key.entry(k).is_none() && root.is_some() => Err(Problem::Orphaned(
                repo::shown(&paths[k]).display().to_string(),
            )),
            Ok(_) => Ok(()),
        };
        c.line(k, false, r);
    }
    // Keys the tree reads that no row of the contract makes.
    for (k, at) in refs {
        if place.contract.entry(k).is_none() && !values.contains_key(k) {
            c.line(k, false, Err(Problem::NotInContract(at.join(", "))));
        }
    }
    check_copies(place, &values, &open, &mut c)?;
    // The sealing certificate beside the folder (what `key new` wrote, or the fleet file's).
    let cert_file = place.committed_cert();
    if let Ok(Some(pem)) = crate::workspace::files::read_repo_file(&cert_file)
        && let Ok(cert) = sealstrap::cert::parse(&pem)
    {
        match cert.check(crate::workspace::now()) {
            Ok(warnings) => {
                for w in warnings {
                    eprintln!("sealstrap: warning: {}: {w}", cert_file.display());
                }
                c.line("certificate", false, Ok(()));
            }
            Err(e) if args.allow_expired => {
                eprintln!(
                    "sealstrap: warning: {}: {e} (--allow-expired)",
                    cert_file.display()
                );
                c.line("certificate", false, Ok(()));
            }
            Err(e) => c.line(
                "certificate",
                false,
                Err(Problem::CertificateExpired(format!(
                    "{}: {e}",
                    cert_file.display()
                ))),
            ),
        }
    }
    for (k, v) in values {
        if let Ok(v) = v {
            c.opened.insert(k, v);
        }
    }
    Ok(c)
}

/// Opens one sealed file's text (or why it could not be read) as SealedSecret `name`.
type Opener<'a> =
    dyn Fn(&Result<String, String>, &str) -> Result<Zeroizing<Vec<u8>>, Problem> + Sync + 'a;

/// The break-glass copies of the folder: the rule (`verify::check_copies`), then each copy
/// that a given key opens compared with its sealed value.
fn check_copies(
    place: &Place,
    values: &BTreeMap<String, Result<Zeroizing<Vec<u8>>, Problem>>,
    open: &Opener<'_>,
    c: &mut Checked,
) -> Result<(), Failure> {
    let want = place.break_glass_fingerprint()?;
    let files = crate::workspace::walk::read_copies(&place.out)?;
    if want.is_none() && files.is_empty() {
        return Ok(());
    }
    let sealed: BTreeSet<String> = values.keys().cloned().collect();
    let copies: BTreeMap<String, Option<String>> = files
        .iter()
        .filter(|f| f.name.ends_with(".yaml"))
        .map(|f| {
            let fp = f.text.as_ref().ok().and_then(|t| {
                let docs = kubeseal::parse_sealed_stream(t).ok()?;
                let doc = docs.first()?;
                manifests::sealed_fingerprint(&doc.value).map(str::to_string)
            });
            (f.stem.clone(), fp)
        })
        .collect();
    let findings: Vec<(String, Problem)> = verify::check_copies(&sealed, &copies, want.as_deref())
        .into_iter()
        .map(|(k, p)| match p {
            Problem::CopyStray(rel) => {
                let shown = repo::shown(&place.out.join(&rel)).display().to_string();
                (k, Problem::CopyStray(shown))
            }
            p => (k, p),
        })
        .collect();
    let flagged: BTreeSet<&str> = findings.iter().map(|(k, _)| k.as_str()).collect();
    let mut unopened = 0usize;
    // The copies are opened on every core, then judged in the folder's order.
    let to_open: Vec<_> = files
        .iter()
        .filter(|f| f.name.ends_with(".yaml") && !flagged.contains(f.stem.as_str()))
        .collect();
    let mut opened = Vec::with_capacity(to_open.len());
    let Ok(()) = par::for_each_ordered(
        &to_open,
        par::available_threads(),
        |_, f| open(&f.text, &f.stem),
        |_, r| {
            opened.push(r);
            Ok::<(), std::convert::Infallible>(())
        },
    );
    for (f, copy) in to_open.into_iter().zip(opened) {
        let name = format!("{}/{}", manifests::BREAK_GLASS_DIR, f.stem);
        let r = match (copy, values.get(&f.stem)) {
            (Ok(copy), Some(Ok(v))) if copy == *v => Ok(()),
            (Ok(_), Some(Ok(_))) => Err(Problem::CopyDiffers),
            // Opened, and the sealed value did not (its own line says why).
            (Ok(_), _) => Ok(()),
            (Err(Problem::Decrypt(_)), _) => {
                unopened += 1;
                Ok(())
            }
            (Err(why), _) => Err(why),
        };
        c.line(&name, false, r);
    }
    for (k, why) in findings {
        let name = if k == manifests::BREAK_GLASS_DIR {
            k
        } else {
            format!("{}/{k}", manifests::BREAK_GLASS_DIR)
        };
        c.fail(&name, false, &why);
    }
    if unopened > 0 {
        eprintln!(
            "sealstrap: note: {}: {unopened} break-glass cop{} checked by certificate only (pass the break-glass key with --private-key to open and compare them)",
            repo::shown(&place.out).display(),
            if unopened == 1 { "y" } else { "ies" }
        );
    }
    Ok(())
}
