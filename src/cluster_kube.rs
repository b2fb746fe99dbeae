//! The kube client behind [`super::Cluster`]: kubeconfig loading, TLS (rustls on aws-lc-rs),
//! auth and one REST call at a time with a timeout. Built with the default `cluster` feature; an
//! offline build (`--no-default-features`) has no kube, tokio or rustls and no such file.

use std::path::Path;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::{ClusterError, ClusterOpts, What};

/// A connected client and the runtime it runs on.
pub struct Transport {
    client: kube::Client,
    rt: tokio::runtime::Runtime,
    timeout: Duration,
    url: String,
}

fn context_names(kc: &Kubeconfig) -> String {
    let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    if names.is_empty() {
        "no contexts".into()
    } else {
        names.join(", ")
    }
}

impl Transport {
    /// Loads the kubeconfig (`--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`, else the
    /// in-cluster service account) and builds a client. No request is made yet.
    pub fn connect(opts: &ClusterOpts) -> Result<Transport, ClusterError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClusterError::Other(format!("cannot start the async runtime: {e}")))?;
        let kubeconfig = match &opts.kubeconfig {
            Some(p) => Some(
                Kubeconfig::read_from(p).map_err(|e| ClusterError::BadKubeconfig {
                    path: p.display().to_string(),
                    message: e.to_string(),
                })?,
            ),
            None => match Kubeconfig::read() {
                Ok(kc) => Some(kc),
                Err(e) => {
                    if opts.context.is_some() {
                        return Err(ClusterError::NoKubeconfig(e.to_string()));
                    }
                    None
                }
            },
        };
        let ov = &opts.overrides;
        let mut config = match kubeconfig {
            None if ov.server.is_some() => {
                let url = ov.server.as_deref().unwrap_or_default();
                kube::Config::new(url.parse().map_err(|e| {
                    ClusterError::Other(format!("--server {url:?} is not a URL: {e}"))
                })?)
            }
            Some(kc) => {
                if let Some(ctx) = &opts.context
                    && !kc.contexts.iter().any(|c| &c.name == ctx)
                {
                    return Err(ClusterError::ContextNotFound {
                        name: ctx.clone(),
                        available: context_names(&kc),
                    });
                }
                let kopts = KubeConfigOptions {
                    context: opts.context.clone(),
                    cluster: ov.cluster.clone(),
                    user: ov.user.clone(),
                };
                rt.block_on(kube::Config::from_custom_kubeconfig(kc, &kopts))
                    .map_err(|e| ClusterError::BadKubeconfig {
                        path: opts
                            .kubeconfig
                            .as_deref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| "(KUBECONFIG or ~/.kube/config)".into()),
                        message: e.to_string(),
                    })?
            }
            None => kube::Config::incluster().map_err(|_| {
                ClusterError::NoKubeconfig(match std::env::var_os("KUBECONFIG") {
                    // Set, but none of its files is there (kubectl's "no configuration").
                    Some(v) if !v.is_empty() => format!(
                        "KUBECONFIG names no file that exists ({}), and no ~/.kube/config",
                        v.to_string_lossy()
                    ),
                    _ => "no KUBECONFIG, no ~/.kube/config".into(),
                })
            })?,
        };
        if let Some(server) = &ov.server {
            config.cluster_url = server.parse().map_err(|e| {
                ClusterError::Other(format!("--server {server:?} is not a URL: {e}"))
            })?;
        }
        if let Some(t) = &ov.token {
            config.auth_info.token = Some(t.clone().into());
        }
        if let Some(u) = &ov.impersonate {
            config.auth_info.impersonate = Some(u.clone());
        }
        if !ov.impersonate_groups.is_empty() {
            config.auth_info.impersonate_groups = Some(ov.impersonate_groups.clone());
        }
        if let Some(p) = &ov.client_certificate {
            config.auth_info.client_certificate = Some(p.display().to_string());
        }
        if let Some(p) = &ov.client_key {
            config.auth_info.client_key = Some(p.display().to_string());
        }
        if let Some(p) = &ov.certificate_authority {
            let pem = std::fs::read(p).map_err(|e| {
                ClusterError::Other(format!(
                    "cannot read --certificate-authority {}: {e}",
                    p.display()
                ))
            })?;
            let ders: Vec<Vec<u8>> = x509_parser::pem::Pem::iter_from_buffer(&pem)
                .filter_map(Result::ok)
                .filter(|b| b.label == "CERTIFICATE")
                .map(|b| b.contents)
                .collect();
            if ders.is_empty() {
                return Err(ClusterError::Other(format!(
                    "--certificate-authority {} holds no PEM certificate",
                    p.display()
                )));
            }
            config.root_cert = Some(ders);
        }
        if ov.insecure_skip_tls_verify {
            config.accept_invalid_certs = true;
        }
        config.connect_timeout = Some(opts.timeout);
        config.read_timeout = Some(opts.timeout);
        config.write_timeout = Some(opts.timeout);
        let url = config.cluster_url.to_string();
        let _guard = rt.enter();
        let client = kube::Client::try_from(config)
            .map_err(|e| ClusterError::Other(format!("cannot build the Kubernetes client: {e}")))?;
        Ok(Transport {
            client,
            rt,
            timeout: opts.timeout,
            url,
        })
    }

    fn map_err(&self, e: kube::Error, what: &What) -> ClusterError {
        match e {
            kube::Error::Api(status) => match status.code {
                403 => ClusterError::Forbidden {
                    verb: what.verb.into(),
                    resource: what.resource.clone(),
                    message: status.message.clone(),
                },
                404 => ClusterError::NotFound {
                    what: what.resource.clone(),
                },
                code => ClusterError::Api {
                    verb: what.verb.into(),
                    resource: what.resource.clone(),
                    code,
                    message: status.message.clone(),
                },
            },
            other => {
                let msg = error_chain(&other);
                if msg.contains("timed out") || msg.contains("Timeout") || msg.contains("deadline")
                {
                    ClusterError::Timeout {
                        verb: what.verb.into(),
                        resource: what.resource.clone(),
                        secs: self.timeout.as_secs(),
                    }
                } else {
                    ClusterError::Unreachable {
                        url: self.url.clone(),
                        message: msg,
                    }
                }
            }
        }
    }

    /// Sends one request; returns the body text.
    pub fn send(
        &self,
        method: http::Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        what: &What,
    ) -> Result<String, ClusterError> {
        let mut req = http::Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            req = req.header(http::header::CONTENT_TYPE, ct);
        }
        req = req.header(http::header::ACCEPT, "application/json, */*");
        let req = req.body(body).map_err(|e| {
            ClusterError::Other(format!("cannot build the request for {path}: {e}"))
        })?;
        self.call(self.client.request_text(req), what)
    }

    /// Runs one typed `kube::Api` call with the request timeout and sealstrap's errors.
    fn call<T>(
        &self,
        fut: impl std::future::Future<Output = kube::Result<T>>,
        what: &What,
    ) -> Result<T, ClusterError> {
        let _guard = self.rt.enter();
        match self
            .rt
            .block_on(async { tokio::time::timeout(self.timeout, fut).await })
        {
            Err(_) => Err(ClusterError::Timeout {
                verb: what.verb.into(),
                resource: what.resource.clone(),
                secs: self.timeout.as_secs(),
            }),
            Ok(Err(e)) => Err(self.map_err(e, what)),
            Ok(Ok(v)) => Ok(v),
        }
    }

    /// Secrets in `ns` (optionally by label) through `kube::Api<Secret>`, as JSON values.
    pub fn list_secrets(
        &self,
        ns: &str,
        selector: Option<&str>,
    ) -> Result<Vec<serde_json::Value>, ClusterError> {
        use k8s_openapi::api::core::v1::Secret;
        let api: kube::Api<Secret> = kube::Api::namespaced(self.client.clone(), ns);
        let mut lp = kube::api::ListParams::default();
        if let Some(sel) = selector {
            lp = lp.labels(sel);
        }
        let what = What::new("list", format!("secrets in {ns}"));
        match self.call(api.list(&lp), &what) {
            Ok(list) => Ok(list
                .items
                .into_iter()
                .filter_map(|s| serde_json::to_value(s).ok())
                .collect()),
            Err(ClusterError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The Deployment `ns/name` through `kube::Api<Deployment>`, if it exists.
    pub fn deployment_exists(&self, ns: &str, name: &str) -> Result<bool, ClusterError> {
        use k8s_openapi::api::apps::v1::Deployment;
        let api: kube::Api<Deployment> = kube::Api::namespaced(self.client.clone(), ns);
        let what = What::new("get", format!("deployment {ns}/{name}"));
        Ok(self.call(api.get_opt(name), &what)?.is_some())
    }

    /// `kubectl rollout restart` through kube's `Api::<Deployment>::restart`.
    pub fn restart_deployment(&self, ns: &str, name: &str) -> Result<(), ClusterError> {
        use k8s_openapi::api::apps::v1::Deployment;
        let api: kube::Api<Deployment> = kube::Api::namespaced(self.client.clone(), ns);
        let what = What::new("patch", format!("deployment {ns}/{name}"));
        self.call(api.restart(name), &what)?;
        Ok(())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// The namespace of the kubeconfig's current (or `context`) context, with kube's own kubeconfig
/// reader (`path`, else `KUBECONFIG`, else `~/.kube/config`). Reads files only: no network.
pub fn kubeconfig_namespace(path: Option<&Path>, context: Option<&str>) -> Option<String> {
    let kc = match path {
        Some(p) => Kubeconfig::read_from(p).ok()?,
        None => Kubeconfig::read().ok()?,
    };
    let name = context
        .map(str::to_string)
        .or_else(|| kc.current_context.clone())?;
    kc.contexts
        .iter()
        .find(|c| c.name == name)?
        .context
        .as_ref()?
        .namespace
        .clone()
        .filter(|s| !s.is_empty())
}
