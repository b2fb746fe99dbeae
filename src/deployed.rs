//! What an environment deploys: the files of the repository that Argo CD syncs to one cluster,
//! found by following its Applications and ApplicationSets the way Argo CD does, and the files it
//! would sync if a switched-off feature were on. Pure: the tree comes in as a [`Tree`] (a file
//! list and a reader); the command layer supplies the disk.
//!
//! The walk (docs/format.md §10, "What is deployed"):
//! - **Entry points**: every Application and ApplicationSet under `clusters/<env>/` outside its
//!   `catalog/` (the bootstrap the operator applies by hand). With none, every Application file
//!   under `clusters/<env>/catalog/` is an entry point (every group on).
//! - **ApplicationSets**: the list, git-files and git-directories generators, `matrix` of two,
//!   and post-selectors (`selector.matchLabels`, `matchExpressions` In/NotIn/Exists/DoesNotExist)
//!   are expanded into Applications; a parameter set the selector drops is a switched-off one,
//!   and what its Application would deploy is recorded as *off*, with the reason (argo-cd docs,
//!   operator-manual/applicationset/Generators-Git.md and Generators-Post-Selector.md).
//!   Templates are rendered for `{{key}}` (fasttemplate) and `{{.key}}` (goTemplate) references.
//! - **Applications**: each git source's `path` (a `chart` source deploys no file of the tree):
//!   a folder with a `kustomization.yaml` is built as kustomize does (`resources`, `components`,
//!   `bases`, `helmCharts[].valuesFile`); any other folder is a directory source, its YAML and
//!   JSON files (`directory.recurse`, `directory.include`/`exclude`). Applications and
//!   ApplicationSets found in deployed files are followed too (app of apps).
//!
//! Everything else in the tree (test golden files, examples, other environments) is neither
//! deployed nor off: never a conflict, never a key the cluster needs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value};

use crate::gitignore::glob_match;
use crate::yaml;

/// A repository as the walk sees it: every file (relative, `/`-separated) and a reader.
pub trait Tree {
    fn files(&self) -> &[String];
    fn read(&self, path: &str) -> Option<String>;
}

/// An Application the environment deploys (or would, with its feature on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    pub name: String,
    /// The file that defines it, or the ApplicationSet that generates it.
    pub from: String,
}

/// What an environment deploys.
#[derive(Debug, Default)]
pub struct Graph {
    /// Whether the environment has Argo CD entry points at all (`clusters/<env>/`); without
    /// them callers treat every file as deployed (the behaviour before this module).
    pub found: bool,
    /// Deployed files, each with the Application that deploys it.
    pub deployed: BTreeMap<String, String>,
    /// Files only a switched-off parameter set would deploy, with why it is off.
    pub off: BTreeMap<String, String>,
    /// Deployed Applications.
    pub apps: Vec<App>,
    /// What the walk could not follow (a remote resource, a missing path), for the summary.
    pub notes: Vec<String>,
}

impl Graph {
    /// Whether `file` is part of what the cluster gets (everything counts when no graph).
    pub fn is_deployed(&self, file: &str) -> bool {
        !self.found || self.deployed.contains_key(file)
    }
}

/// Where an environment's Argo CD wiring lives.
pub fn clusters_dir(env: &str) -> String {
    format!("clusters/{env}/")
}

/// Walks the Argo CD wiring of environment `env`.
pub fn walk(tree: &dyn Tree, env: &str) -> Graph {
    let base = clusters_dir(env);
    let catalog = format!("{base}catalog/");
    let manifests = |pred: &dyn Fn(&str) -> bool| -> Vec<(String, Value)> {
        tree.files()
            .iter()
            .filter(|f| pred(f) && is_manifest(f))
            .flat_map(|f| {
                docs(tree, f)
                    .into_iter()
                    .filter(|d| is_app(d) || is_appset(d))
                    .map(move |d| (f.clone(), d))
            })
            .collect()
    };
    let mut entry = manifests(&|f| f.starts_with(&base) && !f.starts_with(&catalog));
    if entry.is_empty() {
        entry = manifests(&|f| f.starts_with(&catalog));
    }
    let mut g = Graph {
        found: !entry.is_empty(),
        ..Graph::default()
    };
    let mut queue: VecDeque<(String, Value, Option<String>)> =
        entry.into_iter().map(|(f, d)| (f, d, None)).collect();
    let mut seen_apps: BTreeSet<(String, String)> = BTreeSet::new();
    let mut steps = 0;
    while let Some((from, doc, off)) = queue.pop_front() {
        steps += 1;
        if steps > 10_000 {
            g.notes
                .push("stopped following Applications after 10000 (a loop?)".into());
            break;
        }
        if is_appset(&doc) {
            let name = str_at(&doc, "/metadata/name").unwrap_or("(unnamed)");
            for (app, why) in expand_appset(tree, &doc, &mut g.notes) {
                let why = off.clone().or(why);
                queue.push_back((format!("{from} (ApplicationSet {name})"), app, why));
            }
            continue;
        }
        let name = str_at(&doc, "/metadata/name")
            .unwrap_or("(unnamed)")
            .to_string();
        if !seen_apps.insert((name.clone(), off.clone().unwrap_or_default())) {
            continue;
        }
        if off.is_none() {
            g.apps.push(App {
                name: name.clone(),
                from: from.clone(),
            });
        }
        for file in app_files(tree, &doc, &mut g.notes) {
            match &off {
                None => {
                    g.off.remove(&file);
                    if g.deployed.contains_key(&file) {
                        continue;
                    }
                    g.deployed.insert(file.clone(), name.clone());
                }
                Some(why) => {
                    if g.deployed.contains_key(&file) || g.off.contains_key(&file) {
                        continue;
                    }
                    g.off.insert(file.clone(), why.clone());
                }
            }
            for d in docs(tree, &file) {
                if is_app(&d) || is_appset(&d) {
                    queue.push_back((file.clone(), d, off.clone()));
                }
            }
        }
    }
    g
}

fn is_manifest(f: &str) -> bool {
    f.ends_with(".yaml") || f.ends_with(".yml") || f.ends_with(".json")
}

fn is_app(d: &Value) -> bool {
    d.get("kind").and_then(Value::as_str) == Some("Application")
        && d.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("argoproj.io/"))
}

fn is_appset(d: &Value) -> bool {
    d.get("kind").and_then(Value::as_str) == Some("ApplicationSet")
        && d.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("argoproj.io/"))
}

fn str_at<'a>(d: &'a Value, ptr: &str) -> Option<&'a str> {
    d.pointer(ptr).and_then(Value::as_str)
}

/// The documents of a file that parse (one broken document hides nothing).
fn docs(tree: &dyn Tree, f: &str) -> Vec<Value> {
    let Some(text) = tree.read(f) else {
        return Vec::new();
    };
    yaml::parse_each(&text)
        .into_iter()
        .filter_map(|d| d.value.ok())
        .collect()
}

/// `a/b/../c` -> `a/c`; `None` when it climbs out of the repository.
fn clean(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

fn is_dir(tree: &dyn Tree, dir: &str) -> bool {
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    dir.is_empty() || tree.files().iter().any(|f| f.starts_with(&prefix))
}

/// The files of the tree an Application's sources deploy.
fn app_files(tree: &dyn Tree, app: &Value, notes: &mut Vec<String>) -> Vec<String> {
    let mut sources: Vec<&Value> = Vec::new();
    if let Some(s) = app.pointer("/spec/source") {
        sources.push(s);
    }
    if let Some(a) = app.pointer("/spec/sources").and_then(Value::as_array) {
        sources.extend(a.iter());
    }
    let name = str_at(app, "/metadata/name").unwrap_or("(unnamed)");
    let mut out = Vec::new();
    for s in sources {
        if s.get("chart").is_some() {
            continue; // a Helm chart from a chart repository: none of this tree's files
        }
        let Some(path) = s.get("path").and_then(Value::as_str) else {
            continue;
        };
        let Some(dir) = clean(path) else {
            notes.push(format!(
                "Application {name}: path {path} leaves the repository"
            ));
            continue;
        };
        if !is_dir(tree, &dir) {
            notes.push(format!(
                "Application {name}: path {dir} is not in this repository (another repository's?)"
            ));
            continue;
        }
        if let Some(k) = kustomization_in(tree, &dir) {
            kustomize(tree, &k, &mut out, notes, 0);
        } else {
            out.extend(directory_files(tree, &dir, s.get("directory")));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn kustomization_in(tree: &dyn Tree, dir: &str) -> Option<String> {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|n| {
            if dir.is_empty() {
                n.to_string()
            } else {
                format!("{dir}/{n}")
            }
        })
        .find(|p| tree.files().contains(p))
}

/// A directory source: its manifests (recursively with `recurse: true`), filtered by `include`
/// and `exclude` globs (`{a,b}` alternatives allowed), matched against the path below `dir`.
fn directory_files(tree: &dyn Tree, dir: &str, opts: Option<&Value>) -> Vec<String> {
    let recurse = opts
        .and_then(|o| o.get("recurse"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let globs = |key: &str| -> Vec<String> {
        opts.and_then(|o| o.get(key))
            .and_then(Value::as_str)
            .map(alternatives)
            .unwrap_or_default()
    };
    let (include, exclude) = (globs("include"), globs("exclude"));
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    tree.files()
        .iter()
        .filter(|f| f.starts_with(&prefix) && is_manifest(f))
        .filter(|f| {
            let rel = &f[prefix.len()..];
            (recurse || !rel.contains('/'))
                && (include.is_empty() || include.iter().any(|g| glob(g, rel)))
                && !exclude.iter().any(|g| glob(g, rel))
        })
        .cloned()
        .collect()
}

/// `{a.yaml,b/*.yaml}` -> both; anything else -> itself.
fn alternatives(s: &str) -> Vec<String> {
    let t = s.trim();
    match t.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(inner) => inner.split(',').map(|p| p.trim().to_string()).collect(),
        None => vec![t.to_string()],
    }
}

/// A glob from the repository, bounded so a hostile pattern cannot make matching explode.
fn glob(pattern: &str, path: &str) -> bool {
    pattern.len() <= 256 && pattern.matches('*').count() <= 8 && glob_match(pattern, path)
}

/// Follows a kustomization: its resources (files; folders with their own kustomization),
/// components and bases, and Helm values files.
fn kustomize(
    tree: &dyn Tree,
    file: &str,
    out: &mut Vec<String>,
    notes: &mut Vec<String>,
    depth: usize,
) {
    if depth > 32 || out.contains(&file.to_string()) {
        return;
    }
    out.push(file.to_string());
    let dir = file.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let join = |rel: &str| {
        clean(&if dir.is_empty() {
            rel.to_string()
        } else {
            format!("{dir}/{rel}")
        })
    };
    for d in docs(tree, file) {
        let mut entries: Vec<&str> = Vec::new();
        for key in ["resources", "components", "bases"] {
            if let Some(a) = d.get(key).and_then(Value::as_array) {
                entries.extend(a.iter().filter_map(Value::as_str));
            }
        }
        for e in entries {
            if e.contains("://") || e.starts_with("github.com/") || e.starts_with("git@") {
                notes.push(format!("{file}: remote resource {e} not followed"));
                continue;
            }
            let Some(p) = join(e) else {
                notes.push(format!("{file}: {e} leaves the repository"));
                continue;
            };
            if tree.files().contains(&p) {
                out.push(p);
            } else if let Some(k) = kustomization_in(tree, &p) {
                kustomize(tree, &k, out, notes, depth + 1);
            } else {
                notes.push(format!("{file}: resource {e} not found"));
            }
        }
        for h in d
            .get("helmCharts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(p) = h.get("valuesFile").and_then(Value::as_str).and_then(join)
                && tree.files().contains(&p)
            {
                out.push(p);
            }
        }
    }
}

/// The Applications an ApplicationSet generates, each with `Some(why)` when its post-selector
/// drops it (a switched-off feature).
fn expand_appset(
    tree: &dyn Tree,
    set: &Value,
    notes: &mut Vec<String>,
) -> Vec<(Value, Option<String>)> {
    let name = str_at(set, "/metadata/name").unwrap_or("(unnamed)");
    let Some(template) = set.pointer("/spec/template") else {
        notes.push(format!("ApplicationSet {name}: no template"));
        return Vec::new();
    };
    let go = set
        .pointer("/spec/goTemplate")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut out = Vec::new();
    for generator in set
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for Set { params, off, .. } in generate(tree, generator, notes, 0) {
            // A committed template repeating a large parameter must not grow without bound.
            let mut budget = MAX_RENDERED_BYTES;
            let Some(mut app) = render(template, &params, go, &mut budget) else {
                notes.push(format!(
                    "ApplicationSet {name}: an Application renders past {} KiB; not followed",
                    MAX_RENDERED_BYTES >> 10
                ));
                continue;
            };
            if let Some(m) = app.as_object_mut() {
                m.insert(
                    "apiVersion".into(),
                    Value::String("argoproj.io/v1alpha1".into()),
                );
                m.insert("kind".into(), Value::String("Application".into()));
            }
            out.push((app, off));
        }
    }
    out
}

type Params = Map<String, Value>;

/// One parameter set of a generator: the values, where they come from, and why it is off
/// (`None`: the ApplicationSet generates its Application).
struct Set {
    params: Params,
    source: String,
    off: Option<String>,
}

/// Parameter sets of one generator, after its post-selector.
fn generate(tree: &dyn Tree, g: &Value, notes: &mut Vec<String>, depth: usize) -> Vec<Set> {
    let mut sets: Vec<Set> = Vec::new();
    let mut add = |params: Params, source: String| {
        sets.push(Set {
            params,
            source,
            off: None,
        })
    };
    if let Some(list) = g.pointer("/list/elements").and_then(Value::as_array) {
        for e in list {
            if let Some(m) = e.as_object() {
                add(m.clone(), "a list element".into());
            }
        }
    } else if let Some(git) = g.get("git") {
        for f in git
            .get("files")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(pattern) = f.get("path").and_then(Value::as_str) else {
                continue;
            };
            for file in tree.files().iter().filter(|p| glob(pattern, p)) {
                for d in docs(tree, file) {
                    let items = match d {
                        Value::Array(a) => a,
                        other => vec![other],
                    };
                    for item in items {
                        if let Value::Object(mut m) = item {
                            let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
                            path_params(&mut m, dir, Some(file));
                            add(m, file.clone());
                        }
                    }
                }
            }
        }
        if let Some(dirs) = git.get("directories").and_then(Value::as_array) {
            let pattern = |d: &Value| d.get("path").and_then(Value::as_str).map(str::to_string);
            let excluded = |d: &Value| d.get("exclude").and_then(Value::as_bool) == Some(true);
            let inc: Vec<String> = dirs
                .iter()
                .filter(|d| !excluded(d))
                .filter_map(pattern)
                .collect();
            let exc: Vec<String> = dirs
                .iter()
                .filter(|d| excluded(d))
                .filter_map(pattern)
                .collect();
            let mut all: BTreeSet<String> = BTreeSet::new();
            for f in tree.files() {
                let mut d = f.as_str();
                while let Some((parent, _)) = d.rsplit_once('/') {
                    all.insert(parent.to_string());
                    d = parent;
                }
            }
            for d in all {
                if inc.iter().any(|p| glob(p, &d)) && !exc.iter().any(|p| glob(p, &d)) {
                    let mut m = Params::new();
                    path_params(&mut m, &d, None);
                    add(m, format!("folder {d}"));
                }
            }
        }
    } else if let Some(parts) = g.pointer("/matrix/generators").and_then(Value::as_array) {
        if depth >= 2 || parts.len() != 2 {
            notes.push("an ApplicationSet matrix other than two generators is not followed".into());
            return Vec::new();
        }
        let a = generate(tree, &parts[0], notes, depth + 1);
        let b = generate(tree, &parts[1], notes, depth + 1);
        if a.len().saturating_mul(b.len()) > MAX_SETS {
            notes.push(format!(
                "an ApplicationSet matrix of {} x {} parameter sets is past sealstrap's limit of {MAX_SETS}; not followed",
                a.len(),
                b.len()
            ));
            return Vec::new();
        }
        for x in &a {
            for y in &b {
                let mut params = x.params.clone();
                params.extend(y.params.clone());
                sets.push(Set {
                    params,
                    source: format!("{} and {}", x.source, y.source),
                    off: x.off.clone().or(y.off.clone()),
                });
            }
        }
    } else {
        let kind = g
            .as_object()
            .and_then(|m| m.keys().find(|k| *k != "selector").cloned())
            .unwrap_or_default();
        notes.push(format!(
            "an ApplicationSet generator `{kind}` is not followed (it does not read this repository)"
        ));
        return Vec::new();
    }
    if let Some(sel) = g.get("selector") {
        for s in sets.iter_mut().filter(|s| s.off.is_none()) {
            if let Some(what) = failed(sel, &s.params) {
                let who = ["group", "name", "feature", "app", "path.basename"]
                    .iter()
                    .find_map(|k| scalar(s.params.get(*k)))
                    .unwrap_or_else(|| "a generated Application".into());
                s.off = Some(format!("{who} is off ({what} in {})", s.source));
            }
        }
    }
    if sets.len() > MAX_SETS {
        notes.push(format!(
            "an ApplicationSet generator of {} parameter sets is past sealstrap's limit of {MAX_SETS}; only the first {MAX_SETS} are followed",
            sets.len()
        ));
        sets.truncate(MAX_SETS);
    }
    sets
}

fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first requirement of a label selector the parameters fail, as `key: value`.
fn failed(sel: &Value, m: &Params) -> Option<String> {
    let value = |k: &str| scalar(lookup(m, k));
    for (k, want) in sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let want = scalar(Some(want)).unwrap_or_default();
        let have = value(k);
        if have.as_deref() != Some(want.as_str()) {
            return Some(format!(
                "{k}: {}",
                have.map(|h| format!("{h:?}"))
                    .unwrap_or_else(|| "unset".into())
            ));
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let k = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<String> = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| scalar(Some(v)))
            .collect();
        let have = value(k);
        let ok = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => have.as_ref().is_some_and(|h| values.contains(h)),
            "NotIn" => have.as_ref().is_none_or(|h| !values.contains(h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => true,
        };
        if !ok {
            return Some(format!(
                "{k}: {}",
                have.map(|h| format!("{h:?}"))
                    .unwrap_or_else(|| "unset".into())
            ));
        }
    }
    None
}

/// A parameter by name: a flat key (`path.basename`) or a dotted path into nested values.
fn lookup<'a>(m: &'a Params, key: &str) -> Option<&'a Value> {
    if let Some(v) = m.get(key) {
        return Some(v);
    }
    let mut parts = key.split('.');
    let mut cur = m.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

/// The `path` parameters of the git generators (Generators-Git.md): `path` (the folder),
/// `path.basename`, `path.basenameNormalized`, and for files `path.filename` and
/// `path.filenameNormalized`.
fn path_params(m: &mut Params, dir: &str, file: Option<&str>) {
    let base = dir.rsplit('/').next().unwrap_or(dir);
    let norm = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
    };
    m.insert("path".into(), Value::String(dir.into()));
    m.insert("path.path".into(), Value::String(dir.into()));
    m.insert("path.basename".into(), Value::String(base.into()));
    m.insert("path.basenameNormalized".into(), Value::String(norm(base)));
    if let Some(f) = file {
        let name = f.rsplit('/').next().unwrap_or(f);
        m.insert("path.filename".into(), Value::String(name.into()));
        m.insert("path.filenameNormalized".into(), Value::String(norm(name)));
    }
}

/// The most parameter sets one generator (a list, a matrix) yields: a committed matrix of two
/// 3,000-element lists must not become nine million Applications.
const MAX_SETS: usize = 1_000;
/// The most text one rendered Application may hold.
const MAX_RENDERED_BYTES: usize = 1 << 20;

/// Renders `{{key}}` / `{{ .key }}` references in every string of `template`, within `budget`
/// bytes of rendered text (`None` past it).
fn render(template: &Value, params: &Params, go: bool, budget: &mut usize) -> Option<Value> {
    Some(match template {
        Value::String(s) => Value::String(render_str(s, params, go, budget)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| render(v, params, go, budget))
                .collect::<Option<_>>()?,
        ),
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                out.insert(
                    render_str(k, params, go, budget)?,
                    render(v, params, go, budget)?,
                );
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn render_str(s: &str, params: &Params, go: bool, budget: &mut usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(*budget));
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = rest[start + 2..start + len].trim();
        let key = if go {
            inner.strip_prefix('.').unwrap_or(inner)
        } else {
            inner
        };
        match scalar(lookup(params, key)) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
        if out.len() > *budget {
            return None;
        }
    }
    out.push_str(rest);
    *budget = budget.checked_sub(out.len())?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_matrix_or_template_stops_with_a_note() {
        // Two lists of 3,000 elements in a matrix: 9,000,000 parameter sets.
        let list: Vec<Value> = (0..3000)
            .map(|i| serde_json::json!({ "n": i.to_string() }))
            .collect();
        let matrix = serde_json::json!({"matrix": {"generators": [
            {"list": {"elements": list}}, {"list": {"elements": list}}
        ]}});
        let tree = Mem::new(&[]);
        let mut notes = Vec::new();
        assert!(generate(&tree, &matrix, &mut notes, 0).is_empty());
        assert!(
            notes
                .iter()
                .any(|n| n.contains("matrix of 1000 x 1000") && n.contains("not followed")),
            "{notes:?}"
        );
        // A template repeating a 200 KB parameter: stops at the rendered-size limit.
        let big = "x".repeat(200_000);
        let params: Params = [("p".to_string(), Value::String(big))]
            .into_iter()
            .collect();
        let template = serde_json::json!({"a": "{{p}}{{p}}{{p}}{{p}}{{p}}{{p}}{{p}}{{p}}"});
        let mut budget = MAX_RENDERED_BYTES;
        assert!(render(&template, &params, false, &mut budget).is_none());
        let mut budget = MAX_RENDERED_BYTES;
        let small = serde_json::json!({"a": "{{p}}"});
        assert!(render(&small, &params, false, &mut budget).is_some());
    }

    struct Mem(Vec<String>, BTreeMap<String, String>);

    impl Mem {
        fn new(files: &[(&str, &str)]) -> Mem {
            let mut list: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
            list.sort();
            Mem(
                list,
                files
                    .iter()
                    .map(|(p, t)| (p.to_string(), t.to_string()))
                    .collect(),
            )
        }
    }

    impl Tree for Mem {
        fn files(&self) -> &[String] {
            &self.0
        }
        fn read(&self, path: &str) -> Option<String> {
            self.1.get(path).cloned()
        }
    }

    fn app(name: &str, path: &str, extra: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {name}}}\nspec:\n  source:\n    repoURL: https://git.example/p.git\n    path: {path}\n{extra}"
        )
    }

    const APPSET: &str = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: catalog}\nspec:\n  generators:\n    - git:\n        repoURL: https://git.example/p.git\n        revision: main\n        files:\n          - path: clusters/dev/groups.yaml\n      selector:\n        matchLabels: {enabled: \"true\"}\n  template:\n    metadata: {name: 'dev-{{group}}'}\n    spec:\n      project: platform\n      source:\n        repoURL: https://git.example/p.git\n        path: 'clusters/dev/catalog/{{group}}'\n        directory: {recurse: true}\n      destination: {server: https://kubernetes.default.svc}\n";

    fn platform() -> Vec<(&'static str, String)> {
        vec![
            ("clusters/dev/bootstrap/catalog.yaml", APPSET.into()),
            (
                "clusters/dev/groups.yaml",
                "- {group: core, enabled: \"true\"}\n- {group: n8n, enabled: \"false\"}\n".into(),
            ),
            (
                "clusters/dev/catalog/core/store.yaml",
                app("store", "platform/store", ""),
            ),
            (
                "clusters/dev/catalog/n8n/n8n.yaml",
                app("n8n", "platform/n8n", ""),
            ),
            (
                "platform/store/kustomization.yaml",
                "resources:\n  - store.yaml\n  - ../shared\n".into(),
            ),
            (
                "platform/store/store.yaml",
                "kind: ClusterSecretStore\n".into(),
            ),
            (
                "platform/store/unlisted.yaml",
                "kind: ClusterSecretStore\n".into(),
            ),
            (
                "platform/shared/kustomization.yaml",
                "resources: [es.yaml]\n".into(),
            ),
            ("platform/shared/es.yaml", "kind: ExternalSecret\n".into()),
            ("platform/n8n/es.yaml", "kind: ExternalSecret\n".into()),
            (
                "tests/golden/store.yaml",
                "kind: ClusterSecretStore\n".into(),
            ),
            (
                "clusters/prod/catalog/core/x.yaml",
                app("x", "platform/x", ""),
            ),
        ]
    }

    fn tree(files: &[(&str, String)]) -> Mem {
        let v: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        Mem::new(&v)
    }

    #[test]
    fn an_appset_with_a_selector_deploys_the_groups_that_are_on() {
        let g = walk(&tree(&platform()), "dev");
        assert!(g.found);
        let deployed: Vec<&str> = g.deployed.keys().map(String::as_str).collect();
        assert_eq!(
            deployed,
            vec![
                "clusters/dev/catalog/core/store.yaml",
                "platform/shared/es.yaml",
                "platform/shared/kustomization.yaml",
                "platform/store/kustomization.yaml",
                "platform/store/store.yaml",
            ]
        );
        assert_eq!(
            g.off.get("platform/n8n/es.yaml").map(String::as_str),
            Some("n8n is off (enabled: \"false\" in clusters/dev/groups.yaml)")
        );
        assert!(!g.deployed.contains_key("tests/golden/store.yaml"));
        assert!(!g.off.contains_key("tests/golden/store.yaml"));
        let names: Vec<&str> = g.apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["dev-core", "store"]);
    }

    #[test]
    fn without_a_bootstrap_every_catalog_application_is_an_entry_point() {
        let mut files = platform();
        files.retain(|(p, _)| !p.starts_with("clusters/dev/bootstrap"));
        let g = walk(&tree(&files), "dev");
        assert!(g.found);
        assert!(g.deployed.contains_key("platform/n8n/es.yaml"));
        assert!(g.off.is_empty());
        let none = walk(&tree(&files), "staging");
        assert!(!none.found && none.is_deployed("anything"));
    }

    #[test]
    fn directory_options_and_directories_generators() {
        let files = vec![
            (
                "clusters/dev/root.yaml",
                "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: apps}\nspec:\n  goTemplate: true\n  generators:\n    - git:\n        directories:\n          - path: apps/*\n          - path: apps/skip\n            exclude: true\n  template:\n    metadata: {name: '{{.path.basename}}'}\n    spec:\n      source: {path: '{{.path.path}}', directory: {include: '{*.yaml,extra/*.yaml}', exclude: 'x.txt', recurse: true}}\n".to_string(),
            ),
            ("apps/a/x.yaml", "kind: ConfigMap\n".into()),
            ("apps/a/x.txt", "".into()),
            ("apps/a/extra/y.yaml", "kind: ConfigMap\n".into()),
            ("apps/a/other/z.yaml", "kind: ConfigMap\n".into()),
            ("apps/skip/s.yaml", "kind: ConfigMap\n".into()),
        ];
        let g = walk(&tree(&files), "dev");
        let deployed: Vec<&str> = g.deployed.keys().map(String::as_str).collect();
        // `*.yaml` matches below the folder too, as Argo CD's include glob does.
        assert_eq!(
            deployed,
            vec![
                "apps/a/extra/y.yaml",
                "apps/a/other/z.yaml",
                "apps/a/x.yaml"
            ]
        );
    }

    #[test]
    fn templates_render_both_syntaxes() {
        let mut p = Params::new();
        p.insert("group".into(), Value::String("core".into()));
        p.insert("path.basename".into(), Value::String("b".into()));
        let mut budget = MAX_RENDERED_BYTES;
        assert_eq!(
            render_str("x-{{group}}-{{ path.basename }}", &p, false, &mut budget).unwrap(),
            "x-core-b"
        );
        assert_eq!(
            render_str("{{ .group }}/{{.missing}}", &p, true, &mut budget).unwrap(),
            "core/{{.missing}}"
        );
    }
}
