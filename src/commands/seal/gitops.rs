//! What `--gitops argocd` and `--gitops flux` read: the catalog's Applications and their
//! neighbours' style, the AppProject, what the Flux folder holds. The plan (`sealstrap::plan::
//! gitops`) decides the writes.

use std::path::Path;

use sealstrap::plan::{App, ArgoCd, Flux, FluxFile};
use serde_json::Value;

use super::request::SealRequest;
use crate::workspace::error::Failure;
use crate::workspace::files::{io_failure, read_repo_file, read_repo_text};
use crate::workspace::place::Place;
use crate::workspace::repo::{self, shown};
use crate::workspace::walk;

/// The file of the Argo CD repository Secret an OCI chart mirror needs, in the catalog group (its
/// Application applies it into `argocd` before the controller's wave).
pub const REPOSITORY_FILE: &str = "sealed-secrets-repository.yaml";

/// `seal --gitops argocd`: the sealed-secrets controller and secret-source Applications in the
/// environment's always-on catalog group (sync waves: controller, then secret-source, then the
/// store), and the chart repository in the AppProject's sourceRepos.
pub fn read_argocd(
    req: &SealRequest,
    force: bool,
    root: &repo::Root,
    place: &Place,
    graph: Option<&sealstrap::deployed::Graph>,
) -> Result<ArgoCd, Failure> {
    use sealstrap::platform;
    let Some(env) = place.layout.env.clone() else {
        return Err(Failure::usage(format!(
            "which environment's catalog? clusters/ holds {}",
            repo::environments(&root.dir).join(", ")
        ))
        .hint("pass --env ENV (or --config environments/ENV/config.yaml)"));
    };
    let catalog = root.dir.join(platform::catalog_dir(&env));
    if !catalog.is_dir() {
        return Err(Failure::new(format!(
            "{} is not there: no always-on catalog group for environment {env}",
            shown(&catalog).display()
        ))
        .hint(
            "check --env; the platform keeps its Applications in clusters/<env>/catalog/<group>/",
        ));
    }
    // Every file of the environment's catalog, read once: (path, text).
    let mut files = Vec::new();
    for f in walk::yaml_files(&root.dir.join(format!("clusters/{env}/catalog")), &[])? {
        if let Ok(Some(t)) = read_repo_text(&f) {
            files.push((f, t));
        }
    }
    let texts: Vec<String> = files.iter().map(|(_, t)| t.clone()).collect();
    let (repo_url, revision) = platform::own_repo(&texts).ok_or_else(|| {
        Failure::new(format!(
            "no Application in clusters/{env}/catalog deploys from a path of this repository, so its URL is unknown"
        ))
        .hint("add the secret-source Application by hand (see README, Bring-up on the platform)")
    })?;
    let out_rel = std::path::absolute(&place.out)
        .ok()
        .and_then(|p| {
            p.strip_prefix(&root.dir)
                .ok()
                .map(|r| r.display().to_string())
        })
        .ok_or_else(|| {
            Failure::usage(format!(
                "--out {} is outside the platform repository, so Argo CD cannot deploy it from there",
                place.out.display()
            ))
        })?;
    let controller_file = catalog.join("sealed-secrets.yaml");
    let source_file = catalog.join("secret-source.yaml");
    let repository_file = catalog.join(REPOSITORY_FILE);
    let ours = [
        controller_file.clone(),
        source_file.clone(),
        repository_file.clone(),
    ];
    // The catalog's other Applications: their style and what they carry.
    let others = |under: &Path| -> Vec<&str> {
        files
            .iter()
            .filter(|(f, _)| !ours.contains(f) && f.starts_with(under))
            .map(|(_, t)| t.as_str())
            .collect()
    };
    let catalog_texts = others(&root.dir.join(format!("clusters/{env}/catalog")));
    let neighbours = platform::neighbours(&catalog_texts);
    // The chart and image: the command line, else sealstrap.yaml, else the file, else upstream.
    let (asked, in_file, mirror) =
        chart_and_image(req, place, read_repo_text(&controller_file)?.as_deref());
    let wanted = [
        (
            controller_file.clone(),
            platform::controller_app(
                &req.controller_namespace,
                &req.controller_name,
                &mirror,
                &neighbours,
            ),
        ),
        (
            source_file,
            platform::source_app(
                &repo_url,
                &revision,
                &out_rel,
                &req.wiring.source_namespace,
                &neighbours,
            ),
        ),
    ];
    // The style of the Applications beside them (the always-on group's, else any group's).
    let mut beside = others(&catalog);
    if beside.is_empty() {
        beside = catalog_texts.clone();
    }
    let style = sealstrap::style::learn(&beside);
    let apps = wanted
        .into_iter()
        .map(|(path, generated)| {
            Ok(App {
                current: read_repo_text(&path)?,
                path,
                generated,
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let project = root.dir.join(platform::project_file(&env));
    let project_text = read_repo_text(&project)?.ok_or_else(|| {
        io_failure(
            "cannot read",
            &project,
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })?;
    // Fields set this run: what the command line or sealstrap.yaml give (the file keeps the
    // rest), and Argo CD's form for an OCI repository written before as `oci://`.
    let mut requested = Vec::new();
    let mut notes = Vec::new();
    if asked.repo.is_some()
        || in_file
            .repo
            .as_deref()
            .is_some_and(|r| r.starts_with("oci://"))
    {
        requested.push((
            "/spec/source/repoURL".to_string(),
            Value::from(mirror.argo_repo_url()),
        ));
        if asked.repo.is_none() {
            notes.push(format!(
                "{}: repoURL {} is Argo CD's native OCI form, which ignores chart:; written in the Helm-repository form Argo CD resolves ({}, with the repository Secret beside it)",
                shown(&controller_file).display(),
                in_file.repo.as_deref().unwrap_or_default(),
                mirror.argo_repo_url()
            ));
        }
    }
    if asked.version.is_some() {
        requested.push((
            "/spec/source/targetRevision".to_string(),
            Value::from(mirror.version.as_str()),
        ));
    }
    if asked.image_given() {
        requested.push((
            "/spec/source/helm/valuesObject/image".to_string(),
            mirror.image.values(),
        ));
    }
    let repository = sealstrap::mirror::argo_repository_secret(&mirror)
        .map(|value| {
            Ok::<_, Failure>(sealstrap::plan::RepositorySecret {
                current: read_repo_text(&repository_file)?,
                path: repository_file.clone(),
                value,
            })
        })
        .transpose()?;
    // A repository Secret left from an OCI mirror this run no longer uses (the chart moved to
    // an https:// repository or back upstream): said, never deleted behind the reviewer's back.
    if repository.is_none() && repository_file.is_file() {
        notes.push(format!(
            "{} is the Argo CD repository Secret of an OCI chart mirror the controller no longer uses ({}): remove it (git rm {}), and its repository from the AppProject's sourceRepos if nothing else uses it",
            shown(&repository_file).display(),
            mirror.argo_repo_url(),
            shown(&repository_file).display()
        ));
    }
    // Applications of the same names elsewhere in what the environment deploys.
    let same_names = graph
        .map(|g| {
            g.apps
                .iter()
                .filter(|a| a.name == "sealed-secrets" || a.name == "secret-source")
                .filter(|a| {
                    let file = a.from.split(' ').next().unwrap_or("");
                    !ours.iter().any(|o| o.ends_with(file))
                })
                .map(|a| (a.name.clone(), a.from.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(ArgoCd {
        apps,
        style,
        requested,
        force,
        project,
        project_text,
        same_names,
        repository,
        mirror,
        notes,
    })
}

/// `--gitops flux`: the controller, the store in a folder of its own, three Flux
/// Kustomizations, with what the folder holds now.
pub fn read_flux(req: &SealRequest, place: &Place, dir: &Path) -> Result<Flux, Failure> {
    let Some(git_root) = repo::git_root(&place.out) else {
        return Err(Failure::usage(
            "--gitops flux: Flux reconciles paths of a git repository, and --out is not in one",
        )
        .hint("run seal in the repository Flux syncs (git init first)"));
    };
    if place.platform().is_some() {
        return Err(Failure::usage(
            "--gitops flux: this is the Argo CD platform; its wiring is --gitops argocd",
        ));
    }
    let folder = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        git_root.join(dir)
    };
    let rel = |p: &Path| {
        std::path::absolute(p)
            .ok()
            .and_then(|a| {
                a.strip_prefix(&git_root)
                    .ok()
                    .map(|r| r.to_string_lossy().into_owned())
            })
            .ok_or_else(|| {
                Failure::usage(format!(
                    "{} is outside the repository Flux syncs ({})",
                    p.display(),
                    git_root.display()
                ))
            })
    };
    // The chart and image: the command line, else sealstrap.yaml, else the file, else upstream.
    let controller = folder.join(format!(
        "{}/controller.yaml",
        sealstrap::flux::CONTROLLER_DIR
    ));
    let (_, _, mirror) = chart_and_image(
        req,
        place,
        read_repo_text(&controller).ok().flatten().as_deref(),
    );
    // The Flux Kustomization that installs ESO, if the repository has one (outside the folder
    // sealstrap writes).
    let mut docs = Vec::new();
    for f in walk::yaml_files(&git_root, &[])? {
        if f.starts_with(&folder) {
            continue;
        }
        if let Ok(Some(t)) = read_repo_text(&f)
            && let Ok(parsed) = sealstrap::yaml::parse_documents(&t)
        {
            let r = rel(&f).unwrap_or_default();
            docs.extend(parsed.into_iter().map(|d| (r.clone(), d)));
        }
    }
    let eso = sealstrap::flux::eso_dependency(&docs, &sealstrap::flux::OWN_KUSTOMIZATIONS);
    let files = sealstrap::flux::files(
        &req.wiring,
        &req.controller_namespace,
        &req.controller_name,
        &mirror,
        &rel(&place.out)?,
        &rel(&folder)?,
        eso.as_ref(),
    )
    .into_iter()
    .map(|(r, text)| {
        let current = read_repo_file(&folder.join(&r))
            .ok()
            .flatten()
            .map(|b| b.to_vec());
        FluxFile {
            rel: r,
            text,
            current,
        }
    })
    .collect();
    Ok(Flux {
        dir: folder,
        files,
        mirror,
        eso,
    })
}

/// The chart and image a run writes: the command line, else sealstrap.yaml, else what the
/// controller's file already says (`current`: the file is the record), else upstream. Returns
/// what was asked (flags, sealstrap.yaml), what the file says, and the result.
fn chart_and_image(
    req: &SealRequest,
    place: &Place,
    current: Option<&str>,
) -> (
    sealstrap::mirror::Given,
    sealstrap::mirror::Given,
    sealstrap::mirror::Mirror,
) {
    let in_file = current
        .and_then(|t| sealstrap::yaml::parse_documents(t).ok())
        .map(|d| sealstrap::mirror::given_in(&d))
        .unwrap_or_default();
    let asked = req
        .seal_options()
        .map(|o| o.chart.clone())
        .unwrap_or_default()
        .or(&place.chart);
    let mirror = sealstrap::mirror::Mirror::resolve(&asked.or(&in_file));
    (asked, in_file, mirror)
}
