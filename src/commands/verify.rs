//! `sealstrap verify`: decrypt every sealed value of a bootstrap folder in memory and check it.

use std::collections::BTreeMap;
use std::process::ExitCode;

use sealstrap::contract::{DEX_HASH, DEX_PASSWORD};
use sealstrap::manifests::{SEALED_DIR, VALUE_KEY};
use sealstrap::rsa::PrivateKey;
use sealstrap::verify::Problem;
use sealstrap::{kubeseal, objects, par, verify};
use zeroize::Zeroizing;

use crate::cli::VerifyArgs;
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::write_stdout;
use crate::workspace::walk::SealedFile;

pub fn run(args: &VerifyArgs) -> CmdResult {
    let keys = crate::workspace::keys::load_keys(&args.private_keys, &args.identity.identity)?;
    let ws =
        crate::workspace::Workspace::for_out(args.platform_root.as_deref(), args.dir.as_deref())?;
    let place = crate::workspace::place::Place::resolve(
        &ws,
        &crate::workspace::place::Choice {
            out: args.dir.as_deref(),
            env: args.selection.env.as_deref(),
            config: args.selection.config.as_deref(),
        },
    )?;
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
    crate::workspace::files::refuse_interrupted(
        &crate::workspace::repo::scope_of(root.as_ref(), &[&out])?,
        &out,
    )?;
    let dir = out.join(SEALED_DIR);
    if !dir.is_dir() {
        return Err(Failure::new(format!("{} is not a folder", dir.display()))
            .hint("pass the output folder of `sealstrap seal` (default secret-source)"));
    }

    // key -> decrypted value, or why it could not be read. Each file is opened on its own core
    // (RSA private-key operations); the map is filled in the folder's order.
    let files: Vec<SealedFile> = crate::workspace::walk::read_sealed(&out)?
        .into_iter()
        .filter(|f| f.name.ends_with(".yaml"))
        .collect();
    let mut values: BTreeMap<String, Result<Zeroizing<Vec<u8>>, Problem>> = BTreeMap::new();
    // The Dex pair's bcrypt check is the one slow check (a quarter of a second at cost 12): it
    // starts on a thread of its own as soon as both values are open, beside the other files.
    let dex_pair: Option<Result<(), Problem>> = std::thread::scope(|s| {
        let mut pair = None;
        let Ok(()) = par::for_each_ordered(
            &files,
            par::available_threads(),
            |_, file| open_value(file, &keys, &args.source_namespace),
            |i, result| {
                values.insert(files[i].stem.clone(), result);
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

    let mut report = String::new();
    let mut failed = 0usize;
    let mut hints: Vec<String> = Vec::new();
    let generated = |k: &str| place.contract.entry(k).is_some_and(|e| e.is_generated());
    let mut line = |key: &str, r: Result<(), Problem>| match r {
        Ok(()) => report.push_str(&format!("{key} OK\n")),
        Err(why) => {
            failed += 1;
            report.push_str(&format!("{key} FAIL: {why}\n"));
            let hint = why.hint(key, generated(key));
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        }
    };
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
        line(e.key, r);
    }
    for (k, v) in &values {
        if place.contract.entry(k).is_none() {
            line(k, v.as_ref().map(|_| ()).map_err(Clone::clone));
        }
    }
    // Keys the tree reads that no row of the contract makes.
    for (k, at) in refs {
        if place.contract.entry(k).is_none() && !values.contains_key(k) {
            line(k, Err(Problem::NotInContract(at.join(", "))));
        }
    }
    // The sealing certificate beside the folder (what `key new` wrote, or the fleet file's).
    let cert_file = place.committed_cert();
    if let Ok(pem) = std::fs::read(&cert_file)
        && let Ok(c) = sealstrap::cert::parse(&pem)
    {
        match c.check(crate::workspace::now()) {
            Ok(warnings) => {
                for w in warnings {
                    eprintln!("sealstrap: warning: {}: {w}", cert_file.display());
                }
                line("certificate", Ok(()));
            }
            Err(e) if args.allow_expired => {
                eprintln!(
                    "sealstrap: warning: {}: {e} (--allow-expired)",
                    cert_file.display()
                );
                line("certificate", Ok(()));
            }
            Err(e) => line(
                "certificate",
                Err(Problem::CertificateExpired(format!(
                    "{}: {e}",
                    cert_file.display()
                ))),
            ),
        }
    }
    write_stdout(report.as_bytes())?;
    if failed > 0 {
        let mut f = Failure::new(format!("{failed} check(s) failed"));
        for h in hints {
            f = f.hint(h);
        }
        return Err(f);
    }
    Ok(ExitCode::SUCCESS)
}

/// The one value of a sealed file `<key>.yaml`: one SealedSecret named `key` in `namespace`,
/// holding one item, opened with `keys`.
fn open_value(
    file: &SealedFile,
    keys: &[PrivateKey],
    namespace: &str,
) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let text = file.text.clone().map_err(Problem::Read)?;
    let docs = kubeseal::parse_sealed_stream(&text)?;
    let [doc] = docs.as_slice() else {
        return Err(Problem::Documents(docs.len()));
    };
    if doc.name != file.stem || doc.namespace != namespace {
        return Err(Problem::WrongObject {
            found: doc.id(),
            expected: format!("{namespace}/{}", file.stem),
        });
    }
    let mut secret =
        objects::unseal_sealed_secret(doc, keys).map_err(|f| Problem::Decrypt(f.to_string()))?;
    if secret.items.len() != 1 {
        return Err(Problem::DataKeys(secret.items.len()));
    }
    secret.items.remove(VALUE_KEY).ok_or(Problem::NoValueKey)
}
