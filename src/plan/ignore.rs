//! git's ignore rules and a run's files: what to ask git about, and the `.gitignore` rules that
//! keep every file meant for a commit committed (and the plaintext Dex copy out). Pure: git's
//! answers are in the snapshot.

use std::path::{Path, PathBuf};

/// What to ask git about `committed` (paths relative to the repository root): each file, and
/// each folder above one (as `DIR/`, so git matches folder-only patterns).
pub fn ignore_queries(committed: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = committed
        .iter()
        .flat_map(|p| p.ancestors().skip(1).map(Path::to_path_buf))
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| PathBuf::from(format!("{}/", d.display())))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut q = committed.to_vec();
    q.extend(dirs);
    q
}

/// The `.gitignore` rules that make git keep `committed`, from git's answers (`ignored`): a
/// re-include rule (`!/PATH`) for each file git would ignore, after one for each ignored folder
/// above it (git cannot re-include a file inside an ignored folder).
pub fn reinclude_rules(committed: &[PathBuf], ignored: &[PathBuf]) -> Vec<String> {
    let mut dirs: Vec<PathBuf> = committed
        .iter()
        .flat_map(|p| p.ancestors().skip(1).map(Path::to_path_buf))
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut rules = Vec::new();
    for d in &dirs {
        if ignored
            .iter()
            .any(|i| i.to_string_lossy().trim_end_matches('/') == d.to_string_lossy())
        {
            rules.push(format!(
                "!{}/",
                crate::gitignore::exact_rule(&d.to_string_lossy())
            ));
        }
    }
    for f in committed {
        if ignored.contains(f) {
            rules.push(format!(
                "!{}",
                crate::gitignore::exact_rule(&f.to_string_lossy())
            ));
        }
    }
    rules
}

/// `p` relative to `root`, when it is below it (both absolute, or both relative to one folder).
pub fn relative_to(root: &Path, p: &Path) -> Option<PathBuf> {
    p.strip_prefix(root).ok().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ignored_file_is_re_included_after_its_ignored_folders() {
        let committed = vec![
            PathBuf::from("clusters/metal/secret-source/sealed/dex-argocd-client-secret.yaml"),
            PathBuf::from("clusters/metal/secret-source/sealed/vllm-api-key.yaml"),
        ];
        let q = ignore_queries(&committed);
        assert!(q.contains(&PathBuf::from("clusters/metal/secret-source/sealed/")));
        assert!(q.contains(&PathBuf::from("clusters/")));
        // git says: the Dex client secret (`*-secret.yaml`) and nothing else.
        let rules = reinclude_rules(&committed, &[committed[0].clone()]);
        assert_eq!(
            rules,
            ["!/clusters/metal/secret-source/sealed/dex-argocd-client-secret.yaml"]
        );
        // An ignored folder is re-included first.
        let rules = reinclude_rules(
            &committed,
            &[
                PathBuf::from("clusters/metal/secret-source/"),
                committed[1].clone(),
            ],
        );
        assert_eq!(
            rules,
            [
                "!/clusters/metal/secret-source/",
                "!/clusters/metal/secret-source/sealed/vllm-api-key.yaml"
            ]
        );
        assert!(reinclude_rules(&committed, &[]).is_empty());
    }
}
