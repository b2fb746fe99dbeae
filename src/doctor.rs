//! `doctor`'s judgement of each link of the chain, from what the cluster returned. Pure: the
//! command layer fetches, this decides OK or broken and what to do about it.

use serde_json::Value;

/// One link of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Which link (`controller`, `sealedsecret/<name>`, ...).
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// How to fix it, when broken.
    pub fix: Option<String>,
}

impl Link {
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Link {
        Link {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn broken(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Link {
        Link {
            name: name.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The `type` condition of an object's `status.conditions`: (status is "True", message).
pub fn condition(obj: &Value, type_: &str) -> Option<(bool, String)> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
        .map(|c| {
            (
                c.get("status").and_then(Value::as_str) == Some("True"),
                c.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
}

/// The expiry of the certificate the controller seals with: expired is broken (kubeseal and
/// sealstrap refuse to seal for it); expiring within 30 days is OK with a warning.
pub fn certificate_link(c: &crate::cert::Certificate, now: i64) -> Link {
    let days = c.days_left(now);
    let until = crate::timefmt::rfc3339(c.not_after);
    if now > c.not_after {
        return Link::broken(
            "certificate",
            format!(
                "{} expired on {until}: nobody can seal for it",
                c.fingerprint
            ),
            "make a new key and reseal: sealstrap key new, sealstrap reseal, sealstrap key install --restart",
        );
    }
    if days < crate::cert::EXPIRY_WARNING_DAYS {
        return Link::ok(
            "certificate",
            format!(
                "WARNING: {} expires in {days} day(s) ({until}); plan a new key: sealstrap key new, reseal, key install",
                c.fingerprint
            ),
        );
    }
    Link::ok(
        "certificate",
        format!("{} valid until {until} ({days} days)", c.fingerprint),
    )
}

/// Key custody of one key Secret the controller holds: it must be escrowed too. One that is not
/// was made in the cluster (the controller started before `sealstrap key install` and made its
/// own, or a renewal ran), and what was sealed with it is lost in a rebuild.
pub fn cluster_key_link(
    namespace: &str,
    secret: &str,
    fingerprint: &str,
    not_before: &str,
    bundle: &str,
    escrowed: &[String],
) -> Link {
    let name = format!("key-custody/{secret}");
    if escrowed.iter().any(|e| e == fingerprint) {
        return Link::ok(name, format!("{fingerprint} is escrowed"));
    }
    Link::broken(
        name,
        format!(
            "the controller holds key {namespace}/{secret} ({fingerprint}, made {not_before}), which is not in the escrow ({bundle}): the controller made it itself (it started before `sealstrap key install`) or a renewal did; it exists only in the cluster"
        ),
        format!(
            "if anything was sealed with it, escrow it: `sealstrap key backup -i IDENTITY` and commit; if not, delete it and make the escrowed key the sealing key again: `kubectl -n {namespace} delete secret {secret}` then `sealstrap key install -i IDENTITY --restart`. Next time install the key before the controller's first sync"
        ),
    )
}

/// Key custody: is the controller's current certificate one of the committed, escrowed ones
/// (`controller.crt` beside the escrow)? `escrowed` is `None` when nothing is committed.
pub fn key_custody_link(current: &str, bundle: &str, escrowed: Option<&[String]>) -> Link {
    match escrowed {
        None => Link::broken(
            "key-custody",
            format!(
                "no escrowed controller key ({bundle} not found): the key {current} exists only in the cluster, and a rebuild loses every sealed value"
            ),
            "escrow the running controller's keys: `sealstrap key backup -r age1...` (or `--passphrase`), then commit the escrow and controller.crt",
        ),
        Some(fps) if fps.iter().any(|f| f == current) => Link::ok(
            "key-custody",
            format!("the current certificate {current} is escrowed ({bundle})"),
        ),
        Some(fps) => Link::broken(
            "key-custody",
            format!(
                "the controller seals with {current}, which is not among the {} escrowed certificate(s) in {bundle}: a key renewal or a rebuild made a key that exists only in the cluster, and values sealed for it are lost in the next rebuild",
                fps.len()
            ),
            "after a renewal: `sealstrap key backup -i IDENTITY` and commit; after a rebuild that made a fresh key: `sealstrap key install -i IDENTITY --restart`, so the escrowed key seals again",
        ),
    }
}

/// The controller's certificate against the fingerprints the folder was sealed for.
pub fn controller_link(current: &str, folder: &[String]) -> Link {
    let others: Vec<&String> = folder.iter().filter(|f| f.as_str() != current).collect();
    if others.is_empty() {
        Link::ok(
            "controller",
            format!("answers; current certificate {current}"),
        )
    } else {
        Link::broken(
            "controller",
            format!(
                "answers, but {} file(s) are sealed for {} and its current certificate is {current}",
                others.len(),
                others
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "if the controller still has the old key this works until it is dropped; reseal with `sealstrap reseal --private-key OLD --cert NEW` (fetch NEW with `sealstrap cert fetch`)",
        )
    }
}

/// A SealedSecret's `Synced` condition.
pub fn sealed_secret_link(name: &str, obj: Option<&Value>) -> Link {
    let link = format!("sealedsecret/{name}");
    match obj {
        None => Link::broken(
            link,
            "not in the cluster",
            "run `sealstrap apply` (or let GitOps sync the folder)",
        ),
        Some(o) => match condition(o, "Synced") {
            Some((true, _)) => Link::ok(link, "Synced=True"),
            Some((false, msg)) => Link::broken(
                link,
                format!("Synced=False: {msg}"),
                if msg.contains("no key could decrypt") {
                    "it was sealed for a certificate the controller has no key for: reseal it, or seal it again with `sealstrap rotate`"
                } else {
                    "read the controller's log: kubectl logs -n kube-system deploy/sealed-secrets-controller"
                },
            ),
            None => Link::broken(
                link,
                "no Synced condition yet",
                "wait for the controller, or check that it runs",
            ),
        },
    }
}

/// A source Secret: exists, with data key `key`.
pub fn secret_link(name: &str, obj: Option<&Value>, key: &str) -> Link {
    let link = format!("secret/{name}");
    match obj {
        None => Link::broken(
            link,
            "does not exist",
            "the controller makes it from the SealedSecret; see that link",
        ),
        Some(o) if o.pointer(&format!("/data/{key}")).is_some() => {
            Link::ok(link, format!("has key {key:?}"))
        }
        Some(_) => Link::broken(
            link,
            format!("has no data key {key:?}"),
            "reseal the value with `sealstrap rotate` so the source Secret holds it under `value`",
        ),
    }
}

/// The SubjectAccessReview answer for the reader.
pub fn reader_link(reader: &str, ns: &str, sar: &Value) -> Link {
    let link = format!("rbac/{reader}");
    if sar.pointer("/status/allowed").and_then(Value::as_bool) == Some(true) {
        Link::ok(link, format!("may get secrets in {ns}"))
    } else {
        let reason = sar
            .pointer("/status/reason")
            .and_then(Value::as_str)
            .unwrap_or("denied");
        Link::broken(
            link,
            format!("may not get secrets in {ns}: {reason}"),
            "apply rbac.yaml (`sealstrap apply`): Role and RoleBinding for the reader in the source namespace",
        )
    }
}

/// The ClusterSecretStore's `Ready` condition.
pub fn store_link(name: &str, obj: Option<&Value>) -> Link {
    let link = format!("clustersecretstore/{name}");
    match obj {
        None => Link::broken(
            link,
            "not in the cluster",
            "apply cluster-secret-store.yaml (`sealstrap apply`)",
        ),
        Some(o) => match condition(o, "Ready") {
            Some((true, _)) => Link::ok(link, "Ready=True"),
            Some((false, msg)) => Link::broken(
                link,
                format!("Ready=False: {msg}"),
                if msg.contains("not allowed") || msg.contains("forbidden") {
                    "the reader lacks RBAC in the source namespace: apply rbac.yaml"
                } else if msg.contains("CAProvider") || msg.contains("ca.crt") {
                    "check the CA ConfigMap and its namespace (caProvider.namespace)"
                } else {
                    "check ESO's log: kubectl logs -n external-secrets deploy/external-secrets"
                },
            ),
            None => Link::broken(
                link,
                "no Ready condition yet",
                "wait for ESO, or check that it runs",
            ),
        },
    }
}

/// Every ExternalSecret that reads `store`, with its `Ready` condition, and whether each of its
/// remoteRefs names the data key (`property`): without one the Kubernetes provider hands over the
/// whole source Secret as JSON. `in_tree` holds the `NS/NAME` of the ExternalSecrets the
/// repository defines (`None` outside one): the others are rendered by a chart or made outside
/// git, and get a fix for the live object and its source.
pub fn external_secret_links(
    store: &str,
    list: &Value,
    property: &str,
    in_tree: Option<&std::collections::BTreeSet<String>>,
) -> Vec<Link> {
    let mut out = Vec::new();
    for es in list
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let r = es.pointer("/spec/secretStoreRef");
        if r.and_then(|r| r.get("kind")).and_then(Value::as_str) != Some("ClusterSecretStore")
            || r.and_then(|r| r.get("name")).and_then(Value::as_str) != Some(store)
        {
            continue;
        }
        let ns = es
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = es
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let link = format!("externalsecret/{ns}/{name}");
        let missing: Vec<(usize, &str)> = es
            .pointer("/spec/data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, d)| {
                let rr = d.get("remoteRef")?;
                let key = rr.get("key")?.as_str()?;
                rr.get("property").is_none().then_some((i, key))
            })
            .collect();
        if !missing.is_empty() {
            let keys: Vec<&str> = missing.iter().map(|(_, k)| *k).collect();
            let ops: Vec<String> = missing
                .iter()
                .map(|(i, _)| {
                    format!(
                        "{{\"op\":\"add\",\"path\":\"/spec/data/{i}/remoteRef/property\",\"value\":\"{property}\"}}"
                    )
                })
                .collect();
            let defined_in_tree = in_tree.is_some_and(|t| t.contains(&format!("{ns}/{name}")));
            let fix = if defined_in_tree {
                "run `sealstrap patch-externalsecrets`, commit, and let Argo CD sync it".to_string()
            } else {
                format!(
                    "it is not in this repository's ExternalSecrets (a Helm chart renders it, or it was made by hand): set property: {property} where it comes from (the chart's values), or patch the live object: kubectl -n {ns} patch externalsecret {name} --type json -p '[{}]'",
                    ops.join(",")
                )
            };
            out.push(Link::broken(
                format!("{link}/property"),
                format!(
                    "reads {} without property: ESO hands over the whole source Secret as JSON",
                    keys.join(", ")
                ),
                fix,
            ));
        }
        out.push(match condition(es, "Ready") {
            Some((true, _)) => Link::ok(link, "Ready=True"),
            Some((false, msg)) => {
                let fix = if msg.contains("property") && msg.contains("does not exist") {
                    "the property names a data key the source Secret lacks: use property: value (`sealstrap patch-externalsecrets`)"
                } else if msg.contains("not found") || msg.contains("NotFound") {
                    "the source Secret does not exist: check remoteRef.key, then `sealstrap seal` (a provided value may still be missing)"
                } else if msg.contains("unable to unmarshal") || msg.contains("JSON") {
                    "remoteRef has no property, so ESO got the whole Secret as JSON: `sealstrap patch-externalsecrets`"
                } else {
                    "kubectl describe externalsecret shows the events"
                };
                Link::broken(link, format!("Ready=False: {msg}"), fix)
            }
            None => Link::broken(link, "no Ready condition yet", "wait for ESO's next sync"),
        });
    }
    out
}

/// A key Secret in the controller's namespace, as doctor reads it (the certificate only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySecret {
    pub name: String,
    /// Carries `sealedsecrets.bitnami.com/sealed-secrets-key: active`, the selector the
    /// controller loads its keys by (upstream `pkg/controller/main.go`, `keySelector`).
    pub labeled: bool,
    pub fingerprint: String,
    /// NotBefore of its certificate, RFC 3339.
    pub not_before: String,
}

/// What the first-boot links need to name the fixes.
#[derive(Clone, Debug)]
pub struct FirstBoot<'a> {
    /// The controller's namespace and Deployment.
    pub namespace: &'a str,
    pub controller: &'a str,
    /// The committed bundle the escrowed certificates come from (for messages).
    pub bundle: &'a str,
    /// The command that installs every escrowed key (`sealstrap key install ... --restart`).
    pub install: &'a str,
    /// The command that maps the committed values to keys (`sealstrap key usage ...`).
    pub usage: &'a str,
}

/// The escrow and the cluster agree: the controller seals with the escrow's newest key, and every
/// escrowed key is in the cluster as a labeled key Secret. `escrow` is the committed bundle's
/// certificates; `served` the controller's current certificate.
pub fn escrow_links(
    fb: &FirstBoot<'_>,
    served: &crate::cert::Certificate,
    escrow: &[crate::cert::Certificate],
    secrets: &[KeySecret],
) -> Vec<Link> {
    let mut out = Vec::new();
    let ns = fb.namespace;
    let restart = format!(
        "kubectl -n {ns} rollout restart deployment/{}",
        fb.controller
    );
    let Some(newest) = crate::controller_key::sealing_key(escrow.iter()) else {
        return out;
    };
    let labeled = |fp: &str| secrets.iter().find(|s| s.labeled && s.fingerprint == fp);
    if served.fingerprint == newest.fingerprint {
        out.push(Link::ok(
            "sealing-key",
            format!(
                "the controller seals with {}, the newest of the {} escrowed key(s)",
                served.fingerprint,
                escrow.len()
            ),
        ));
    } else if escrow.iter().any(|c| c.fingerprint == served.fingerprint) {
        let why = if labeled(&newest.fingerprint).is_some() {
            "it is in the cluster, but the controller loads keys only when it starts"
        } else {
            "it is not in the cluster"
        };
        out.push(Link::broken(
            "sealing-key",
            format!(
                "the controller seals with the older escrowed key {}, not the escrow's newest {} ({why}): values sealed with {} (newest first) do not open in this cluster",
                served.fingerprint, newest.fingerprint, fb.bundle
            ),
            format!("{} (or, when it is in the cluster: {restart})", fb.install),
        ));
    } else {
        out.push(Link::broken(
            "sealing-key",
            format!(
                "the controller seals with {}, which the escrow ({}) lacks: it made its own key because it started before the escrowed keys were in the cluster",
                served.fingerprint, fb.bundle
            ),
            format!(
                "see the key-secret links below; then {} so it seals with {}",
                fb.install, newest.fingerprint
            ),
        ));
    }
    let mut sorted: Vec<&crate::cert::Certificate> = escrow.iter().collect();
    sorted.sort_by_key(|c| c.not_before);
    for c in sorted {
        let short = c.fingerprint.trim_start_matches("sha256:");
        let name = format!("key-secret/{}", &short[..short.len().min(12)]);
        if let Some(s) = labeled(&c.fingerprint) {
            out.push(Link::ok(
                name,
                format!(
                    "{ns}/{} holds escrowed key {}, labeled",
                    s.name, c.fingerprint
                ),
            ));
        } else if let Some(s) = secrets.iter().find(|s| s.fingerprint == c.fingerprint) {
            out.push(Link::broken(
                name,
                format!(
                    "{ns}/{} holds escrowed key {} without the label {}=active: the controller does not load it",
                    s.name,
                    c.fingerprint,
                    crate::controller_key::KEY_LABEL
                ),
                format!(
                    "kubectl -n {ns} label secret {} {}=active --overwrite && {restart}",
                    s.name,
                    crate::controller_key::KEY_LABEL
                ),
            ));
        } else {
            out.push(Link::broken(
                name,
                format!(
                    "escrowed key {} is not in the cluster: values sealed with it do not open here",
                    c.fingerprint
                ),
                fb.install.to_string(),
            ));
        }
    }
    out
}

/// First boot: a labeled key Secret the escrow lacks is one the controller made itself, because
/// the export came too late (the controller started before the bootstrap applied the keys).
pub fn self_made_link(fb: &FirstBoot<'_>, secret: &KeySecret, escrowed: &[String]) -> Link {
    let name = format!("self-made/{}", secret.name);
    if escrowed.contains(&secret.fingerprint) {
        return Link::ok(name, format!("{} is escrowed", secret.fingerprint));
    }
    let ns = fb.namespace;
    Link::broken(
        name,
        format!(
            "{ns}/{} holds key {} (made {}), which the escrow ({}) lacks: the controller made it itself because it started before the escrowed keys were applied (the export came too late)",
            secret.name, secret.fingerprint, secret.not_before, fb.bundle
        ),
        format!(
            "nothing should be sealed with it yet: `{}` shows a value only this key opens as NO KEY (if one does, escrow it instead: sealstrap key backup -i IDENTITY). Then delete it and make the controller load the escrowed keys: kubectl -n {ns} delete secret {} && kubectl -n {ns} rollout restart deployment/{}. Next time the export must be in the bootstrap, applied before the controller's first start (README: First boot on bare metal)",
            fb.usage, secret.name, fb.controller
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_custody_needs_the_current_certificate_escrowed() {
        let fps = vec!["sha256:aa".to_string(), "sha256:bb".to_string()];
        assert!(key_custody_link("sha256:bb", "c.crt", Some(&fps)).ok);
        let l = key_custody_link("sha256:cc", "c.crt", Some(&fps));
        assert!(!l.ok && l.detail.contains("not among the 2"), "{l:?}");
        assert!(l.fix.unwrap().contains("key backup"));
        let l = key_custody_link("sha256:cc", "c.crt", None);
        assert!(
            !l.ok && l.detail.contains("exists only in the cluster"),
            "{l:?}"
        );
    }
    use serde_json::json;

    #[test]
    fn conditions() {
        let o = json!({"status": {"conditions": [{"type": "Synced", "status": "False", "message": "no key could decrypt secret (value)"}]}});
        let l = sealed_secret_link("a", Some(&o));
        assert!(!l.ok && l.fix.unwrap().contains("reseal"));
        let es = json!({"items": [{"metadata": {"namespace": "n", "name": "e"}, "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "secret-store"}},
            "status": {"conditions": [{"type": "Ready", "status": "False", "message": "property x does not exist in data of secret \"y\""}]}}]});
        let links = external_secret_links("secret-store", &es, "value", None);
        assert_eq!(links.len(), 1);
        assert!(
            links[0]
                .fix
                .as_ref()
                .unwrap()
                .contains("patch-externalsecrets")
        );
        assert!(external_secret_links("other", &es, "value", None).is_empty());
    }

    #[test]
    fn a_live_external_secret_without_property_is_named_with_a_fix_for_where_it_comes_from() {
        let es = serde_json::json!({"items": [
            {"metadata": {"name": "key-portal", "namespace": "experience"},
             "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "secret-store"},
                      "data": [{"secretKey": "K", "remoteRef": {"key": "litellm-master-key"}}]},
             "status": {"conditions": [{"type": "Ready", "status": "True", "message": ""}]}},
            {"metadata": {"name": "litellm-secrets", "namespace": "litellm"},
             "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "secret-store"},
                      "data": [{"secretKey": "a", "remoteRef": {"key": "vllm-api-key", "property": "value"}},
                               {"secretKey": "b", "remoteRef": {"key": "litellm-salt-key"}}]}}]});
        let tree = std::collections::BTreeSet::from(["litellm/litellm-secrets".to_string()]);
        let links = external_secret_links("secret-store", &es, "value", Some(&tree));
        let chart = links
            .iter()
            .find(|l| l.name == "externalsecret/experience/key-portal/property")
            .unwrap();
        assert!(!chart.ok && chart.detail.contains("litellm-master-key"));
        let fix = chart.fix.as_deref().unwrap();
        assert!(
            fix.contains("kubectl -n experience patch externalsecret key-portal --type json"),
            "{fix}"
        );
        assert!(fix.contains("/spec/data/0/remoteRef/property"), "{fix}");
        let own = links
            .iter()
            .find(|l| l.name == "externalsecret/litellm/litellm-secrets/property")
            .unwrap();
        assert!(own.detail.contains("litellm-salt-key") && !own.detail.contains("vllm-api-key"));
        assert!(
            own.fix
                .as_deref()
                .unwrap()
                .contains("sealstrap patch-externalsecrets")
        );
    }

    fn cert(rel: &str) -> crate::cert::Certificate {
        crate::cert::parse(
            &std::fs::read(format!(
                "{}/tests/data/vectors/keys/{rel}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap()
    }

    fn fb() -> FirstBoot<'static> {
        FirstBoot {
            namespace: "kube-system",
            controller: "sealed-secrets-controller",
            bundle: "controller.crt",
            install: "sealstrap key install -i IDENTITY --restart",
            usage: "sealstrap key usage -i IDENTITY",
        }
    }

    fn secret(name: &str, c: &crate::cert::Certificate, labeled: bool) -> KeySecret {
        KeySecret {
            name: name.into(),
            labeled,
            fingerprint: c.fingerprint.clone(),
            not_before: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn first_boot_needs_the_newest_escrowed_key_sealing_and_every_key_labeled_in_the_cluster() {
        let (old, new, other) = (
            cert("controller-2048.crt.pem"),
            cert("controller-4096.crt.pem"),
            cert("other-4096.crt.pem"),
        );
        let (older, newer) = if old.not_before < new.not_before {
            (old, new)
        } else {
            (new, old)
        };
        let escrow = vec![older.clone(), newer.clone()];
        let good = vec![secret("a", &older, true), secret("b", &newer, true)];
        let links = escrow_links(&fb(), &newer, &escrow, &good);
        assert_eq!(links.len(), 3);
        assert!(links.iter().all(|l| l.ok), "{links:?}");
        // The controller still seals with the older key: the newest is missing, or not loaded.
        let links = escrow_links(&fb(), &older, &escrow, &good[..1]);
        assert!(
            !links[0].ok && links[0].detail.contains("not in the cluster"),
            "{links:?}"
        );
        assert!(!links[2].ok && links[2].fix.as_deref() == Some(fb().install));
        let links = escrow_links(&fb(), &older, &escrow, &good);
        assert!(!links[0].ok && links[0].fix.as_deref().unwrap().contains("rollout restart"));
        // An unlabeled key Secret is not loaded.
        let links = escrow_links(
            &fb(),
            &newer,
            &escrow,
            &[good[0].clone(), secret("b", &newer, false)],
        );
        let l = &links[2];
        assert!(!l.ok && l.detail.contains("without the label"), "{l:?}");
        assert!(l.fix.as_deref().unwrap().contains(
            "kubectl -n kube-system label secret b sealedsecrets.bitnami.com/sealed-secrets-key=active --overwrite"
        ));
        // A self-made key: the sealing key is not escrowed, and its Secret is named with the fix.
        let links = escrow_links(&fb(), &other, &escrow, &good);
        assert!(!links[0].ok && links[0].detail.contains("made its own key"));
        let escrowed: Vec<String> = escrow.iter().map(|c| c.fingerprint.clone()).collect();
        let l = self_made_link(
            &fb(),
            &secret("sealed-secrets-keyx7k2p", &other, true),
            &escrowed,
        );
        assert!(
            !l.ok && l.detail.contains("the export came too late"),
            "{l:?}"
        );
        let fix = l.fix.unwrap();
        assert!(fix.contains("kubectl -n kube-system delete secret sealed-secrets-keyx7k2p"));
        assert!(fix.contains("rollout restart deployment/sealed-secrets-controller"));
        assert!(fix.contains("sealstrap key usage"));
        assert!(self_made_link(&fb(), &good[0], &escrowed).ok);
    }
}
