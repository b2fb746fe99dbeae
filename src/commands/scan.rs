//! `sealstrap scan`: list the files (git's view when there is a work tree), scan each on every
//! core; `--staged` and `--history` read git's objects instead (`scan_git`), and `scan_report`
//! applies exclusions and the baseline and writes the report.

use std::path::{Path, PathBuf};

use sealstrap::scan::{self, Options};

use super::scan_report::{Located, Scanned};
use crate::cli::ScanArgs;
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::io_failure;

/// Largest file checked with every rule; bigger ones are streamed for value shapes and keys.
const MAX_FILE: u64 = scan::MAX_FULL;

/// What scan looks at: the files, and in a git work tree its top and the files git tracks or has
/// staged (the index).
struct Listing {
    files: Vec<PathBuf>,
    top: Option<PathBuf>,
    /// Tracked or staged files, as listed in `files` (relative to the current folder when below
    /// it).
    indexed: std::collections::BTreeSet<PathBuf>,
}

/// `git ls-files -z ARGS -- PATHS` from `top` (with no paths: the whole work tree, from any
/// folder), as paths shown relative to the current folder when below it.
fn git_ls(top: &Path, args: &[&str], paths: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let here = std::env::current_dir().unwrap_or_default();
    let mut argv: Vec<std::ffi::OsString> = ["ls-files", "-z", "--full-name"]
        .iter()
        .chain(args)
        .chain(&["--"])
        .map(Into::into)
        .collect();
    argv.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    // With no path, from the top (the whole work tree, from any folder).
    let out = crate::workspace::git::output(paths.is_empty().then_some(top), &argv)?;
    Some(
        out.split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| top.join(String::from_utf8_lossy(s).as_ref()))
            .map(|p| p.strip_prefix(&here).map(Path::to_path_buf).unwrap_or(p))
            .collect(),
    )
}

/// The files to scan. In a git work tree: tracked and untracked files git does not ignore
/// (`git ls-files -co --exclude-standard`), of the whole work tree when no path is given (from
/// any folder, as `--help` says); elsewhere a plain walk that skips `.git`.
fn list_files(paths: &[PathBuf]) -> Result<Listing, Failure> {
    let top = crate::workspace::git::toplevel(None);
    if let Some(top) = top
        && let Some(listed) = git_ls(&top, &["-co", "--exclude-standard"], paths)
    {
        let mut files: Vec<PathBuf> = listed
            .into_iter()
            // Everything git lists except folders (submodules) and files deleted from the work
            // tree; what cannot be read is reported, not dropped.
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_dir()))
            .collect();
        files.sort();
        files.dedup();
        let indexed = git_ls(&top, &["--cached"], paths)
            .unwrap_or_default()
            .into_iter()
            .collect();
        return Ok(Listing {
            files,
            top: Some(top),
            indexed,
        });
    }
    if paths.is_empty() {
        return Err(Failure::new(
            "not inside a git work tree; pass the files or folders to scan",
        ));
    }
    Ok(Listing {
        files: crate::workspace::walk::walk(paths, crate::workspace::walk::EVERYTHING)?.files,
        top: None,
        indexed: Default::default(),
    })
}

/// Files that must never be in git, whatever the ignore rules and exclusions say: the plaintext
/// Dex admin copy and a sealstrap journal, when git tracks them or has them staged (`git add -f`
/// goes past every ignore rule).
fn committed_never(listing: &Listing) -> Vec<(String, scan::Finding)> {
    listing
        .indexed
        .iter()
        .filter_map(|f| {
            let shown = f.display().to_string();
            scan::never_in_git(&shown).map(|x| (shown, x))
        })
        .collect()
}

/// Scans one file, whatever it holds; `Err` says why it could not be read at all. Text files up
/// to [`MAX_FILE`] get every rule; larger ones are streamed for value shapes and PEM keys, as
/// are binary files. Messages never quote the content.
fn scan_file(
    path: &Path,
    class: &scan::FileClass,
    opts: &Options,
) -> Result<Vec<scan::Finding>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_FILE {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
        return scan::scan_reader(std::io::BufReader::with_capacity(1 << 20, file), class)
            .map_err(|e| format!("cannot read it: {e}"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    Ok(scan::scan_bytes(&bytes, class, opts))
}

/// Files git ignores that a cluster needs from git: SealedSecrets, ClusterSecretStores and
/// kustomizations (the platform's `*-secret.yaml` rule drops sealed Dex client secrets). Listed by
/// `git ls-files --others --ignored --exclude-standard` under `paths`; nothing outside a work tree.
fn ignored_but_needed(paths: &[PathBuf]) -> Vec<(String, scan::Finding)> {
    let mut argv: Vec<std::ffi::OsString> = [
        "ls-files",
        "-z",
        "--others",
        "--ignored",
        "--exclude-standard",
        "--",
    ]
    .iter()
    .map(Into::into)
    .collect();
    argv.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    let Some(out) = crate::workspace::git::output(None, &argv) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for name in out.split(|b| *b == 0).filter(|s| !s.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        if !scan::is_manifest_name(&name) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&name) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_FILE {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&name) else {
            continue;
        };
        let what = if name.ends_with("kustomization.yaml") || name.ends_with("kustomization.yml") {
            Some("a kustomization")
        } else {
            sealstrap::yaml::parse_documents(&text)
                .ok()
                .and_then(|docs| {
                    docs.iter()
                        .find_map(|d| match d.get("kind").and_then(|k| k.as_str()) {
                            Some("SealedSecret") => Some("a SealedSecret"),
                            Some("ClusterSecretStore") => Some("a ClusterSecretStore"),
                            _ => None,
                        })
                })
        };
        if let Some(what) = what {
            found.push((
                name.clone(),
                scan::Finding::new(
                    0,
                    scan::Kind::IgnoredByGit,
                    format!(
                        "{what} that git ignores, so it is never committed and Argo CD never sees it; add `!{}` to .gitignore (sealstrap seal adds it for its own files)",
                        sealstrap::gitignore::exact_rule(&name)
                    ),
                ),
            ));
        }
    }
    found
}

/// Leftovers of an interrupted sealstrap write: the journal of the work tree (in `.git`), a
/// journal beside the scanned files (outside git), or a temporary file. scan only reads, so it
/// reports them; the next run of the interrupted command finishes or rolls back the write.
fn interrupted_writes(listing: &Listing) -> Vec<(String, scan::Finding)> {
    let mut found = Vec::new();
    let finding = |message: &str| scan::Finding::new(0, scan::Kind::InterruptedWrite, message);
    let message = "a sealstrap write was interrupted, so the files it writes may be half old, half new; run the interrupted command (`sealstrap seal` with the same flags) again to finish it, then scan again";
    // Each folder once, and the listed files as a set: linear in the tree, not quadratic.
    let listed: std::collections::HashSet<&Path> =
        listing.files.iter().map(PathBuf::as_path).collect();
    let folders: std::collections::BTreeSet<&Path> = listing
        .files
        .iter()
        .flat_map(|f| f.ancestors().skip(1))
        .collect();
    let mut journals: std::collections::BTreeSet<PathBuf> = folders
        .into_iter()
        .map(|d| d.join(sealstrap::journal::JOURNAL_FILE_OUTSIDE_GIT))
        .filter(|j| !listed.contains(j.as_path()))
        .collect();
    if let Some(top) = &listing.top {
        journals.insert(sealstrap::journal::journal_path(top));
    }
    let any_journal = journals
        .iter()
        .any(|j| sealstrap::journal::names_a_write(j));
    for journal in journals {
        if sealstrap::journal::names_a_write(&journal) {
            found.push((
                crate::workspace::repo::shown(&journal)
                    .display()
                    .to_string(),
                finding(message),
            ));
        }
    }
    for f in &listing.files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if sealstrap::output::is_temp_name(name) {
            found.push((
                f.display().to_string(),
                finding(if any_journal {
                    "a temporary file of an interrupted sealstrap write (it may hold a plaintext value); run the interrupted command again to clean it up, and never commit it"
                } else {
                    "named like a sealstrap temporary file, and no journal names it, so no run will remove it: if a killed run left it, delete it (shred -u: it may hold a plaintext value); if it is yours, rename it; never commit it"
                }),
            ));
        } else if name == sealstrap::journal::JOURNAL_FILE_OUTSIDE_GIT
            && !listing.indexed.contains(f)
        {
            found.push((f.display().to_string(), finding(message)));
        }
    }
    found
}

pub fn run(args: &ScanArgs) -> CmdResult {
    if args.history.is_none() {
        // (Paths given with --history may be gone from the work tree: they are read from git.)
        for p in &args.paths {
            if !p.exists() {
                return Err(Failure::new(format!(
                    "cannot read {}: no such file or folder",
                    p.display()
                )));
            }
        }
    }
    let threads = args
        .jobs
        .map_or_else(sealstrap::par::available_threads, |n| n.max(1));
    let fingerprint = match &args.cert {
        Some(c) => {
            let pem = std::fs::read(c).map_err(|e| io_failure("cannot read", c, &e))?;
            let cert = sealstrap::cert::parse(&pem)
                .map_err(|e| crate::workspace::error::cert_failure(&c.display().to_string(), &e))?;
            match cert.check(crate::workspace::now()) {
                Ok(warnings) => {
                    for w in warnings {
                        eprintln!("sealstrap: warning: {}: {w}", c.display());
                    }
                }
                Err(e) if args.allow_expired => {
                    eprintln!("sealstrap: warning: {}: {e} (--allow-expired)", c.display());
                }
                Err(e) => {
                    return Err(crate::workspace::error::cert_failure(&c.display().to_string(), &e).hint(
                        "pass the controller's current certificate, or --allow-expired while the controller still holds this key",
                    ));
                }
            }
            Some(cert.fingerprint)
        }
        None => None,
    };
    let ws = crate::workspace::Workspace::find(None)?;
    let (folders, copies) = sealed_folders(&ws)?;
    let opts = Options {
        certs: scan::Certs {
            given: fingerprint,
            folders,
        },
        patch: sealstrap::patch::Options {
            store: args.store.clone(),
            property: args.property.clone(),
            contract: ws.contract(None),
        },
    };
    // Exclusions with their reasons: sealstrap.yaml's `exclude:`, then --exclude.
    let mut excludes = ws.config.exclude.clone();
    excludes.extend(
        args.exclude
            .iter()
            .map(|g| sealstrap::allow::Exclude::from_flag(g)),
    );
    let scanned = if args.staged {
        super::scan_git::staged(&args.paths, &opts, threads)?
    } else if let Some(range) = &args.history {
        // Old commits hold values sealed for keys since retired: only --cert judges history.
        let mut past = opts.clone();
        past.certs.folders.clear();
        super::scan_git::history(range, &args.paths, &past, threads)?
    } else {
        let mut s = work_tree(args, &opts, threads)?;
        s.findings.extend(copies);
        s
    };
    super::scan_report::finish(args, scanned, &excludes)
}

/// The sealed folders of the repository and the certificates each is for (every environment's,
/// and its break-glass copies' when `sealstrap.yaml` names a break-glass certificate), and the
/// findings about the copies as a whole (`sealstrap::verify::check_copies`: one per sealed value,
/// none stray; a copy's certificate is the per-file check's).
fn sealed_folders(
    ws: &crate::workspace::Workspace,
) -> Result<(Vec<scan::CertFolder>, Vec<Located>), Failure> {
    use crate::workspace::place::{Choice, Place};
    let Some(root) = &ws.root else {
        return Ok((Vec::new(), Vec::new()));
    };
    let envs = if root.platform {
        crate::workspace::repo::environments(&root.dir)
    } else {
        Vec::new()
    };
    let places: Vec<Place> = if envs.is_empty() {
        Place::resolve(ws, &Choice::default()).into_iter().collect()
    } else {
        envs.iter()
            .filter_map(|e| {
                Place::resolve(
                    ws,
                    &Choice {
                        env: Some(e),
                        ..Default::default()
                    },
                )
                .ok()
            })
            .collect()
    };
    let rel = |p: &Path| -> Option<String> {
        let abs = std::path::absolute(p).ok()?;
        let r = abs.strip_prefix(&root.dir).ok()?;
        Some(format!(
            "{}/",
            r.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/")
        ))
    };
    let mut folders = Vec::new();
    let mut copies = Vec::new();
    for place in &places {
        let Some(prefix) = rel(&place.out) else {
            continue;
        };
        let fingerprints = place.committed_fingerprints();
        if !fingerprints.is_empty() {
            folders.push(scan::CertFolder {
                what: format!(
                    "the certificate{} of {} ({})",
                    if fingerprints.len() > 1 { "s" } else { "" },
                    prefix.trim_end_matches('/'),
                    crate::workspace::repo::shown(&place.committed_cert()).display()
                ),
                prefix: prefix.clone(),
                fingerprints,
                break_glass: false,
            });
        }
        let bg = place.break_glass_fingerprint()?;
        let bg_prefix = format!("{prefix}{}/", sealstrap::manifests::BREAK_GLASS_DIR);
        if let Some(fp) = &bg {
            folders.push(scan::CertFolder {
                prefix: bg_prefix.clone(),
                fingerprints: vec![fp.clone()],
                what: format!("the break-glass certificate {fp}"),
                break_glass: true,
            });
        }
        let stems = |files: Vec<crate::workspace::walk::SealedFile>| -> Vec<String> {
            files
                .into_iter()
                .filter(|f| f.name.ends_with(".yaml"))
                .map(|f| f.stem)
                .collect()
        };
        let sealed: std::collections::BTreeSet<String> =
            stems(crate::workspace::walk::read_sealed(&place.out)?)
                .into_iter()
                .collect();
        // The per-file check judges each copy's certificate: here, only which copies exist.
        let present: std::collections::BTreeMap<String, Option<String>> =
            stems(crate::workspace::walk::read_copies(&place.out)?)
                .into_iter()
                .map(|k| (k, bg.clone()))
                .collect();
        for (key, why) in sealstrap::verify::check_copies(&sealed, &present, bg.as_deref()) {
            let file = if key == sealstrap::manifests::BREAK_GLASS_DIR {
                format!("{prefix}{}", sealstrap::manifests::BREAK_GLASS_DIR)
            } else {
                format!("{bg_prefix}{key}.yaml")
            };
            let why = match why {
                sealstrap::verify::Problem::CopyStray(_) => sealstrap::verify::Problem::CopyStray(
                    crate::workspace::repo::shown(&root.dir.join(&file))
                        .display()
                        .to_string(),
                ),
                why => why,
            };
            let hint = why.hint(&key, false);
            copies.push(Located {
                shown: crate::workspace::repo::shown(&root.dir.join(&file))
                    .display()
                    .to_string(),
                rel: file,
                commit: None,
                finding: scan::Finding::new(
                    0,
                    scan::Kind::StaleSealedSecret,
                    format!("{why}; {hint}"),
                ),
            });
        }
    }
    Ok((folders, copies))
}

/// The work tree: the files git would commit (or those under the paths given), on every core.
fn work_tree(args: &ScanArgs, opts: &Options, threads: usize) -> Result<Scanned, Failure> {
    let listing = list_files(&args.paths)?;
    let files = &listing.files;
    // Paths as the exclusions name them: relative to the work tree's top.
    let rel = |f: &Path| -> String {
        let abs = std::path::absolute(f).unwrap_or_else(|_| f.to_path_buf());
        listing
            .top
            .as_ref()
            .and_then(|t| abs.strip_prefix(t).ok())
            .unwrap_or(f)
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/")
    };
    let mut all = committed_never(&listing);
    all.extend(interrupted_writes(&listing));
    all.extend(ignored_but_needed(&args.paths));
    let mut results = Vec::with_capacity(files.len());
    let Ok(()) = sealstrap::par::for_each_ordered(
        files,
        threads,
        |_, f| scan_file(f, &scan::classify_in(&rel(f), &opts.certs), opts),
        |_, r| {
            results.push(r);
            Ok::<(), std::convert::Infallible>(())
        },
    );
    let mut skipped = 0;
    for (f, result) in files.iter().zip(results) {
        let name = f.display().to_string();
        match result {
            Ok(found) => all.extend(found.into_iter().map(|x| (name.clone(), x))),
            Err(reason) => {
                skipped += 1;
                if !args.allow_skipped {
                    all.push((
                        name.clone(),
                        scan::Finding::new(
                            0,
                            scan::Kind::Skipped,
                            format!("not scanned: {reason}"),
                        ),
                    ));
                }
            }
        }
    }
    // The sealing certificates in the tree (what `key new` writes): the newest of each bundle
    // seals; expired is a finding, expiring within 30 days a warning.
    for f in files {
        if f.file_name()
            .is_none_or(|n| n != crate::workspace::keys::CERT_NAME)
        {
            continue;
        }
        let Ok(data) = std::fs::read(f) else { continue };
        let Ok(bundle) = sealstrap::controller_key::parse_cert_bundle(&data) else {
            continue;
        };
        let Some(sealing) = sealstrap::controller_key::sealing_key(bundle.iter()) else {
            continue;
        };
        match sealing.check(crate::workspace::now()) {
            Ok(warnings) => {
                for w in warnings {
                    eprintln!("sealstrap: warning: {}: {w}", f.display());
                }
            }
            Err(e) if args.allow_expired => {
                eprintln!("sealstrap: warning: {}: {e} (--allow-expired)", f.display());
            }
            Err(e) => all.push((
                f.display().to_string(),
                scan::Finding::new(
                    0,
                    scan::Kind::ExpiredCertificate,
                    format!(
                        "the sealing certificate {} {e}; make a new key (sealstrap key new) and reseal (sealstrap reseal)",
                        sealing.fingerprint
                    ),
                ),
            )),
        }
    }
    Ok(Scanned {
        findings: all
            .into_iter()
            .map(|(shown, finding)| Located {
                rel: rel(Path::new(shown.as_str())),
                shown,
                commit: None,
                finding,
            })
            .collect(),
        files: files.len(),
        skipped,
        commits: None,
        top: listing.top.clone(),
    })
}
