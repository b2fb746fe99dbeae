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
}
