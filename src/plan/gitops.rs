//! The wiring a run writes into the platform's own files: the Kubernetes-provider store at the
//! platform's swap point, the Argo CD Applications (merged into what is there) and the
//! AppProject's `sourceRepos`, and the Flux folder. Pure: what the files hold now is in the
//! snapshot.

use std::path::{Path, PathBuf};

use serde_json::Value;
use zeroize::Zeroizing;

use super::{Refusal, Write, shown};
use crate::manifests::Wiring;
use crate::platform::{self, Merged, StoreState};

/// The platform's store file (the swap point) and its text.
#[derive(Clone, Debug)]
pub struct StoreFile {
    pub path: PathBuf,
    pub text: String,
}

/// In the platform: the Kubernetes-provider store goes into the swap point, replacing the
/// resolver's placeholder or its gcpsm store (a hand-written store of another provider only
/// with `force`). `force` is `None` for rotations, which never touch it.
pub fn plan_store(
    store: &StoreFile,
    wiring: &Wiring,
    force: Option<bool>,
    writes: &mut Vec<Write>,
    notes: &mut Vec<String>,
) -> Result<(), Refusal> {
    let Some(force) = force else {
        return Ok(());
    };
    let state = platform::store_state(&store.text, wiring);
    match &state {
        StoreState::Kubernetes { current: true } => return Ok(()),
        StoreState::Other(_) if !force => {
            return Err(Refusal::StoreNotOurs {
                path: store.path.clone(),
                state: state.describe(),
            });
        }
        _ => {}
    }
    notes.push(format!(
        "{}: replaced {} with the Kubernetes-provider store (ESO reads {}); the resolver leaves it alone while the config says `secret_backend: kubernetes` (with gcpsm, or no line, the next `make resolve-secret-store` writes the gcpsm store back)",
        store.path.display(),
        state.describe(),
        wiring.source_namespace
    ));
    writes.push(Write::new(
        store.path.clone(),
        platform::store_file(wiring, &crate::style::learn(&[&store.text])),
    ));
    Ok(())
}

/// One Application `--gitops argocd` writes: its file, what the wiring needs in it, and what the
/// file holds now.
#[derive(Clone, Debug)]
pub struct App {
    pub path: PathBuf,
    pub generated: platform::Generated,
    pub current: Option<String>,
}

/// What `--gitops argocd` read: the Applications it wants (the controller's first), the
/// neighbours' style, the fields the user asked to set, and the AppProject.
#[derive(Clone, Debug)]
pub struct ArgoCd {
    pub apps: Vec<App>,
    /// The style of the Applications beside them, for a new file.
    pub style: crate::style::Style,
    /// Fields the user asked to set in this run (`--chart-repo`, `--chart-version`), as JSON
    /// pointers into the controller's Application.
    pub requested: Vec<(String, Value)>,
    /// `--force`: set the wiring's own fields over a hand edit.
    pub force: bool,
    pub project: PathBuf,
    pub project_text: String,
    /// Other deployed Applications with the names of sealstrap's: (name, file).
    pub same_names: Vec<(String, String)>,
    /// The Argo CD repository Secret an OCI chart mirror needs.
    pub repository: Option<RepositorySecret>,
    /// The chart and image this run writes.
    pub mirror: crate::mirror::Mirror,
    /// What reading found to say (a repoURL put in Argo CD's form).
    pub notes: Vec<String>,
}

/// The Argo CD repository Secret of an OCI chart mirror: its file, what it must say, what is
/// there now.
#[derive(Clone, Debug)]
pub struct RepositorySecret {
    pub path: PathBuf,
    pub value: Value,
    pub current: Option<String>,
}

/// What a run that writes GitOps wiring says about the chart and the image: the artifacts to
/// mirror first, and a half-mirrored site (the chart from a mirror, the image from the internet,
/// or the other way round).
pub fn mirror_notes(m: &crate::mirror::Mirror, notes: &mut Vec<String>) {
    match (m.upstream_chart(), m.upstream_image()) {
        (true, true) => return,
        (false, true) => notes.push(format!(
            "the chart comes from {}, the controller image still from {}: an air-gapped site mirrors it too (--image-registry, or chart: {{image: {{registry: ...}}}} in sealstrap.yaml)",
            m.repo,
            m.image.reference()
        )),
        (true, false) => notes.push(format!(
            "the image comes from {}, the chart still from {}: an air-gapped site mirrors it too (--chart-repo, or chart: {{repo: ...}} in sealstrap.yaml)",
            m.image.registry, m.repo
        )),
        (false, false) => {}
    }
    for a in m.artifacts() {
        if let Some(copy) = a.copy {
            notes.push(format!("mirror the {} first: {copy}", a.what));
        }
    }
}

/// Plans the `--gitops argocd` writes: each Application merged into its file (the user's edits
/// kept), and the chart's repository added to the AppProject.
pub fn plan_argocd(
    g: &ArgoCd,
    cwd: &Path,
    writes: &mut Vec<Write>,
    notes: &mut Vec<String>,
) -> Result<(), Refusal> {
    let mut chart_repo = None;
    for (i, app) in g.apps.iter().enumerate() {
        // The controller's Application comes first: only it takes the requested chart fields.
        let requested: &[(String, Value)] = if i == 0 { &g.requested } else { &[] };
        let merged = platform::merge(
            app.current.as_deref(),
            &app.generated,
            requested,
            &g.style,
            g.force,
        );
        let file = shown(cwd, &app.path);
        let text = match merged {
            Merged::Unchanged => app.current.clone().unwrap_or_default(),
            Merged::Write { text, changed } => {
                notes.push(if app.current.is_none() {
                    format!("{}: Argo CD Application written", file.display())
                } else {
                    format!(
                        "{}: set {} (your other edits are kept)",
                        file.display(),
                        changed.join(", ")
                    )
                });
                writes.push(Write::new(app.path.clone(), text.clone()));
                text
            }
            Merged::Conflict(fields) => {
                let show = |v: &Option<Value>| match v {
                    Some(v) => v.to_string(),
                    None => "(missing)".into(),
                };
                let diff: String = fields
                    .iter()
                    .map(|(p, have, want)| format!("\n  {p}\n  - {}\n  + {want}", show(have)))
                    .collect();
                return Err(Refusal::ApplicationConflict { file, diff });
            }
        };
        if i == 0 {
            chart_repo = crate::yaml::parse_documents(&text)
                .ok()
                .and_then(|d| d.into_iter().next())
                .and_then(|d| {
                    d.pointer("/spec/source/repoURL")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
        }
    }
    notes.extend(g.notes.iter().cloned());
    // The repository Secret: written when missing or when it names another mirror; a file the
    // user extended (a project, a proxy) keeps their fields.
    if let Some(r) = &g.repository {
        let now = r
            .current
            .as_deref()
            .and_then(|t| crate::yaml::parse_documents(t).ok())
            .and_then(|d| d.into_iter().next());
        let same = now.as_ref().is_some_and(|n| {
            ["url", "type", "enableOCI"].iter().all(|k| {
                n.pointer(&format!("/stringData/{k}"))
                    == r.value.pointer(&format!("/stringData/{k}"))
            })
        });
        if !same {
            notes.push(format!(
                "{}: the Argo CD repository Secret for the OCI chart mirror {} (no credentials: the mirror must be readable without, or given its credentials out of band)",
                shown(cwd, &r.path).display(),
                g.mirror.argo_repo_url()
            ));
            writes.push(Write::new(
                r.path.clone(),
                crate::style::render(
                    &r.value,
                    &g.style,
                    "Argo CD's repository for the sealed-secrets chart in an OCI registry (written by\n`sealstrap seal --gitops argocd`): enableOCI makes repoURL without oci:// resolve.",
                ),
            ));
        }
    }
    mirror_notes(&g.mirror, notes);
    for (name, file) in &g.same_names {
        notes.push(format!(
            "{file} also defines an Application named {name} that this environment deploys: two Applications of one name fight over one object in Argo CD; remove one"
        ));
    }
    let repo = chart_repo.unwrap_or_else(|| g.mirror.argo_repo_url());
    match platform::add_source_repo(&g.project_text, &repo) {
        Ok(Some(new)) => {
            notes.push(format!(
                "{}: added {repo} to sourceRepos",
                shown(cwd, &g.project).display(),
            ));
            writes.push(Write::new(g.project.clone(), new));
        }
        Ok(None) => {}
        Err(why) => {
            return Err(Refusal::SourceRepos {
                project: g.project.clone(),
                why: why.to_string(),
                repo,
            });
        }
    }
    Ok(())
}

/// A file of the Flux folder: its path in the folder, its text, and what is there now.
#[derive(Clone, Debug)]
pub struct FluxFile {
    pub rel: String,
    pub text: String,
    pub current: Option<Vec<u8>>,
}

/// `--gitops flux`: the folder and its files.
#[derive(Clone, Debug)]
pub struct Flux {
    pub dir: PathBuf,
    pub files: Vec<FluxFile>,
    /// The chart and image this run writes.
    pub mirror: crate::mirror::Mirror,
    /// The Flux Kustomization that installs the External Secrets Operator, which the store
    /// waits for; `None` when the repository has none.
    pub eso: Option<crate::flux::Dependency>,
}

/// Plans the Flux folder's writes (only files whose bytes change).
pub fn plan_flux(
    f: &Flux,
    cwd: &Path,
    out: &Path,
    writes: &mut Vec<Write>,
    notes: &mut Vec<String>,
) {
    for file in &f.files {
        if file.current.as_deref() != Some(file.text.as_bytes()) {
            writes.push(Write::new(f.dir.join(&file.rel), file.text.clone()));
        }
    }
    notes.push(format!(
        "Flux: add {} to the folder Flux reconciles for this cluster (or `kubectl apply -k {}`); it applies the controller, then {}, then the store",
        shown(cwd, &f.dir).display(),
        shown(cwd, &f.dir).display(),
        shown(cwd, out).display()
    ));
    match &f.eso {
        Some((name, namespace)) => notes.push(format!(
            "Flux: the store also waits for {namespace}/{name}, the Flux Kustomization that installs the External Secrets Operator (its CRDs)"
        )),
        None => notes.push(
            "Flux: no Flux Kustomization of this repository installs the External Secrets Operator, so the store waits only for the sealed values; once ESO's Kustomization is in the repository, run seal again and the store waits for it too".into(),
        ),
    }
    mirror_notes(&f.mirror, notes);
}

impl Write {
    /// A file for a commit (mode 0644 as umask gives it).
    pub fn new(path: PathBuf, text: String) -> Write {
        Write {
            path,
            contents: Zeroizing::new(text.into_bytes()),
            mode: None,
        }
    }
}
