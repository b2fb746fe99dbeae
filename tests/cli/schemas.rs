//! The in-repository schema checker (tests/common/schema.rs) refuses what a strict API server
//! refuses, so the output tests that rely on it can fail.

use serde_json::json;

fn problems(v: serde_json::Value) -> String {
    crate::common::schema::check_object(&v).join("\n")
}

fn sealed() -> serde_json::Value {
    // 2 + 256 + 16 bytes: the shortest sealed value for RSA-2048.
    let mut raw = vec![1u8, 0];
    raw.extend(std::iter::repeat_n(7u8, 272));
    use base64::Engine as _;
    let v = base64::engine::general_purpose::STANDARD.encode(raw);
    json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
           "metadata": {"name": "db", "namespace": "secret-source"},
           "spec": {"encryptedData": {"password": v},
                    "template": {"metadata": {"name": "db", "namespace": "secret-source"}, "type": "Opaque"}}})
}

#[test]
fn good_objects_pass() {
    assert_eq!(problems(sealed()), "");
    assert_eq!(
        problems(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "secret-source"}})
        ),
        ""
    );
}

#[test]
fn unknown_fields_wrong_types_and_bad_names_are_refused() {
    let mut s = sealed();
    s["spec"]["encryptedDatas"] = json!({});
    let p = problems(s);
    assert!(
        p.contains("encryptedDatas") && p.contains("not allowed"),
        "{p}"
    );

    let mut s = sealed();
    s["metadata"]["name"] = json!("Bad_Name");
    assert!(problems(s).contains("not a DNS subdomain"));

    let mut s = sealed();
    s["spec"]["encryptedData"]["password"] = json!("AgA-url_safe");
    assert!(problems(s).contains("not padded standard base64"));

    let mut s = sealed();
    s["spec"]["encryptedData"] = json!({"bad key": "AAAA"});
    assert!(problems(s).contains("not a valid Secret key"));

    let ns =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "labelz": {}}});
    let p = problems(ns);
    assert!(p.contains("labelz") && p.contains("not allowed"), "{p}");

    let rb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": "x", "namespace": "y"}});
    let p = problems(rb);
    assert!(p.contains("\"roleRef\" is a required property"), "{p}");

    let cm = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}});
    assert!(problems(cm).contains("no schema for v1/Service"));
}

#[test]
fn cluster_secret_store_admission_rules() {
    let store = json!({"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
        "metadata": {"name": "secret-store"},
        "spec": {"provider": {"kubernetes": {
            "server": {"url": "https://kubernetes.default.svc",
                       "caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt"}},
            "auth": {"serviceAccount": {"name": "eso-reader"}}}}}});
    let p = problems(store);
    assert!(p.contains("caProvider.namespace must not be empty"), "{p}");
    assert!(p.contains("auth.serviceAccount.namespace is empty"), "{p}");
    assert!(p.contains("remoteNamespace is not set"), "{p}");

    let es = json!({"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
                    "metadata": {"name": "x", "namespace": "y"}, "spec": {}});
    assert!(
        problems(es).contains("no schema"),
        "v1beta1 is no longer served"
    );
}

#[test]
fn lengths_and_counts_are_checked() {
    // ESO's data[].secretKey has minLength 1 (ExternalSecret CRD v2.9.0).
    let es = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
        "metadata": {"name": "x", "namespace": "y"},
        "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "secret-store"},
                 "data": [{"secretKey": "", "remoteRef": {"key": "k"}}]}});
    let p = problems(es);
    assert!(p.contains("shorter than 1 character"), "{p}");
    assert!(
        p.contains("does not match"),
        "patterns are checked too: {p}"
    );
}
