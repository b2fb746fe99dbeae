//! What a writing run says: one summary per environment (text on stderr, or JSON on stdout),
//! the fleet's key x environment table, and the follow-up commands a rotation needs. Never a
//! value.

use std::collections::BTreeSet;

use sealstrap::bootstrap::{self, Line};
use sealstrap::contract::Contract;
use sealstrap::timefmt;
use serde_json::{Value, json};

use super::Outcome;
use super::request::Output;
use crate::workspace::error::Failure;
use crate::workspace::files::write_stdout;
use crate::workspace::reads::Reads;

/// The first line of a summary: the certificate and the folder.
pub fn cert_line(o: &Outcome) -> String {
    format!(
        "sealing for {} (RSA {}, expires {}) into {}{}",
        o.cert.fingerprint,
        o.cert.bits,
        timefmt::rfc3339(o.cert.not_after).get(..10).unwrap_or(""),
        o.out.display(),
        o.break_glass
            .as_ref()
            .map(|f| format!(", break-glass copies for {f}"))
            .unwrap_or_default()
    )
}

fn format_line(l: &Line) -> String {
    let mut s = format!("{:<12} {:<32} {}\n", l.status.as_str(), l.key, l.detail);
    if let Some(t) = &l.todo {
        s.push_str(&format!("{:<12} {:<32} -> {t}\n", "", ""));
    }
    s
}

fn entries_json(lines: &[Line]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| {
            json!({
                "key": l.key,
                "status": l.status.as_str(),
                "detail": l.detail,
                "todo": l.todo,
            })
        })
        .collect()
}

fn print_json(doc: &Value) -> Result<(), Failure> {
    write_stdout(format!("{}\n", serde_json::to_string_pretty(doc).expect("json")).as_bytes())
}

/// The summary of a run on one environment.
pub fn single(
    output: Output,
    dry_run: bool,
    o: &Outcome,
    follow_up: &[String],
) -> Result<(), Failure> {
    let todo = bootstrap::todo_summary(&o.plan.lines);
    match output {
        Output::Json => print_json(&json!({
            "out": o.out.display().to_string(),
            "paths": o.paths,
            "certificate_fingerprint": o.cert.fingerprint,
            "break_glass_fingerprint": o.break_glass,
            "dry_run": dry_run,
            "entries": entries_json(&o.plan.lines),
            "written": o.written,
            "dex_admin_password_copy": o.dex_copy.as_ref().map(|p| p.display().to_string()),
            "gitignore_updated": o.gitignore_added.as_ref().map(|p| p.display().to_string()),
            "notes": o.notes,
            "todo": todo,
            "follow_up": follow_up,
        })),
        Output::Text => {
            let mut s = String::new();
            s.push_str(&cert_line(o));
            s.push('\n');
            s.push_str(&format!("paths: {}\n", o.paths));
            for l in &o.plan.lines {
                s.push_str(&format_line(l));
            }
            if dry_run {
                s.push_str("dry run: nothing written\n");
            } else if o.written.is_empty() {
                s.push_str(&format!(
                    "nothing to write: {} is up to date\n",
                    o.out.display()
                ));
            } else {
                s.push_str(&format!("wrote {} file(s)\n", o.written.len()));
            }
            if let Some(p) = &o.dex_copy {
                s.push_str(&format!(
                    "{} the Dex admin password copy to {} (mode 0600; the only plaintext on disk)\n",
                    if dry_run { "would write" } else { "wrote" },
                    p.display()
                ));
            }
            if let Some(g) = &o.gitignore_added {
                s.push_str(&format!(
                    "{} a rule for the Dex admin password copy to {} so git ignores the plaintext\n",
                    if dry_run { "would add" } else { "added" },
                    g.display()
                ));
            }
            for n in &o.notes {
                s.push_str(&format!("note: {n}\n"));
            }
            for f in follow_up {
                s.push_str(&format!("next: {f}\n"));
            }
            match &todo {
                Some(t) => s.push_str(&format!("{t}\n")),
                None => s.push_str("nothing left to provide by hand\n"),
            }
            eprint!("{s}");
            Ok(())
        }
    }
}

/// The summary of a fleet run: each environment's line and notes, then one key x environment
/// table (text), or one JSON document.
pub fn fleet(
    output: Output,
    dry_run: bool,
    outcomes: &[(String, Outcome)],
    failed: &[(String, Failure)],
    passed: &[(String, String)],
    follow_up: &[String],
) -> Result<(), Failure> {
    if output == Output::Text {
        for (env, why) in passed {
            eprintln!("== {env}: passed by: {why}");
        }
        for (env, o) in outcomes {
            eprintln!(
                "== {env}: {}; {}",
                cert_line(o),
                if dry_run || !failed.is_empty() {
                    "nothing written".to_string()
                } else if o.written.is_empty() {
                    "up to date".to_string()
                } else {
                    format!("wrote {} file(s)", o.written.len())
                }
            );
            for n in &o.notes {
                eprintln!("   note: {n}");
            }
        }
    }
    // environment x key x state.
    let mut keys: Vec<String> = Vec::new();
    for (_, o) in outcomes {
        for l in &o.plan.lines {
            if !keys.contains(&l.key) {
                keys.push(l.key.clone());
            }
        }
    }
    let state = |o: &Outcome, k: &str| {
        o.plan
            .lines
            .iter()
            .find(|l| l.key == k)
            .map(|l| l.status.as_str())
            .unwrap_or("-")
    };
    match output {
        Output::Text => {
            let width = keys.iter().map(String::len).max().unwrap_or(3).max(3);
            let mut t = format!("{:width$}", "KEY");
            for (env, _) in outcomes {
                t.push_str(&format!("  {env:12}"));
            }
            t.push('\n');
            for k in &keys {
                t.push_str(&format!("{k:width$}"));
                for (_, o) in outcomes {
                    t.push_str(&format!("  {:12}", state(o, k)));
                }
                t.push('\n');
            }
            // What is left to provide, per environment, as a single run says it.
            for (env, o) in outcomes {
                for l in o.plan.lines.iter().filter(|l| l.todo.is_some()) {
                    t.push_str(&format!(
                        "{env}: {} {}: {}\n",
                        l.status.as_str(),
                        l.key,
                        l.todo.as_deref().unwrap_or("")
                    ));
                }
            }
            for f in follow_up {
                t.push_str(&format!("next: {f}\n"));
            }
            if !outcomes.is_empty() {
                eprint!("{t}");
            }
            Ok(())
        }
        Output::Json => print_json(&json!({
            "environments": outcomes.iter().map(|(env, o)| json!({
                "environment": env,
                "out": o.out.display().to_string(),
                "certificate_fingerprint": o.cert.fingerprint,
                "break_glass_fingerprint": o.break_glass,
                "written": o.written,
                "entries": entries_json(&o.plan.lines),
                "notes": o.notes,
            })).collect::<Vec<_>>(),
            "failed": failed.iter().map(|(e, f)| json!({"environment": e, "error": f.message})).collect::<Vec<_>>(),
            "passed": passed.iter().map(|(e, why)| json!({"environment": e, "why": why})).collect::<Vec<_>>(),
            "follow_up": follow_up,
        })),
    }
}

/// What to do after `seal` wrote: patch the ExternalSecrets and commit, or apply the folder.
pub fn after_seal(o: &Outcome) -> Vec<String> {
    match &o.reads {
        // In a repository: the ExternalSecrets must name the data key, then everything is
        // committed together (re-include rules, store file and Argo CD files included).
        Some(r) if !r.readers.is_empty() => vec![
            "`sealstrap patch-externalsecrets` so every ExternalSecret names property: value (`--check` in CI)"
                .into(),
            "review with `git status` and `git diff`, then `git add -A && git commit`; Argo CD syncs it (or `kubectl apply -k` the folder)"
                .into(),
        ],
        _ => vec![format!(
            "review with `git status` and `git diff`, commit {}, then `kubectl apply -k {}` (or let your GitOps tool do it)",
            o.out.display(),
            o.out.display()
        )],
    }
}

/// The ExternalSecret force-syncs and restarts a rotated key needs. The ExternalSecrets are the
/// tree's own (their names differ from the Secrets they write: `argocd-oidc` writes
/// `argocd-dex-oidc`); for a key no file of the tree reads (or outside a repository), the
/// contract's consumer Secrets are named instead.
pub fn after_rotation(
    contract: &Contract,
    keys: &BTreeSet<String>,
    reads: Option<&Reads>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for k in keys {
        let Some(e) = contract.entry(k) else {
            continue;
        };
        match reads.filter(|r| r.by_key.contains_key(k.as_str())) {
            Some(r) => {
                for id in r.readers.get(k.as_str()).into_iter().flatten() {
                    if seen.insert(id.clone()) {
                        let (ns, name) = id.split_once('/').unwrap_or(("default", id));
                        out.push(format!(
                            "kubectl annotate externalsecret -n {ns} {name} force-sync=$(date +%s) --overwrite"
                        ));
                    }
                }
                for at in r.by_key.get(k.as_str()).into_iter().flatten() {
                    if at.contains("(Helm values") && seen.insert(at.clone()) {
                        out.push(format!(
                            "force-sync the ExternalSecret the chart renders from {at} (kubectl get externalsecret -A names it)"
                        ));
                    }
                }
            }
            None => {
                for c in e.consumers {
                    for ns in c.namespaces {
                        if seen.insert(format!("{ns}/{}", c.secret)) {
                            out.push(format!(
                                "kubectl annotate externalsecret -n {ns} <the ExternalSecret that writes Secret {}> force-sync=$(date +%s) --overwrite   # kubectl get externalsecret -n {ns} names it",
                                c.secret
                            ));
                        }
                    }
                }
            }
        }
    }
    for k in keys {
        if let Some(e) = contract.entry(k) {
            // A key of sealstrap.yaml has no consumer in the contract: name what the tree says
            // reads it.
            let readers = reads
                .and_then(|r| r.readers.get(k.as_str()))
                .filter(|r| contract.is_extra(k) && !r.is_empty());
            let restart = match readers {
                Some(ids) => format!(
                    "the workloads that use the Secret written by ExternalSecret {}",
                    ids.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                None => e.restart.to_string(),
            };
            out.push(format!("after the sync, restart what reads {k}: {restart}"));
        }
    }
    out.insert(
        0,
        "commit the changed sealed files and let the sealed-secrets controller unseal them".into(),
    );
    out
}
