//! Cluster commands: `cert fetch`, `apply`, `doctor`, and the connection helpers `seal
//! --fetch-cert` and the kubeseal mode share.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sealstrap::cert::{self};
use sealstrap::cluster::{self, ClusterError, FetchError, Overrides};
use sealstrap::doctor::{self, Link};
use sealstrap::manifests::{KUSTOMIZATION_FILE, VALUE_KEY};
use sealstrap::yaml;
use serde_json::{Value, json};

use crate::cli::{ApplyArgs, ClusterArgs, DoctorArgs, SummaryFormat};
use crate::workspace::cluster::{connect, fetch_checked, opts};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::{io_failure, write_output, write_stdout};

pub fn cert_fetch(output: Option<&Path>, args: &ClusterArgs) -> CmdResult {
    let cluster = connect(&opts(args, Overrides::default())?)?;
    let (pem, c) = fetch_checked(
        &cluster,
        &args.controller_name,
        &args.controller_namespace,
        "sealstrap: ",
    )?;
    write_output(output, pem.as_bytes(), None)?;
    if let Some(out) = output.filter(|o| !crate::workspace::files::is_dash(o)) {
        eprintln!(
            "sealstrap: wrote the certificate of {}/{} ({}, RSA {}, expires {})",
            args.controller_namespace,
            args.controller_name,
            c.fingerprint,
            c.bits,
            sealstrap::timefmt::rfc3339(c.not_after)
        );
        pin_fetched(out, &c.fingerprint)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A certificate fetched from the controller into a folder's committed place is the operator's
/// (they asked the cluster): its pin is recorded in sealstrap.yaml, for review.
fn pin_fetched(out: &Path, fingerprint: &str) -> Result<(), Failure> {
    let ws = crate::workspace::Workspace::find(None)?;
    let Some(root) = &ws.root else {
        return Ok(());
    };
    let same = |a: &Path, b: &Path| {
        std::fs::canonicalize(a)
            .ok()
            .is_some_and(|x| std::fs::canonicalize(b).ok() == Some(x))
    };
    let mut envs: Vec<Option<String>> = crate::workspace::repo::environments(&root.dir)
        .into_iter()
        .map(Some)
        .collect();
    envs.push(None);
    for env in envs {
        let Ok(place) = crate::workspace::place::Place::resolve(
            &ws,
            &crate::workspace::place::Choice {
                env: env.as_deref(),
                ..Default::default()
            },
        ) else {
            continue;
        };
        if same(&place.committed_cert(), out)
            && let Some(name) = place.pin_name()
        {
            let mut pins = ws.config.pins.clone();
            pins.pin_certificate(&name, fingerprint);
            if let Some(w) = ws.pins_write(&pins) {
                let scope = crate::workspace::repo::write_scope(Some(root), &[&root.dir])?;
                let _lock = crate::workspace::files::lock_scope(&scope, false)?;
                let mut tx = sealstrap::journal::Transaction::new(&scope);
                tx.stage(&w.path, &w.contents, None).map_err(|e| {
                    crate::workspace::files::io_failure("cannot write", &w.path, &e)
                })?;
                tx.commit()
                    .map_err(|e| Failure::new(format!("cannot write sealstrap.yaml: {e}")))?;
                eprintln!(
                    "sealstrap: pinned {name} to {fingerprint} in sealstrap.yaml: commit that line with the certificate"
                );
            }
            break;
        }
    }
    Ok(())
}

/// The objects of an output folder: the kustomization's resources (or every YAML file), in
/// dependency order.
fn folder_objects(dir: &Path) -> Result<Vec<(String, Value)>, Failure> {
    crate::workspace::files::refuse_interrupted(
        &crate::workspace::repo::scope_of(None, &[dir])?,
        dir,
    )?;
    let kust = dir.join(KUSTOMIZATION_FILE);
    let files: Vec<PathBuf> = match std::fs::read_to_string(&kust) {
        Ok(text) => {
            let docs = yaml::parse_documents(&text)
                .map_err(|e| Failure::new(format!("{}: {}", kust.display(), e.message)))?;
            docs.first()
                .and_then(|d| d.get("resources"))
                .and_then(Value::as_array)
                .ok_or_else(|| Failure::new(format!("{} lists no resources", kust.display())))?
                .iter()
                .filter_map(Value::as_str)
                .map(|r| dir.join(r))
                .collect()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(
                Failure::new(format!("{} has no {KUSTOMIZATION_FILE}", dir.display()))
                    .hint("pass the output folder of `sealstrap seal`"),
            );
        }
        Err(e) => return Err(io_failure("cannot read", &kust, &e)),
    };
    let mut objects = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| io_failure("cannot read", &f, &e))?;
        let docs = yaml::parse_documents(&text)
            .map_err(|e| Failure::new(format!("{}: {}", f.display(), e.message)))?;
        for d in docs {
            if cluster::apply_rank(&d).is_none() {
                return Err(Failure::new(format!(
                    "{}: {} is not a kind sealstrap applies",
                    f.display(),
                    cluster::describe(&d)
                )));
            }
            objects.push((f.display().to_string(), d));
        }
    }
    objects.sort_by_key(|(_, o)| cluster::apply_rank(o));
    Ok(objects)
}

pub fn apply(args: &ApplyArgs) -> CmdResult {
    let dir =
        crate::workspace::repo::given_or_env_default(args.dir.as_deref(), args.env.as_deref(), "")?;
    let objects = folder_objects(&dir)?;
    let cluster = connect(&opts(&args.cluster, Overrides::default())?)?;
    let suffix = if args.dry_run {
        " (server dry run)"
    } else {
        ""
    };
    for (file, obj) in &objects {
        let what = cluster::describe(obj);
        match cluster.apply(obj, args.dry_run) {
            Ok(_) => eprintln!("applied  {what}{suffix}"),
            Err(e) => {
                eprintln!("FAILED   {what} ({file})");
                return Err(Failure::from(e));
            }
        }
    }
    eprintln!("sealstrap: {} object(s) applied{suffix}", objects.len());
    Ok(ExitCode::SUCCESS)
}

fn find<'a>(items: &'a [Value], name: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|i| i.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
}

pub fn doctor(args: &DoctorArgs) -> CmdResult {
    let dir =
        crate::workspace::repo::given_or_env_default(args.dir.as_deref(), args.env.as_deref(), "")?;
    let objects = folder_objects(&dir)?;
    let sealed: Vec<&Value> = objects
        .iter()
        .map(|(_, o)| o)
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("SealedSecret"))
        .collect();
    let mut folder_fps: Vec<String> = sealed
        .iter()
        .filter_map(|o| sealstrap::manifests::sealed_fingerprint(o).map(str::to_string))
        .collect();
    folder_fps.sort();
    let cluster = connect(&opts(&args.cluster, Overrides::default())?)?;
    let ns = &args.wiring.source_namespace;
    let mut links: Vec<Link> = Vec::new();
    // The repository's own ExternalSecrets and Helm values, to tell its ExternalSecrets from the
    // ones a chart renders, and to name Helm values without a property.
    // (First boot checks the keys only: nothing reads the store yet.)
    let tree_reads = match crate::workspace::repo::Root::find(None)?.filter(|_| !args.first_boot) {
        Some(root) => Some(crate::workspace::reads::reads(
            &root,
            crate::workspace::reads::graph(
                &root,
                crate::workspace::repo::environment(&root, args.env.as_deref(), None, Some(&dir))?
                    .as_deref(),
            )?
            .as_ref(),
            std::slice::from_ref(&dir),
            &sealstrap::patch::Options {
                store: args.wiring.store_name.clone(),
                property: sealstrap::defaults::PROPERTY.into(),
                ..Default::default()
            },
        )?),
        None => None,
    };
    for (at, key, path) in tree_reads.iter().flat_map(|r| &r.helm_without_property) {
        links.push(Link::broken(
            format!("helm-values/{at}"),
            format!("Helm values {path} read {key} without property"),
            crate::workspace::reads::helm_fix(at, key, path, sealstrap::defaults::PROPERTY),
        ));
    }

    // 1. The controller and its certificate.
    match cluster.fetch_cert(
        &args.cluster.controller_name,
        &args.cluster.controller_namespace,
    ) {
        Ok(pem) => match cert::parse(pem.as_bytes()) {
            Ok(c) => {
                links.push(doctor::controller_link(&c.fingerprint, &folder_fps));
                links.push(doctor::certificate_link(&c, crate::workspace::now()));
                let bundle = dir.join(crate::workspace::keys::CERT_NAME);
                let escrowed = match std::fs::read(&bundle) {
                    Ok(data) => Some(
                        sealstrap::controller_key::parse_cert_bundle(&data)
                            .map_err(|e| {
                                crate::workspace::error::cert_failure(
                                    &bundle.display().to_string(),
                                    &e,
                                )
                            })?
                            .into_iter()
                            .map(|c| c.fingerprint)
                            .collect::<Vec<_>>(),
                    ),
                    Err(_) => None,
                };
                if !args.first_boot || escrowed.is_none() {
                    links.push(doctor::key_custody_link(
                        &c.fingerprint,
                        &bundle.display().to_string(),
                        escrowed.as_deref(),
                    ));
                }
                // Issue 27: the escrow's newest key seals, every escrowed key is in the cluster
                // with the label (and, first boot, no key the controller made itself).
                if escrowed.is_some() {
                    links.extend(super::key_life::doctor_key_links(
                        &cluster, args, &bundle, &c,
                    ));
                }
                // Every key the controller holds must be escrowed, not only the sealing one: a
                // controller that started before `key install` made its own, and anything sealed
                // with that one dies with the cluster.
                if let Some(escrowed) = escrowed.as_ref().filter(|_| !args.first_boot) {
                    let cns = &args.cluster.controller_namespace;
                    match cluster.list_secrets(cns, Some(sealstrap::controller_key::KEY_LABEL)) {
                        Ok(items) => {
                            for item in &items {
                                let name = item
                                    .pointer("/metadata/name")
                                    .and_then(Value::as_str)
                                    .unwrap_or("(unnamed)");
                                let fp = item
                                    .pointer("/data/tls.crt")
                                    .and_then(Value::as_str)
                                    .and_then(|b| {
                                        use base64::Engine as _;
                                        base64::engine::general_purpose::STANDARD.decode(b).ok()
                                    })
                                    .and_then(|pem| cert::parse(&pem).ok());
                                if let Some(kc) = fp {
                                    links.push(doctor::cluster_key_link(
                                        cns,
                                        name,
                                        &kc.fingerprint,
                                        &sealstrap::timefmt::rfc3339(kc.not_before),
                                        &bundle.display().to_string(),
                                        escrowed,
                                    ));
                                }
                            }
                        }
                        Err(e) => links.push(Link::broken(
                            "key-custody/secrets",
                            format!("cannot list the controller's key Secrets in {cns}: {e}"),
                            "let doctor's account list secrets in the controller's namespace, or run `sealstrap key backup --check` where it can",
                        )),
                    }
                }
            }
            Err(e) => links.push(Link::broken(
                "controller",
                format!("served an unusable certificate: {e}"),
                "check the controller's key Secrets",
            )),
        },
        Err(e @ FetchError::NoController { .. }) => {
            let fix = e.hint().unwrap_or_default();
            links.push(Link::broken("controller", e.to_string(), fix));
        }
        Err(FetchError::Cluster(
            e @ (ClusterError::Unreachable { .. }
            | ClusterError::NoKubeconfig(_)
            | ClusterError::BadKubeconfig { .. }
            | ClusterError::Timeout { .. }),
        )) => {
            return Err(e.into());
        }
        Err(FetchError::Cluster(e)) => {
            let fix = e
                .hint()
                .unwrap_or_else(|| "check the controller's Service and pods".into());
            links.push(Link::broken("controller", e.to_string(), fix));
        }
    }

    // First boot: nothing is synced yet; the controller and its keys are the whole chain.
    if args.first_boot {
        return report(&links, args.output);
    }

    // 2. SealedSecrets Synced, 3. Secrets with key `value`.
    let ss_list = cluster.list_sealed_secrets(ns);
    let secret_list = cluster.list_secrets(ns, None);
    for s in &sealed {
        let name = s
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        match &ss_list {
            Ok(items) => links.push(doctor::sealed_secret_link(name, find(items, name))),
            Err(e) => links.push(Link::broken(
                format!("sealedsecret/{name}"),
                e.to_string(),
                e.hint().unwrap_or_default(),
            )),
        }
        match &secret_list {
            Ok(items) => links.push(doctor::secret_link(name, find(items, name), VALUE_KEY)),
            Err(e) => links.push(Link::broken(
                format!("secret/{name}"),
                e.to_string(),
                e.hint().unwrap_or_default(),
            )),
        }
    }
    // The secret list held values; drop it now.
    drop(secret_list);

    // 4. The reader may get secrets (SubjectAccessReview).
    match cluster.access_review(
        &args.wiring.eso_namespace,
        &args.wiring.reader,
        ns,
        "get",
        "secrets",
    ) {
        Ok(r) => links.push(doctor::reader_link(&args.wiring.reader, ns, &r)),
        Err(e) => links.push(Link::broken(
            format!("rbac/{}", args.wiring.reader),
            e.to_string(),
            e.hint().unwrap_or_default(),
        )),
    }

    // 5. The store, 6. the ExternalSecrets using it.
    match cluster.get_cluster_secret_store(&args.wiring.store_name) {
        Ok(v) => links.push(doctor::store_link(&args.wiring.store_name, v.as_ref())),
        Err(e) => links.push(Link::broken(
            format!("clustersecretstore/{}", args.wiring.store_name),
            e.to_string(),
            e.hint().unwrap_or_default(),
        )),
    }
    match cluster.list_external_secrets() {
        Ok(list) => {
            let es = doctor::external_secret_links(
                &args.wiring.store_name,
                &list,
                sealstrap::defaults::PROPERTY,
                tree_reads
                    .as_ref()
                    .map(crate::workspace::reads::Reads::external_secrets)
                    .as_ref(),
            );
            if es.is_empty() {
                links.push(Link::broken(
                    "externalsecrets",
                    format!("none uses ClusterSecretStore {}", args.wiring.store_name),
                    "apply the platform's ExternalSecrets (with property: value)",
                ));
            }
            links.extend(es);
        }
        Err(e) => links.push(Link::broken(
            "externalsecrets",
            e.to_string(),
            e.hint().unwrap_or_default(),
        )),
    }

    report(&links, args.output)
}

/// Prints the links (a table, or JSON) and fails when one is broken.
fn report(links: &[Link], output: SummaryFormat) -> CmdResult {
    let broken = links.iter().filter(|l| !l.ok).count();
    let out = match output {
        SummaryFormat::Json => {
            let v: Vec<Value> = links
                .iter()
                .map(|l| json!({"link": l.name, "ok": l.ok, "detail": l.detail, "fix": l.fix}))
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&json!({"ok": broken == 0, "links": v}))
                    .expect("json")
            )
        }
        SummaryFormat::Text => {
            let w = links
                .iter()
                .map(|l| l.name.len())
                .max()
                .unwrap_or(10)
                .max(10);
            let mut s = format!("{:<6} {:<w$} {}\n", "STATUS", "LINK", "DETAIL");
            for l in links {
                s.push_str(&format!(
                    "{:<6} {:<w$} {}\n",
                    if l.ok { "OK" } else { "BROKEN" },
                    l.name,
                    l.detail
                ));
                if let Some(f) = &l.fix {
                    s.push_str(&format!("{:<6} {:<w$} fix: {f}\n", "", ""));
                }
            }
            s
        }
    };
    write_stdout(out.as_bytes())?;
    if broken > 0 {
        return Err(Failure::new(format!("{broken} link(s) broken")));
    }
    Ok(ExitCode::SUCCESS)
}
