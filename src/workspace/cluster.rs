//! The cluster connection a command asks for: kubeconfig, context and timeouts from the flags
//! (every request to the API server is `sealstrap::cluster`'s), and the controller's certificate
//! fetched and checked as `cert inspect` checks it.

use sealstrap::cert::{self, Certificate};
use sealstrap::cluster::{Cluster, ClusterOpts, Overrides};

use super::error::{Failure, cert_failure};
use super::now;
use crate::cli::ClusterArgs;

pub fn opts(args: &ClusterArgs, overrides: Overrides) -> Result<ClusterOpts, Failure> {
    Ok(ClusterOpts {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        timeout: args.request_timeout,
        overrides,
    })
}

pub fn connect(opts: &ClusterOpts) -> Result<Cluster, Failure> {
    Ok(Cluster::connect(opts)?)
}

/// Fetches and checks the controller's certificate, as `cert inspect` checks it.
pub fn fetch_checked(
    cluster: &Cluster,
    name: &str,
    namespace: &str,
    warn_prefix: &str,
) -> Result<(String, Certificate), Failure> {
    let pem = cluster.fetch_cert(name, namespace)?;
    let what = format!("the certificate of {namespace}/{name}");
    let c = cert::parse(pem.as_bytes()).map_err(|e| cert_failure(&what, &e))?;
    for w in c.check(now()).map_err(|e| cert_failure(&what, &e))? {
        eprintln!("{warn_prefix}warning: {w}");
    }
    Ok((pem, c))
}
