//! `lvsh recipes list [--json]`: a site's libraries, where they come from, whether
//! their files are the locked ones, and the entry points each recipe declares
//! (read from `RECIPE`, nothing is run). Never fails for one broken library: the
//! status says what is wrong, `recipes verify` says it in full.

use super::super::{CliError, Context};
use crate::{
    dsl,
    recipes::{
        Source,
        hash::{self, Include},
        manifest::tidy_join,
        store,
    },
};
use serde_json::json;
use std::path::{Path, PathBuf};

struct Row {
    name: String,
    version: Option<String>,
    source: String,
    status: &'static str,
    root: Option<PathBuf>,
    /// (module, entry point, first line of its doc); a module that does not read
    /// has one row with no entry and the error as doc.
    entries: Vec<(String, Option<String>, String)>,
}

pub fn run(ctx: &Context, dir: Option<&Path>, json: bool) -> Result<i32, CliError> {
    let (site, lock) = super::site(dir)?;
    let mut rows = Vec::new();
    for req in &site.libraries {
        let locked = lock.as_ref().and_then(|l| l.get(&req.name));
        let (status, root, version) = match (&req.source, locked) {
            (Source::Path(p), _) => (
                "unlocked",
                Some(tidy_join(&site.root, &p.to_string_lossy())),
                None,
            ),
            (Source::Git { .. }, None) => ("unlocked", None, None),
            (Source::Git { .. }, Some(l)) => {
                let version = Some(l.version.to_string());
                match store::locate(&site.root, l) {
                    Err(_) => ("missing", None, version),
                    Ok((d, _)) => match hash::hash_dir(&d, &Include::all()) {
                        Ok(t) if t.hash == l.hash => ("verified", Some(d), version),
                        _ => ("modified", Some(d), version),
                    },
                }
            }
        };
        let entries = root
            .as_deref()
            .map(|r| entries(&req.name, &r.join("recipes")))
            .unwrap_or_default();
        rows.push(Row {
            name: req.name.clone(),
            version,
            source: match &req.source {
                Source::Path(p) => format!("path+{}", p.display()),
                s => s.lock_string(),
            },
            status,
            root,
            entries,
        });
    }
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "version": r.version,
                    "source": r.source,
                    "status": r.status,
                    "root": r.root.as_ref().map(|p| p.display().to_string()),
                    "entries": r.entries.iter().map(|(m, e, d)| json!({
                        "module": m, "entry": e, "doc": d,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&list).expect("JSON of strings");
        ctx.out(&format!("{text}\n"))?;
        return Ok(0);
    }
    let mut out = String::new();
    for r in &rows {
        out.push_str(&format!(
            "{} {}  {}  {}\n",
            r.name,
            r.version.as_deref().unwrap_or("-"),
            r.source,
            r.status
        ));
        let width = r
            .entries
            .iter()
            .map(|(m, e, _)| call(m, e.as_deref()).len())
            .max()
            .unwrap_or(0);
        for (m, e, doc) in &r.entries {
            let c = call(m, e.as_deref());
            out.push_str(format!("  {c:width$}  {doc}").trim_end());
            out.push('\n');
        }
    }
    if rows.is_empty() {
        out.push_str("no libraries in lvsh.toml\n");
    }
    ctx.out(&out)?;
    Ok(0)
}

fn call(module: &str, entry: Option<&str>) -> String {
    match entry {
        Some(e) => format!("{module}::{e}"),
        None => module.to_string(),
    }
}

/// Every `recipes/**.rhai` of a library, as `@NAME/PATH`, with its entry points.
fn entries(name: &str, recipes: &Path) -> Vec<(String, Option<String>, String)> {
    let mut files = Vec::new();
    collect(recipes, "", &mut files);
    files.sort();
    let mut out = Vec::new();
    for rel in files {
        let module = format!("@{name}/{}", rel.trim_end_matches(".rhai"));
        let text = std::fs::read_to_string(recipes.join(&rel)).unwrap_or_default();
        match dsl::recipe_entries(&text) {
            Ok(list) => out.extend(list.into_iter().map(|(e, d)| (module.clone(), Some(e), d))),
            Err(e) => out.push((module, None, format!("(does not read: {e})"))),
        }
    }
    out
}

fn collect(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let r = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        match e.file_type() {
            Ok(t) if t.is_dir() => collect(&e.path(), &r, out),
            Ok(t) if t.is_file() && name.ends_with(".rhai") => out.push(r),
            _ => {}
        }
    }
}
