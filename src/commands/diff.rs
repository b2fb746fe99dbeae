//! `sealstrap diff`: key-level differences of sealed files between two revisions (or a revision
//! and the work tree), and the git textconv driver that shows the same in `git diff`. Reads git
//! and the escrow; the comparison itself is `sealstrap::diff`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sealstrap::diff::{self, Change, Fingerprinter};
use sealstrap::rsa::PrivateKey;
use serde_json::json;

use crate::cli::{DiffArgs, SummaryFormat};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::write_stdout;

fn git(args: &[&str]) -> Option<Vec<u8>> {
    crate::workspace::git::output(None, args)
}

/// Whether `s` names a commit.
fn is_revision(s: &str) -> bool {
    s.contains("..")
        || git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{s}^{{commit}}"),
        ])
        .is_some()
}

/// The controller's private keys for telling a re-seal from a change: `--private-key`, else
/// every escrow of the work tree the identity opens (each environment has its own).
/// The certificate fingerprints the SealedSecrets of `texts` say they were sealed for.
fn sealed_for<'a>(texts: impl Iterator<Item = &'a str>) -> std::collections::BTreeSet<String> {
    texts
        .flat_map(sealstrap::yaml::parse_each)
        .filter_map(|d| d.value.ok())
        .filter_map(|v| sealstrap::manifests::sealed_fingerprint(&v).map(str::to_string))
        .collect()
}

/// The controller's private keys that open the compared files: `--private-key`, else the
/// escrows of the work tree whose committed certificate bundle (beside them, public) lists a
/// certificate the files were sealed for (`wanted`; every escrow when the files do not say, as
/// kubeseal's files do not). Only those escrows are opened, once.
fn keys(
    args: &DiffArgs,
    top: &Path,
    wanted: &std::collections::BTreeSet<String>,
) -> Result<Vec<PrivateKey>, Failure> {
    if !args.private_keys.is_empty() {
        return crate::workspace::keys::load_keys(&args.private_keys, &args.identity.identity);
    }
    if args.identity.identity.is_empty() {
        return Ok(Vec::new());
    }
    let listed = git(&[
        "-C",
        &top.to_string_lossy(),
        "ls-files",
        "-z",
        "-co",
        "--exclude-standard",
    ])
    .unwrap_or_default();
    let mut all = Vec::new();
    let mut opened = 0;
    for rel in crate::workspace::git::split_z(&listed) {
        if !rel.ends_with(crate::workspace::keys::ESCROW_NAME) {
            continue;
        }
        let escrow = top.join(&rel);
        let bundle = escrow
            .parent()
            .map(|d| d.join(crate::workspace::keys::CERT_NAME))
            .and_then(|b| std::fs::read(b).ok())
            .and_then(|pem| sealstrap::controller_key::parse_cert_bundle(&pem).ok());
        let relevant = wanted.is_empty()
            || bundle.is_none_or(|certs| certs.iter().any(|c| wanted.contains(&c.fingerprint)));
        if !relevant {
            continue;
        }
        if let Ok(keys) =
            crate::workspace::keys::escrow_keys(&top.join(&rel), &args.identity.identity)
        {
            opened += 1;
            all.extend(keys.into_iter().map(|k| k.key));
        }
    }
    if opened == 0 {
        return Err(Failure::new(
            "--identity opens no escrow (controller-keys.age) in this work tree",
        )
        .hint("pass the identity of a custodian, or the controller keys with --private-key"));
    }
    Ok(all)
}

/// The sealed files under `paths` at `rev` (`None`: the work tree), relative to the top.
fn files_at(rev: Option<&str>, paths: &[String], top: &Path) -> Vec<String> {
    let top_s = top.to_string_lossy();
    let mut args: Vec<&str> = vec!["-C", &top_s];
    match rev {
        Some(r) => args.extend(["ls-tree", "-r", "-z", "--name-only", r, "--"]),
        None => args.extend(["ls-files", "-z", "-co", "--exclude-standard", "--"]),
    }
    args.extend(paths.iter().map(String::as_str));
    crate::workspace::git::split_z(&git(&args).unwrap_or_default())
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml") || f.ends_with(".json"))
        .collect()
}

fn read_at(rev: Option<&str>, file: &str, top: &Path) -> Option<String> {
    let bytes = match rev {
        Some(r) => git(&["-C", &top.to_string_lossy(), "show", &format!("{r}:{file}")])?,
        None => std::fs::read(top.join(file)).ok()?,
    };
    String::from_utf8(bytes)
        .ok()
        .filter(|t| t.contains("SealedSecret"))
}

/// The change word of a shared value that is not one value across the compared environments.
const SHARED_DIFFERS: &str = "shared-differs";

/// The shared values (sealstrap.yaml `values:`) of the new side that are not one value across
/// the environments compared: key -> the environments grouped by value. Told from the keyed
/// fingerprints (one place, `secret-source/KEY/value`, in every environment), so only with the
/// keys that open them.
fn shared_drift(top: &Path, entries: &[(String, diff::Entry)]) -> Vec<(String, String)> {
    let Ok(ws) = crate::workspace::Workspace::find(Some(top)) else {
        return Vec::new();
    };
    let Some(root) = ws.root.as_ref().filter(|r| r.platform) else {
        return Vec::new();
    };
    let envs = crate::workspace::repo::environments(&root.dir);
    let mut out = Vec::new();
    for key in ws.config.fleet.shared() {
        let mut held: Vec<(&str, &[u8])> = Vec::new();
        for env in &envs {
            let file = crate::workspace::repo::layout(Some(root), Some(env))
                .out
                .join(sealstrap::manifests::sealed_path(key));
            // Layout paths are shown relative to the current folder; entries, to the top.
            let Some(rel) = std::path::absolute(&file)
                .ok()
                .and_then(|a| a.strip_prefix(top).ok().map(Path::to_path_buf))
            else {
                continue;
            };
            let rel = rel.to_string_lossy();
            if let Some(fp) = entries
                .iter()
                .find(|(f, e)| *f == rel && e.key == sealstrap::manifests::VALUE_KEY)
                .and_then(|(_, e)| e.after.as_deref())
            {
                held.push((env, fp.as_bytes()));
            }
        }
        if let Some(p) = sealstrap::verify::shared_differs(&held) {
            let why = match p {
                sealstrap::verify::Problem::SharedDiffers(w) => w,
                other => other.to_string(),
            };
            out.push((key.to_string(), why));
        }
    }
    out
}

/// The lines a reviewer adds once: `.gitattributes` (committed) and the git config.
fn setup_text() -> String {
    "# .gitattributes (commit it): sealed files diff key by key\n\
     secret-source/sealed/*.yaml diff=sealstrap\n\
     clusters/*/secret-source/sealed/*.yaml diff=sealstrap\n\
     clusters/*/secret-source/break-glass/*.yaml diff=sealstrap\n\
     \n\
     # git config (each reviewer, once); with an escrow identity a re-seal shows no change:\n\
     git config diff.sealstrap.textconv 'sealstrap diff --textconv'\n\
     git config diff.sealstrap.textconv 'sealstrap diff --textconv --identity ~/.config/sealstrap/key.txt'\n\
     git config diff.sealstrap.cachetextconv false\n"
        .into()
}

pub fn run(args: &DiffArgs) -> CmdResult {
    if args.setup {
        write_stdout(setup_text().as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let top = crate::workspace::git::toplevel(None).ok_or_else(|| {
        Failure::new("not inside a git work tree: diff compares revisions of one")
    })?;
    if args.textconv {
        let [file] = args.args.as_slice() else {
            return Err(Failure::usage("--textconv takes one FILE (git appends it)"));
        };
        let path = Path::new(file);
        // git shows the output in place of the file: a file too big to read gets a line, not
        // an aborted diff.
        if let Ok(meta) = std::fs::metadata(path)
            && meta.len() > crate::workspace::files::INPUT_LIMIT
        {
            let digest = std::fs::read(path)
                .map(|b| hex::encode(&sealstrap::digest::sha256(&b)[..8]))
                .unwrap_or_default();
            write_stdout(
                format!(
                    "# sealstrap diff: {} bytes (sha256 {digest}...), more than it reads\n",
                    meta.len()
                )
                .as_bytes(),
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        let text = crate::workspace::files::read_text(Some(path), "")?;
        let keys =
            keys(args, &top, &sealed_for(std::iter::once(text.as_str()))).unwrap_or_default();
        let fp = Fingerprinter::new(&keys);
        write_stdout(diff::textconv(&text, &keys, fp.as_ref()).as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    // [REV] [PATH...]: a first argument that names a commit (or A..B) is the revision.
    let mut rest: Vec<String> = args.args.clone();
    let (old_rev, new_rev) = match rest.first() {
        Some(r) if is_revision(r) => {
            let r = rest.remove(0);
            match r.split_once("..") {
                Some((a, b)) => (
                    if a.is_empty() {
                        "HEAD".to_string()
                    } else {
                        a.to_string()
                    },
                    Some(if b.is_empty() {
                        "HEAD".to_string()
                    } else {
                        b.to_string()
                    }),
                ),
                None => (r, None),
            }
        }
        _ => ("HEAD".to_string(), None),
    };
    // Paths as the user gave them, relative to the top.
    let here = std::env::current_dir().unwrap_or_default();
    let paths: Vec<String> = rest
        .iter()
        .map(|p| {
            let abs = std::path::absolute(here.join(p)).unwrap_or_else(|_| PathBuf::from(p));
            abs.strip_prefix(&top)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_else(|_| p.clone())
        })
        .collect();
    let mut files: Vec<String> = files_at(Some(&old_rev), &paths, &top);
    files.extend(files_at(new_rev.as_deref(), &paths, &top));
    files.sort();
    files.dedup();
    let versions: Vec<(String, Option<String>, Option<String>)> = files
        .iter()
        .map(|f| {
            (
                f.clone(),
                read_at(Some(&old_rev), f, &top),
                read_at(new_rev.as_deref(), f, &top),
            )
        })
        .filter(|(_, o, n)| o.is_some() || n.is_some())
        .collect();
    let wanted = sealed_for(
        versions
            .iter()
            .flat_map(|(_, o, n)| [o.as_deref(), n.as_deref()])
            .flatten(),
    );
    let keys = keys(args, &top, &wanted)?;
    let fp = Fingerprinter::new(&keys);
    let mut entries = Vec::new();
    for (f, old, new) in &versions {
        for e in diff::compare(old.as_deref(), new.as_deref(), &keys, fp.as_ref()) {
            entries.push((f.clone(), e));
        }
    }
    let drift = shared_drift(&top, &entries);
    let shown: Vec<&(String, diff::Entry)> = entries
        .iter()
        .filter(|(_, e)| args.all || e.change != Change::Unchanged)
        .collect();
    match args.output {
        SummaryFormat::Text => {
            let mut out = String::new();
            for (f, e) in &shown {
                let fps = match (&e.before, &e.after) {
                    (Some(a), Some(b)) if a != b => format!("  {a} -> {b}"),
                    (Some(a), Some(_)) => format!("  {a}"),
                    (None, Some(b)) => format!("  {b}"),
                    (Some(a), None) => format!("  {a}"),
                    (None, None) => String::new(),
                };
                let what = if e.key.is_empty() {
                    e.sealed_secret.clone()
                } else {
                    format!("{}/{}", e.sealed_secret, e.key)
                };
                out.push_str(&format!("{:<24} {what}  ({f}){fps}\n", e.change.as_str()));
            }
            for (key, why) in &drift {
                out.push_str(&format!("{:<24} {key}  ({why})\n", SHARED_DIFFERS));
            }
            write_stdout(out.as_bytes())?;
        }
        SummaryFormat::Json => {
            let mut v: Vec<_> = shown
                .iter()
                .map(|(f, e)| {
                    json!({"file": f, "sealed_secret": e.sealed_secret, "key": e.key,
                           "change": e.change.as_str(), "before": e.before, "after": e.after})
                })
                .collect();
            v.extend(drift.iter().map(|(key, why)| {
                json!({"shared_key": key, "change": SHARED_DIFFERS, "environments": why})
            }));
            write_stdout(
                format!("{}\n", serde_json::to_string_pretty(&v).expect("json")).as_bytes(),
            )?;
        }
    }
    let count = |c: Change| entries.iter().filter(|(_, e)| e.change == c).count();
    eprintln!(
        "sealstrap: {} -> {}: {} changed, {} re-encrypted, {} re-encrypted or changed, {} added, {} removed, {} unchanged{}",
        old_rev,
        new_rev.as_deref().unwrap_or("the work tree"),
        count(Change::Changed),
        count(Change::Reencrypted),
        count(Change::ReencryptedOrChanged),
        count(Change::Added),
        count(Change::Removed),
        count(Change::Unchanged),
        if keys.is_empty() {
            " (without --identity or --private-key a re-seal cannot be told from a new value)"
        } else {
            ""
        }
    );
    if !drift.is_empty() {
        eprintln!(
            "sealstrap: {} shared value(s) differ between environments: {} (sealstrap rotate KEY makes one value for all)",
            drift.len(),
            drift
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let differs = !drift.is_empty() || entries.iter().any(|(_, e)| e.change != Change::Unchanged);
    if args.exit_code && differs {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
