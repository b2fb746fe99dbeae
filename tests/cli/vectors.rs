//! Compatibility with the reference implementation, pinned by vectors made with the
//! sealed-secrets controller's own code (tests/data/vectors, see its README).

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealstrap::rsa::PrivateKey;
use sealstrap::{keys, kubeseal, objects, seal, yaml};
use serde_json::Value;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors")
}

fn key(rel: &str) -> Vec<PrivateKey> {
    let data = std::fs::read(vectors().join(rel)).unwrap();
    keys::parse_private_keys(&data).unwrap()
}

#[test]
fn every_ok_item_decrypts_and_every_fail_item_is_refused() {
    let items: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("items.json")).unwrap())
            .unwrap();
    let items = items["items"].as_array().unwrap();
    let (mut ok, mut fail) = (0, 0);
    for item in items {
        let name = item["name"].as_str().unwrap();
        let keys = key(item["key"].as_str().unwrap());
        let label = item["label"].as_str().unwrap().as_bytes();
        let ct = item["ciphertext"].as_str().unwrap();
        let got = seal::unseal(&keys, label, ct);
        match item["expect"].as_str().unwrap() {
            "ok" => {
                let want = STANDARD
                    .decode(item["plaintext_b64"].as_str().unwrap())
                    .unwrap();
                let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(got.as_slice(), want.as_slice(), "{name}");
                ok += 1;
            }
            "fail" => {
                assert!(got.is_err(), "{name} must not decrypt");
                fail += 1;
            }
            other => panic!("{name}: unknown expectation {other}"),
        }
    }
    assert!(ok >= 20 && fail >= 10, "ok={ok} fail={fail}");
}

#[test]
fn sealed_secret_vectors_unseal_to_their_expected_secrets() {
    let dir = vectors().join("sealedsecrets");
    let all_keys: Vec<PrivateKey> = [
        "keys/controller-4096.key.pem",
        "keys/controller-2048.key.pem",
    ]
    .iter()
    .flat_map(|k| key(k))
    .collect();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let fname = path.file_name().unwrap().to_str().unwrap().to_string();
        if !fname.ends_with(".yaml") || fname.starts_with("fail-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let secrets =
            kubeseal::unseal_stream(&text, &all_keys).unwrap_or_else(|e| panic!("{fname}: {}", e));
        assert_eq!(secrets.len(), 1);
        let got = secrets[0].to_manifest();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(fname.replace(".yaml", ".expected.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(yaml::sorted(&got), yaml::sorted(&expected), "{fname}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn renamed_strict_sealed_secret_does_not_unseal() {
    let text =
        std::fs::read_to_string(vectors().join("sealedsecrets/fail-renamed-strict.yaml")).unwrap();
    let err = kubeseal::unseal_stream(&text, &key("keys/controller-4096.key.pem"))
        .err()
        .expect("a renamed strict SealedSecret must not unseal");
    assert!(err.to_string().contains("app-1/renamed"), "{err}");
    assert!(
        err.to_string().contains("no key could decrypt secret"),
        "{}",
        err
    );
}

#[test]
fn the_label_comes_from_top_level_metadata_not_the_template() {
    // Moving the template alone must not change what unseals.
    let text = std::fs::read_to_string(vectors().join("sealedsecrets/strict-opaque.yaml")).unwrap();
    let mut doc = yaml::parse_documents(&text).unwrap().remove(0);
    doc["spec"]["template"]["metadata"]["name"] = Value::String("elsewhere".into());
    let sealed = objects::parse_sealed_secret(&doc, 1).unwrap();
    let secret = objects::unseal_sealed_secret(&sealed, &key("keys/controller-4096.key.pem"))
        .ok()
        .unwrap();
    assert_eq!(secret.to_manifest()["metadata"]["name"], "db-credentials");
}

#[test]
fn every_key_form_kubeseal_accepts() {
    let pem = std::fs::read_to_string(vectors().join("keys/controller-4096.key.pem")).unwrap();
    let b64 = STANDARD.encode(pem.as_bytes());
    let crt =
        STANDARD.encode(std::fs::read(vectors().join("keys/controller-4096.crt.pem")).unwrap());
    let secret_yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed-secrets-keyabcde\n  namespace: kube-system\n  labels:\n    sealedsecrets.bitnami.com/sealed-secrets-key: active\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {crt}\n  tls.key: {b64}\n"
    );
    let other = STANDARD.encode(std::fs::read(vectors().join("keys/other-4096.key.pem")).unwrap());
    let list_yaml = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: k1, namespace: kube-system}}\n  data:\n    tls.key: {other}\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: k2, namespace: kube-system}}\n  data:\n    tls.key: {b64}\nmetadata:\n  resourceVersion: \"\"\n"
    );
    let secret_json =
        serde_json::to_string(&yaml::parse_documents(&secret_yaml).unwrap()[0]).unwrap();
    // PKCS#8 form of the same key, as `openssl pkcs8 -topk8 -nocrypt` writes it.
    let k = &key("keys/controller-4096.key.pem")[0];
    let pkcs8 = {
        let b64 = STANDARD.encode(k.to_pkcs8_der().unwrap().as_slice());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    };
    let items: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("items.json")).unwrap())
            .unwrap();
    let item = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "controller-4096/strict/short")
        .unwrap();
    for (form, data, count) in [
        ("pkcs1", pem.clone(), 1),
        ("pkcs8", pkcs8, 1),
        ("secret-yaml", secret_yaml, 1),
        ("secret-json", secret_json, 1),
        ("list", list_yaml, 2),
    ] {
        let keys =
            keys::parse_private_keys(data.as_bytes()).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(keys.len(), count, "{form}");
        let plain = seal::unseal(
            &keys,
            item["label"].as_str().unwrap().as_bytes(),
            item["ciphertext"].as_str().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(plain.as_slice(), b"supersecret", "{form}");
    }
}
