//! Every default name sealstrap uses, in one place: the flags' defaults, the manifests' and the
//! patcher's. They are the platform's names (its secrets page) and the sealed-secrets
//! controller's (kubeseal's own defaults); see docs/format.md §3, §5 and §8.

/// The namespace the SealedSecrets (and the Secrets they become) live in.
pub const SOURCE_NAMESPACE: &str = "secret-source";
/// The output folder `seal` writes and the other commands read.
pub const OUT_DIR: &str = "secret-source";
/// The platform's ClusterSecretStore.
pub const STORE_NAME: &str = "secret-store";
/// The data key every sealed Secret holds its value under (`remoteRef.property`).
pub const PROPERTY: &str = "value";
/// ESO's namespace.
pub const ESO_NAMESPACE: &str = "external-secrets";
/// The ServiceAccount ESO reads `secret-source` as.
pub const READER: &str = "eso-reader";
/// The API server address as seen from inside the cluster.
pub const SERVER_URL: &str = "https://kubernetes.default.svc";
/// The ConfigMap (and key) holding the cluster CA in every namespace.
pub const CA_CONFIGMAP: &str = "kube-root-ca.crt";
pub const CA_KEY: &str = "ca.crt";
/// kubeseal's defaults for the controller.
pub const CONTROLLER_NAME: &str = "sealed-secrets-controller";
pub const CONTROLLER_NAMESPACE: &str = "kube-system";
/// The key escrow `key new` writes, in the sealed folder.
pub const ESCROW_NAME: &str = "controller-keys.age";
/// The sealed-secrets Helm chart `seal --gitops argocd` pins (and `key new` names).
pub const CONTROLLER_CHART: &str = "sealed-secrets";
pub const CONTROLLER_CHART_REPO: &str = "https://bitnami-labs.github.io/sealed-secrets";
pub const CONTROLLER_CHART_VERSION: &str = "2.18.5";
/// The image chart 2.18.5 runs by default (its `image.registry`, `image.repository`,
/// `image.tag` values; controller 0.36.6, FACTS §11).
pub const CONTROLLER_IMAGE_REGISTRY: &str = "docker.io";
pub const CONTROLLER_IMAGE_REPOSITORY: &str = "bitnami/sealed-secrets-controller";
pub const CONTROLLER_IMAGE_TAG: &str = "0.36.6";
/// The plaintext copy of the Dex admin password, in the secrets folder (gitignored).
pub const DEX_COPY_NAME: &str = "dex-admin-password";
/// The secrets folder for that copy, relative to the repository.
pub const SECRETS_DIR: &str = "secrets";
