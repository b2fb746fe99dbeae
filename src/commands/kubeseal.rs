//! The kubeseal drop-in: kubeseal's flags and behaviour over sealstrap's engine.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::kubeseal as ks;
use sealstrap::objects::{SealRequest, scrub};
use sealstrap::yaml::Format;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::cli::{KubesealArgs, KubesealMode};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::{
    VALUE_LIMIT, io_failure, is_dash, read_limited, read_text, same_file, write_output,
};

const TTY_HINT: &str = "(tty detected: expecting json/yaml k8s resource in stdin)";

/// Parses kubeseal's command line and runs it.
pub fn run_args(args: Vec<OsString>) -> CmdResult {
    let args = match KubesealArgs::try_parse_from(args) {
        Ok(a) => a,
        // kubeseal reports an unknown output format as an error (exit 1) in its own wording;
        // every other bad flag is a usage error (exit 2), as clap reports it.
        Err(e)
            if e.kind() == clap::error::ErrorKind::ValueValidation
                && std::error::Error::source(&e)
                    .is_some_and(|s| s.to_string().starts_with("unsupported output format")) =>
        {
            let msg = std::error::Error::source(&e).map(|s| s.to_string());
            return Err(Failure::new(msg.unwrap_or_default()));
        }
        Err(e) => e.exit(),
    };
    run(&args)
}

/// The cluster connection kubeseal's flags describe.
fn cluster_opts(args: &KubesealArgs) -> Result<sealstrap::cluster::ClusterOpts, Failure> {
    let overrides = sealstrap::cluster::Overrides {
        cluster: args.cluster.clone(),
        user: args.user.clone(),
        server: args.server.clone(),
        token: args.token.clone(),
        impersonate: args.as_user.clone(),
        impersonate_groups: args.as_group.clone(),
        certificate_authority: args.certificate_authority.clone(),
        client_certificate: args.client_certificate.clone(),
        client_key: args.client_key.clone(),
        insecure_skip_tls_verify: args.insecure_skip_tls_verify,
    };
    let timeout = args
        .request_timeout
        .unwrap_or(std::time::Duration::from_secs(30));
    Ok(sealstrap::cluster::ClusterOpts {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        timeout,
        overrides,
    })
}

fn connect(args: &KubesealArgs) -> Result<sealstrap::cluster::Cluster, Failure> {
    crate::workspace::cluster::connect(&cluster_opts(args)?)
}

/// The certificate to seal with: --cert, else fetched from the controller (as kubeseal does).
fn certificate(args: &KubesealArgs) -> Result<sealstrap::cert::Certificate, Failure> {
    match &args.cert {
        Some(spec) => crate::workspace::keys::load_for_sealing(spec, ""),
        None => {
            let cluster = connect(args)?;
            Ok(crate::workspace::cluster::fetch_checked(
                &cluster,
                &args.controller_name,
                &args.controller_namespace,
                "",
            )?
            .1)
        }
    }
}

/// The SealedSecret on input, as JSON for the controller's API.
fn sealed_input_json(args: &KubesealArgs) -> Result<Vec<u8>, Failure> {
    let text = read_text(args.secret_file.as_deref(), TTY_HINT)?;
    let docs = ks::parse_sealed_stream(&text)?;
    let [doc] = docs.as_slice() else {
        return Err(Failure::new(format!(
            "expected one SealedSecret on input, got {}",
            docs.len()
        )));
    };
    Ok(serde_json::to_vec(&doc.value).expect("json"))
}

pub fn run(args: &KubesealArgs) -> CmdResult {
    let explicit_format = args.format;
    let scope = args.scope;
    if let (Some(input), Some(output)) = (&args.secret_file, &args.sealed_secret_file)
        && !is_dash(input)
        && same_file(input, output)
    {
        return Err(Failure::new(format!(
            "input and output are the same file ({}); that would destroy the input",
            input.display()
        ))
        .hint("write the sealed output to another file"));
    }

    let mode = args.mode();
    if mode == KubesealMode::RecoveryUnseal {
        return recovery_unseal(args, explicit_format);
    }

    if mode == KubesealMode::FetchCert {
        let cluster = connect(args)?;
        let (pem, _) = crate::workspace::cluster::fetch_checked(
            &cluster,
            &args.controller_name,
            &args.controller_namespace,
            "",
        )?;
        write_output(args.sealed_secret_file.as_deref(), pem.as_bytes(), None)?;
        return Ok(ExitCode::SUCCESS);
    }
    if mode == KubesealMode::Validate {
        let body = sealed_input_json(args)?;
        let cluster = connect(args)?;
        return if cluster.verify_sealed(&args.controller_name, &args.controller_namespace, &body)? {
            Ok(ExitCode::SUCCESS)
        } else {
            Err(Failure::new("unable to decrypt sealed secret")
                .hint("it was sealed for a key the controller does not have, or renamed/moved (strict scope)"))
        };
    }
    if mode == KubesealMode::ReEncrypt {
        let body = sealed_input_json(args)?;
        let cluster = connect(args)?;
        let text =
            cluster.rotate_sealed(&args.controller_name, &args.controller_namespace, &body)?;
        let mut doc: Value = serde_json::from_str(&text)
            .map_err(|e| Failure::new(format!("unexpected answer from the controller: {e}")))?;
        if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
            for f in [
                "creationTimestamp",
                "deletionTimestamp",
                "generation",
                "resourceVersion",
                "uid",
                "managedFields",
            ] {
                meta.remove(f);
            }
        }
        if let Some(obj) = doc.as_object_mut() {
            obj.remove("status");
        }
        let format = output_format(explicit_format, args.sealed_secret_file.as_deref());
        write_output(
            args.sealed_secret_file.as_deref(),
            format.render(&[doc]).as_bytes(),
            None,
        )?;
        return Ok(ExitCode::SUCCESS);
    }

    let cert = certificate(args)?;
    let mut rng = UnwrapErr(SysRng);

    if mode == KubesealMode::Raw {
        let value = match &args.from_file {
            Some(spec) => {
                // kubectl's --from-file form: [key=]path; the key is irrelevant to a raw value.
                let path = spec.split_once('=').map(|(_, p)| p).unwrap_or(spec);
                read_limited(Some(Path::new(path)), TTY_HINT, VALUE_LIMIT)?
            }
            None => read_limited(
                None,
                "(tty detected: expecting the raw value on stdin; end with Ctrl-D)",
                VALUE_LIMIT,
            )?,
        };
        let namespace = args
            .namespace
            .clone()
            .or_else(|| kubeconfig_namespace(args.kubeconfig.as_deref(), args.context.as_deref()));
        let sealed = ks::seal_raw(
            &mut rng,
            &cert.public_key,
            &value,
            scope.unwrap_or_default(),
            args.name.as_deref(),
            namespace.as_deref(),
        )?;
        write_output(args.sealed_secret_file.as_deref(), sealed.as_bytes(), None)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.from_file.is_some() {
        return Err(Failure::usage("--from-file works only with --raw"));
    }

    let text = read_text(args.secret_file.as_deref(), TTY_HINT)?;
    let req = SealRequest {
        scope,
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        default_namespace: kubeconfig_namespace(
            args.kubeconfig.as_deref(),
            args.context.as_deref(),
        )
        .unwrap_or_else(|| "default".into()),
        allow_empty_data: args.allow_empty_data,
    };

    if let Some(target) = &args.merge_into {
        let target_text = std::fs::read_to_string(target)
            .map_err(|e| io_failure("cannot read --merge-into file", target, &e))?;
        // With the controller's key (--recovery-private-key, or the escrow with
        // --recovery-identity), unchanged values keep their ciphertext.
        let keys = if args.recovery_private_key.is_empty() {
            Vec::new()
        } else {
            crate::workspace::keys::load_keys(&args.recovery_private_key, &args.recovery_identity)?
        };
        let out = ks::merge_into(&mut rng, &cert.public_key, &text, &target_text, &req, &keys)?;
        sealstrap::output::write_atomic(target, out.as_bytes(), None)
            .map_err(|e| io_failure("cannot write", target, &e))?;
        return Ok(ExitCode::SUCCESS);
    }

    let sealed = ks::seal_stream(&mut rng, &cert.public_key, &text, &req)?;
    let format = output_format(explicit_format, args.sealed_secret_file.as_deref());
    write_output(
        args.sealed_secret_file.as_deref(),
        format.render(&sealed).as_bytes(),
        None,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `-o` if given, else what the `-w` file's extension says, else JSON (kubeseal's default).
fn output_format(explicit: Option<Format>, out: Option<&Path>) -> Format {
    explicit
        .or_else(|| out.filter(|p| !is_dash(p)).and_then(Format::from_path))
        .unwrap_or(Format::Json)
}

fn recovery_unseal(args: &KubesealArgs, explicit: Option<Format>) -> CmdResult {
    if args.recovery_private_key.is_empty() {
        return Err(Failure::usage(
            "--recovery-unseal needs --recovery-private-key FILE[,FILE...]",
        ));
    }
    // kubeseal prints the plaintext to a terminal; sealstrap promises not to (SECURITY.md).
    if args.sealed_secret_file.is_none()
        && !args.show
        && crate::workspace::files::stdout_is_terminal()
    {
        return Err(
            Failure::new("refusing to print plaintext Secrets to a terminal")
                .hint("write them to a file with -w FILE (mode 0600), pipe them, or pass --show"),
        );
    }
    let keys =
        crate::workspace::keys::load_keys(&args.recovery_private_key, &args.recovery_identity)?;
    let text = read_text(args.secret_file.as_deref(), TTY_HINT)?;
    let secrets = ks::unseal_stream(&text, &keys)?;
    let mut manifests: Vec<Value> = secrets.iter().map(|s| s.to_manifest()).collect();
    let format = output_format(explicit, args.sealed_secret_file.as_deref());
    let out = Zeroizing::new(format.render(&manifests));
    manifests.iter_mut().for_each(scrub);
    // Plaintext: a file written here is private.
    write_output(
        args.sealed_secret_file.as_deref(),
        out.as_bytes(),
        Some(0o600),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The namespace of the kubeconfig's context (kubeseal's default namespace), read by
/// `sealstrap::cluster`, the one kubeconfig reader.
pub fn kubeconfig_namespace(flag: Option<&Path>, context: Option<&str>) -> Option<String> {
    sealstrap::cluster::kubeconfig_namespace(flag, context)
}
