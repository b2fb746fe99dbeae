//! The repository a command runs in: its root (the git work tree, or the platform root given
//! with `--platform-root`), whether it is the platform (its store swap point exists), the
//! fork's `sealstrap.yaml`, what the tree's ExternalSecrets and Helm values read from the store,
//! and git's answer on which paths it ignores. Read-only: `seal` takes a snapshot of it before it
//! plans (docs/format.md §10 describes the platform's layout).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sealstrap::patch::{self, Options};
use sealstrap::platform;

use super::Failure;
use super::io::io_failure;

/// The fork's own contract rows, at the repository root.
pub const EXTRAS_FILE: &str = "sealstrap.yaml";

/// The git work tree holding `path` (walks up from the nearest existing ancestor).
pub fn git_root(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    let mut cur = Some(abs.as_path());
    while let Some(d) = cur {
        if d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        cur = d.parent();
    }
    None
}

/// The repository a run is anchored at.
#[derive(Clone, Debug)]
pub struct Root {
    pub dir: PathBuf,
    /// The platform's layout is there (its store swap point exists).
    pub platform: bool,
}

impl Root {
    /// `--platform-root` (which must hold the platform's store file), else the git work tree
    /// holding the current folder.
    pub fn find(platform_root: Option<&Path>) -> Result<Option<Root>, Failure> {
        if let Some(dir) = platform_root {
            if !dir.join(platform::STORE_PATH).is_file() {
                return Err(Failure::usage(format!(
                    "--platform-root {}: {} is not there",
                    dir.display(),
                    platform::STORE_PATH
                ))
                .hint("pass the root of a checkout of the platform repository"));
            }
            return Ok(Some(Root {
                dir: dir.to_path_buf(),
                platform: true,
            }));
        }
        let cwd =
            std::env::current_dir().map_err(|e| Failure::new(format!("no current folder: {e}")))?;
        Ok(git_root(&cwd).map(|dir| Root {
            platform: dir.join(platform::STORE_PATH).is_file(),
            dir,
        }))
    }

    /// The repository an output folder belongs to: `--platform-root`, else the git work tree
    /// holding `out` when it is given (so `verify /elsewhere/secret-source` reads that
    /// repository, not the one you stand in), else the one holding the current folder.
    pub fn for_out(
        platform_root: Option<&Path>,
        out: Option<&Path>,
    ) -> Result<Option<Root>, Failure> {
        match (platform_root, out) {
            (None, Some(out)) => Ok(git_root(out).map(|dir| Root {
                platform: dir.join(platform::STORE_PATH).is_file(),
                dir,
            })),
            _ => Root::find(platform_root),
        }
    }

    /// `rel` under the root, shown relative to the current folder when it is below it.
    pub fn join(&self, rel: &str) -> PathBuf {
        let p = self.dir.join(rel);
        shown(&p)
    }
}

/// A path as the user best reads it: relative to the current folder when below it.
pub fn shown(p: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .filter(|r| !r.as_os_str().is_empty())
        .unwrap_or_else(|| p.to_path_buf())
}

/// Refuses `path` (a folder a command writes in, inside the repository `root`) when it is, or lies under, a
/// symbolic link that leads out of the repository: git would commit the link, not the files,
/// and the writes would land somewhere no review sees.
fn refuse_link_out_of(root: &Path, path: &Path) -> Result<(), Failure> {
    let Ok(abs) = std::path::absolute(path) else {
        return Ok(());
    };
    if !abs.starts_with(root) {
        return Ok(()); // not inside the repository by name: nothing hides behind a link
    }
    // The deepest existing ancestor decides where the writes really go.
    let Some(existing) = abs.ancestors().find(|a| a.exists()) else {
        return Ok(());
    };
    let (Ok(real), Ok(real_root)) = (std::fs::canonicalize(existing), std::fs::canonicalize(root))
    else {
        return Ok(());
    };
    if real.starts_with(&real_root) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} leads through a symbolic link to {}, outside the repository {}: git would commit the link, not the files sealstrap writes there, and they would land where no review sees them",
        path.display(),
        real.display(),
        root.display()
    ))
    .hint("replace the link with a real folder inside the repository, or name one with --out"))
}

/// The folders a writing command works in, as a journal scope: the repository (`root`, else the
/// git work tree holding the first of `dirs`, else that folder itself) first, then each of
/// `dirs` outside it (a `--secrets-dir` or `--cert-file` elsewhere). In a repository every
/// writing command locks its root, so two runs there never interleave, and the journal lives in
/// `.git`, where git never commits it.
pub fn write_scope(
    root: Option<&Root>,
    dirs: &[&Path],
) -> Result<sealstrap::journal::Scope, Failure> {
    let scope = scope_of(root, dirs)?;
    for d in dirs {
        refuse_link_out_of(&scope.roots[0], d)?;
    }
    Ok(scope)
}

/// The scope [`write_scope`] gives, for commands that only read and look for its journal.
pub fn scope_of(root: Option<&Root>, dirs: &[&Path]) -> Result<sealstrap::journal::Scope, Failure> {
    let first = dirs.first().copied().unwrap_or(Path::new("."));
    let anchor = match root {
        Some(r) => r.dir.clone(),
        None => git_root(first).unwrap_or_else(|| first.to_path_buf()),
    };
    let mut roots = vec![anchor];
    roots.extend(dirs.iter().map(|d| d.to_path_buf()));
    sealstrap::journal::Scope::new(&roots)
        .map_err(|e| Failure::new(format!("cannot resolve {}: {e}", first.display())))
}

/// The default output folder: `secret-source` at the repository root, whatever folder the
/// command runs from (at the current folder outside any repository).
pub fn default_out(root: Option<&Root>) -> PathBuf {
    match root {
        Some(r) => r.join(sealstrap::defaults::OUT_DIR),
        None => PathBuf::from(sealstrap::defaults::OUT_DIR),
    }
}

/// A default path (`secret-source`, the escrow) anchored at the root of the repository holding the
/// current folder, so a command run from a subfolder finds the same files; as given outside one.
pub fn anchored(rel: &str) -> PathBuf {
    match Root::find(None) {
        Ok(Some(r)) => r.join(rel),
        _ => PathBuf::from(rel),
    }
}

/// Reads `sealstrap.yaml` at the root of `root` (default: the repository holding the current
/// folder), if there is one, and makes its keys rows of the contract for this process.
pub fn load_extras(root: Option<&Root>) -> Result<(), Failure> {
    let found;
    let root = match root {
        Some(r) => r,
        None => match Root::find(None)? {
            Some(r) => {
                found = r;
                &found
            }
            None => return Ok(()),
        },
    };
    let path = root.dir.join(EXTRAS_FILE);
    if !path.is_file() {
        return Ok(());
    }
    let text = super::io::read_text(Some(&path), "")?;
    let rows = sealstrap::contract::parse_extras(&text)
        .map_err(|e| Failure::at(shown(&path).display(), &e))?;
    sealstrap::contract::register_extras(rows);
    Ok(())
}

/// Whether a file is a template the platform never syncs.
pub fn is_template(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".example.yaml") || n.ends_with(".example.yml"))
}

/// Every YAML file of the tree, skipping `.git`, hidden folders, `skip` (the output folder) and
/// templates.
pub fn yaml_files(root: &Path, skip: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    fn walk(dir: &Path, skip: &[PathBuf], out: &mut Vec<PathBuf>) -> Result<(), Failure> {
        let entries = std::fs::read_dir(dir).map_err(|e| io_failure("cannot read", dir, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_failure("cannot read", dir, &e))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                let abs = std::path::absolute(&path).unwrap_or(path.clone());
                if !name.starts_with('.')
                    && !skip.contains(&abs)
                    && name != "node_modules"
                    && name != "target"
                {
                    walk(&path, skip, out)?;
                }
            } else if ft.is_file()
                && (name.ends_with(".yaml") || name.ends_with(".yml"))
                && !is_template(&path)
            {
                out.push(path);
            }
        }
        Ok(())
    }
    let skip: Vec<PathBuf> = skip
        .iter()
        .filter_map(|p| std::path::absolute(p).ok())
        .collect();
    let mut out = Vec::new();
    walk(root, &skip, &mut out)?;
    out.sort();
    Ok(out)
}

/// One file of an output folder's `sealed/`, as read: the one folder reader `seal` and `verify`
/// share.
pub struct SealedFile {
    /// The file name (`vllm-api-key.yaml`).
    pub name: String,
    /// The backend key it is named for (`vllm-api-key`).
    pub stem: String,
    pub path: PathBuf,
    /// Its text, or why it cannot be read.
    pub text: Result<String, String>,
}

/// Reads `<out>/sealed/*.yaml` and `*.yml` (hidden files skipped), sorted by name. A missing
/// folder holds nothing.
pub fn read_sealed(out: &Path) -> Result<Vec<SealedFile>, Failure> {
    let dir = out.join(sealstrap::manifests::SEALED_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_failure("cannot read", &dir, &e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_failure("cannot read", &dir, &e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if name.starts_with('.') || !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string());
        files.push(SealedFile {
            stem: name
                .trim_end_matches(".yaml")
                .trim_end_matches(".yml")
                .to_string(),
            name,
            path,
            text,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Largest YAML file read for ExternalSecrets and Helm values.
const MAX_MANIFEST: u64 = 4 << 20;

/// What the tree reads from the store.
#[derive(Debug, Default)]
pub struct Reads {
    /// Backend key -> where it is read (`FILE:LINE (ExternalSecret NS/NAME)`).
    pub by_key: BTreeMap<String, Vec<String>>,
    /// Backend key -> the ExternalSecrets (`NS/NAME`) that read it, for force-syncs.
    pub readers: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Helm values that name the store without a property: (where, key, values path).
    pub helm_without_property: Vec<(String, String, String)>,
    /// Files holding a ClusterSecretStore named like the store (other than the swap point).
    pub other_stores: Vec<PathBuf>,
    /// Documents that name the store but do not parse (`FILE:LINE: why`): what they read is
    /// not known. The other documents of their files are read.
    pub broken: Vec<String>,
}

impl Reads {
    /// Every ExternalSecret (`NS/NAME`) of the tree that reads the store.
    pub fn external_secrets(&self) -> std::collections::BTreeSet<String> {
        self.readers.values().flatten().cloned().collect()
    }
}

/// Reads every YAML file of the tree for what it reads from `opts.store`.
pub fn reads(root: &Root, skip: &[PathBuf], opts: &Options) -> Result<Reads, Failure> {
    let mut r = Reads::default();
    let swap = std::path::absolute(root.dir.join(platform::STORE_PATH)).ok();
    for file in yaml_files(&root.dir, skip)? {
        // A manifest is kilobytes; a file of megabytes is data, not an ExternalSecret.
        if std::fs::metadata(&file).is_ok_and(|m| m.len() > MAX_MANIFEST) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue; // not text: no manifest
        };
        // Only a file that names the store can read from it (or define another of its name):
        // the rest of the tree is not parsed at all.
        if !text.contains(opts.store.as_str()) {
            continue;
        }
        let name = file
            .strip_prefix(&root.dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        let p = patch::read_text(&text, opts);
        for (line, message) in &p.broken {
            r.broken.push(format!("{name}:{line}: {message}"));
        }
        {
            for rf in p.refs {
                r.readers
                    .entry(rf.key.clone())
                    .or_default()
                    .insert(rf.external_secret.clone());
                r.by_key.entry(rf.key).or_default().push(format!(
                    "{name}:{} (ExternalSecret {})",
                    rf.line, rf.external_secret
                ));
            }
        }
        for h in patch::helm_refs(&text, &opts.store) {
            let at = format!("{name}:{}", h.line);
            r.by_key
                .entry(h.key.clone())
                .or_default()
                .push(format!("{at} (Helm values {})", h.path));
            if h.property.is_none() {
                r.helm_without_property.push((at, h.key, h.path));
            }
        }
        if platform::stores_named(&text, &opts.store) > 0 && std::path::absolute(&file).ok() != swap
        {
            r.other_stores.push(file);
        }
    }
    Ok(r)
}

/// The concrete fix for a Helm-rendered ExternalSecret that reads the store without property.
pub fn helm_fix(at: &str, key: &str, path: &str, property: &str) -> String {
    format!(
        "{at}: Helm values {path} read {key} from the store without a property, so the chart's ExternalSecret gets the whole source Secret as JSON ({{\"{property}\":\"...\"}}) instead of the value; no edit of an ExternalSecret file reaches it. Fix: set the chart's property value next to remoteKey if the chart has one (remoteProperty: {property}), or render the chart through kustomize (helmCharts) and patch remoteRef.property: {property} into it"
    )
}

/// The paths among `paths` (relative to `root`) that git would ignore, asked in one
/// `git check-ignore --no-index --stdin` call. `None` when git cannot answer (not installed).
pub fn git_ignored(root: &Path, paths: &[PathBuf]) -> Option<Vec<PathBuf>> {
    use std::io::Write;
    if paths.is_empty() {
        return Some(Vec::new());
    }
    let mut child = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["check-ignore", "--no-index", "--stdin", "-z"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p.to_string_lossy().as_bytes());
        input.push(0);
    }
    child.stdin.take()?.write_all(&input).ok()?;
    let out = child.wait_with_output().ok()?;
    // 0: some are ignored, 1: none is; anything else is an error.
    if !matches!(out.status.code(), Some(0 | 1)) {
        return None;
    }
    Some(
        out.stdout
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| PathBuf::from(String::from_utf8_lossy(s).into_owned()))
            .collect(),
    )
}

/// The ignore rule that decides `rel` (relative to `root`): (the file holding it, as git names
/// it, its line, the pattern), from `git check-ignore -v -n --no-index`. `None` when no rule
/// matches or git cannot answer.
pub fn deciding_rule(root: &Path, rel: &Path) -> Option<(String, String, String)> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["check-ignore", "-v", "-n", "--no-index", "--"])
        .arg(rel)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (rule, _) = text.split_once('\t')?;
    let mut parts = rule.splitn(3, ':');
    let (source, line, pattern) = (parts.next()?, parts.next()?, parts.next()?);
    (!source.is_empty()).then(|| (source.to_string(), line.to_string(), pattern.to_string()))
}

/// Whether git tracks `rel` or has it staged (it is in the index, where no ignore rule
/// applies). `false` when git cannot answer.
pub fn git_tracks(root: &Path, rel: &Path) -> bool {
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(rel)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether git ignores `rel` (relative to `root`): git's answer when it is installed, else the
/// top-level .gitignore read for the common spellings of its first folder.
pub fn ignores(root: &Path, rel: &Path) -> bool {
    if let Some(ignored) = git_ignored(root, &[rel.to_path_buf()]) {
        return !ignored.is_empty();
    }
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::read_to_string(root.join(".gitignore"))
        .map(|t| {
            t.lines().any(|l| {
                let l = l.trim();
                l == first
                    || l == format!("/{first}")
                    || l == format!("{first}/")
                    || l == format!("/{first}/")
            })
        })
        .unwrap_or(false)
}
