//! The sealed-secrets controller's chart and image, as an air-gapped site mirrors them: which
//! ones a run writes, how each GitOps tool names a chart repository in an OCI registry, and the
//! list of artifacts to copy in beforehand. Pure; the one owner of these rules.
//!
//! A run's choice, field by field, is the first that says: the command line (`--chart-repo`,
//! `--chart-version`, `--image-registry`, `--image-repository`, `--image-tag`), then
//! `sealstrap.yaml`'s `chart:` section (every environment, every later run), then what the
//! written files already hold (the file is the record of an earlier run's flags), then upstream's
//! (FACTS §11: chart `sealed-secrets` 2.18.5 from `https://bitnami-labs.github.io/sealed-secrets`,
//! whose default image is `docker.io/bitnami/sealed-secrets-controller:0.36.6`).
//!
//! ```yaml
//! chart:
//!   repo: oci://registry.internal/charts      # or an https:// Helm repository
//!   version: 2.18.5
//!   image:
//!     registry: registry.internal
//!     repository: bitnami/sealed-secrets-controller
//!     tag: 0.36.6@sha256:...                   # a digest pins it
//! ```
//!
//! The chart's deployment prints the image as `registry/repository:tag`
//! (bitnami-labs/sealed-secrets `helm/sealed-secrets/templates/deployment.yaml`), so a tag
//! `0.36.6@sha256:<64 hex>` is a reference pinned by digest, as every container runtime reads it.

use serde_json::{Value, json};

use crate::defaults::{
    CONTROLLER_CHART, CONTROLLER_CHART_REPO, CONTROLLER_CHART_VERSION, CONTROLLER_IMAGE_REGISTRY,
    CONTROLLER_IMAGE_REPOSITORY, CONTROLLER_IMAGE_TAG,
};

/// The section of `sealstrap.yaml`.
pub const SECTION: &str = "chart";

/// What was given for the image (any field may be left to the next source).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageGiven {
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub tag: Option<String>,
}

/// What one source says about the chart and image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Given {
    pub repo: Option<String>,
    pub version: Option<String>,
    pub image: ImageGiven,
}

impl Given {
    /// Each field of `self`, else `other`'s.
    pub fn or(&self, other: &Given) -> Given {
        let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        Given {
            repo: pick(&self.repo, &other.repo),
            version: pick(&self.version, &other.version),
            image: ImageGiven {
                registry: pick(&self.image.registry, &other.image.registry),
                repository: pick(&self.image.repository, &other.image.repository),
                tag: pick(&self.image.tag, &other.image.tag),
            },
        }
    }

    pub fn image_given(&self) -> bool {
        self.image != ImageGiven::default()
    }
}

/// Why a chart or image setting cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MirrorError {
    #[error("chart: {0}")]
    Shape(String),
    #[error(
        "the chart repository {0:?} is neither an https:// Helm repository nor an oci:// registry path"
    )]
    Repo(String),
    #[error(
        "the image {what} {value:?} is not one (a registry is a host with an optional port and path, a repository a path, a tag a tag with an optional @sha256:<64 hex>)"
    )]
    Image { what: &'static str, value: String },
}

impl MirrorError {
    pub fn hint(&self) -> &'static str {
        match self {
            MirrorError::Shape(_) => {
                "chart: {repo: URL, version: V, image: {registry: HOST, repository: PATH, tag: TAG}}; see docs/format.md §10"
            }
            MirrorError::Repo(_) => {
                "give the mirror as https://charts.internal/sealed-secrets (a Helm repository) or oci://registry.internal/charts (the folder of the chart in an OCI registry)"
            }
            MirrorError::Image { .. } => {
                "for example --image-registry registry.internal:5000 --image-tag 0.36.6@sha256:<digest>"
            }
        }
    }
}

/// `sealstrap.yaml`'s `chart:` section (its keys are checked by `repo_config`).
pub fn parse(root: &Value) -> Result<Given, MirrorError> {
    let Some(c) = root.get(SECTION) else {
        return Ok(Given::default());
    };
    let text = |v: Option<&Value>, at: &str| -> Result<Option<String>, MirrorError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            // A version or a tag written without quotes is a number to YAML.
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(MirrorError::Shape(format!("{at} must be a string"))),
        }
    };
    if !c.is_object() {
        return Err(MirrorError::Shape("expected a mapping".into()));
    }
    let image = match c.get("image") {
        None | Some(Value::Null) => ImageGiven::default(),
        Some(i @ Value::Object(_)) => ImageGiven {
            registry: text(i.get("registry"), "chart.image.registry")?,
            repository: text(i.get("repository"), "chart.image.repository")?,
            tag: text(i.get("tag"), "chart.image.tag")?,
        },
        Some(_) => return Err(MirrorError::Shape("chart.image must be a mapping".into())),
    };
    let g = Given {
        repo: text(c.get("repo"), "chart.repo")?,
        version: text(c.get("version"), "chart.version")?,
        image,
    };
    check(&g)?;
    Ok(g)
}

/// Checks what was given: the repository's scheme, the image's parts.
pub fn check(g: &Given) -> Result<(), MirrorError> {
    if let Some(r) = &g.repo
        && !(r.starts_with("https://") || r.starts_with("http://") || r.starts_with("oci://"))
    {
        return Err(MirrorError::Repo(r.clone()));
    }
    let plain = |s: &str, extra: &[char]| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c) || extra.contains(&c))
    };
    if let Some(r) = &g.image.registry
        && !(plain(r, &[':', '/']) && !r.starts_with('/') && !r.ends_with('/') && !r.contains("//"))
    {
        return Err(MirrorError::Image {
            what: "registry",
            value: r.clone(),
        });
    }
    if let Some(r) = &g.image.repository
        && !(plain(r, &['/']) && !r.starts_with('/') && !r.ends_with('/'))
    {
        return Err(MirrorError::Image {
            what: "repository",
            value: r.clone(),
        });
    }
    if let Some(t) = &g.image.tag {
        let (tag, digest) = match t.split_once('@') {
            Some((t, d)) => (t, Some(d)),
            None => (t.as_str(), None),
        };
        let digest_ok = digest.is_none_or(|d| {
            d.strip_prefix("sha256:").is_some_and(|h| {
                h.len() == 64
                    && h.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            })
        });
        if !plain(tag, &[]) || tag.len() > 128 || !digest_ok {
            return Err(MirrorError::Image {
                what: "tag",
                value: t.clone(),
            });
        }
    }
    Ok(())
}

/// The image the controller runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

impl Image {
    /// The reference the chart prints (`registry/repository:tag`).
    pub fn reference(&self) -> String {
        format!("{}/{}:{}", self.registry, self.repository, self.tag)
    }

    /// How skopeo names this image as the `source` or the destination of a copy, and whether
    /// the tag pins a digest. skopeo refuses a reference with both a tag and a digest ("Docker
    /// references with both a tag and digest are currently not supported", containers/image
    /// docker/docker_reference.go), so a tag `0.36.6@sha256:...` is read by its digest and
    /// written under its tag with the digest kept (`--preserve-digests`): the mirror then serves
    /// `0.36.6@sha256:...` as the chart asks for it.
    pub fn skopeo_reference(&self, source: bool) -> (String, bool) {
        let name = format!("{}/{}", self.registry, self.repository);
        match self.tag.split_once('@') {
            None => (format!("{name}:{}", self.tag), false),
            Some((tag, digest)) if source || tag.is_empty() => (format!("{name}@{digest}"), true),
            Some((tag, _)) => (format!("{name}:{tag}"), true),
        }
    }

    /// The chart's `image` values.
    pub fn values(&self) -> Value {
        json!({"registry": self.registry, "repository": self.repository, "tag": self.tag})
    }
}

/// The chart and image a run writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    /// The chart repository as the user names it: `https://...` or `oci://...`.
    pub repo: String,
    pub version: String,
    pub image: Image,
    /// Whether the image differs from the chart's own default (then it is written in the
    /// values; otherwise the chart's default stands and nothing is written).
    pub image_given: bool,
}

impl Mirror {
    /// `g`'s fields over upstream's. A repository without a scheme is Argo CD's form of an OCI
    /// one, read back from a file: it is `oci://` again here.
    pub fn resolve(g: &Given) -> Mirror {
        let repo = g
            .repo
            .clone()
            .unwrap_or_else(|| CONTROLLER_CHART_REPO.into());
        let repo = match repo_kind(&repo) {
            RepoKind::Oci(path) => format!("oci://{path}"),
            RepoKind::Http(_) => repo,
        };
        Mirror {
            repo,
            version: g
                .version
                .clone()
                .unwrap_or_else(|| CONTROLLER_CHART_VERSION.into()),
            image: Image {
                registry: g
                    .image
                    .registry
                    .clone()
                    .unwrap_or_else(|| CONTROLLER_IMAGE_REGISTRY.into()),
                repository: g
                    .image
                    .repository
                    .clone()
                    .unwrap_or_else(|| CONTROLLER_IMAGE_REPOSITORY.into()),
                tag: g
                    .image
                    .tag
                    .clone()
                    .unwrap_or_else(|| CONTROLLER_IMAGE_TAG.into()),
            },
            image_given: g.image_given(),
        }
    }

    /// Whether this is upstream's chart repository (the internet).
    pub fn upstream_chart(&self) -> bool {
        self.repo == CONTROLLER_CHART_REPO
    }

    /// Whether the image still comes from upstream's registry.
    pub fn upstream_image(&self) -> bool {
        self.image.registry == CONTROLLER_IMAGE_REGISTRY
    }

    /// Argo CD's `repoURL` for the chart: an HTTP repository as it is; an OCI one in Argo CD's
    /// Helm-repository form, without the scheme, with `chart:` beside it and a repository
    /// Secret that says `enableOCI` ([`argo_repository_secret`]). That form works in Argo CD
    /// 2.x and 3.x (argo-cd.readthedocs.io, user-guide/helm, "Helm OCI"); an `oci://` repoURL is
    /// Argo CD 3.1's native OCI source, which takes the chart's own path and ignores `chart:`
    /// (user-guide/oci), so `oci://registry/charts` with `chart: sealed-secrets` resolves nothing.
    pub fn argo_repo_url(&self) -> String {
        match repo_kind(&self.repo) {
            RepoKind::Oci(path) => path.to_string(),
            RepoKind::Http(url) => url.to_string(),
        }
    }

    /// Flux's HelmRepository `url` and `type` (`oci` for an OCI registry: without it Flux
    /// reads the URL as an HTTP index; fluxcd.io/flux/components/source/helmrepositories,
    /// "Type").
    pub fn flux_repo(&self) -> (String, Option<&'static str>) {
        match repo_kind(&self.repo) {
            RepoKind::Oci(path) => (format!("oci://{path}"), Some("oci")),
            RepoKind::Http(url) => (url.to_string(), None),
        }
    }

    /// The artifacts a site copies in before an air-gapped bring-up: the chart and the image,
    /// each from upstream to where this choice points (the same place when not mirrored).
    pub fn artifacts(&self) -> Vec<Artifact> {
        let upstream_chart = format!(
            "{CONTROLLER_CHART_REPO} chart {CONTROLLER_CHART} {}",
            self.version
        );
        let chart_to = match repo_kind(&self.repo) {
            RepoKind::Oci(path) => format!("oci://{path}/{CONTROLLER_CHART}:{}", self.version),
            RepoKind::Http(url) => format!("{url} chart {CONTROLLER_CHART} {}", self.version),
        };
        let pull = format!(
            "helm pull {CONTROLLER_CHART} --repo {CONTROLLER_CHART_REPO} --version {}",
            self.version
        );
        let chart_copy = match repo_kind(&self.repo) {
            _ if self.upstream_chart() => None,
            RepoKind::Oci(path) => Some(format!(
                "{pull} && helm push {CONTROLLER_CHART}-{}.tgz oci://{path}",
                self.version
            )),
            RepoKind::Http(url) => Some(format!(
                "{pull}, then add {CONTROLLER_CHART}-{}.tgz to {url} and its index.yaml (helm repo index)",
                self.version
            )),
        };
        // The upstream image of the same tag (a digest given pins both sides).
        let upstream_image = Image {
            registry: CONTROLLER_IMAGE_REGISTRY.into(),
            repository: CONTROLLER_IMAGE_REPOSITORY.into(),
            tag: self.image.tag.clone(),
        };
        let image_copy = (self.image != upstream_image).then(|| {
            let (from, _) = upstream_image.skopeo_reference(true);
            let (to, pinned) = self.image.skopeo_reference(false);
            format!(
                "skopeo copy --all{} docker://{from} docker://{to}",
                if pinned { " --preserve-digests" } else { "" }
            )
        });
        vec![
            Artifact {
                what: "chart",
                from: upstream_chart,
                to: chart_to,
                copy: chart_copy,
            },
            Artifact {
                what: "image",
                from: upstream_image.reference(),
                to: self.image.reference(),
                copy: image_copy,
            },
        ]
    }
}

/// One artifact to mirror: upstream's, where the wiring points, and how to copy it (`None`
/// when it points at upstream: nothing to copy, but the site needs the internet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub what: &'static str,
    pub from: String,
    pub to: String,
    pub copy: Option<String>,
}

/// A chart repository: an HTTP(S) Helm repository, or a path in an OCI registry (`oci://` or,
/// as Argo CD writes it, no scheme).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoKind<'a> {
    Http(&'a str),
    /// `host[:port]/path`, without the scheme.
    Oci(&'a str),
}

pub fn repo_kind(url: &str) -> RepoKind<'_> {
    if let Some(rest) = url.strip_prefix("oci://") {
        RepoKind::Oci(rest.trim_end_matches('/'))
    } else if url.starts_with("https://") || url.starts_with("http://") {
        RepoKind::Http(url)
    } else {
        RepoKind::Oci(url.trim_end_matches('/'))
    }
}

/// The name of the Argo CD repository Secret for an OCI chart mirror.
pub const ARGO_REPOSITORY_SECRET: &str = "sealed-secrets-chart-repository";

/// The Argo CD repository Secret an OCI chart mirror needs (argo-cd.readthedocs.io,
/// operator-manual/declarative-setup, "Helm Chart Repositories": `type: helm`, `enableOCI:
/// "true"`, `url` without the scheme). No credentials: a credential sealed for the controller
/// could only be opened by the controller this very chart installs, so a mirror for the
/// bring-up must be readable without one (or its credentials given to Argo CD out of band).
pub fn argo_repository_secret(m: &Mirror) -> Option<Value> {
    let RepoKind::Oci(path) = repo_kind(&m.repo) else {
        return None;
    };
    Some(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": ARGO_REPOSITORY_SECRET,
            "namespace": "argocd",
            "labels": {"argocd.argoproj.io/secret-type": "repository"}
        },
        "stringData": {
            "name": CONTROLLER_CHART,
            "type": "helm",
            "url": path,
            "enableOCI": "true"
        }
    }))
}

/// What a written file says about the chart and image: an Argo CD Application's source and
/// values, or Flux's HelmRepository and HelmRelease (any document of `docs`).
pub fn given_in(docs: &[Value]) -> Given {
    let mut g = Given::default();
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    for d in docs {
        match d.get("kind").and_then(Value::as_str) {
            Some("Application") => {
                let src = d.pointer("/spec/source");
                if src.and_then(|s| s.get("chart")).is_some() {
                    g.repo = s(src.and_then(|x| x.get("repoURL")));
                    g.version = s(src.and_then(|x| x.get("targetRevision")));
                }
                let image = d.pointer("/spec/source/helm/valuesObject/image");
                g.image = image_in(image);
            }
            Some("HelmRepository") => {
                let url = s(d.pointer("/spec/url"));
                g.repo = match (url, d.pointer("/spec/type").and_then(Value::as_str)) {
                    (Some(u), Some("oci")) if !u.starts_with("oci://") => {
                        Some(format!("oci://{u}"))
                    }
                    (u, _) => u,
                };
            }
            Some("HelmRelease") => {
                g.version = s(d.pointer("/spec/chart/spec/version"));
                g.image = image_in(d.pointer("/spec/values/image"));
            }
            _ => {}
        }
    }
    g
}

fn image_in(v: Option<&Value>) -> ImageGiven {
    let s = |k: &str| {
        v.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    ImageGiven {
        registry: s("registry"),
        repository: s("repository"),
        tag: s("tag"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(repo: Option<&str>) -> Given {
        Given {
            repo: repo.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn each_tool_gets_its_own_form_of_an_oci_repository() {
        let m = Mirror::resolve(&given(Some("oci://registry.internal/charts/")));
        assert_eq!(m.repo, "oci://registry.internal/charts");
        assert_eq!(m.argo_repo_url(), "registry.internal/charts");
        assert_eq!(
            m.flux_repo(),
            ("oci://registry.internal/charts".into(), Some("oci"))
        );
        let s = argo_repository_secret(&m).unwrap();
        assert_eq!(s["stringData"]["url"], "registry.internal/charts");
        assert_eq!(s["stringData"]["enableOCI"], "true");
        // Read back from Argo CD's form, it is the same mirror.
        assert_eq!(Mirror::resolve(&given(Some("registry.internal/charts"))), m);
        let h = Mirror::resolve(&given(Some("https://charts.internal/ss")));
        assert_eq!(h.argo_repo_url(), "https://charts.internal/ss");
        assert_eq!(h.flux_repo().1, None);
        assert!(argo_repository_secret(&h).is_none());
        assert!(Mirror::resolve(&Given::default()).upstream_chart());
    }

    #[test]
    fn sources_stack_field_by_field() {
        let flags = Given {
            version: Some("2.18.6".into()),
            ..Default::default()
        };
        let file = Given {
            repo: Some("oci://r/c".into()),
            version: Some("2.18.5".into()),
            image: ImageGiven {
                registry: Some("r:5000".into()),
                ..Default::default()
            },
        };
        let m = Mirror::resolve(&flags.or(&file));
        assert_eq!(m.version, "2.18.6");
        assert_eq!(m.repo, "oci://r/c");
        assert_eq!(
            m.image.reference(),
            "r:5000/bitnami/sealed-secrets-controller:0.36.6"
        );
        assert!(m.image_given);
    }

    #[test]
    fn bad_settings_are_refused() {
        for g in [
            given(Some("ftp://x")),
            given(Some("registry.internal/charts")),
            Given {
                image: ImageGiven {
                    tag: Some("0.36.6@sha256:abc".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            Given {
                image: ImageGiven {
                    registry: Some("https://r".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        ] {
            assert!(check(&g).is_err(), "{g:?}");
        }
        let pinned = format!("0.36.6@sha256:{}", "a".repeat(64));
        assert!(
            check(&Given {
                image: ImageGiven {
                    tag: Some(pinned),
                    ..Default::default()
                },
                ..Default::default()
            })
            .is_ok()
        );
    }

    #[test]
    fn the_artifacts_name_both_sides_and_the_copy() {
        let up = Mirror::resolve(&Given::default()).artifacts();
        assert!(up.iter().all(|a| a.copy.is_none()));
        assert_eq!(
            up[1].from,
            "docker.io/bitnami/sealed-secrets-controller:0.36.6"
        );
        let m = Mirror::resolve(&Given {
            repo: Some("oci://registry.internal/charts".into()),
            image: ImageGiven {
                registry: Some("registry.internal".into()),
                ..Default::default()
            },
            ..Default::default()
        });
        let a = m.artifacts();
        assert_eq!(
            a[0].to,
            "oci://registry.internal/charts/sealed-secrets:2.18.5"
        );
        assert!(
            a[0].copy
                .as_deref()
                .unwrap()
                .contains("helm push sealed-secrets-2.18.5.tgz oci://registry.internal/charts")
        );
        assert_eq!(
            a[1].copy.as_deref().unwrap(),
            "skopeo copy --all docker://docker.io/bitnami/sealed-secrets-controller:0.36.6 docker://registry.internal/bitnami/sealed-secrets-controller:0.36.6"
        );
    }

    /// A tag that pins a digest (`0.36.6@sha256:...`, as the README recommends) is copied by
    /// digest, to the tag, keeping the digest: skopeo takes no reference with both.
    #[test]
    fn a_digest_pinned_tag_is_copied_by_digest() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let mirror = Mirror::resolve(&Given {
            image: ImageGiven {
                registry: Some("registry.internal".into()),
                tag: Some(format!("0.36.6@{digest}")),
                ..Default::default()
            },
            ..Default::default()
        });
        let copy = mirror.artifacts()[1].copy.clone().unwrap();
        assert_eq!(
            copy,
            format!(
                "skopeo copy --all --preserve-digests docker://docker.io/bitnami/sealed-secrets-controller@{digest} docker://registry.internal/bitnami/sealed-secrets-controller:0.36.6"
            )
        );
        assert!(!copy.contains(":0.36.6@"), "{copy}");
    }

    #[test]
    fn the_files_are_read_back() {
        let docs = crate::yaml::parse_documents(
            "kind: HelmRepository\nspec: {url: oci://r/c, type: oci}\n---\nkind: HelmRelease\nspec:\n  chart: {spec: {version: 2.18.5}}\n  values: {image: {registry: r}}\n",
        )
        .unwrap();
        let g = given_in(&docs);
        assert_eq!(g.repo.as_deref(), Some("oci://r/c"));
        assert_eq!(g.version.as_deref(), Some("2.18.5"));
        assert_eq!(g.image.registry.as_deref(), Some("r"));
    }
}
