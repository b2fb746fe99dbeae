//! Cluster commands against a stand-in API server on loopback: the real kube client, the
//! endpoints these commands use, in the shapes the real API server returns, including 404, 403,
//! 409 and a timeout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::fake_api::{FakeApi, Route};
use crate::common::*;
use serde_json::{Value, json};

const CERT: &str = "vectors/keys/controller-4096.crt.pem";
const KEY: &str = "vectors/keys/controller-4096.key.pem";
const SVC: &str = "/api/v1/namespaces/kube-system/services/sealed-secrets-controller";
const PROXY: &str =
    "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy";

fn pem(rel: &str) -> String {
    std::fs::read_to_string(data(rel)).unwrap()
}

/// The controller Service and its certificate.
fn controller_routes(cert: &str) -> Vec<Route> {
    vec![
        Route::json(
            "GET",
            SVC,
            200,
            json!({
                "kind": "Service", "apiVersion": "v1",
                "metadata": {"name": "sealed-secrets-controller", "namespace": "kube-system"},
                "spec": {"ports": [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 8080}]}
            }),
        ),
        Route::text("GET", format!("{PROXY}/v1/cert.pem"), pem(cert)),
    ]
}

/// Runs sealstrap with the fake server's kubeconfig.
fn run_k(api: &FakeApi, dir: &Path, args: &[&str], stdin: &[u8]) -> std::process::Output {
    let kc = api.kubeconfig(dir);
    run_in(dir, args, stdin, &[("KUBECONFIG", p(&kc))])
}

#[test]
fn cert_fetch_writes_the_checked_certificate() {
    let api = FakeApi::start(controller_routes(CERT));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pub.pem");
    let o = run_k(&api, dir.path(), &["cert", "fetch", "-o", p(&out)], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), pem(CERT));
    assert!(stderr(&o).contains("sha256:43a032dc"));
    let reqs = api.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].target, SVC);
    assert_eq!(reqs[1].target, format!("{PROXY}/v1/cert.pem"));
    assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer test-token"));
    // Into a repository's committed place: the certificate is pinned for review.
    let repo = git_repo();
    std::fs::create_dir(repo.path().join("secret-source")).unwrap();
    let o = run_k(
        &api,
        repo.path(),
        &["cert", "fetch", "-o", "secret-source/controller.crt"],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let pins = std::fs::read_to_string(repo.path().join("sealstrap.yaml")).unwrap();
    assert!(
        pins.contains("pins:\n  secret-source:\n    certificate: sha256:43a032dc"),
        "{pins}"
    );
}

#[test]
fn cert_fetch_names_the_controller_it_finds_when_the_service_is_missing() {
    let api = FakeApi::start(vec![
        Route::status(
            "GET",
            SVC,
            404,
            "NotFound",
            "services \"sealed-secrets-controller\" not found",
        ),
        Route::json(
            "GET",
            "/api/v1/services?labelSelector=app.kubernetes.io/name%3Dsealed-secrets",
            200,
            json!({
                "kind": "ServiceList", "apiVersion": "v1", "metadata": {},
                "items": [
                    {"metadata": {"name": "sealed-secrets", "namespace": "sealed-secrets"}, "spec": {"ports": [{"name": "http", "port": 8080}]}},
                    {"metadata": {"name": "sealed-secrets-metrics", "namespace": "sealed-secrets"}, "spec": {"ports": [{"name": "metrics", "port": 8081}]}}
                ]
            }),
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pub.pem");
    let o = run_k(&api, dir.path(), &["cert", "fetch", "-o", p(&out)], b"");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("service kube-system/sealed-secrets-controller not found"),
        "{err}"
    );
    assert!(
        err.contains("pass --controller-name sealed-secrets --controller-namespace sealed-secrets"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn an_expired_certificate_from_the_cluster_is_refused() {
    let api = FakeApi::start(controller_routes("vectors/keys/expired-2048.crt.pem"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pub.pem");
    let o = run_k(&api, dir.path(), &["cert", "fetch", "-o", p(&out)], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("expired certificate on November 28, 2026"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn access_denied_names_verb_and_resource() {
    let api = FakeApi::start(vec![Route::status(
        "GET",
        SVC,
        403,
        "Forbidden",
        "services \"sealed-secrets-controller\" is forbidden: User \"tester\" cannot get resource \"services\" in API group \"\" in the namespace \"kube-system\"",
    )]);
    let dir = tempfile::tempdir().unwrap();
    let o = run_k(&api, dir.path(), &["cert", "fetch"], b"");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("access denied: cannot get service kube-system/sealed-secrets-controller"),
        "{err}"
    );
    assert!(
        err.contains("User \"tester\" cannot get resource \"services\""),
        "{err}"
    );
    assert!(
        err.contains("hint: ask a cluster admin for permission to get"),
        "{err}"
    );
}

#[test]
fn a_slow_api_server_times_out() {
    let mut routes = controller_routes(CERT);
    routes[0] = routes[0].clone().delayed(Duration::from_secs(4));
    let api = FakeApi::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let o = run_k(
        &api,
        dir.path(),
        &["cert", "fetch", "--request-timeout", "1s"],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("did not answer within 1 s"),
        "{}",
        stderr(&o)
    );
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[test]
fn connection_problems_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kc = fake_api::kubeconfig_for(&format!("http://127.0.0.1:{port}"), dir.path());
    let o = run_in(
        dir.path(),
        &["cert", "fetch"],
        b"",
        &[("KUBECONFIG", p(&kc))],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot reach the API server at http://127.0.0.1:"),
        "{}",
        stderr(&o)
    );

    let o = run_in(
        dir.path(),
        &["cert", "fetch", "--context", "prod"],
        b"",
        &[("KUBECONFIG", p(&kc))],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("context \"prod\" is not in the kubeconfig (it has: fake)"),
        "{}",
        stderr(&o)
    );

    // No kubeconfig at all (HOME is the empty temp dir).
    let empty = tempfile::tempdir().unwrap();
    let o = run_in(empty.path(), &["cert", "fetch"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no kubeconfig found"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--kubeconfig"), "{}", stderr(&o));
}

#[test]
fn seal_fetches_the_certificate_with_fetch_cert() {
    let api = FakeApi::start(controller_routes(CERT));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let o = run_k(
        &api,
        dir.path(),
        &["seal", "--fetch-cert", "--without", "identity,n8n"],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let c = data(KEY);
    let o = run(
        &[
            "verify",
            "--private-key",
            p(&c),
            "--without",
            "identity,n8n",
            p(&dir.path().join("secret-source")),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stdout(&o));
}

#[test]
fn kubeseal_cluster_flags_work_as_kubeseals() {
    let mut routes = controller_routes(CERT);
    routes.push(Route::json(
        "POST",
        format!("{PROXY}/v1/verify"),
        200,
        json!({}),
    ));
    let api = FakeApi::start(routes);
    let dir = tempfile::tempdir().unwrap();
    // --fetch-cert prints the certificate.
    let o = run_k(&api, dir.path(), &["kubeseal", "--fetch-cert"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), pem(CERT));
    // Without --cert, the certificate comes from the controller.
    let secret = std::fs::read(data("secrets/opaque.yaml")).unwrap();
    let o = run_k(&api, dir.path(), &["kubeseal", "-o", "yaml"], &secret);
    assert!(o.status.success(), "{}", stderr(&o));
    let sealed = dir.path().join("sealed.yaml");
    std::fs::write(&sealed, &o.stdout).unwrap();
    let k = data(KEY);
    assert!(
        run(
            &["unseal", "--private-key", p(&k), "--check", p(&sealed)],
            b""
        )
        .status
        .success()
    );
    // --validate: 200 is valid.
    let o = run_k(
        &api,
        dir.path(),
        &["kubeseal", "--validate", "-f", p(&sealed)],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let posted = api
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    let body: Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(body["kind"], "SealedSecret");
    // 409 is "unable to decrypt".
    api.add(Route::status(
        "POST",
        format!("{PROXY}/v1/verify"),
        409,
        "Conflict",
        "cannot decrypt",
    ));
    let o = run_k(
        &api,
        dir.path(),
        &["kubeseal", "--validate", "-f", p(&sealed)],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error: unable to decrypt sealed secret"),
        "{}",
        stderr(&o)
    );
    // --re-encrypt returns the controller's answer, cleaned of server fields.
    let mut answer: Value =
        sealstrap::yaml::parse_documents(&std::fs::read_to_string(&sealed).unwrap())
            .unwrap()
            .remove(0);
    answer["metadata"]["creationTimestamp"] = json!("2026-11-28T00:00:00Z");
    api.add(Route::json(
        "POST",
        format!("{PROXY}/v1/rotate"),
        200,
        answer,
    ));
    let o = run_k(
        &api,
        dir.path(),
        &["kubeseal", "--re-encrypt", "-f", p(&sealed), "-o", "yaml"],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("kind: SealedSecret") && !stdout(&o).contains("creationTimestamp"));
}

/// A bootstrap folder with five sealed entries.
fn folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let c = data(CERT);
    let o = run_in(
        dir.path(),
        // --without no longer drops random values (every random value is sealed).
        &["seal", "--cert", p(&c), "--without", "identity,n8n"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("secret-source");
    (dir, out)
}

/// PATCH routes echoing every object of the folder.
fn apply_routes(out: &Path) -> Vec<Route> {
    let mut routes = Vec::new();
    for entry in walk(out) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for d in sealstrap::yaml::parse_documents(&text).unwrap() {
            if let Ok(path) = sealstrap::cluster::resource_path(&d) {
                routes.push(Route::json("PATCH", path, 200, d));
            }
        }
    }
    routes
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn apply_goes_in_dependency_order_with_server_side_apply() {
    let (dir, out) = folder();
    let api = FakeApi::start(apply_routes(&out));
    let o = run_k(&api, dir.path(), &["apply", p(&out)], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let reqs = api.requests();
    // namespace, ServiceAccount, Role, RoleBinding, 15 SealedSecrets, the store
    assert_eq!(reqs.len(), 20, "{} requests", reqs.len());
    let kinds: Vec<String> = reqs
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        &kinds[..4],
        &["Namespace", "ServiceAccount", "Role", "RoleBinding"]
    );
    assert!(kinds[4..19].iter().all(|k| k == "SealedSecret"));
    assert_eq!(kinds[19], "ClusterSecretStore");
    for r in &reqs {
        assert_eq!(r.method, "PATCH");
        assert!(
            r.target.ends_with("?fieldManager=sealstrap&force=true"),
            "{}",
            r.target
        );
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
    }
    assert_eq!(stderr(&o).matches("applied  ").count(), 20);

    // --dry-run asks the server for a dry run.
    let o = run_k(&api, dir.path(), &["apply", "--dry-run", p(&out)], b"");
    assert!(o.status.success());
    assert!(
        api.requests()[20..]
            .iter()
            .all(|r| r.target.ends_with("&dryRun=All"))
    );
}

#[test]
fn apply_stops_at_the_first_failure_with_the_servers_message() {
    let (dir, out) = folder();
    let api = FakeApi::start(apply_routes(&out));
    api.add(Route::status(
        "PATCH",
        "/api/v1/namespaces/external-secrets/serviceaccounts/eso-reader",
        409,
        "Conflict",
        "Apply failed with 1 conflict: conflict with \"helm\": .metadata.labels",
    ));
    let o = run_k(&api, dir.path(), &["apply", p(&out)], b"");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("FAILED   ServiceAccount external-secrets/eso-reader"),
        "{err}"
    );
    assert!(err.contains("conflict with \"helm\""), "{err}");
    assert_eq!(api.requests().len(), 2, "nothing after the failure");
}

/// Every read `doctor` makes, healthy.
/// A controller key Secret as the API server lists it (the private key left out: doctor reads
/// only the certificate).
fn key_secret(name: &str, cert: &str) -> Value {
    use base64::Engine as _;
    json!({
        "metadata": {"name": name, "namespace": "kube-system",
            "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": base64::engine::general_purpose::STANDARD.encode(pem(cert))}
    })
}

fn healthy(out: &Path) -> Vec<Route> {
    let mut routes = controller_routes(CERT);
    let names: Vec<String> = std::fs::read_dir(out.join("sealed"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let ss: Vec<Value> = names
        .iter()
        .map(|n| {
            json!({
                "metadata": {"name": n, "namespace": "secret-source"},
                "status": {"conditions": [{"type": "Synced", "status": "True", "message": ""}]}
            })
        })
        .collect();
    let secrets: Vec<Value> = names
        .iter()
        .map(|n| {
            json!({
                "metadata": {"name": n, "namespace": "secret-source"}, "data": {"value": "c2VjcmV0"}
            })
        })
        .collect();
    routes.push(Route::json(
        "GET",
        "/apis/bitnami.com/v1alpha1/namespaces/secret-source/sealedsecrets",
        200,
        json!({"kind": "SealedSecretList", "items": ss}),
    ));
    routes.push(Route::json(
        "GET",
        "/api/v1/namespaces/secret-source/secrets",
        200,
        json!({"kind": "SecretList", "items": secrets}),
    ));
    // The controller's one key Secret: the escrowed key (its certificate is CERT).
    routes.push(Route::json(
        "GET",
        "/api/v1/namespaces/kube-system/secrets",
        200,
        json!({"kind": "SecretList", "items": [key_secret("sealed-secrets-keyabcde", CERT)]}),
    ));
    routes.push(Route::json(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        201,
        json!({"kind": "SubjectAccessReview", "status": {"allowed": true}}),
    ));
    routes.push(Route::json("GET", "/apis/external-secrets.io/v1/clustersecretstores/secret-store", 200, json!({
        "kind": "ClusterSecretStore", "metadata": {"name": "secret-store"},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Valid", "message": "store validated"}]}
    })));
    routes.push(Route::json("GET", "/apis/external-secrets.io/v1/externalsecrets", 200, json!({"kind": "ExternalSecretList", "items": [
        {"metadata": {"name": "litellm-secrets", "namespace": "litellm"},
         "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "secret-store"}},
         "status": {"conditions": [{"type": "Ready", "status": "True", "message": "secret synced"}]}},
        {"metadata": {"name": "other", "namespace": "x"},
         "spec": {"secretStoreRef": {"kind": "SecretStore", "name": "vault"}},
         "status": {"conditions": [{"type": "Ready", "status": "False", "message": "not ours"}]}}
    ]})));
    routes
}

#[test]
fn doctor_reports_a_healthy_chain() {
    let (dir, out) = folder();
    // The controller's key is escrowed: its certificate is in the committed bundle.
    std::fs::write(out.join("controller.crt"), pem(CERT)).unwrap();
    let api = FakeApi::start(healthy(&out));
    let o = run_k(&api, dir.path(), &["doctor", p(&out)], b"");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let table = stdout(&o);
    assert!(table.starts_with("STATUS"));
    // controller + its certificate's expiry + key custody (the sealing key, and the one key
    // Secret) + the escrow's newest seals + the escrowed key is in the cluster, labeled + 15
    // SealedSecrets + 15 Secrets + rbac + store + 1 ExternalSecret
    assert_eq!(
        table.lines().filter(|l| l.starts_with("OK ")).count(),
        39,
        "{table}"
    );
    assert!(table.contains("key-custody"), "{table}");
    assert!(!table.contains("c2VjcmV0") && !table.contains("secret\n"));
    let sar = api
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    let body: Value = serde_json::from_slice(&sar.body).unwrap();
    assert_eq!(
        body["spec"]["user"],
        "system:serviceaccount:external-secrets:eso-reader"
    );
    assert_eq!(
        body["spec"]["resourceAttributes"]["namespace"],
        "secret-source"
    );
    let o = run_k(
        &api,
        dir.path(),
        &["doctor", "--output", "json", p(&out)],
        b"",
    );
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["ok"], true);

    // The controller started before `key install` and made its own key, which is older than the
    // escrowed one (so the escrowed key still seals): that key is only in the cluster. BROKEN,
    // with the fix.
    let mut routes = healthy(&out);
    routes.retain(|r| r.path != "/api/v1/namespaces/kube-system/secrets");
    routes.push(Route::json(
        "GET",
        "/api/v1/namespaces/kube-system/secrets",
        200,
        json!({"kind": "SecretList", "items": [
            key_secret("sealed-secrets-keyabcde", CERT),
            key_secret("sealed-secrets-keyzzzzz", "vectors/keys/other-4096.crt.pem"),
        ]}),
    ));
    let api2 = FakeApi::start(routes);
    let o = run_k(&api2, dir.path(), &["doctor", p(&out)], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let all = stdout(&o);
    let broken: Vec<&str> = all.lines().filter(|l| !l.starts_with("OK ")).collect();
    assert!(
        broken
            .iter()
            .any(|l| l.contains("key-custody/sealed-secrets-keyzzzzz")),
        "{all}"
    );
    assert!(all.contains("the controller made it itself"), "{all}");
    assert!(
        all.contains("kubectl -n kube-system delete secret sealed-secrets-keyzzzzz"),
        "{all}"
    );

    // Key custody breaks when the controller seals with a key nobody escrowed (a renewal or a
    // rebuild), and when nothing is escrowed at all.
    std::fs::write(
        out.join("controller.crt"),
        pem("vectors/keys/other-4096.crt.pem"),
    )
    .unwrap();
    let o = run_k(&api, dir.path(), &["doctor", p(&out)], b"");
    assert_eq!(o.status.code(), Some(1));
    let all = stdout(&o);
    let broken: Vec<&str> = all.lines().filter(|l| !l.starts_with("OK ")).collect();
    assert!(
        all.contains("not among the 1 escrowed certificate(s)"),
        "{all}"
    );
    assert!(all.contains("sealstrap key backup -i IDENTITY"), "{all}");
    assert!(broken.len() >= 2, "{all}");
    std::fs::remove_file(out.join("controller.crt")).unwrap();
    let o = run_k(&api, dir.path(), &["doctor", p(&out)], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("exists only in the cluster"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn doctor_names_each_broken_link_with_a_fix() {
    let cases: Vec<(Route, &str, &str)> = vec![
        (
            Route::text(
                "GET",
                format!("{PROXY}/v1/cert.pem"),
                pem("vectors/keys/other-4096.crt.pem"),
            ),
            "controller",
            "sealstrap reseal",
        ),
        (
            Route::json(
                "GET",
                "/apis/bitnami.com/v1alpha1/namespaces/secret-source/sealedsecrets",
                200,
                json!({"items": [
                    {"metadata": {"name": "vllm-api-key"}, "status": {"conditions": [{"type": "Synced", "status": "False", "message": "no key could decrypt secret (value)"}]}}
                ]}),
            ),
            "sealedsecret/vllm-api-key",
            "Synced=False: no key could decrypt secret",
        ),
        (
            Route::json(
                "GET",
                "/api/v1/namespaces/secret-source/secrets",
                200,
                json!({"items": [
                    {"metadata": {"name": "vllm-api-key"}, "data": {"token": "eA=="}}
                ]}),
            ),
            "secret/vllm-api-key",
            "has no data key \"value\"",
        ),
        (
            Route::status(
                "GET",
                "/api/v1/namespaces/secret-source/secrets",
                403,
                "Forbidden",
                "secrets is forbidden: User \"tester\" cannot list resource \"secrets\"",
            ),
            "secret/vllm-api-key",
            "access denied: cannot list secrets in secret-source",
        ),
        (
            Route::json(
                "POST",
                "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                201,
                json!({"status": {"allowed": false, "reason": "no RBAC policy matched"}}),
            ),
            "rbac/eso-reader",
            "no RBAC policy matched",
        ),
        (
            Route::json(
                "GET",
                "/apis/external-secrets.io/v1/clustersecretstores/secret-store",
                200,
                json!({"status": {"conditions": [
                {"type": "Ready", "status": "False", "message": "could not validate store: client is not allowed to get secrets"}]}}),
            ),
            "clustersecretstore/secret-store",
            "apply rbac.yaml",
        ),
        (
            Route::status(
                "GET",
                "/apis/external-secrets.io/v1/clustersecretstores/secret-store",
                404,
                "NotFound",
                "not found",
            ),
            "clustersecretstore/secret-store",
            "not in the cluster",
        ),
        (
            Route::json(
                "GET",
                "/apis/external-secrets.io/v1/externalsecrets",
                200,
                json!({"items": [
                    {"metadata": {"name": "dex-secrets", "namespace": "dex"},
                     "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "secret-store"}},
                     "status": {"conditions": [{"type": "Ready", "status": "False", "message": "error processing spec.data[0] (key: dex-admin-hash), err: property password does not exist in data of secret \"dex-admin-hash\""}]}}
                ]}),
            ),
            "externalsecret/dex/dex-secrets",
            "patch-externalsecrets",
        ),
        (
            Route::status("GET", SVC, 404, "NotFound", "not found"),
            "controller",
            "not found",
        ),
    ];
    let (dir, out) = folder();
    for (route, link, expect) in cases {
        let api = FakeApi::start(healthy(&out));
        api.add(route);
        let o = run_k(
            &api,
            dir.path(),
            &["doctor", "--output", "json", p(&out)],
            b"",
        );
        assert_eq!(o.status.code(), Some(1), "{link}: {}", stdout(&o));
        let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let broken: Vec<&Value> = j["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["ok"] == false)
            .collect();
        let hit = broken
            .iter()
            .find(|l| l["link"] == link)
            .unwrap_or_else(|| panic!("{link} not broken: {j}"));
        let text = format!(
            "{} {}",
            hit["detail"].as_str().unwrap(),
            hit["fix"].as_str().unwrap_or("")
        );
        assert!(text.contains(expect), "{link}: {text}");
        assert!(hit["fix"].is_string(), "{link} has no fix");
    }
}

#[test]
fn offline_commands_need_no_kubeconfig() {
    // A kubeconfig pointing nowhere does not matter to offline commands.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let kc = fake_api::kubeconfig_for("http://127.0.0.1:1", dir.path());
    let c = data(CERT);
    let o = run_in(
        dir.path(),
        &["seal", "--cert", p(&c)],
        b"",
        &[("KUBECONFIG", p(&kc))],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let secret = std::fs::read(data("secrets/opaque.yaml")).unwrap();
    let o = run_in(
        dir.path(),
        &["kubeseal", "--cert", p(&c)],
        &secret,
        &[("KUBECONFIG", p(&kc))],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}
