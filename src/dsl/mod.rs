//! Rhai scripts → the desired [`Balancer`]. The only code that imports rhai.
//!
//! A script runs in a sandboxed engine whose bindings record objects (handles) in
//! a registry; at the end the registry becomes a balancer, which is validated. Any
//! error, of any kind, is one [`ScriptError`] pointing at the script.

mod address;
mod allowed_dirs;
mod args;
mod build;
mod check;
mod daemon;
mod diagnose;
mod docs;
mod engine;
mod error;
mod inputs;
mod key_place;
mod literal;
mod method;
mod param_type;
mod params;
mod real_server;
mod recipe_doc;
mod recipe_module;
mod recipe_schema;
mod resolver;
mod scope;
mod script_text;
mod service;
mod session;
mod site_params;
mod site_values;
mod sources;
mod state;
mod sysctl;
mod timeouts;
mod values;

#[cfg(test)]
mod tests;

pub use docs::FnDoc;
pub use error::{Location, ScriptError};
pub use inputs::{Input, Read};
#[cfg(any(test, fuzzing))]
pub use literal::compare_with_rhai;
pub use recipe_doc::{EntryDoc, ParamDoc, RecipeDoc, doc_of_text, read_doc};
pub use script_text::{MAX_SCRIPT_BYTES, read_script};
pub use session::{Session, UNDO_DEPTH};
pub use site_values::{SiteValues, is_values_file};

use crate::model::{Balancer, Scope};
use state::{Ctx, Mode, lock};
use std::path::{Path, PathBuf};

/// How scripts are evaluated: where imports may come from and the `--set` values.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-I/--lib` directories, searched after the embedded stdlib.
    pub lib_dirs: Vec<PathBuf>,
    /// `--set NAME=VALUE`, read by `param(NAME)`.
    pub params: Vec<(String, String)>,
    /// `--scope`: as if the script had declared it with `owns`/`owns_marks`.
    pub scope: Option<Scope>,
    /// The merged values files of a site (checked against the script's `PARAMS`).
    pub values: Option<std::sync::Arc<SiteValues>>,
    /// The site's verified recipe libraries, imported as `@NAME/…` (`None`: no
    /// `lvsh.toml`, so `@` imports are errors).
    pub libraries: Option<std::sync::Arc<crate::recipes::Libraries>>,
}

/// A validated balancer and what the script printed (plus warnings).
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub balancer: Balancer,
    /// Lines from `print()`/`debug()`, then `warning: ..` lines.
    pub output: Vec<String>,
    /// The module files the evaluation read or looked for (not the script itself).
    pub inputs: Vec<Input>,
    /// Where the evaluation's time went (zero for a result from the cache).
    pub timings: Timings,
}

/// An evaluation's phases, for `-v`: building the engine, parsing the script,
/// running it, and validating what it declared into a model. A script of literal
/// statements is read and run in one pass without rhai (see `literal.rs`): all
/// of it counts as parsing, with no engine (and `literal` says so).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub engine: std::time::Duration,
    pub parse: std::time::Duration,
    pub run: std::time::Duration,
    pub validate: std::time::Duration,
    /// Read by the evaluator of literal statements, not by rhai.
    pub literal: bool,
}

impl std::fmt::Display for Timings {
    /// `engine 1.0 ms, parse 2.0 ms, run 3.0 ms, validate 4.0 ms`, and for a
    /// literal script `; literal statements, without rhai`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "engine {:.1} ms, parse {:.1} ms, run {:.1} ms, validate {:.1} ms",
            ms(self.engine),
            ms(self.parse),
            ms(self.run),
            ms(self.validate)
        )?;
        if self.literal {
            f.write_str("; literal statements, without rhai")?;
        }
        Ok(())
    }
}

/// The entry points a recipe module declares in `RECIPE`, each with the first line
/// of its `doc`, read without running the module (`lvsh recipes list`). Empty for
/// a module without `RECIPE`; `Err` with the message when it does not compile or
/// its `RECIPE` is broken.
pub fn recipe_entries(text: &str) -> Result<Vec<(String, String)>, String> {
    let ctx = Ctx::new(Mode::Script, Vec::new());
    let engine = engine::build(&ctx, engine::resolver(&ctx, &[], None, None));
    let ast = engine.compile(text).map_err(|e| e.to_string())?;
    let schema = recipe_module::read_recipe(&ast, text).map_err(|(_, message, _)| message)?;
    Ok(schema
        .map(|s| {
            s.entries
                .into_iter()
                .map(|(name, spec)| {
                    let doc = spec.doc.unwrap_or_default();
                    (name, doc.lines().next().unwrap_or_default().to_string())
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The `sha256tree` of the recipes embedded in this lvsh (`stdlib` in `lvsh.lock`):
/// files `NAME.rhai`.
pub fn stdlib_hash() -> String {
    let files: Vec<(String, Vec<u8>)> = resolver::STDLIB
        .iter()
        .map(|(name, text)| (format!("{name}.rhai"), text.as_bytes().to_vec()))
        .collect();
    crate::recipes::hash::hash_files(&files).hash
}

/// Evaluates the script at `path`; its directory is searched for imports.
pub fn evaluate_file(path: &Path, opts: &Options) -> Result<Evaluated, ScriptError> {
    let text = load_file(path)?;
    evaluate_source(
        &path.display().to_string(),
        &text,
        Some(script_dir(path)),
        opts,
    )
}

/// The text of the script file at `path`, as [`evaluate_file`] reads it.
pub fn load_file(path: &Path) -> Result<String, ScriptError> {
    let file = std::fs::File::open(path)
        .map_err(|e| ScriptError::new(format!("cannot read `{}`: {e}", path.display())))?;
    read_script(file, &path.display().to_string())
}

/// The directory a script's own imports are searched in.
pub fn script_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => Path::new("."),
    }
}

/// Evaluates `source`, named `name` in errors; `base_dir` is searched for imports.
pub fn evaluate_source(
    name: &str,
    source: &str,
    base_dir: Option<&Path>,
    opts: &Options,
) -> Result<Evaluated, ScriptError> {
    let mut timings = Timings::default();
    let mut lap = std::time::Instant::now();
    let mut took = move |phase: &mut std::time::Duration| {
        let now = std::time::Instant::now();
        *phase = now - lap;
        lap = now;
    };
    let fresh = || {
        let ctx = Ctx::new(Mode::Script, opts.params.clone());
        ctx.sources().insert(name, source);
        ctx.set_main(name);
        ctx.registry().scope = opts.scope.clone();
        ctx
    };
    // Values files are checked against the script's `PARAMS`, which takes rhai.
    if opts.values.is_none() {
        let ctx = fresh();
        if literal::evaluate(&ctx, name, source) {
            took(&mut timings.parse);
            timings.literal = true;
            return finish(&ctx, Vec::new(), timings, took);
        }
    }
    let ctx = fresh();
    let resolver = engine::resolver(
        &ctx,
        &opts.lib_dirs,
        base_dir.map(Path::to_path_buf),
        opts.libraries.clone(),
    );
    let looked = resolver.0.clone();
    let mut engine = engine::build(&ctx, resolver);
    if source.contains("import") {
        engine::track_calls(&mut engine);
    }
    took(&mut timings.engine);
    let mut ast = engine
        .compile(source)
        .map_err(|e| diagnose::from_parse(&e, name, &ctx.sources()))?;
    ast.set_source(name);
    took(&mut timings.parse);
    site_params::apply(&ctx, &ast, name, source, opts.values.as_deref())?;
    ctx.start_clock();
    engine
        .run_ast(&ast)
        .map_err(|e| diagnose::from_rhai(&e, name, &ctx.sources()))?;
    // The AST of a literal script is the larger part of memory: let the model reuse
    // it (its freeing counts as running the script).
    drop(ast);
    drop(engine);
    took(&mut timings.run);
    finish(&ctx, looked.inputs(), timings, took)
}

/// The model of what a script declared into `ctx`, validated, with its output.
fn finish(
    ctx: &Ctx,
    inputs: Vec<Input>,
    mut timings: Timings,
    mut took: impl FnMut(&mut std::time::Duration),
) -> Result<Evaluated, ScriptError> {
    let built = build::build(&ctx.registry(), Mode::Script);
    took(&mut timings.validate);
    if let Some(e) = diagnose::from_problems(&built.problems, &ctx.sources()) {
        return Err(e);
    }
    let mut output = std::mem::take(&mut *lock(&ctx.output));
    output.extend(diagnose::warnings(&built.problems));
    output.extend(ctx.check_unread_params()?);
    Ok(Evaluated {
        balancer: built.balancer,
        output,
        inputs,
        timings,
    })
}

/// `lvsh values explain`: each value of a site (or only `key`), the file and line
/// that set it, what it overrode, and the defaults of what no file sets. The
/// values are checked first, as `plan` checks them; the script does not run.
pub fn explain_values(opts: &Options, key: Option<&str>) -> Result<String, ScriptError> {
    let Some(values) = opts.values.as_deref() else {
        return Err(ScriptError::new("no values file given"));
    };
    let Some(path) = values.script.as_deref() else {
        return Err(ScriptError::new("the values file names no script"));
    };
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| ScriptError::new(format!("cannot read `{name}`: {e}")))?;
    let text = read_script(file, &name)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let ctx = Ctx::new(Mode::Script, opts.params.clone());
    let resolver = engine::resolver(
        &ctx,
        &opts.lib_dirs,
        Some(dir.to_path_buf()),
        opts.libraries.clone(),
    );
    let engine = engine::build(&ctx, resolver);
    ctx.sources().insert(&name, &text);
    ctx.set_main(&name);
    let ast = engine
        .compile(&text)
        .map_err(|e| diagnose::from_parse(&e, &name, &ctx.sources()))?;
    let Some(checked) = site_params::checked(&ctx, &ast, &name, &text, Some(values))? else {
        return Ok(String::new());
    };
    let merged = checked.values.unwrap_or_default();
    site_values::render_explain(&merged, &checked.params, &name, &text, key)
}
