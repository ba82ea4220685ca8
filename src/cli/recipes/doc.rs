//! `lvsh recipes doc @NAME/MODULE[::ENTRY] | DIR | FILE.rhai [--markdown | --json]`:
//! a recipe's entry points and parameters, read from its `RECIPE` without running
//! it; every recipe of a library; or a site script's `PARAMS`.

use super::super::{CliError, Context};
use crate::{
    dsl::{self, EntryDoc, ParamDoc, RecipeDoc},
    recipes::{Libraries, Library, Lock, RecipesError, SiteManifest},
};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

impl Format {
    pub fn new(markdown: bool, json: bool) -> Format {
        match (markdown, json) {
            (true, _) => Format::Markdown,
            (_, true) => Format::Json,
            _ => Format::Text,
        }
    }
}

/// One documented file: how it is named (`@acme/dr_web`), the library's label
/// (`acme 1.0.0`) and its interface.
pub(super) struct Documented {
    pub title: String,
    pub label: Option<String>,
    pub doc: RecipeDoc,
}

pub fn run(ctx: &Context, what: &str, format: Format) -> Result<i32, CliError> {
    let mut docs = if let Some(rest) = what.strip_prefix('@') {
        let (module, entry) = match rest.split_once("::") {
            Some((m, e)) => (m, Some(e)),
            None => (rest, None),
        };
        let (name, path) = module.split_once('/').ok_or_else(|| {
            RecipesError::plain(format!("`{what}` names no module"))
                .with_help("lvsh recipes doc @NAME/MODULE[::ENTRY], e.g. @acme/dr_web::web")
        })?;
        let lib = find_library(ctx, name)?;
        let file = lib.root.join("recipes").join(format!("{path}.rhai"));
        if !file.is_file() {
            return Err(RecipesError::plain(format!(
                "{} has no module `{path}` (no `recipes/{path}.rhai`)",
                lib.label()
            ))
            .with_help(format!("modules: {}", module_names(&lib.root).join(", ")))
            .into());
        }
        let mut d = read(&file, &format!("@{name}/{path}"), Some(lib.label()))?;
        if let Some(entry) = entry {
            let known: Vec<String> = d.doc.entries.iter().map(|e| e.name.clone()).collect();
            d.doc.entries.retain(|e| e.name == entry);
            if d.doc.entries.is_empty() {
                return Err(RecipesError::plain(format!(
                    "@{name}/{path} has no entry point `{entry}`{}",
                    crate::suggest::did_you_mean(entry, known.iter().map(String::as_str))
                ))
                .with_help(format!("entry points: {}", known.join(", ")))
                .into());
            }
        }
        vec![d]
    } else if Path::new(what).join("lvsh-lib.toml").is_file() {
        let libs = Libraries::single(Path::new(what))?;
        let lib = &libs.libs[0];
        let mut out = Vec::new();
        for module in module_names(&lib.root) {
            let file = lib.root.join("recipes").join(format!("{module}.rhai"));
            out.push(read(&file, &format!("@{}/{module}", lib.name), None)?);
        }
        out
    } else {
        vec![read(Path::new(what), what, None)?]
    };
    docs.retain(|d| !d.doc.entries.is_empty() || !d.doc.about.is_empty());
    let text = match format {
        Format::Text => docs.iter().map(text).collect::<Vec<_>>().join("\n"),
        Format::Markdown => docs.iter().map(markdown).collect::<Vec<_>>().join("\n"),
        Format::Json => {
            let v: Vec<serde_json::Value> = docs.iter().map(json).collect();
            serde_json::to_string_pretty(&v).expect("JSON of strings") + "\n"
        }
    };
    ctx.out(&text)?;
    Ok(0)
}

/// The library `name`: one of the site's (verified as `check` verifies), or the
/// library the current directory is in.
fn find_library(ctx: &Context, name: &str) -> Result<Library, CliError> {
    if let Some(site) = SiteManifest::discover(Path::new("."))? {
        let lock = Lock::load(&site.root)?;
        let libs = Libraries::open_verified(&site, lock.as_ref(), true)?;
        return libs.get(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = libs.libs.iter().map(|l| l.name.as_str()).collect();
            RecipesError::plain(format!(
                "the site has no library `{name}`{}",
                crate::suggest::did_you_mean(name, names.iter().copied())
            ))
            .with_help(format!("lvsh.toml names: {}", names.join(", ")))
            .into()
        });
    }
    let root = super::test::library_root(Path::new("."))?;
    let libs = Libraries::single(&root)?;
    let lib = libs.libs[0].clone();
    if lib.name != name && name != "self" {
        return Err(RecipesError::plain(format!(
            "this library is `{}`, not `{name}`, and there is no lvsh.toml here",
            lib.name
        ))
        .into());
    }
    let _ = ctx;
    Ok(lib)
}

/// The modules of a library: `recipes/**/*.rhai` as `web/dr`, sorted.
pub(super) fn module_names(lib_root: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if p.is_dir() {
                walk(&p, &format!("{prefix}{name}/"), out);
            } else if let Some(stem) = name.strip_suffix(".rhai") {
                out.push(format!("{prefix}{stem}"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&lib_root.join("recipes"), "", &mut out);
    out.sort();
    out
}

/// The interface of the file at `path`, titled `title`: a library module (title
/// `@NAME/PATH`) is named `@NAME/PATH.rhai` in errors, as imports name it.
pub(super) fn read(
    path: &Path,
    title: &str,
    label: Option<String>,
) -> Result<Documented, CliError> {
    let name = if title.starts_with('@') {
        format!("{title}.rhai")
    } else {
        path.display().to_string()
    };
    let doc = dsl::read_doc(path, &name)?.unwrap_or(RecipeDoc {
        about: Vec::new(),
        entries: Vec::new(),
        site: false,
    });
    Ok(Documented {
        title: title.to_string(),
        label,
        doc,
    })
}

fn head(d: &Documented) -> String {
    match &d.label {
        Some(l) => format!("{} ({l})", d.title),
        None => d.title.clone(),
    }
}

/// `type = default, constraints` of one parameter.
pub(super) fn signature(p: &ParamDoc) -> String {
    let mut s = p.type_name.clone();
    match (&p.default, p.optional) {
        (Some(d), _) => s.push_str(&format!(" = {d}")),
        (None, true) => s.push_str(", optional"),
        (None, false) => s.push_str(", required"),
    }
    for c in &p.constraints {
        s.push_str(&format!(", {c}"));
    }
    s
}

fn entry_head(d: &Documented, e: &EntryDoc) -> String {
    if d.doc.site {
        return "PARAMS (values files and --set)".into();
    }
    match &e.returns {
        Some(r) => format!("{}(#{{ … }}) → {r}", e.name),
        None => format!("{}(#{{ … }})", e.name),
    }
}

fn text(d: &Documented) -> String {
    let mut out = format!("{}\n", head(d));
    for line in &d.doc.about {
        out.push_str(&format!("  {line}\n"));
    }
    for e in &d.doc.entries {
        out.push_str(&format!("\n  {}\n", entry_head(d, e)));
        if let Some(doc) = &e.doc {
            out.push_str(&format!("    {doc}\n"));
        }
        let width = e.params.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &e.params {
            out.push_str(&format!("    {:width$}  {}\n", p.name, signature(p)));
            if let Some(doc) = &p.doc {
                out.push_str(&format!("    {:width$}    {doc}\n", ""));
            }
            if let Some(why) = &p.deprecated {
                out.push_str(&format!("    {:width$}    deprecated: {why}\n", ""));
            }
        }
        if !e.checks.is_empty() {
            out.push_str(&format!("    checks: {}\n", e.checks.join(", ")));
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(d: &Documented) -> String {
    let mut out = format!("## `{}`", d.title);
    if let Some(l) = &d.label {
        out.push_str(&format!(" ({l})"));
    }
    out.push_str("\n\n");
    if !d.doc.about.is_empty() {
        out.push_str(&format!("{}\n\n", d.doc.about.join("\n")));
    }
    for e in &d.doc.entries {
        out.push_str(&format!("### `{}`\n\n", entry_head(d, e)));
        if let Some(doc) = &e.doc {
            out.push_str(&format!("{doc}\n\n"));
        }
        if !e.params.is_empty() {
            out.push_str("| Parameter | Type | Default | Constraints | Description |\n");
            out.push_str("|---|---|---|---|---|\n");
            for p in &e.params {
                let default = match (&p.default, p.optional) {
                    (Some(d), _) => format!("`{}`", cell(d)),
                    (None, true) => "optional".into(),
                    (None, false) => "required".into(),
                };
                let mut about = p.doc.as_deref().map(cell).unwrap_or_default();
                if let Some(why) = &p.deprecated {
                    if !about.is_empty() {
                        about.push(' ');
                    }
                    about.push_str(&format!("**Deprecated:** {}", cell(why)));
                }
                out.push_str(&format!(
                    "| `{}` | `{}` | {default} | {} | {about} |\n",
                    p.name,
                    cell(&p.type_name),
                    cell(&p.constraints.join(", "))
                ));
            }
            out.push('\n');
        }
        if !e.checks.is_empty() {
            out.push_str(&format!("Checks: `{}`\n\n", e.checks.join("`, `")));
        }
    }
    out
}

fn json(d: &Documented) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = d
        .doc
        .entries
        .iter()
        .map(|e| {
            let params: Vec<serde_json::Value> = e
                .params
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p.name,
                        "type": p.type_name,
                        "default": p.default,
                        "optional": p.optional,
                        "required": p.required(),
                        "constraints": p.constraints,
                        "doc": p.doc,
                        "deprecated": p.deprecated,
                    })
                })
                .collect();
            serde_json::json!({
                "name": e.name,
                "doc": e.doc,
                "returns": e.returns,
                "params": params,
                "checks": e.checks,
            })
        })
        .collect();
    serde_json::json!({
        "module": d.title,
        "library": d.label,
        "about": d.doc.about,
        "kind": if d.doc.site { "params" } else { "recipe" },
        "entries": entries,
    })
}
