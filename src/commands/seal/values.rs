//! The values a run takes from outside: the value files read with the request, each key's
//! variable, a hidden prompt; and the one reader of a sealed value a run needs in the clear (the
//! Dex copy restored, a shared value carried, a break-glass copy added). Never printed.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use sealstrap::bootstrap::{self, Selected};
use sealstrap::contract::{Entry, Source};
use sealstrap::{manifests, objects};
use zeroize::Zeroizing;

use super::request::SealRequest;
use crate::workspace::error::Failure;
use crate::workspace::files::io_failure;

pub fn check_value(key: &str, value: &str, notes: &mut Vec<String>) -> Result<(), Failure> {
    match bootstrap::check_provided(key, value) {
        Ok(None) => Ok(()),
        Ok(Some(w)) => {
            notes.push(w);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Operator-provided (and imported) values for the entries this run will make: the value
/// files read with the request, then each key's variable, then a hidden prompt on a terminal.
pub fn provided_values(
    req: &SealRequest,
    selection: &[Selected],
    needs_value: &dyn Fn(&Entry) -> bool,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, Zeroizing<String>>, Failure> {
    let mut values = BTreeMap::new();
    for f in &req.value_files {
        let key = &f.key;
        let Some(sel) = selection.iter().find(|s| s.entry.key == key) else {
            notes.push(format!(
                "--value-file {key} ignored: this run does not touch {key}"
            ));
            continue;
        };
        if !sel.included {
            notes.push(format!(
                "--value-file {key} ignored: {key} is not needed ({})",
                sel.reason
            ));
            continue;
        }
        if !needs_value(&sel.entry) {
            notes.push(format!(
                "--value-file {key} ignored: sealed/{key}.yaml exists and is kept (use `sealstrap rotate {key}` to replace it)"
            ));
            continue;
        }
        check_value(key, &f.value, notes)?;
        if let Some(n) = &f.note {
            notes.push(n.clone());
        }
        values.insert(key.clone(), f.value.clone());
    }
    let interactive = std::io::stdin().is_terminal();
    for sel in selection.iter().filter(|s| s.included) {
        let e = &sel.entry;
        let Source::Provided { env, .. } = e.source else {
            continue;
        };
        if values.contains_key(e.key) || !needs_value(e) {
            continue;
        }
        if let Some(v) = std::env::var_os(env) {
            let v = Zeroizing::new(
                v.into_string()
                    .map_err(|_| Failure::new(format!("{env} is not valid UTF-8")))?,
            );
            check_value(e.key, &v, notes).map_err(|f| f.hint(format!("fix or unset {env}")))?;
            values.insert(e.key.to_string(), v);
            continue;
        }
        if interactive {
            let prompt = format!(
                "{} ({}; input hidden, empty to skip): ",
                e.key,
                e.need.describe()
            );
            let v = Zeroizing::new(rpassword::prompt_password(prompt).map_err(|err| {
                Failure::new(format!("cannot read {} from the terminal: {err}", e.key))
            })?);
            if v.is_empty() {
                continue;
            }
            check_value(e.key, &v, notes)?;
            values.insert(e.key.to_string(), v);
        }
    }
    Ok(values)
}

/// The plaintext of the sealed value `key` in the output folder `out`, opened with `keys`;
/// `hint` says which key it takes. The one reader of a sealed value a run needs in the clear
/// (the Dex copy restored, a shared value carried, a break-glass copy added).
pub fn read_sealed_value(
    out: &Path,
    keys: &[sealstrap::rsa::PrivateKey],
    key: &str,
    hint: &str,
) -> Result<Zeroizing<String>, Failure> {
    let path = out.join(manifests::sealed_path(key));
    let text = crate::workspace::files::read_repo_text(&path)?.ok_or_else(|| {
        io_failure(
            "cannot read",
            &path,
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })?;
    let docs = sealstrap::kubeseal::parse_sealed_stream(&text)
        .map_err(|e| Failure::at(path.display(), &e))?;
    let doc = docs
        .first()
        .ok_or_else(|| Failure::new(format!("{}: no SealedSecret", path.display())))?;
    let mut secret = objects::unseal_sealed_secret(doc, keys)
        .map_err(|f| Failure::new(format!("{}: {f}", path.display())).hint(hint))?;
    let value = secret.items.remove(manifests::VALUE_KEY).ok_or_else(|| {
        Failure::new(format!(
            "{}: no data key {}",
            path.display(),
            manifests::VALUE_KEY
        ))
    })?;
    let s = std::str::from_utf8(&value)
        .map_err(|_| Failure::new(format!("{}: the sealed value is not text", path.display())))?;
    Ok(Zeroizing::new(s.to_string()))
}
