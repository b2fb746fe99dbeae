//! What `--gitops argocd` and `--gitops flux` read: the catalog's Applications and their
//! neighbours' style, the AppProject, what the Flux folder holds. The plan (`sealstrap::plan::
//! gitops`) decides the writes.

use std::path::{Path, PathBuf};

use sealstrap::plan::{App, ArgoCd, Flux, FluxFile};
use serde_json::Value;

use super::request::SealRequest;
use crate::workspace::error::Failure;
use crate::workspace::files::{io_failure, read_repo_file, read_repo_text};
use crate::workspace::place::Place;
use crate::workspace::repo::{self, shown};
use crate::workspace::walk;

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
    let mut texts = Vec::new();
    for f in walk::yaml_files(&root.dir.join(format!("clusters/{env}/catalog")), &[])? {
        if let Ok(Some(t)) = read_repo_text(&f) {
            texts.push(t);
        }
    }
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
    let wanted = [
        (
            catalog.join("sealed-secrets.yaml"),
            platform::controller_app(
                &req.controller_namespace,
                &req.controller_name,
                &platform::Chart::default(),
            ),
        ),
        (
            catalog.join("secret-source.yaml"),
            platform::source_app(&repo_url, &revision, &out_rel, &req.wiring.source_namespace),
        ),
    ];
    let ours: Vec<PathBuf> = wanted.iter().map(|(p, _)| p.clone()).collect();
    // The style of the Applications beside them (the always-on group's, else any group's).
    let mut neighbours: Vec<String> = Vec::new();
    for dir in [
        catalog.clone(),
        root.dir.join(format!("clusters/{env}/catalog")),
    ] {
        for f in walk::yaml_files(&dir, &[])? {
            if !ours.contains(&f)
                && let Ok(Some(t)) = read_repo_text(&f)
            {
                neighbours.push(t);
            }
        }
        if !neighbours.is_empty() {
            break;
        }
    }
    let style = sealstrap::style::learn(&neighbours.iter().map(String::as_str).collect::<Vec<_>>());
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
    let mut requested = Vec::new();
    if let Some(o) = req.seal_options() {
        if let Some(r) = &o.chart_repo {
            requested.push(("/spec/source/repoURL".to_string(), Value::from(r.as_str())));
        }
        if let Some(v) = &o.chart_version {
            requested.push((
                "/spec/source/targetRevision".to_string(),
                Value::from(v.as_str()),
            ));
        }
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
    let o = req.seal_options();
    let chart = sealstrap::platform::Chart {
        repo: o
            .and_then(|o| o.chart_repo.clone())
            .unwrap_or_else(|| sealstrap::defaults::CONTROLLER_CHART_REPO.into()),
        version: o
            .and_then(|o| o.chart_version.clone())
            .unwrap_or_else(|| sealstrap::defaults::CONTROLLER_CHART_VERSION.into()),
    };
    let files = sealstrap::flux::files(
        &req.wiring,
        &req.controller_namespace,
        &req.controller_name,
        &chart,
        &rel(&place.out)?,
        &rel(&folder)?,
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
    Ok(Flux { dir: folder, files })
}
