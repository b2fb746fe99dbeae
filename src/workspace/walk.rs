//! Walking the tree: the files a command reads, each walker with its policy said in its doc.

use std::path::{Path, PathBuf};

use super::error::Failure;
use super::files::io_failure;

/// What a walk skips and keeps. Each caller names its policy (the constants below), so the
/// rule for a folder is said once.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Skip folders whose name starts with `.` (`.git` is always skipped).
    pub skip_hidden: bool,
    /// Skip `node_modules` and `target` (vendored or built files, not the repository's own).
    pub skip_vendored: bool,
    /// Keep only these extensions (all when empty).
    pub exts: &'static [&'static str],
}

/// The manifests a command edits or reads for their meaning (`patch-externalsecrets`, what the
/// tree reads from the store, the Argo CD catalog): YAML, outside hidden and vendored folders.
pub const MANIFESTS: Policy = Policy {
    skip_hidden: true,
    skip_vendored: true,
    exts: &["yaml", "yml"],
};
/// The files `reseal` looks in for SealedSecrets: YAML and JSON, outside hidden folders.
pub const SEALED: Policy = Policy {
    skip_hidden: true,
    skip_vendored: false,
    exts: &["yaml", "yml", "json"],
};
/// Every file the guard looks at outside a git work tree: hidden folders included (`.github`,
/// `.env` files are where credentials leak).
pub const EVERYTHING: Policy = Policy {
    skip_hidden: false,
    skip_vendored: false,
    exts: &[],
};
/// The tree `sealstrap::deployed` walks: every file, outside hidden and vendored folders.
pub const TREE: Policy = Policy {
    skip_hidden: true,
    skip_vendored: true,
    exts: &[],
};

impl Policy {
    fn keeps_dir(&self, name: &str) -> bool {
        name != ".git"
            && !(self.skip_hidden && name.starts_with('.'))
            && !(self.skip_vendored && (name == "node_modules" || name == "target"))
    }

    fn keeps_file(&self, p: &Path) -> bool {
        self.exts.is_empty()
            || p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| self.exts.contains(&e))
    }
}

/// What a folder walk found: the files to work on, and the symbolic links it met.
#[derive(Debug, Default)]
pub struct Walk {
    /// Files, each once (a link's target is listed under the target's own path).
    pub files: Vec<PathBuf>,
    /// Links followed: (link, target inside a walked tree).
    pub followed: Vec<(PathBuf, PathBuf)>,
    /// Links not followed: (link, why).
    pub skipped_links: Vec<(PathBuf, String)>,
}

/// The files under `paths` (files as given; folders walked as `policy` says), sorted. A symbolic
/// link is followed when its target is a file inside one of the walked folders (the target is
/// listed, once); any other link is reported in [`Walk::skipped_links`], never silently dropped.
pub fn walk(paths: &[PathBuf], policy: Policy) -> Result<Walk, Failure> {
    fn visit(
        dir: &Path,
        policy: Policy,
        out: &mut Vec<PathBuf>,
        links: &mut Vec<PathBuf>,
    ) -> Result<(), Failure> {
        for entry in std::fs::read_dir(dir).map_err(|e| io_failure("cannot read", dir, &e))? {
            let entry = entry.map_err(|e| io_failure("cannot read", dir, &e))?;
            let path = entry.path();
            let ft = entry
                .file_type()
                .map_err(|e| io_failure("cannot read", &path, &e))?;
            if ft.is_dir() {
                if policy.keeps_dir(&entry.file_name().to_string_lossy()) {
                    visit(&path, policy, out, links)?;
                }
            } else if ft.is_symlink() {
                links.push(path);
            } else if ft.is_file() && policy.keeps_file(&path) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut walk_out = Walk::default();
    let mut roots = Vec::new();
    let mut links = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| io_failure("cannot read", p, &e))?;
        if meta.is_dir() {
            roots.push(std::fs::canonicalize(p).map_err(|e| io_failure("cannot read", p, &e))?);
            visit(p, policy, &mut walk_out.files, &mut links)?;
        } else if std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()) {
            // A link given by name: work on its target, so the link stays a link.
            let target = std::fs::canonicalize(p).map_err(|e| io_failure("cannot read", p, &e))?;
            walk_out.followed.push((p.clone(), target.clone()));
            walk_out.files.push(target);
        } else {
            walk_out.files.push(p.clone());
        }
    }
    for link in links {
        match std::fs::canonicalize(&link) {
            Err(e) => walk_out
                .skipped_links
                .push((link, format!("a broken symbolic link ({e})"))),
            Ok(target) if target.is_dir() => {
                if !roots.iter().any(|r| target.starts_with(r)) {
                    walk_out.skipped_links.push((
                        link,
                        format!(
                            "a link to the folder {} outside the walked tree",
                            target.display()
                        ),
                    ));
                }
                // A folder inside the tree is walked on its own.
            }
            Ok(target) => {
                if !policy.keeps_file(&target) && !policy.keeps_file(&link) {
                    continue;
                }
                if roots.iter().any(|r| target.starts_with(r)) {
                    walk_out.followed.push((link, target.clone()));
                    walk_out.files.push(target);
                } else {
                    walk_out.skipped_links.push((
                        link,
                        format!("a link to {} outside the walked tree", target.display()),
                    ));
                }
            }
        }
    }
    // Each file once, whether reached by its path or through a link.
    let mut seen = std::collections::BTreeSet::new();
    walk_out.files.sort();
    walk_out
        .files
        .retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    Ok(walk_out)
}

/// Whether a file is one of a Helm chart's templates (under `templates/` of a folder with a
/// `Chart.yaml`): Go templates, not YAML until the chart renders them.
pub fn is_chart_template(path: &Path) -> bool {
    path.ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "templates"))
        .and_then(Path::parent)
        .is_some_and(|chart| chart.join("Chart.yaml").is_file())
}

/// Whether a file is a template the platform never syncs.
pub fn is_template(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".example.yaml") || n.ends_with(".example.yml"))
}

/// Every manifest of the tree ([`MANIFESTS`]) but those under `skip` (the output folder),
/// templates and Helm chart templates.
pub fn yaml_files(root: &Path, skip: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let skip: Vec<PathBuf> = skip
        .iter()
        .filter_map(|p| std::path::absolute(p).ok())
        .collect();
    let mut files = walk(&[root.to_path_buf()], MANIFESTS)?.files;
    files.retain(|f| {
        let abs = std::path::absolute(f).unwrap_or_else(|_| f.clone());
        !skip.iter().any(|s| abs.starts_with(s)) && !is_template(f) && !is_chart_template(f)
    });
    Ok(files)
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
    read_sealed_in(&out.join(sealstrap::manifests::SEALED_DIR))
}

/// The same for the break-glass copies, `<out>/break-glass/`.
pub fn read_copies(out: &Path) -> Result<Vec<SealedFile>, Failure> {
    read_sealed_in(&out.join(sealstrap::manifests::BREAK_GLASS_DIR))
}

fn read_sealed_in(dir: &Path) -> Result<Vec<SealedFile>, Failure> {
    let dir = dir.to_path_buf();
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
        let text = match super::files::read_repo_text(&path) {
            Ok(Some(t)) => Ok(t),
            Ok(None) => Err("it is gone".to_string()),
            Err(f) => Err(f.message),
        };
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
