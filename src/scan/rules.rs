//! The rule set of `scan`: every credential shape it knows, each written from the format its
//! issuer documents (the URL is in the rule, and in SARIF's `helpUri`), plus the contract's own
//! value formats, credentials in URLs and generic assignments (`password: ...`, `API_TOKEN=...`)
//! whose value looks random (see [`super::entropy`]).
//!
//! [`find`] runs every rule over a whole text (one automaton per rule, with literal prefilters),
//! keeps the first rule in table order per line (private keys and identities first, then
//! provider shapes, then the contract's formats, then URLs and generic assignments), and looks
//! inside long base64 runs (and gzip in them) for the same shapes, so a key Secret wrapped in a
//! Talos inline manifest, a cloud-init `write_files` entry or a Cluster API resource set is found
//! whatever its wrapper. A hit carries the SHA-256 of the value (for baselines), never the value.
//! Pure.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::{Captures, Regex};

use super::FileClass;
use super::entropy;

/// One kind of credential: what it is, how to fix a leak of it, and where its format is
/// documented.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id (SARIF `ruleId`, JSON `rule`, baselines).
    pub id: &'static str,
    /// What was found, as a noun phrase ("an AWS access key id").
    pub what: &'static str,
    /// What to do about it.
    pub fix: &'static str,
    /// Never allowed: a private key or an identity opens everything.
    pub hard: bool,
    /// The issuer's documentation of the format.
    pub source: &'static str,
}

/// The SHA-256 of a matched value: compared, never shown (its `Debug` hides it too).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueDigest(pub [u8; 32]);

impl std::fmt::Debug for ValueDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValueDigest(..)")
    }
}

impl ValueDigest {
    pub fn of(value: &[u8]) -> ValueDigest {
        ValueDigest(crate::digest::sha256(value))
    }
}

/// A rule that matched on a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// 0-based line of the value.
    pub line: usize,
    pub rule: &'static Rule,
    pub digest: ValueDigest,
    /// Found inside base64-encoded (or gzip+base64) content on that line.
    pub nested: bool,
}

impl Hit {
    /// The finding's message: what, where, the fix. Never the value.
    pub fn message(&self) -> String {
        format!(
            "{}{}; {}",
            self.rule.what,
            if self.nested {
                " inside base64-encoded content"
            } else {
                ""
            },
            self.rule.fix
        )
    }
}

macro_rules! rotate {
    ($how:literal) => {
        concat!(
            $how,
            ", then seal the new value (sealstrap kubeseal) or keep it in the secret store; once committed it is in git history, so rotating is the fix, deleting is not"
        )
    };
}

/// The contract's own formats (sealstrap generates them): seal and rotate.
const CONTRACT_FIX: &str = "seal it and rotate it (sealstrap rotate for the contract's values)";

pub static GCP_SERVICE_ACCOUNT_KEY: Rule = Rule {
    id: "gcp-service-account-key",
    what: "a Google Cloud service-account key (JSON key file)",
    fix: rotate!(
        "delete the key (gcloud iam service-accounts keys delete KEY_ID --iam-account SA) and make a new one, or better use workload identity"
    ),
    hard: true,
    source: "https://cloud.google.com/iam/docs/keys-create-delete",
};
pub static PRIVATE_KEY: Rule = Rule {
    id: "private-key",
    what: "a PEM private key (a controller key backup opens every sealed value)",
    fix: "remove it and replace the key pair: whoever read it can decrypt or sign as its owner (a sealed-secrets controller key: sealstrap key new, then sealstrap reseal; keep keys in the age escrow, never in git)",
    hard: true,
    source: "https://www.rfc-editor.org/rfc/rfc7468#section-10",
};
pub static PGP_PRIVATE_KEY: Rule = Rule {
    id: "pgp-private-key",
    what: "a PGP private key block",
    fix: "remove it, revoke the key (gpg --gen-revoke) and publish the revocation, then make a new key",
    hard: true,
    source: "https://www.rfc-editor.org/rfc/rfc4880#section-6.2",
};
pub static PUTTY_PRIVATE_KEY: Rule = Rule {
    id: "putty-private-key",
    what: "an SSH private key (PuTTY or SSH2 format)",
    fix: "remove it, take its public key out of every authorized_keys, and make a new key pair",
    hard: true,
    source: "https://the.earth.li/~sgtatham/putty/0.81/htmldoc/AppendixC.html",
};
pub static AGE_IDENTITY: Rule = Rule {
    id: "age-identity",
    what: "an age identity (it opens the controller key escrow)",
    fix: "remove it, make a new identity (age-keygen) and re-encrypt the escrow to it (sealstrap key backup); identity files live outside git",
    hard: true,
    source: "https://github.com/C2SP/C2SP/blob/main/age.md#the-x25519-recipient-type",
};
pub static PRIVATE_KEY_BASE64: Rule = Rule {
    id: "private-key-base64",
    what: "a base64-encoded PEM private key (a Secret's tls.key, a kubeconfig's client-key-data, a Talos ca.key)",
    fix: "remove it and replace the key pair: base64 is not encryption (a sealed-secrets controller key: sealstrap key new, then sealstrap reseal; keep keys in the age escrow, never in git)",
    hard: true,
    source: "https://kubernetes.io/docs/concepts/configuration/secret/#tls-secrets",
};
pub static AWS_ACCESS_KEY_ID: Rule = Rule {
    id: "aws-access-key-id",
    what: "an AWS access key id (AKIA/ASIA...)",
    fix: rotate!(
        "deactivate and delete the key in IAM (aws iam update-access-key --status Inactive --access-key-id ID), make a new one"
    ),
    hard: false,
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids",
};
pub static AWS_SECRET_ACCESS_KEY: Rule = Rule {
    id: "aws-secret-access-key",
    what: "an AWS secret access key",
    fix: rotate!(
        "deactivate and delete its access key in IAM (aws iam update-access-key --status Inactive), make a new one"
    ),
    hard: false,
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
};
pub static GITHUB_TOKEN: Rule = Rule {
    id: "github-token",
    what: "a GitHub token (ghp_/gho_/ghu_/ghs_/ghr_)",
    fix: rotate!("revoke it (GitHub Settings > Developer settings > Tokens) and make a new one"),
    hard: false,
    source: "https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available/",
};
pub static GITHUB_FINE_GRAINED_TOKEN: Rule = Rule {
    id: "github-fine-grained-token",
    what: "a GitHub fine-grained personal access token (github_pat_)",
    fix: rotate!(
        "revoke it (GitHub Settings > Developer settings > Fine-grained tokens) and make a new one"
    ),
    hard: false,
    source: "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens#fine-grained-personal-access-tokens",
};
pub static GITLAB_TOKEN: Rule = Rule {
    id: "gitlab-token",
    what: "a GitLab token (glpat-, gldt-, glrt-, ...)",
    fix: rotate!(
        "revoke it in GitLab (User settings > Access tokens, or the project's or runner's settings) and make a new one"
    ),
    hard: false,
    source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
};
pub static SLACK_TOKEN: Rule = Rule {
    id: "slack-token",
    what: "a Slack token (xoxb-/xoxp-/xapp-...)",
    fix: rotate!(
        "revoke it (api.slack.com/apps > your app > OAuth & Permissions, or auth.revoke) and reinstall for a new one"
    ),
    hard: false,
    source: "https://api.slack.com/authentication/token-types",
};
pub static SLACK_WEBHOOK: Rule = Rule {
    id: "slack-webhook",
    what: "a Slack incoming webhook URL (anyone with it can post to the channel)",
    fix: rotate!(
        "remove the webhook in the Slack app's Incoming Webhooks settings and add a new one"
    ),
    hard: false,
    source: "https://api.slack.com/messaging/webhooks",
};
pub static STRIPE_KEY: Rule = Rule {
    id: "stripe-key",
    what: "a Stripe secret or restricted key (sk_/rk_)",
    fix: rotate!("roll the key in the Stripe dashboard (Developers > API keys)"),
    hard: false,
    source: "https://docs.stripe.com/keys",
};
pub static SENDGRID_KEY: Rule = Rule {
    id: "sendgrid-key",
    what: "a SendGrid API key (SG.)",
    fix: rotate!("delete the key in SendGrid (Settings > API Keys) and make a new one"),
    hard: false,
    source: "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys",
};
pub static TWILIO_API_KEY: Rule = Rule {
    id: "twilio-api-key",
    what: "a Twilio API key SID (SK..., its secret is usually beside it)",
    fix: rotate!(
        "delete the API key in the Twilio console (Account > API keys) and make a new one"
    ),
    hard: false,
    source: "https://www.twilio.com/docs/iam/api-keys",
};
pub static OPENAI_KEY: Rule = Rule {
    id: "openai-key",
    what: "an OpenAI API key (sk-proj-/sk-...)",
    fix: rotate!("revoke it on the OpenAI platform (API keys) and make a new one"),
    hard: false,
    source: "https://platform.openai.com/docs/api-reference/authentication",
};
pub static ANTHROPIC_KEY: Rule = Rule {
    id: "anthropic-key",
    what: "an Anthropic API key (sk-ant-...)",
    fix: rotate!("revoke it in the Anthropic console (API keys) and make a new one"),
    hard: false,
    source: "https://docs.anthropic.com/en/api/overview#authentication",
};
pub static HUGGINGFACE_TOKEN: Rule = Rule {
    id: "huggingface-token",
    what: "a Hugging Face token (hf_...)",
    fix: rotate!("invalidate it on huggingface.co (Settings > Access Tokens) and make a new one"),
    hard: false,
    source: "https://huggingface.co/docs/hub/security-tokens",
};
pub static NPM_TOKEN: Rule = Rule {
    id: "npm-token",
    what: "an npm access token (npm_)",
    fix: rotate!("revoke it (npm token revoke ID) and make a new one"),
    hard: false,
    source: "https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/",
};
pub static PYPI_TOKEN: Rule = Rule {
    id: "pypi-token",
    what: "a PyPI API token (pypi-AgEIcHlwaS5vcmc...)",
    fix: rotate!(
        "remove it on pypi.org (Account settings > API tokens) and make a new one, or use trusted publishing"
    ),
    hard: false,
    source: "https://pypi.org/help/#apitoken",
};
pub static GCP_API_KEY: Rule = Rule {
    id: "gcp-api-key",
    what: "a Google API key (AIza...)",
    fix: rotate!(
        "delete or regenerate it in the Google Cloud console (APIs & Services > Credentials) and restrict the new one"
    ),
    hard: false,
    source: "https://cloud.google.com/docs/authentication/api-keys",
};
pub static GOOGLE_OAUTH_SECRET: Rule = Rule {
    id: "google-oauth-client-secret",
    what: "a Google OAuth client secret (GOCSPX-)",
    fix: rotate!(
        "reset the client secret in the Google Cloud console (APIs & Services > Credentials)"
    ),
    hard: false,
    source: "https://support.google.com/cloud/answer/15549257",
};
pub static AZURE_STORAGE_KEY: Rule = Rule {
    id: "azure-storage-key",
    what: "an Azure storage account or shared access key (AccountKey=/SharedAccessKey=)",
    fix: rotate!("rotate the key in the Azure portal (Access keys > Rotate key)"),
    hard: false,
    source: "https://learn.microsoft.com/en-us/azure/storage/common/storage-configure-connection-string",
};
pub static AZURE_SAS_TOKEN: Rule = Rule {
    id: "azure-sas-token",
    what: "an Azure shared access signature (sig= in a SAS URL or token)",
    fix: rotate!(
        "revoke it (rotate the account key it was signed with, or delete its stored access policy)"
    ),
    hard: false,
    source: "https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas",
};
pub static VAULT_TOKEN: Rule = Rule {
    id: "vault-token",
    what: "a HashiCorp Vault token (hvs./hvb./hvr.)",
    fix: rotate!("revoke it (vault token revoke -accessor ...)"),
    hard: false,
    source: "https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes",
};
pub static TAILSCALE_KEY: Rule = Rule {
    id: "tailscale-key",
    what: "a Tailscale auth or API key (tskey-)",
    fix: rotate!("revoke it in the Tailscale admin console (Settings > Keys) and make a new one"),
    hard: false,
    source: "https://tailscale.com/kb/1085/auth-keys",
};
pub static DIGITALOCEAN_TOKEN: Rule = Rule {
    id: "digitalocean-token",
    what: "a DigitalOcean token (dop_v1_/doo_v1_/dor_v1_)",
    fix: rotate!("delete it in the DigitalOcean control panel (API > Tokens) and make a new one"),
    hard: false,
    source: "https://docs.digitalocean.com/reference/api/create-personal-access-token/",
};
pub static DOCKERHUB_TOKEN: Rule = Rule {
    id: "dockerhub-token",
    what: "a Docker Hub personal access token (dckr_pat_)",
    fix: rotate!(
        "delete it in Docker Hub (Account settings > Personal access tokens) and make a new one"
    ),
    hard: false,
    source: "https://docs.docker.com/security/for-developers/access-tokens/",
};
pub static DISCORD_WEBHOOK: Rule = Rule {
    id: "discord-webhook",
    what: "a Discord webhook URL (anyone with it can post to the channel)",
    fix: rotate!("delete the webhook in the channel's Integrations settings and make a new one"),
    hard: false,
    source: "https://discord.com/developers/docs/resources/webhook",
};
pub static TELEGRAM_BOT_TOKEN: Rule = Rule {
    id: "telegram-bot-token",
    what: "a Telegram bot token",
    fix: rotate!("revoke it with @BotFather (/revoke) for a new one"),
    hard: false,
    source: "https://core.telegram.org/bots/api#authorizing-your-bot",
};
pub static GRAFANA_TOKEN: Rule = Rule {
    id: "grafana-token",
    what: "a Grafana service-account or Cloud token (glsa_/glc_)",
    fix: rotate!(
        "delete the token in Grafana (Administration > Service accounts) and make a new one"
    ),
    hard: false,
    source: "https://grafana.com/docs/grafana/latest/administration/service-accounts/",
};
pub static CLOUDFLARE_TOKEN: Rule = Rule {
    id: "cloudflare-token",
    what: "a Cloudflare API token",
    fix: rotate!("roll it in the Cloudflare dashboard (My Profile > API Tokens)"),
    hard: false,
    source: "https://developers.cloudflare.com/fundamentals/api/get-started/token-formats/",
};
pub static LITELLM_KEY: Rule = Rule {
    id: "litellm-master-key",
    what: "a LiteLLM master key (sk- + 64 hex)",
    fix: CONTRACT_FIX,
    hard: false,
    source: "https://docs.litellm.ai/docs/proxy/virtual_keys",
};
pub static JWT: Rule = Rule {
    id: "jwt",
    what: "a signed JSON Web Token (a Kubernetes service-account token, an API bearer token)",
    fix: rotate!(
        "revoke it at its issuer (a Kubernetes service-account token: delete its Secret or the ServiceAccount; a long-lived one: make it short-lived with kubectl create token)"
    ),
    hard: false,
    source: "https://www.rfc-editor.org/rfc/rfc7519#section-3",
};
pub static BOOTSTRAP_TOKEN: Rule = Rule {
    id: "kubernetes-bootstrap-token",
    what: "a Kubernetes bootstrap token (it joins nodes to the cluster)",
    fix: rotate!(
        "delete it (kubeadm token delete ID, or its bootstrap-token Secret; Talos: talosctl gen secrets for a new cluster token)"
    ),
    hard: false,
    source: "https://kubernetes.io/docs/reference/access-authn-authz/bootstrap-tokens/#token-format",
};
pub static BCRYPT_HASH: Rule = Rule {
    id: "bcrypt-hash",
    what: "a bcrypt hash (like the Dex admin hash)",
    fix: CONTRACT_FIX,
    hard: false,
    source: "https://en.wikipedia.org/wiki/Bcrypt#Description",
};
pub static HEX_SECRET: Rule = Rule {
    id: "hex-secret",
    what: "a 64-hex value like sealstrap's random secrets",
    fix: CONTRACT_FIX,
    hard: false,
    source: "https://github.com/sealstrap/sealstrap/blob/main/docs/format.md",
};
pub static DOCKER_CONFIG_AUTH: Rule = Rule {
    id: "docker-config-auth",
    what: "a registry login in a docker config (\"auth\": base64 of user:password)",
    fix: rotate!(
        "change the registry password or token, then use a credential helper (credsStore) or an imagePullSecret from a SealedSecret"
    ),
    hard: false,
    source: "https://docs.docker.com/reference/cli/docker/login/#default-behavior",
};
pub static URL_CREDENTIALS: Rule = Rule {
    id: "url-credentials",
    what: "a password in a URL (scheme://user:password@host)",
    fix: rotate!(
        "change that password, take it out of the URL (pass it from a Secret, e.g. an env var the app adds)"
    ),
    hard: false,
    source: "https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1",
};
pub static GENERIC_CREDENTIAL: Rule = Rule {
    id: "generic-credential",
    what: "a random-looking value assigned to a password, secret, token or key name",
    fix: rotate!("rotate it at its issuer"),
    hard: false,
    source: "https://cwe.mitre.org/data/definitions/798.html",
};

/// Every rule, in priority order: a line reports the first that matches.
pub static RULES: [&Rule; 40] = [
    &GCP_SERVICE_ACCOUNT_KEY,
    &PRIVATE_KEY,
    &PGP_PRIVATE_KEY,
    &PUTTY_PRIVATE_KEY,
    &AGE_IDENTITY,
    &PRIVATE_KEY_BASE64,
    &AWS_ACCESS_KEY_ID,
    &AWS_SECRET_ACCESS_KEY,
    &GITHUB_TOKEN,
    &GITHUB_FINE_GRAINED_TOKEN,
    &GITLAB_TOKEN,
    &SLACK_TOKEN,
    &SLACK_WEBHOOK,
    &STRIPE_KEY,
    &SENDGRID_KEY,
    &TWILIO_API_KEY,
    &OPENAI_KEY,
    &ANTHROPIC_KEY,
    &HUGGINGFACE_TOKEN,
    &NPM_TOKEN,
    &PYPI_TOKEN,
    &GCP_API_KEY,
    &GOOGLE_OAUTH_SECRET,
    &AZURE_STORAGE_KEY,
    &AZURE_SAS_TOKEN,
    &VAULT_TOKEN,
    &TAILSCALE_KEY,
    &DIGITALOCEAN_TOKEN,
    &DOCKERHUB_TOKEN,
    &DISCORD_WEBHOOK,
    &TELEGRAM_BOT_TOKEN,
    &GRAFANA_TOKEN,
    &CLOUDFLARE_TOKEN,
    &LITELLM_KEY,
    &JWT,
    &BOOTSTRAP_TOKEN,
    &BCRYPT_HASH,
    &HEX_SECRET,
    &DOCKER_CONFIG_AUTH,
    &URL_CREDENTIALS,
];

/// The rule with this id (the generic rule included).
pub fn by_id(id: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .chain(std::iter::once(&GENERIC_CREDENTIAL))
        .find(|r| r.id == id)
}

/// Every rule, the generic one last.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    RULES
        .iter()
        .copied()
        .chain(std::iter::once(&GENERIC_CREDENTIAL))
}

/// A match under test.
struct Cand<'a> {
    text: &'a str,
    caps: &'a Captures<'a>,
    value: regex::Match<'a>,
    line: &'a str,
    class: &'a FileClass,
}

impl Cand<'_> {
    fn get(&self, name: &str) -> &str {
        self.caps.name(name).map_or("", |m| m.as_str())
    }
    fn v(&self) -> &str {
        self.value.as_str()
    }
    /// The characters around the value are not `pred` (the value is not part of a longer run).
    fn bounded(&self, pred: fn(u8) -> bool) -> bool {
        let b = self.text.as_bytes();
        let (s, e) = (self.value.start(), self.value.end());
        (s == 0 || !pred(b[s - 1])) && b.get(e).is_none_or(|c| !pred(*c))
    }
    fn alnum_bounded(&self) -> bool {
        self.bounded(|c| c.is_ascii_alphanumeric())
    }
    fn token_bounded(&self) -> bool {
        self.bounded(is_token_char)
    }
    fn before_token_bounded(&self) -> bool {
        let s = self.value.start();
        s == 0 || !is_token_char(self.text.as_bytes()[s - 1])
    }
    /// The part of the value after `prefix_len` bytes is a real value, not `xxxx` or `1234...`.
    fn tail_varied(&self, prefix_len: usize) -> bool {
        let v = self.v();
        !entropy::low_variety(&v[prefix_len.min(v.len())..])
    }
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// One pattern of a rule, with its check.
struct Matcher {
    rule: &'static Rule,
    re: Regex,
    /// The capture group holding the value (`None`: the whole match).
    group: Option<&'static str>,
    check: fn(&Cand) -> bool,
    /// Files it applies to.
    when: fn(&FileClass) -> bool,
}

fn any_file(_: &FileClass) -> bool {
    true
}

/// The credential-sounding names of generic assignments: the key must end with one of them.
const KEYWORDS: &str = r"password|passwd|passphrase|pwd|pass|secret|token|secret[_.-]?key[_.-]?base|api[_.-]?key|access[_.-]?key|secret[_.-]?key|private[_.-]?key|auth[_.-]?key|account[_.-]?key|master[_.-]?key|encryption[_.-]?key|signing[_.-]?key|credentials?";

/// A value: double-quoted, single-quoted or bare (up to a space, a comment, a delimiter, a
/// backtick (Markdown) or a backslash (an escape inside a string in code)).
/// Unbounded (a counted repetition of a Unicode class makes an automaton too large for the fast
/// engines); [`entropy::looks_random`] bounds the length.
const VALUE: &str = r#"(?P<v>"[^"\n]+"|'[^'\n]+'|[^ \t\r\n"'`\\#,;)}\]]+)"#;

fn matchers() -> Vec<Matcher> {
    let m = |rule: &'static Rule,
             pattern: &str,
             group: Option<&'static str>,
             check: fn(&Cand) -> bool| Matcher {
        rule,
        re: Regex::new(pattern).unwrap_or_else(|e| panic!("rule {}: {e}", rule.id)),
        group,
        check,
        when: any_file,
    };
    let generic_key = format!(r"(?P<key>[A-Za-z0-9_.-]*(?i:{KEYWORDS}))");
    let mut all = vec![
        m(
            &GCP_SERVICE_ACCOUNT_KEY,
            r#""private_key"[ \t]*:[ \t]*"(?P<v>-----BEGIN [A-Z ]*PRIVATE KEY-----[^"\n]*)"#,
            Some("v"),
            |_| true,
        ),
        m(
            &PRIVATE_KEY,
            r"-----BEGIN[ A-Z0-9]*PRIVATE KEY-----",
            None,
            pem_check,
        ),
        m(
            &PGP_PRIVATE_KEY,
            r"-----BEGIN PGP PRIVATE KEY BLOCK-----",
            None,
            pem_check,
        ),
        m(
            &PUTTY_PRIVATE_KEY,
            r"PuTTY-User-Key-File-[0-9]+: [a-z0-9-]+|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----",
            None,
            |_| true,
        ),
        m(
            &AGE_IDENTITY,
            r"AGE-SECRET-KEY-1[A-Za-z0-9]{50,}",
            None,
            |_| true,
        ),
        m(
            &PRIVATE_KEY_BASE64,
            r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{8,}={0,2}",
            None,
            |c| base64_pem_private_key(c.v()),
        ),
        m(
            &AWS_ACCESS_KEY_ID,
            r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
            None,
            |c| c.alnum_bounded() && !c.v().ends_with("EXAMPLE") && c.tail_varied(4),
        ),
        m(
            &AWS_SECRET_ACCESS_KEY,
            r#"(?i)(?:secret[_.-]?access[_.-]?key|aws[_.-]?secret[_.-]?key)["']?[ \t]*(?:=|:|=>)[ \t]*["']?(?P<v>[A-Za-z0-9/+]{40})"#,
            Some("v"),
            |c| {
                c.bounded(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
                    && !entropy::is_placeholder(c.v())
                    && entropy::shannon(c.v()) >= 3.5
            },
        ),
        m(&GITHUB_TOKEN, r"gh[pousr]_[A-Za-z0-9]{36,}", None, |c| {
            c.token_bounded() && c.tail_varied(4)
        }),
        m(
            &GITHUB_FINE_GRAINED_TOKEN,
            r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
            None,
            |c| c.token_bounded() && c.tail_varied(11),
        ),
        m(
            &GITLAB_TOKEN,
            r"(?:glpat|gloas|gldt|glrt|glcbt|glptt|glft|glimt|glagent|glsoat|glffct)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,}",
            None,
            |c| c.token_bounded() && c.tail_varied(c.v().find('-').map_or(9, |i| i + 1)),
        ),
        m(
            &SLACK_TOKEN,
            r"xox[abposr]-[0-9]{6,}-[0-9A-Za-z-]{8,}|xoxe(?:\.xox[bp])?-1-[0-9A-Za-z-]{20,}|xapp-[0-9]+-[A-Z0-9]+-[0-9]+-[a-f0-9]{20,}",
            None,
            |c| c.token_bounded() && !entropy::low_variety(c.v().rsplit('-').next().unwrap_or("")),
        ),
        m(
            &SLACK_WEBHOOK,
            r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9/_-]{30,})",
            Some("v"),
            |c| {
                let last = c.v().rsplit('/').next().unwrap_or("");
                last.len() >= 16 && !entropy::low_variety(last)
            },
        ),
        m(
            &STRIPE_KEY,
            r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}",
            None,
            |c| c.token_bounded() && c.tail_varied(8),
        ),
        m(
            &SENDGRID_KEY,
            r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
            None,
            |c| c.token_bounded() && c.tail_varied(3),
        ),
        m(&TWILIO_API_KEY, r"SK[0-9a-fA-F]{32}", None, |c| {
            c.alnum_bounded() && c.tail_varied(2)
        }),
        m(
            &OPENAI_KEY,
            r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}",
            None,
            |c| c.token_bounded() && c.tail_varied(3),
        ),
        m(&ANTHROPIC_KEY, r"sk-ant-[A-Za-z0-9_-]{20,}", None, |c| {
            c.before_token_bounded()
        }),
        m(&HUGGINGFACE_TOKEN, r"hf_[A-Za-z]{34}", None, |c| {
            c.token_bounded()
        }),
        m(&NPM_TOKEN, r"npm_[A-Za-z0-9]{36}", None, |c| {
            c.token_bounded() && c.tail_varied(4)
        }),
        m(
            &PYPI_TOKEN,
            r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}|pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,}",
            None,
            |c| c.token_bounded(),
        ),
        m(&GCP_API_KEY, r"AIza[0-9A-Za-z_-]{35}", None, |c| {
            c.token_bounded() && c.tail_varied(4)
        }),
        m(
            &GOOGLE_OAUTH_SECRET,
            r"GOCSPX-[A-Za-z0-9_-]{28}",
            None,
            |c| c.token_bounded() && c.tail_varied(7),
        ),
        m(
            &AZURE_STORAGE_KEY,
            r"(?i:AccountKey|SharedAccessKey)[ \t]*=[ \t]*(?P<v>[A-Za-z0-9+/]{40,}={0,2})",
            Some("v"),
            |c| !entropy::is_placeholder(c.v()) && c.v() != AZURITE_KEY,
        ),
        m(
            &AZURE_SAS_TOKEN,
            r"[?&;]sig=(?P<v>[A-Za-z0-9%+/]{30,}(?:%3[Dd]|=){0,2})",
            Some("v"),
            |c| c.line.contains("sv=") && !entropy::is_placeholder(c.v()),
        ),
        m(&VAULT_TOKEN, r"hv[sbr]\.[A-Za-z0-9_-]{24,}", None, |c| {
            c.token_bounded() && c.tail_varied(4)
        }),
        m(
            &TAILSCALE_KEY,
            r"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}",
            None,
            |c| c.token_bounded() && !entropy::low_variety(c.v().rsplit('-').next().unwrap_or("")),
        ),
        m(&DIGITALOCEAN_TOKEN, r"do[opr]_v1_[a-f0-9]{64}", None, |c| {
            c.token_bounded() && c.tail_varied(7)
        }),
        m(&DOCKERHUB_TOKEN, r"dckr_pat_[A-Za-z0-9_-]{27}", None, |c| {
            c.token_bounded() && c.tail_varied(9)
        }),
        m(
            &DISCORD_WEBHOOK,
            r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/(?P<v>[A-Za-z0-9_-]{60,})",
            Some("v"),
            |c| !entropy::low_variety(c.v()),
        ),
        m(
            &TELEGRAM_BOT_TOKEN,
            r"[0-9]{8,10}:AA[A-Za-z0-9_-]{33}",
            None,
            |c| c.token_bounded() && c.tail_varied(13),
        ),
        m(
            &GRAFANA_TOKEN,
            r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}",
            None,
            |c| c.before_token_bounded() && c.tail_varied(5),
        ),
        m(
            &CLOUDFLARE_TOKEN,
            r"cf[ua]t_[A-Za-z0-9_-]{20,}",
            None,
            |c| c.before_token_bounded(),
        ),
        m(&LITELLM_KEY, r"sk-[0-9a-fA-F]{64}", None, |c| {
            c.token_bounded()
        }),
        m(
            &JWT,
            r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}",
            None,
            |c| c.token_bounded() && jwt_check(c.v()),
        ),
        m(&BOOTSTRAP_TOKEN, r"[a-z0-9]{6}\.[a-z0-9]{16}", None, |c| {
            let v = c.v();
            let secret = &v[7..];
            c.alnum_bounded()
                && c.line.to_ascii_lowercase().contains("token")
                && secret.bytes().any(|b| b.is_ascii_digit())
                && secret.bytes().any(|b| b.is_ascii_lowercase())
                && !entropy::low_variety(secret)
        }),
        m(
            &BCRYPT_HASH,
            r"\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}",
            None,
            |c| {
                c.before_token_bounded()
                    && c.text
                        .as_bytes()
                        .get(c.value.end())
                        .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/'))
            },
        ),
        m(&HEX_SECRET, r"[0-9a-f]{64}", None, |c| {
            !c.class.lock && c.token_bounded() && !hashy(c.line)
        }),
        m(
            &DOCKER_CONFIG_AUTH,
            r#""auth"[ \t]*:[ \t]*"(?P<v>[A-Za-z0-9+/]{6,}={0,2})""#,
            Some("v"),
            |c| docker_auth_check(c.v()),
        ),
        m(
            &URL_CREDENTIALS,
            r#"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{1,30})://(?P<user>[^\s:/?#@"'<>`]*):(?P<v>[^\s/?#@"'<>`]+)@(?P<host>[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])"#,
            Some("v"),
            url_check,
        ),
        // Generic assignments: `key: value`, `KEY=value`, `"key": "value"`, `key := "value"`.
        m(
            &GENERIC_CREDENTIAL,
            &format!(r#"{generic_key}["']?[ \t]*(?:=|:=|\?=|=>|:)[ \t]*{VALUE}"#),
            Some("v"),
            generic_check,
        ),
        // A Kubernetes env entry: `- name: DB_PASSWORD` then `value: ...`.
        m(
            &GENERIC_CREDENTIAL,
            &format!(
                r#"name:[ \t]*["']?{generic_key}["']?[ \t]*\r?\n[ \t]*(?:-[ \t]+)?value:[ \t]*{VALUE}"#
            ),
            Some("v"),
            generic_check,
        ),
        // The same in JSON: `{"name": "DB_PASSWORD", "value": "..."}`.
        m(
            &GENERIC_CREDENTIAL,
            &format!(
                r#""name"[ \t]*:[ \t]*"{generic_key}"[ \t]*,[ \t]*"value"[ \t]*:[ \t]*{VALUE}"#
            ),
            Some("v"),
            generic_check,
        ),
        // A command-line flag: `--password VALUE`, `--api-token=VALUE`.
        m(
            &GENERIC_CREDENTIAL,
            &format!(r#"--{generic_key}(?:=|[ \t]+){VALUE}"#),
            Some("v"),
            generic_check,
        ),
        // XML elements: `<password>VALUE</password>`.
        m(
            &GENERIC_CREDENTIAL,
            &format!(r#"<{generic_key}>(?P<v>[^<\n]+)</"#),
            Some("v"),
            generic_check,
        ),
    ];
    // .netrc: `machine HOST login USER password VALUE`.
    all.push(Matcher {
        when: |c| c.netrc,
        ..m(
            &GENERIC_CREDENTIAL,
            r"(?:^|[ \t])(?P<key>password)[ \t]+(?P<v>[^ \t\r\n]+)",
            Some("v"),
            |c| !entropy::is_placeholder(c.v()) && c.v().len() >= 6,
        )
    });
    all
}

static MATCHERS: LazyLock<Vec<Matcher>> = LazyLock::new(matchers);

/// Azurite's storage key: published for the local emulator, not a secret
/// (https://learn.microsoft.com/en-us/azure/storage/common/storage-use-azurite#http-connection-strings).
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Values published as examples or for local emulators, whatever name they stand under:
/// Azurite's key, jwt.io's sample token, anything an example marker makes a placeholder.
fn published_example(v: &str) -> bool {
    v == AZURITE_KEY
        || (v.starts_with("eyJ") && v.matches('.').count() == 2 && !jwt_check(v))
        || entropy::is_placeholder(v)
}

/// Words that say a hex run on the line is a checksum: digests, Terraform's `h1:`/`zh:` provider
/// hashes, Helm's `checksum/config` annotations, npm's integrity.
fn hashy(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "sha256",
        "sha512",
        "sha1",
        "checksum",
        "digest",
        "integrity",
        "hash",
        "fingerprint",
        "zh:",
        "h1:",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// A PEM header that opens a key: not a string constant in code (`"-----BEGIN ... KEY-----"`
/// with nothing after it) nor a documentation example whose body is `...`.
fn pem_check(c: &Cand) -> bool {
    let b = c.text.as_bytes();
    let (s, e) = (c.value.start(), c.value.end());
    if s > 0
        && let Some(q) = b.get(e)
        && b"\"'`".contains(q)
        && b[s - 1] == *q
    {
        return false;
    }
    let mut rest = c.text[e..].split('\n').skip(1).map(str::trim);
    match (rest.next(), rest.next()) {
        (Some(body), Some(end)) if end.starts_with("-----END") => !matches!(
            body,
            "..." | "…" | "<...>" | "[...]" | "<snip>" | "(redacted)" | "REDACTED" | "<redacted>"
        ),
        _ => true,
    }
}

/// Base64 whose text starts with a PEM private-key header.
fn base64_pem_private_key(v: &str) -> bool {
    let head = &v[..v.len().min(128) / 4 * 4];
    base64::engine::general_purpose::STANDARD
        .decode(head)
        .ok()
        .is_some_and(|d| {
            let first = d.split(|b| *b == b'\n').next().unwrap_or(&[]);
            let first = String::from_utf8_lossy(first);
            first.starts_with("-----BEGIN") && first.contains("PRIVATE KEY")
        })
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

/// A JWT whose header names an algorithm and that is not a published sample (jwt.io's) nor a
/// Supabase-style public `anon` key.
fn jwt_check(v: &str) -> bool {
    let mut parts = v.split('.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Some(header) = b64url(h).and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    else {
        return false;
    };
    if header
        .get("alg")
        .and_then(|a| a.as_str())
        .is_none_or(|a| a.eq_ignore_ascii_case("none"))
    {
        return false;
    }
    let payload = b64url(p)
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .unwrap_or_default();
    let s = |k: &str| payload.get(k).and_then(|x| x.as_str()).unwrap_or("");
    !(s("name") == "John Doe" && s("sub") == "1234567890") && s("role") != "anon"
}

/// `"auth"` of a docker config: base64 of `user:password` with a real password.
fn docker_auth_check(v: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(v) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
    match text.split_once(':') {
        Some((user, pass)) => {
            !user.is_empty() && !entropy::is_placeholder(pass) && pass != user && pass.len() >= 4
        }
        None => false,
    }
}

/// Passwords documentation and local setups use: not a leak.
const DUMMY_PASSWORDS: [&str; 16] = [
    "password", "pass", "passwd", "pwd", "secret", "changeme", "admin", "root", "guest", "user",
    "postgres", "mysql", "redis", "rabbitmq", "mongo", "test",
];

/// A URL with a literal password, to a real host.
fn url_check(c: &Cand) -> bool {
    let pw = c.v();
    let user = c.get("user");
    let host = c.get("host").to_ascii_lowercase();
    let decoded = percent_decode(pw);
    if entropy::is_placeholder(&decoded)
        || pw.starts_with('$')
        || pw.starts_with('%')
        || decoded == user
        || DUMMY_PASSWORDS.contains(&decoded.to_ascii_lowercase().as_str())
        || decoded.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    // Documentation hosts (RFC 2606): example.com/.net/.org, .example, .invalid, .test.
    let doc = ["example.com", "example.net", "example.org"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || [".example", ".invalid", ".test"]
            .iter()
            .any(|t| host.ends_with(t));
    !doc && !host.is_empty()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = [b[i + 1], b[i + 2]];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).unwrap_or("0"), 16).unwrap_or(0));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A generic assignment whose value is a literal credential.
fn generic_check(c: &Cand) -> bool {
    // `checksum/secret: <sha256>` (Helm's restart annotations), `password_sha256: ...`.
    if hashy(c.line) {
        return false;
    }
    let key = c.get("key");
    // `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`: a word inside a colon-separated name,
    // not a key (`//registry/:_authToken=` is one: `=` follows it).
    if let Some(k) = c.caps.name("key")
        && k.start() > 0
        && c.text.as_bytes()[k.start() - 1] == b':'
        && c.text[k.end()..]
            .trim_start_matches(['"', '\''])
            .starts_with(':')
        && !c.text[k.end()..]
            .trim_start_matches(['"', '\''])
            .starts_with(":=")
    {
        return false;
    }
    let lower = key.to_ascii_lowercase();
    // `bypass`, `compass`: a word that ends in "pass" is no password.
    if lower.ends_with("pass") && !lower.ends_with("passpass") {
        let before = key.len() - 4;
        if before > 0 && key.as_bytes()[before - 1].is_ascii_lowercase() {
            return false;
        }
    }
    let raw = c.v();
    let quoted = raw.len() >= 2
        && (raw.starts_with('"') && raw.ends_with('"')
            || raw.starts_with('\'') && raw.ends_with('\''));
    let v = if quoted { &raw[1..raw.len() - 1] } else { raw };
    if !quoted && is_code(v) {
        return false;
    }
    // A YAML alias, anchor or tag, a Ruby symbol.
    if v.starts_with(['*', '&', '!']) || published_example(v) {
        return false;
    }
    // Another key named (`AccountKey=`/`SharedAccessKey=` in a sentence).
    let named = v.trim_start_matches('/').trim_end_matches(['=', ':']);
    if named.len() < v.len() && entropy::is_identifier(named) {
        return false;
    }
    entropy::credential_value(v)
}

/// An unquoted value that is code, not a literal: a call, an index, an attribute
/// (`os.environ["X"]`, `process.env.DB_PASSWORD`, `var.db_password`, `get_secret(...)`).
fn is_code(v: &str) -> bool {
    if v.contains(['(', '[', '{', '<']) {
        return true;
    }
    // `a.b.c` whose every part is a name (`process.env.DB_PASSWORD`), not random letters
    // around a dot.
    let mut parts = v.split('.');
    v.contains('.')
        && parts.all(|p| {
            p.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && (p.len() <= 4
                    || entropy::is_identifier(p)
                    || p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    || p.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
        })
}

/// Where the lines of `text` start.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// How deep base64 inside base64 is followed.
const MAX_DEPTH: usize = 3;
/// The largest gzip payload inflated.
const MAX_INFLATED: u64 = 16 << 20;

/// Every rule over `text`: the first match per line, in rule order, then what hides in base64
/// runs on the lines left. Lines are 0-based.
pub fn find(text: &str, class: &FileClass) -> Vec<Hit> {
    find_at(text, class, 0)
}

fn find_at(text: &str, class: &FileClass, depth: usize) -> Vec<Hit> {
    let starts = line_starts(text);
    let line_of = |offset: usize| starts.partition_point(|s| *s <= offset) - 1;
    let line_text = |i: usize| {
        let end = starts.get(i + 1).map_or(text.len(), |e| e - 1);
        &text[starts[i]..end]
    };
    let mut best: BTreeMap<usize, Hit> = BTreeMap::new();
    for matcher in MATCHERS.iter() {
        if !(matcher.when)(class) {
            continue;
        }
        for caps in matcher.re.captures_iter(text) {
            let value = match matcher.group {
                Some(g) => match caps.name(g) {
                    Some(v) => v,
                    None => continue,
                },
                None => caps.get(0).expect("group 0"),
            };
            let line = line_of(value.start());
            if best.contains_key(&line) {
                continue;
            }
            let cand = Cand {
                text,
                caps: &caps,
                value,
                line: line_text(line),
                class,
            };
            if !(matcher.check)(&cand) {
                continue;
            }
            let digest =
                if matcher.rule.id == PRIVATE_KEY.id || matcher.rule.id == PGP_PRIVATE_KEY.id {
                    ValueDigest::of(pem_block(text, value.start()).as_bytes())
                } else {
                    ValueDigest::of(value.as_str().as_bytes())
                };
            best.insert(
                line,
                Hit {
                    line,
                    rule: matcher.rule,
                    digest,
                    nested: false,
                },
            );
        }
    }
    if depth < MAX_DEPTH {
        for (line, payload) in base64_runs(text, &starts) {
            if best.contains_key(&line) {
                continue;
            }
            if let Some(inner) = decode_payload(&payload)
                && let Some(h) = find_at(&inner, class, depth + 1).into_iter().next()
            {
                best.insert(
                    line,
                    Hit {
                        line,
                        rule: h.rule,
                        digest: h.digest,
                        nested: true,
                    },
                );
            }
        }
    }
    best.into_values().collect()
}

/// The PEM block starting at `start`, up to its END line (at most 64 KiB).
fn pem_block(text: &str, start: usize) -> &str {
    let rest = &text[start..];
    let limit = rest.len().min(64 << 10);
    let mut cut = limit;
    while !rest.is_char_boundary(cut) {
        cut -= 1;
    }
    let window = &rest[..cut];
    match window.find("-----END") {
        Some(i) => {
            let end = window[i..].find('\n').map_or(window.len(), |j| i + j);
            &window[..end]
        }
        None => window.split('\n').next().unwrap_or(window),
    }
}

static BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/]{40,}={0,2}").expect("regex"));

/// Base64 runs of 40 characters or more, with the line each starts on; a run that fills its
/// line goes on over the following lines that hold nothing but base64 (wrapped output).
fn base64_runs(text: &str, starts: &[usize]) -> Vec<(usize, String)> {
    let line_of = |offset: usize| starts.partition_point(|s| *s <= offset) - 1;
    let mut runs = Vec::new();
    let mut skip_until = 0;
    for m in BASE64_RUN.find_iter(text) {
        if m.start() < skip_until {
            continue;
        }
        let mut payload = m.as_str().to_string();
        let mut end = m.end();
        // Wrapped: the run ends its line, is a whole number of quanta, and the next lines are
        // base64 only.
        while payload.len().is_multiple_of(4) && !payload.ends_with('=') {
            let rest = &text[end..];
            let line_end = rest.find('\n');
            if line_end.is_none_or(|i| !rest[..i].trim().is_empty()) {
                break;
            }
            let next_start = end + line_end.unwrap_or(0) + 1;
            let next = text[next_start..].split('\n').next().unwrap_or("");
            let piece = next.trim();
            if piece.len() < 4
                || !piece
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
            {
                break;
            }
            payload.push_str(piece);
            end = next_start + next.len();
        }
        skip_until = end;
        runs.push((line_of(m.start()), payload));
    }
    runs
}

/// Standard base64, padded or not, wrapped output cut anywhere.
static LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The text a base64 payload holds (gzip inflated), when it is text.
fn decode_payload(payload: &str) -> Option<String> {
    let trimmed = payload.trim_end_matches('=');
    // A lone character after the last whole quantum carries no byte.
    let usable = &trimmed[..trimmed.len() - usize::from(trimmed.len() % 4 == 1)];
    let bytes = LENIENT.decode(usable).ok()?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        // A truncated stream still gives what it inflated before the cut.
        let _ = flate2::read::GzDecoder::new(&bytes[..])
            .take(MAX_INFLATED)
            .read_to_end(&mut out);
        if out.is_empty() {
            return None;
        }
        out
    } else {
        bytes
    };
    let text = std::str::from_utf8(&bytes).ok()?;
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    (control * 100 <= text.len()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<(usize, &'static str)> {
        find(text, &FileClass::default())
            .iter()
            .map(|h| (h.line, h.rule.id))
            .collect()
    }

    #[test]
    fn every_rule_has_a_source_and_a_fix() {
        for r in all() {
            assert!(r.source.starts_with("https://"), "{}", r.id);
            assert!(!r.fix.is_empty() && !r.what.is_empty(), "{}", r.id);
        }
        let n = all().count();
        let mut ids: Vec<_> = all().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "ids are unique");
        assert!(MATCHERS.len() >= n, "every pattern compiles");
        assert_eq!(by_id("jwt"), Some(&JWT));
    }

    #[test]
    fn the_first_rule_of_a_line_wins_and_lines_are_counted() {
        let text =
            "a: 1\nkey: AKIAZ7QWERTYUIOPASDF password: Xk9mQ2vL7pRt\n\npassword: Xk9mQ2vL7pRt\n";
        assert_eq!(
            ids(text),
            vec![(1, "aws-access-key-id"), (3, "generic-credential")]
        );
    }

    #[test]
    fn documentation_examples_are_not_credentials() {
        for line in [
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "url: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;",
            "token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "kubeadm join --token abcdef.0123456789abcdef 10.0.0.1:6443",
            "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app",
            "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app",
            "proxy: http://user:s3cr3tPa55@proxy.example.com:3128",
            "    key = \"-----BEGIN RSA PRIVATE KEY-----\"",
        ] {
            assert_eq!(ids(line), vec![], "{line}");
        }
        let doc = "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(ids(doc), vec![]);
    }

    #[test]
    fn base64_pem_keys_are_found_through_their_wrappers() {
        let pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oDnOOKP3hbfhoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n";
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let direct = format!("data:\n  tls.key: {}\n", b64(pem));
        let hits = find(&direct, &FileClass::default());
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].line, hits[0].rule.id), (1, "private-key-base64"));
        assert!(hits[0].rule.hard && !hits[0].nested);
        // A Secret manifest, base64-encoded as a whole (a Cluster API resource set): nested.
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: k}}\ndata:\n  tls.key: {}\n",
            b64(pem)
        );
        let crs = format!("data:\n  key.yaml: {}\n", b64(&secret));
        let hits = find(&crs, &FileClass::default());
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert!(hits[0].nested && hits[0].rule.hard && hits[0].line == 1);
        // gzip+base64, wrapped at 76 characters (cloud-init `encoding: gz+b64`).
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, secret.as_bytes()).unwrap();
        let packed = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let wrapped: Vec<String> = packed
            .as_bytes()
            .chunks(76)
            .map(|c| format!("      {}", String::from_utf8_lossy(c)))
            .collect();
        let cloud_init = format!(
            "write_files:\n  - path: /var/lib/k.yaml\n    encoding: gz+b64\n    content: |\n{}\n",
            wrapped.join("\n")
        );
        let hits = find(&cloud_init, &FileClass::default());
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!((hits[0].line, hits[0].rule.id), (4, "private-key-base64"));
        // A certificate is not a key.
        let cert = b64("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        assert_eq!(ids(&format!("ca.crt: {cert}")), vec![]);
    }

    #[test]
    fn the_digest_is_of_the_value_and_debug_hides_it() {
        let a = find(
            "token: ghp_Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5\n",
            &FileClass::default(),
        );
        let b = find(
            "other: ghp_Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5 # moved\n",
            &FileClass::default(),
        );
        assert_eq!(a[0].digest, b[0].digest);
        assert_eq!(format!("{:?}", a[0].digest), "ValueDigest(..)");
    }

    #[test]
    fn generic_assignments_in_every_syntax() {
        let v = "q8V2k3M9z7X1c4B6";
        for line in [
            format!("password: {v}"),
            format!("DB_PASSWORD={v}"),
            format!("export API_TOKEN=\"{v}\""),
            format!("\"clientSecret\": \"{v}\","),
            format!("db.password={v}"),
            format!("secret_key = '{v}'"),
            format!("docker login --password {v} registry"),
            format!("<password>{v}</password>"),
        ] {
            assert_eq!(ids(&line), vec![(0, "generic-credential")], "{line}");
        }
        let env = format!("env:\n  - name: DB_PASSWORD\n    value: \"{v}\"\n");
        assert_eq!(ids(&env), vec![(2, "generic-credential")]);
        for line in [
            "password: ${DB_PASSWORD}",
            "password: {{ .Values.db.password }}",
            "existingSecret: postgres-credentials",
            "passwordSecretName: db",
            "password = var.db_password",
            "password = os.environ[\"DB_PASSWORD\"]",
            "bypass: Xk9mQ2vL7pRtZ3",
            "max_tokens: 4096",
            "token: true",
            "secretKey: password",
            "adminPassword: prom-operator",
        ] {
            assert_eq!(ids(line), vec![], "{line}");
        }
    }
}
