//! `args(p)`: the first line of a recipe entry point. Checks the map the site passed
//! against the entry's declared parameters, fills defaults, normalises values, runs
//! the entry's `checks`, warns on deprecated parameters, and returns the filled map.
//!
//! It learns its entry point from rhai's call stack (kept by `track_calls` for every
//! script that imports, so for every recipe call): the frame under `args` is the
//! entry point, and the frame's source is the recipe module. `args("entry", p)` names
//! the entry itself, for engines without the call stack.

use super::error::{Fail, Place, fail, fail_at};
use super::key_place;
use super::recipe_schema::{EntrySpec, RecipeSchema};
use super::state::{Ctx, lock};
use rhai::{Dynamic, Engine, EvalAltResult, Map, NativeCallContext, Position};
use std::sync::Arc;

/// The name a module is called by in messages: `dr_pool` for `stdlib/dr_pool.rhai`.
pub(crate) fn short_name(module: &str) -> &str {
    let file = module.rsplit('/').next().unwrap_or(module);
    file.strip_suffix(".rhai").unwrap_or(file)
}

/// The site's call that led into the recipe: file and position.
struct Site {
    file: String,
    pos: Position,
}

/// The entry point `args` was called from, and the call outside the recipe module
/// that led to it (a positional wrapper in the module is skipped).
fn caller(ctx: &Ctx, nc: &NativeCallContext, module: &str) -> Option<(String, Site)> {
    let stack = nc.debugger()?.call_stack();
    let main = lock(&ctx.main).to_string();
    let n = stack.len();
    let args_frame = n.checked_sub(1)?;
    if stack[args_frame].fn_name != "args" || n < 2 {
        return None;
    }
    let entry = stack[n - 2].fn_name.to_string();
    let source_of = |i: usize| -> String {
        match i.checked_sub(1) {
            None => main.clone(),
            Some(j) => stack[j].source.as_deref().unwrap_or(&main).to_string(),
        }
    };
    let mut i = n - 2;
    while i > 0 && source_of(i) == module {
        i -= 1;
    }
    Some((
        entry,
        Site {
            file: source_of(i),
            pos: stack[i].pos,
        },
    ))
}

fn place(file: &str, pos: Position, label: impl Into<String>) -> Option<Place> {
    Some(Place {
        file: file.to_string(),
        line: pos.line()?,
        column: pos.position().unwrap_or(1),
        label: label.into(),
        note: None,
    })
}

fn args(ctx: &Ctx, nc: &NativeCallContext, named: Option<&str>, p: Map) -> Result<Map, Fail> {
    let module = nc.call_source().unwrap_or("").to_string();
    let schema: Option<Arc<RecipeSchema>> = ctx.sources().recipes.get(&module).cloned();
    let Some(schema) = schema else {
        return Err(fail(
            "args() is for the entry points of a recipe, and this file declares no `const RECIPE`",
            Some("declare the entry points and their parameters in `const RECIPE = #{ .. }` (docs/DSL.md, \"Writing recipes\")".to_string()),
        ));
    };
    let found = caller(ctx, nc, &module);
    let entry = match (named, &found) {
        (Some(e), _) => e.to_string(),
        (None, Some((e, _))) => e.clone(),
        (None, None) => {
            return Err(fail(
                "args(p) cannot tell which entry point called it here",
                Some("name it: `let p = args(\"entry\", p);`".to_string()),
            ));
        }
    };
    let site = found.map(|(_, s)| s).unwrap_or_else(|| Site {
        file: module.clone(),
        pos: nc.call_position(),
    });
    let Some(spec) = schema.entries.get(&entry) else {
        return Err(fail(
            format!("`{entry}` calls args() but is not an entry point of RECIPE"),
            Some(format!(
                "entry points: {}",
                schema
                    .entries
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ));
    };
    let what = format!("{}::{entry}", short_name(&module));
    let filled = match spec.params.fill(&p, &what) {
        Ok(f) => f,
        Err(e) => {
            let mut places = Vec::new();
            let site_text = ctx.sources().text(&site.file);
            let key_at = e.key.as_deref().and_then(|k| {
                let (l, c) = (site.pos.line()?, site.pos.position().unwrap_or(1));
                key_place::argument_key(site_text.as_deref()?, l, c, k)
            });
            match key_at {
                Some((line, column)) => places.push(Place {
                    file: site.file.clone(),
                    line,
                    column,
                    label: "this argument".into(),
                    note: None,
                }),
                None => places.extend(place(&site.file, site.pos, "this call")),
            }
            places.extend(declared(ctx, &module, &entry, spec, e.param.as_deref()));
            return Err(fail_at(e.bad.message, e.bad.help, places));
        }
    };
    for (name, why) in &filled.deprecated {
        let text = ctx.sources().text(&site.file);
        let (line, column) = site
            .pos
            .line()
            .and_then(|l| {
                let c = site.pos.position().unwrap_or(1);
                key_place::argument_key(text.as_deref()?, l, c, name).or(Some((l, c)))
            })
            .unwrap_or((0, 0));
        ctx.print(format!(
            "warning: {what}: `{name}` is deprecated: {why} ({}:{line}:{column})",
            site.file
        ));
    }
    let map = Dynamic::from_map(filled.map);
    for check in &spec.checks {
        if let Err(e) = nc.call_fn::<Dynamic>(check, (map.clone(),)) {
            return Err(check_failed(&module, &what, check, &site, &e));
        }
    }
    Ok(map.cast::<Map>())
}

/// The note at the parameter's declaration (or the entry's, for an unknown key).
fn declared(
    ctx: &Ctx,
    module: &str,
    entry: &str,
    spec: &EntrySpec,
    param: Option<&str>,
) -> Option<Place> {
    let (text, library) = {
        let sources = ctx.sources();
        (
            sources.text(module)?,
            sources.libraries.get(module).cloned(),
        )
    };
    let mut path = vec![entry.to_string()];
    if let Some(p) = param {
        path.push("params".into());
        path.push(p.to_string());
    }
    let (line, column) = key_place::declaration(&text, "RECIPE", &path)?;
    let label = match param.and_then(|p| spec.params.get(p)) {
        Some(p) => format!("`{}`: {}", p.name, p.type_name),
        None => format!("the parameters of `{entry}`"),
    };
    Some(Place {
        file: module.to_string(),
        line,
        column,
        label,
        note: Some(match library {
            Some(lib) => format!("declared in {module} ({lib})"),
            None => format!("declared in {module}"),
        }),
    })
}

/// A cross-field check that threw: the site's call is blamed, the throw is a note.
fn check_failed(module: &str, what: &str, check: &str, site: &Site, e: &EvalAltResult) -> Fail {
    let mut inner = e;
    while let EvalAltResult::ErrorInFunctionCall(_, _, next, _) = inner {
        inner = next;
    }
    let message = match inner {
        EvalAltResult::ErrorRuntime(d, _) => match d.read_lock::<super::error::BindingError>() {
            Some(b) => b.message.clone(),
            None => d.to_string(),
        },
        other => other.to_string(),
    };
    let mut places: Vec<Place> = place(&site.file, site.pos, "this call")
        .into_iter()
        .collect();
    places.extend(place(module, inner.position(), "thrown here").map(|mut p| {
        p.note = Some(format!("check `{check}` of {module}"));
        p
    }));
    fail_at(
        format!("{what}: {message}"),
        Some(format!("the arguments fail the recipe's check `{check}`")),
        places,
    )
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    engine.register_fn("args", move |nc: NativeCallContext, p: Map| {
        args(&c, &nc, None, p)
    });
    let c = ctx.clone();
    engine.register_fn("args", move |nc: NativeCallContext, entry: &str, p: Map| {
        args(&c, &nc, Some(entry), p)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::{Options, evaluate_source};

    /// A recipe in a directory of its own, and a site script that imports it.
    fn run(recipe: &str, site: &str) -> Result<Vec<String>, String> {
        let dir = std::env::temp_dir().join(format!(
            "lvsh-args-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("r.rhai"), recipe).unwrap();
        let out = evaluate_source("site.rhai", site, Some(&dir), &Options::default())
            .map(|e| e.output)
            .map_err(|e| e.message().to_string());
        std::fs::remove_dir_all(&dir).unwrap();
        out
    }

    const RECIPE: &str = r#"
const RECIPE = #{ web: #{ params: #{ port: #{ type: "port", "default": 80 } } } };
fn web(p) { let p = args("web", p); print(p.port); service("10.0.0.1", p.port) }
fn web(port, extra) { web(#{ port: port }) }
"#;

    #[test]
    fn the_entry_point_can_be_named_and_wrappers_are_skipped() {
        let out = run(RECIPE, "import \"r\" as r; r::web(#{});").unwrap();
        assert_eq!(out, ["80"]);
        let e = run(RECIPE, "import \"r\" as r; r::web(#{ prot: 1 });").unwrap_err();
        assert_eq!(e, "r::web: no parameter `prot`, did you mean `port`?");
        let e = run(RECIPE, "import \"r\" as r; r::web(70000, 0);").unwrap_err();
        assert!(e.contains("port 70000 is out of range"), "{e}");
    }

    #[test]
    fn args_outside_a_recipe_says_what_it_is_for() {
        let e = run("fn f(p) { args(p) }", "import \"r\" as r; r::f(#{});").unwrap_err();
        assert!(e.contains("no `const RECIPE`"), "{e}");
    }

    #[test]
    fn module_names_are_short_in_messages() {
        assert_eq!(short_name("stdlib/dr_pool.rhai"), "dr_pool");
        assert_eq!(short_name("lib/site/web.rhai"), "web");
    }
}
