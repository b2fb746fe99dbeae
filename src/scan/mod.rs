//! `scan`'s checks on one file's text: credentials by their documented shapes ([`rules`]),
//! generic assignments whose value looks random ([`entropy`]), plaintext Secrets, values that
//! look like the contract's formats outside sealed files, SealedSecrets sealed for another
//! certificate, and ExternalSecrets to the store without `property`; and what turns findings
//! into a report: [`baseline`] (acknowledged findings, by keyed fingerprint) and [`sarif`]
//! (SARIF 2.1.0 for code-scanning UIs). Pure; findings never quote a value.

pub mod baseline;
pub mod entropy;
pub mod rules;
pub mod sarif;

use serde_json::Value;

use crate::patch;
use crate::yaml;
use crate::yaml_text;

/// What kind of problem a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    PlaintextSecret,
    SecretLikeValue,
    StaleSealedSecret,
    MissingProperty,
    /// A file scan could not read (not a verdict on its content).
    Skipped,
    /// A journal or temporary file of a sealstrap write that was interrupted: the folder may be
    /// half old, half new, and a temporary file may hold a plaintext value.
    InterruptedWrite,
    /// A file a cluster needs from git (a SealedSecret, a store, a kustomization) that git
    /// ignores.
    IgnoredByGit,
    /// A file that must never be in git (the plaintext Dex copy, a journal) is tracked or
    /// staged.
    CommittedPlaintext,
    /// A sealing certificate (`controller.crt`, `--cert`) that has expired.
    ExpiredCertificate,
}

impl Kind {
    /// A value that leaked (a plaintext Secret, a credential, a tracked plaintext copy), or a
    /// file not read: what history keeps for good. The rest judge the tree as it is now (a
    /// missing property, a stale or ignored sealed file, an expired certificate, an unfinished
    /// write) and are fixed by the next commit, so `scan --history` does not report them.
    pub fn is_leak(self) -> bool {
        matches!(
            self,
            Kind::PlaintextSecret
                | Kind::SecretLikeValue
                | Kind::CommittedPlaintext
                | Kind::Skipped
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PlaintextSecret => "plaintext-secret",
            Kind::SecretLikeValue => "secret-like-value",
            Kind::StaleSealedSecret => "stale-sealed-secret",
            Kind::MissingProperty => "missing-property",
            Kind::Skipped => "skipped",
            Kind::InterruptedWrite => "interrupted-write",
            Kind::IgnoredByGit => "ignored-by-git",
            Kind::CommittedPlaintext => "committed-plaintext",
            Kind::ExpiredCertificate => "expired-certificate",
        }
    }
}

/// One finding, 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub kind: Kind,
    pub message: String,
    /// A finding no exclusion or inline allow can silence: a private key, an age identity, a
    /// tracked plaintext copy.
    pub hard: bool,
    /// Why it is allowed (an inline `sealstrap:allow REASON`, or an exclusion), when it is.
    pub allowed: Option<String>,
    /// The rule that matched, for value findings ([`rules::Rule::id`]).
    pub rule: Option<&'static str>,
    /// The SHA-256 of what was found (a value, a Secret's data), for baselines; never shown.
    pub digest: Option<rules::ValueDigest>,
}

impl Finding {
    pub fn new(line: usize, kind: Kind, message: impl Into<String>) -> Finding {
        Finding {
            line,
            kind,
            message: message.into(),
            hard: kind == Kind::CommittedPlaintext,
            allowed: None,
            rule: None,
            digest: None,
        }
    }

    /// The finding of a rule's hit at 1-based `line`.
    pub fn of_hit(hit: &rules::Hit, line: usize) -> Finding {
        let mut f = Finding::new(line, Kind::SecretLikeValue, hit.message());
        f.hard = hit.rule.hard;
        f.rule = Some(hit.rule.id);
        f.digest = Some(hit.digest);
        f
    }

    /// The id SARIF and baselines know it by: the rule for value findings, else the kind.
    pub fn rule_id(&self) -> &'static str {
        self.rule.unwrap_or(self.kind.as_str())
    }

    /// Marks it allowed for `reason`, unless it is hard.
    pub fn allow(&mut self, reason: &str) {
        if !self.hard && self.allowed.is_none() {
            self.allowed = Some(reason.to_string());
        }
    }
}

/// The marker that allows the findings of one line: `sealstrap:allow REASON` (in a comment).
pub const ALLOW_MARK: &str = "sealstrap:allow";

/// The reason of an inline allow on `line`: the text after the marker, up to the end of the
/// line (a closing comment token trimmed). `Some("")` when the marker has no reason.
pub fn inline_allow(line: &str) -> Option<&str> {
    let i = line.find(ALLOW_MARK)?;
    let rest = &line[i + ALLOW_MARK.len()..];
    if rest.starts_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_') {
        return None; // another word that starts with the marker
    }
    Some(
        rest.trim()
            .trim_start_matches([':', '-'])
            .trim()
            .trim_end_matches("-->")
            .trim_end_matches("*/")
            .trim(),
    )
}

/// What a file is, from its name: a manifest (YAML/JSON, manifest rules apply), a lock file of
/// a package manager (its checksums are public, not secrets), a template never synced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileClass {
    pub manifest: bool,
    pub lock: bool,
    pub template: bool,
    /// A `.netrc` (`machine HOST login USER password VALUE`).
    pub netrc: bool,
    /// Which certificate its SealedSecrets must be sealed for ([`Certs::slot`]).
    pub cert: CertSlot,
}

/// Where a file's expected certificate comes from: `--cert` (or none), or a sealed folder of
/// [`Certs::folders`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CertSlot {
    #[default]
    Given,
    Folder(usize),
}

/// A sealed folder and the certificates its files may be sealed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFolder {
    /// The folder relative to the top, `/`-separated, ending in `/`.
    pub prefix: String,
    /// The fingerprints accepted there (every certificate of the folder's bundle: the escrow
    /// holds their keys during an overlap).
    pub fingerprints: Vec<String>,
    /// What they are, for the finding ("the break-glass certificate recovery/bg.crt").
    pub what: String,
    /// A folder of break-glass copies: `--cert` (a cluster's certificate) never applies there.
    pub break_glass: bool,
}

/// Which certificate each sealed file must be sealed for (issue 25): `--cert` when given (the
/// cluster's current certificate), else its folder's (an environment's `controller.crt` or
/// `sealstrap.yaml`'s environment certificate); break-glass copies always the break-glass
/// certificate. A file in no known folder is checked against `--cert` only.
#[derive(Clone, Debug, Default)]
pub struct Certs {
    pub given: Option<String>,
    pub folders: Vec<CertFolder>,
}

impl Certs {
    /// The folder `rel` (relative to the top) lies in: the deepest that holds it.
    pub fn slot(&self, rel: &str) -> CertSlot {
        self.folders
            .iter()
            .enumerate()
            .filter(|(_, f)| rel.starts_with(&f.prefix))
            .max_by_key(|(_, f)| f.prefix.len())
            .map_or(CertSlot::Given, |(i, _)| CertSlot::Folder(i))
    }

    /// The fingerprints a file of `slot` may be sealed for, and what they are.
    fn expected(&self, slot: CertSlot) -> Option<(Vec<&str>, String)> {
        let given = || {
            self.given
                .as_deref()
                .map(|g| (vec![g], format!("--cert's {g}")))
        };
        match slot {
            CertSlot::Given => given(),
            CertSlot::Folder(i) => {
                let f = self.folders.get(i)?;
                if !f.break_glass
                    && let Some(g) = given()
                {
                    return Some(g);
                }
                Some((
                    f.fingerprints.iter().map(String::as_str).collect(),
                    f.what.clone(),
                ))
            }
        }
    }
}

/// Lock files whose lines are public checksums of public packages: Terraform's provider
/// hashes (`h1:`/`zh:`), Go's sums, npm/yarn/pnpm integrity, Cargo, Helm, Poetry, Bundler,
/// Composer, Nix.
const LOCK_FILES: [&str; 12] = [
    ".terraform.lock.hcl",
    "go.sum",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Cargo.lock",
    "Chart.lock",
    "poetry.lock",
    "Gemfile.lock",
    "composer.lock",
    "flake.lock",
];

pub fn classify(name: &str) -> FileClass {
    let base = name.rsplit('/').next().unwrap_or(name);
    FileClass {
        manifest: is_manifest_name(name) && !LOCK_FILES.contains(&base),
        lock: LOCK_FILES.contains(&base),
        template: base.ends_with(".example.yaml") || base.ends_with(".example.yml"),
        netrc: base == ".netrc" || base == "_netrc",
        cert: CertSlot::Given,
    }
}

/// [`classify`], and the sealed folder `name` lies in ([`Certs::slot`]).
pub fn classify_in(name: &str, certs: &Certs) -> FileClass {
    FileClass {
        cert: certs.slot(name),
        ..classify(name)
    }
}

/// What to look for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The certificates sealed files must be sealed for: SealedSecrets annotated with another
    /// are stale (or, in a cluster's folder, copied from another cluster).
    pub certs: Certs,
    /// Store and property for the ExternalSecret check.
    pub patch: patch::Options,
}

/// The fields of an Argo CD repository Secret that are no credential: where the repository is
/// and how to reach it (a `password`, `sshPrivateKey`, `bearerToken`, `tlsClientCertKey`,
/// `githubAppPrivateKey` or `gcpServiceAccountKey` is one).
const ARGO_REPOSITORY_FIELDS: [&str; 12] = [
    "url",
    "name",
    "type",
    "project",
    "enableOCI",
    "insecure",
    "insecureOCIForceHttp",
    "enableLfs",
    "proxy",
    "noProxy",
    "forceHttpBasicAuth",
    "depth",
];

/// The finding for a file that must never be in git (the plaintext Dex copy, a journal), by its
/// path as shown, when git tracks it, has it staged or has it in history.
pub fn never_in_git(shown: &str) -> Option<Finding> {
    let name = shown.rsplit('/').next().unwrap_or(shown);
    // A temporary file of the Dex copy (a killed write) holds the same plaintext.
    let dex_temp = crate::output::temp_base(name) == Some(crate::defaults::DEX_COPY_NAME);
    let message = if name == crate::defaults::DEX_COPY_NAME || dex_temp {
        "the plaintext Dex admin password copy is tracked or staged in git (ignore rules do not apply to a tracked file); unstage it (git rm --cached FILE), keep it ignored, and rotate it (sealstrap reset-dex-admin) if it was ever pushed".replace("FILE", shown)
    } else if name == crate::journal::JOURNAL_FILE_OUTSIDE_GIT
        || name == crate::journal::JOURNAL_NAME
    {
        format!(
            "a sealstrap journal is tracked or staged in git; sealstrap never reads a journal from the work tree (its own lives in .git), and a committed one is at best a mistake and at worst an attempt to move files on a clone: git rm --cached {shown}"
        )
    } else {
        return None;
    };
    Some(Finding::new(0, Kind::CommittedPlaintext, message))
}

/// Whether a file name is one `scan` parses as manifests.
pub fn is_manifest_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
}

/// How a file's bytes are read as text. Manifest rules need real text; value shapes and PEM
/// keys are looked for in every file, whatever its encoding.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// UTF-8 (lossy), checked with every rule.
    Text(String),
    /// UTF-16 with a byte-order mark, decoded; checked with every rule.
    Utf16(String),
    /// Binary (NUL bytes): NULs become line breaks, checked for value shapes and keys only.
    Binary(String),
}

/// Reads a file's bytes for scanning (pure). UTF-16 needs its byte-order mark; other files with
/// NUL bytes are binary.
pub fn decode(bytes: &[u8]) -> Decoded {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| {
                let pair = [c[0], *c.get(1).unwrap_or(&0)];
                if le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    if bytes.starts_with(&[0xff, 0xfe]) {
        return Decoded::Utf16(utf16(true));
    }
    if bytes.starts_with(&[0xfe, 0xff]) {
        return Decoded::Utf16(utf16(false));
    }
    if bytes.contains(&0) {
        let replaced: Vec<u8> = bytes
            .iter()
            .map(|b| if *b == 0 { b'\n' } else { *b })
            .collect();
        return Decoded::Binary(String::from_utf8_lossy(&replaced).into_owned());
    }
    Decoded::Text(String::from_utf8_lossy(bytes).into_owned())
}

/// Credential shapes and the contract's value formats only, no manifest rules (for binary
/// files and pieces of large ones). `first_line` is the 1-based number of the first line of
/// `text`.
pub fn scan_values(text: &str, first_line: usize, class: &FileClass) -> Vec<Finding> {
    let lines: Vec<&str> = text.split('\n').collect();
    rules::find(text, class)
        .iter()
        .map(|h| value_finding(h, lines[h.line], first_line + h.line))
        .collect()
}

/// Largest content checked with every rule; larger content is checked for credential shapes
/// and keys only, in pieces ([`scan_reader`]).
pub const MAX_FULL: u64 = 4 << 20;

/// Scans one file's bytes (at most [`MAX_FULL`]) whatever they hold: text and UTF-16 with
/// every rule, binary (NUL bytes) for credential shapes and keys.
pub fn scan_bytes(bytes: &[u8], class: &FileClass, opts: &Options) -> Vec<Finding> {
    match decode(bytes) {
        Decoded::Text(t) | Decoded::Utf16(t) => scan_text(&t, class, opts),
        Decoded::Binary(t) => scan_values(&t, 1, class),
    }
}

/// Scans large content from `reader` for credential shapes and keys, in pieces of about
/// 1 MiB cut at line ends (a longer line is cut at 1 MiB).
pub fn scan_reader(
    mut reader: impl std::io::BufRead,
    class: &FileClass,
) -> std::io::Result<Vec<Finding>> {
    const PIECE: usize = 1 << 20;
    let mut found = Vec::new();
    let mut first_line = 1;
    let mut piece: Vec<u8> = Vec::with_capacity(PIECE + 4096);
    loop {
        let n = std::io::BufRead::read_until(
            &mut std::io::Read::take(&mut reader, PIECE as u64),
            b'\n',
            &mut piece,
        )?;
        let full = piece.len() >= PIECE;
        if n > 0 && !full {
            continue;
        }
        if !piece.is_empty() {
            let text = match decode(&piece) {
                Decoded::Text(t) | Decoded::Utf16(t) | Decoded::Binary(t) => t,
            };
            let text = text.strip_suffix('\n').unwrap_or(&text);
            found.extend(scan_values(text, first_line, class));
            first_line += piece.iter().filter(|b| **b == b'\n').count();
            piece.clear();
        }
        if n == 0 {
            return Ok(found);
        }
    }
}

/// The finding of a hit on `line`, with its inline allow.
fn value_finding(hit: &rules::Hit, line: &str, at: usize) -> Finding {
    let mut f = Finding::of_hit(hit, at);
    match inline_allow(line) {
        Some("") => f
            .message
            .push_str(" (a sealstrap:allow here needs a reason after it)"),
        Some(reason) => f.allow(reason),
        None => {}
    }
    f
}

/// The SHA-256 of a Secret's data and stringData (canonical JSON), for baselines.
fn secret_data_digest(doc: &Value) -> rules::ValueDigest {
    let data = serde_json::json!([doc.get("data"), doc.get("stringData")]);
    rules::ValueDigest::of(data.to_string().as_bytes())
}

/// Scans one file of `class` (manifest rules for manifests; templates are never synced, so the
/// missing-property rule skips them). Findings on a line with `sealstrap:allow REASON` are
/// allowed (hard ones never).
pub fn scan_text(text: &str, class: &FileClass, opts: &Options) -> Vec<Finding> {
    let manifest = class.manifest;
    let mut findings = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    // Line ranges of the documents, to skip sealed ones in the value search and to place
    // findings.
    let mut sealed_ranges: Vec<std::ops::Range<usize>> = Vec::new();
    if manifest {
        // Each document on its own: a broken one neither hides a plaintext Secret beside it nor
        // moves its line. A Go/Helm template (`{{`) is no manifest until rendered: its broken
        // documents are expected, and its lines are still checked for value shapes below.
        let template = text.contains("{{");
        for d in yaml::parse_each(text) {
            let range = d.lines.clone();
            let doc = match d.value {
                Ok(doc) => doc,
                Err(e) => {
                    if !template {
                        findings.push(Finding::new(
                            range.start + 1,
                            Kind::Skipped,
                            format!(
                                "this document is not valid YAML ({}), so its manifest rules were not checked (the other documents were); fix it",
                                e.message
                            ),
                        ));
                    }
                    continue;
                }
            };
            let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
            let name = doc
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("(unnamed)");
            let at = yaml_text::line_starting(&lines, &range, "kind:").unwrap_or(range.start + 1);
            match kind {
                "Secret" if doc.get("apiVersion").and_then(Value::as_str) == Some("v1") => {
                    let has = |f: &str| {
                        doc.get(f)
                            .and_then(Value::as_object)
                            .is_some_and(|m| !m.is_empty())
                    };
                    // A SOPS-encrypted Secret (every value `ENC[...]`, a `sops:` block) is
                    // ciphertext, as a SealedSecret is (getsops/sops, stores/yaml).
                    let sops_encrypted = doc.get("sops").is_some_and(Value::is_object)
                        && ["data", "stringData"]
                            .iter()
                            .filter_map(|f| doc.get(*f).and_then(Value::as_object))
                            .flat_map(|m| m.values())
                            .all(|v| v.as_str().is_some_and(|s| s.starts_with("ENC[")));
                    // A chart's or Flux's Secret whose every value is filled in at deploy
                    // time (`{{ .Values.x | b64enc }}`, `${DB_PASSWORD}`) holds no value.
                    let templated = ["data", "stringData"]
                        .iter()
                        .filter_map(|f| doc.get(*f).and_then(Value::as_object))
                        .flat_map(|m| m.values())
                        .all(|v| v.as_str().is_some_and(entropy::is_template));
                    // An Argo CD repository Secret that holds only where and how to fetch (an
                    // OCI chart mirror: url, type, enableOCI) carries no credential
                    // (argo-cd.readthedocs.io, operator-manual/declarative-setup).
                    let repository_only = doc
                        .pointer("/metadata/labels/argocd.argoproj.io~1secret-type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t == "repository" || t == "repo-creds")
                        && ["data", "stringData"]
                            .iter()
                            .filter_map(|f| doc.get(*f).and_then(Value::as_object))
                            .flat_map(|m| m.keys())
                            .all(|k| ARGO_REPOSITORY_FIELDS.contains(&k.as_str()));
                    if (has("data") || has("stringData"))
                        && !sops_encrypted
                        && !templated
                        && !repository_only
                    {
                        let mut f = Finding::new(
                            at,
                            Kind::PlaintextSecret,
                            format!(
                                "Secret {name} carries data in plain text (base64 is not encryption); seal it (sealstrap kubeseal -f FILE -w sealed.yaml) and delete this file, then rotate the values: they are in git history"
                            ),
                        );
                        f.digest = Some(secret_data_digest(&doc));
                        findings.push(f);
                    }
                }
                "SealedSecret" => {
                    sealed_ranges.push(range.clone());
                    if let (Some((want, what)), Some(have)) = (
                        opts.certs.expected(class.cert),
                        crate::manifests::sealed_fingerprint(&doc),
                    ) && !want.contains(&have)
                    {
                        let fix = match class.cert {
                            CertSlot::Folder(i)
                                if opts.certs.folders.get(i).is_some_and(|f| f.break_glass) =>
                            {
                                "a break-glass copy sealed for another key is no recovery path: with that key, sealstrap reseal --break-glass --private-key KEY"
                            }
                            CertSlot::Folder(_) if opts.certs.given.is_none() => {
                                "copied from another cluster's folder, or sealed for a certificate this folder does not list: seal the value again here (sealstrap set KEY, or rotate), or with the key it was sealed for, sealstrap reseal --private-key KEY"
                            }
                            _ => "reseal it (sealstrap reseal --private-key OLD --cert NEW)",
                        };
                        findings.push(Finding::new(
                            at,
                            Kind::StaleSealedSecret,
                            format!(
                                "SealedSecret {name} is sealed for certificate {have}, not {what}; {fix}"
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        if !yaml::looks_like_json(text) && !class.template {
            for f in patch::read_text(text, &opts.patch)
                .findings
                .iter()
                .filter(|f| f.is_missing_property())
            {
                findings.push(Finding::new(
                    f.line,
                    Kind::MissingProperty,
                    format!(
                        "ExternalSecret {} reads {} without property: {} (ESO would hand over the whole Secret as JSON); run sealstrap patch-externalsecrets",
                        f.external_secret,
                        f.key.as_deref().unwrap_or("?"),
                        opts.patch.property
                    ),
                ));
            }
        }
    }
    for hit in rules::find(text, class) {
        if sealed_ranges.iter().any(|r| r.contains(&hit.line)) {
            continue;
        }
        findings.push(value_finding(&hit, lines[hit.line], hit.line + 1));
    }
    // A manifest finding on a line with an inline allow is allowed too.
    for f in findings
        .iter_mut()
        .filter(|f| f.kind != Kind::SecretLikeValue)
    {
        if let Some(reason) = lines
            .get(f.line.wrapping_sub(1))
            .and_then(|l| inline_allow(l))
            && !reason.is_empty()
        {
            f.allow(reason);
        }
    }
    findings.sort_by_key(|f| f.line);
    findings
}

/// A value shape found on a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub what: &'static str,
    /// Never allowed: a private key or an identity opens everything.
    pub hard: bool,
    /// The bare 64-hex shape, which lock files are full of (as checksums).
    pub bare_hex: bool,
    /// The rule that matched.
    pub rule: &'static str,
}

/// What a line holds that looks like a credential or one of the contract's value formats, if
/// anything (the first rule that matches, see [`rules`]).
pub fn secret_like(line: &str) -> Option<Shape> {
    rules::find(line, &FileClass::default())
        .first()
        .map(|h| Shape {
            what: h.rule.what,
            hard: h.rule.hard,
            bare_hex: h.rule.id == rules::HEX_SECRET.id,
            rule: h.rule.id,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_shapes() {
        let hex = "0123456789abcdef".repeat(4);
        assert!(secret_like(&format!("key: sk-{hex}")).is_some());
        // Terraform's provider hashes and Helm's checksum annotations are checksums.
        assert!(secret_like(&format!("    \"zh:{hex}\",")).is_none());
        assert!(secret_like(&format!("    checksum/config: {hex}")).is_none());
        let id = format!("AGE-SECRET-KEY-1{}", "Q".repeat(58));
        assert!(secret_like(&id).is_some_and(|s| s.hard));
        assert!(secret_like("# AGE-SECRET-KEY-1... goes in the identity file").is_none());
        assert!(secret_like(&format!("password: {hex}")).is_some());
        assert!(secret_like(&format!("image: app@sha256:{hex}")).is_none());
        assert!(secret_like(&format!("checksum = \"{hex}\"")).is_none());
        assert!(secret_like(&format!("x: {hex}0")).is_none(), "65 hex");
        assert!(secret_like(&format!("token: hf_{}", "a".repeat(34))).is_some());
        assert!(secret_like("token: sk-ant-api03-abcdefghijklmnopqrstuvwxyz").is_some());
        let h = bcrypt::hash_with_salt(b"x", 10, [0u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(secret_like(&format!("hash: '{h}'")).is_some());
        assert!(secret_like("name: litellm-master-key").is_none());
        assert!(secret_like("-----BEGIN RSA PRIVATE KEY-----").is_some());
        assert!(secret_like("-----BEGIN CERTIFICATE-----").is_none());
    }

    #[test]
    fn multi_byte_characters_before_a_value_do_not_panic() {
        let hex = "0123456789abcdef".repeat(4);
        assert!(secret_like(&format!("# café ✓ — password: {hex}")).is_some());
        assert!(secret_like(&format!("é{hex}")).is_some());
        for line in [
            "ä",
            "✓sk-",
            "日本語 hf_",
            "€$2a$",
            "sk-ant-é",
            "\u{1F600}cfut_",
        ] {
            let _ = secret_like(line);
        }
    }

    #[test]
    fn decoding_finds_keys_in_binary_and_utf16() {
        let key = b"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n\0";
        let Decoded::Binary(t) = decode(key) else {
            panic!("NUL means binary")
        };
        assert_eq!(scan_values(&t, 1, &FileClass::default()).len(), 1);
        let mut utf16 = vec![0xff, 0xfe];
        for u in "kind: Secret\n-----BEGIN PRIVATE KEY-----\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let Decoded::Utf16(t) = decode(&utf16) else {
            panic!("BOM means UTF-16")
        };
        assert!(t.starts_with("kind: Secret"));
        assert_eq!(scan_values(&t, 1, &FileClass::default())[0].line, 2);
        assert_eq!(decode(b"plain"), Decoded::Text("plain".into()));
    }

    #[test]
    fn secrets_and_sealed_secrets() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {pw: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: empty}\ndata: {}\n";
        let f = scan_text(text, &classify("x.yaml"), &Options::default());
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].kind), (2, Kind::PlaintextSecret));
        assert!(!f[0].message.contains(": x"));
    }

    #[test]
    fn a_secret_filled_in_at_deploy_time_holds_no_value() {
        let t = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: \"${DB_PASSWORD}\"\n  user: \"{{ .Values.user }}\"\n";
        assert!(scan_text(t, &classify("db.yaml"), &Options::default()).is_empty());
        let half = t.replace("\"{{ .Values.user }}\"", "admin");
        let f = scan_text(&half, &classify("db.yaml"), &Options::default());
        assert_eq!(f[0].kind, Kind::PlaintextSecret);
    }

    #[test]
    fn a_sops_encrypted_secret_is_ciphertext_and_a_half_encrypted_one_is_not() {
        let enc = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  mac: ENC[x]\n  version: 3.9.0\n";
        assert!(scan_text(enc, &classify("db.sops.yaml"), &Options::default()).is_empty());
        let half = enc.replace("stringData:\n", "stringData:\n  user: admin\n");
        let f = scan_text(&half, &classify("db.sops.yaml"), &Options::default());
        assert_eq!(f[0].kind, Kind::PlaintextSecret);
    }

    #[test]
    fn lock_files_inline_allows_and_hard_findings() {
        let hex = "0123456789abcdef".repeat(4);
        let lock = classify("terraform/.terraform.lock.hcl");
        assert!(lock.lock && !lock.manifest);
        let text = format!(
            "  hashes = [\n    \"{hex}\",\n  ]\nhf = \"hf_{}\"\n",
            "a".repeat(34)
        );
        let f = scan_text(&text, &lock, &Options::default());
        assert_eq!(
            f.len(),
            1,
            "the bare checksum is not a finding, the token is: {f:?}"
        );
        assert_eq!(f[0].line, 4);
        // An inline allow with a reason allows the line; without a reason it does not.
        let yaml = classify("a.yaml");
        let text = format!(
            "a: {hex}  # sealstrap:allow a public test vector\nb: {hex} # sealstrap:allow\n"
        );
        let f = scan_text(&text, &yaml, &Options::default());
        assert_eq!(f[0].allowed.as_deref(), Some("a public test vector"));
        assert_eq!(f[1].allowed, None);
        assert!(f[1].message.contains("needs a reason"), "{}", f[1].message);
        // A private key is never allowed.
        let text = "-----BEGIN RSA PRIVATE KEY----- # sealstrap:allow it is fine\n";
        let f = scan_text(text, &classify("k.txt"), &Options::default());
        assert!(f[0].hard && f[0].allowed.is_none());
        // Templates keep the value rules, not the missing-property rule.
        let es = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: t, namespace: n}\nspec:\n  secretStoreRef: {kind: ClusterSecretStore, name: secret-store}\n  data:\n    - secretKey: k\n      remoteRef: {key: x}\n";
        let opts = Options::default();
        assert_eq!(scan_text(es, &classify("t.yaml"), &opts).len(), 1);
        assert!(scan_text(es, &classify("t.example.yaml"), &opts).is_empty());
    }

    #[test]
    fn a_broken_document_hides_nothing_beside_it() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: [1, 2}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n";
        let f = scan_text(text, &classify("x.yaml"), &Options::default());
        let got: Vec<(usize, Kind)> = f.iter().map(|f| (f.line, f.kind)).collect();
        assert_eq!(
            got,
            vec![(1, Kind::Skipped), (7, Kind::PlaintextSecret)],
            "{f:?}"
        );
        // A Helm template's broken documents are expected; its Secret still counts when it parses.
        let helm = format!("{{{{- if .Values.x }}}}\n{text}");
        let f = scan_text(&helm, &classify("x.yaml"), &Options::default());
        assert!(f.iter().all(|f| f.kind != Kind::Skipped), "{f:?}");
    }

    #[test]
    fn findings_land_on_their_document_whatever_the_markers() {
        // Tab after `---`, a `...` end marker and a comment-only document: the shared text layer
        // (yaml_text) pairs each parsed document with its lines.
        let text = "# head\napiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {pw: x}\n---\t# second\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\nstringData: {pw: y}\n...\n---\n# nothing\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: c}\nstringData: {pw: z}\n";
        let f = scan_text(text, &classify("x.yaml"), &Options::default());
        let lines: Vec<usize> = f.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![3, 8, 16], "{f:?}");
    }

    #[test]
    fn a_base64_encoded_private_key_is_a_hard_finding() {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for pem in [
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
        ] {
            let line = format!("      tls.key: {}", b64(pem));
            let s = secret_like(&line).unwrap_or_else(|| panic!("{pem}"));
            assert!(s.hard, "{pem}");
        }
        // A certificate is public, and so is its base64.
        let crt = b64("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        assert_eq!(secret_like(&format!("tls.crt: {crt}")), None);
    }

    #[test]
    fn an_argo_cd_repository_secret_without_credentials_is_no_plaintext_secret() {
        let repo = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: r\n  namespace: argocd\n  labels:\n    argocd.argoproj.io/secret-type: repository\nstringData:\n  name: sealed-secrets\n  type: helm\n  url: registry.internal/charts\n  enableOCI: \"true\"\n";
        assert!(scan_text(repo, &classify("r.yaml"), &Options::default()).is_empty());
        let with_password = format!("{repo}  password: hunter2hunter2\n");
        let f = scan_text(&with_password, &classify("r.yaml"), &Options::default());
        assert!(f.iter().any(|f| f.kind == Kind::PlaintextSecret), "{f:?}");
        let unlabelled = repo.replace("argocd.argoproj.io/secret-type: repository", "app: x");
        let f = scan_text(&unlabelled, &classify("r.yaml"), &Options::default());
        assert!(f.iter().any(|f| f.kind == Kind::PlaintextSecret), "{f:?}");
    }
}
