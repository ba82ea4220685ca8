//! `import "name" as x;`: the embedded stdlib first, then the `-I/--lib`
//! directories, then the importing script's own directory. Nothing else is read
//! (see `AllowedDirs`).
//!
//! `import "@NAME/PATH"` reads `recipes/PATH.rhai` of the site's verified library
//! NAME, and nothing else: never `-I` or the script's directory, so no local file
//! can shadow a locked library. Inside a library module, `@self/PATH` and relative
//! imports stay inside that library.

use super::allowed_dirs::AllowedDirs;
use super::error::fail;
use super::inputs::Input;
use super::recipe_module;
use super::state::{Ctx, lock};
use crate::recipes::Libraries;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

pub(crate) type SharedModule = Arc<Module>;
type RhaiResultOf<T> = Result<T, Box<EvalAltResult>>;

/// The recipes compiled into the binary, by import name.
pub(crate) const STDLIB: &[(&str, &str)] = &[
    ("dr_pool", include_str!("../../stdlib/dr_pool.rhai")),
    ("fwmark_pool", include_str!("../../stdlib/fwmark_pool.rhai")),
    ("nat_farm", include_str!("../../stdlib/nat_farm.rhai")),
];

#[derive(Debug)]
pub(crate) struct Resolver {
    ctx: Arc<Ctx>,
    lib_dirs: Vec<PathBuf>,
    base_dir: Option<PathBuf>,
    /// `lib_dirs` and `base_dir`, as the only places module files are read from.
    allowed: AllowedDirs,
    /// Directory of each module loaded from a file, for its own relative imports.
    dirs: Mutex<HashMap<String, PathBuf>>,
    cache: Mutex<HashMap<String, SharedModule>>,
    loading: Mutex<Vec<String>>,
    /// Every file looked at, in order (see [`Input`]).
    inputs: Mutex<Vec<Input>>,
    /// The site's libraries (`@NAME/…`), verified before evaluation.
    libraries: Option<Arc<Libraries>>,
    /// The library (index in `libraries`) of each module read from one.
    lib_of: Mutex<HashMap<String, usize>>,
}

/// A shared resolver, so a REPL session keeps its cache when the engine is rebuilt.
#[derive(Debug, Clone)]
pub(crate) struct Shared(pub Arc<Resolver>);

impl Resolver {
    pub fn new(
        ctx: Arc<Ctx>,
        lib_dirs: Vec<PathBuf>,
        base_dir: Option<PathBuf>,
        libraries: Option<Arc<Libraries>>,
    ) -> Self {
        let allowed = AllowedDirs::new(lib_dirs.iter().chain(&base_dir).map(PathBuf::as_path));
        Resolver {
            ctx,
            allowed,
            lib_dirs,
            base_dir,
            dirs: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
            loading: Mutex::new(Vec::new()),
            inputs: Mutex::new(Vec::new()),
            libraries,
            lib_of: Mutex::new(HashMap::new()),
        }
    }

    /// The files looked at so far.
    pub fn inputs(&self) -> Vec<Input> {
        lock(&self.inputs).clone()
    }

    /// Where `path` comes from: its display name, its text, and its directory.
    fn find(
        &self,
        importer: Option<&str>,
        path: &str,
        pos: Position,
    ) -> RhaiResultOf<(String, String, Option<PathBuf>)> {
        if let Some(rest) = path.strip_prefix('@') {
            return self.find_in_library(importer, path, rest, pos);
        }
        let rel = checked(path).map_err(|e| {
            let mut e = e;
            e.set_position(pos);
            e
        })?;
        if let Some((_, text)) = STDLIB.iter().find(|(n, _)| *n == rel) {
            return Ok((format!("stdlib/{rel}.rhai"), text.to_string(), None));
        }
        // A library module's relative imports stay inside its library.
        let in_lib = importer.and_then(|s| lock(&self.lib_of).get(s).copied());
        if let (Some(i), Some(importer)) = (in_lib, importer) {
            let libs = self
                .libraries
                .as_ref()
                .expect("a library module has libraries");
            let prefix = format!("@{}/", libs.libs[i].name);
            let own = importer
                .strip_prefix(&prefix)
                .and_then(|m| m.rsplit_once('/'))
                .map(|(d, _)| format!("{d}/"))
                .unwrap_or_default();
            return self.read_library(i, &format!("{own}{rel}"), pos);
        }
        let own_dir = importer
            .and_then(|s| lock(&self.dirs).get(s).cloned())
            .or_else(|| self.base_dir.clone());
        let file = format!("{rel}.rhai");
        for dir in self.lib_dirs.iter().chain(own_dir.iter()) {
            let p = dir.join(&file);
            if p.is_file() {
                let text = self.allowed.read(&p).map_err(|r| {
                    let mut e = fail(r.message, r.help);
                    e.set_position(pos);
                    e
                })?;
                // Read, so it canonicalizes; if it stopped since, the empty path
                // never matches again.
                let real = p.canonicalize().unwrap_or_default();
                lock(&self.inputs).push(Input::read(&p, real, &text));
                let name = display(&p);
                let dir = p.parent().map(Path::to_path_buf);
                return Ok((name, text, dir));
            }
            lock(&self.inputs).push(Input::absent(&p));
        }
        Err(Box::new(EvalAltResult::ErrorModuleNotFound(
            path.to_string(),
            pos,
        )))
    }
}

impl Resolver {
    /// `@NAME/PATH` (`rest` is `NAME/PATH`): a module of one of the site's libraries.
    fn find_in_library(
        &self,
        importer: Option<&str>,
        path: &str,
        rest: &str,
        pos: Position,
    ) -> RhaiResultOf<(String, String, Option<PathBuf>)> {
        let at = |mut e: Box<EvalAltResult>| {
            e.set_position(pos);
            e
        };
        let Some((name, sub)) = rest.split_once('/') else {
            return Err(at(fail(
                format!("import path `{path}` names a library but no module"),
                Some("write `@NAME/MODULE`, e.g. `@acme/dr_web` for recipes/dr_web.rhai of library acme".to_string()),
            )));
        };
        let Ok(rel) = checked(sub) else {
            return Err(at(fail(
                format!("import path `{path}` leaves the library's recipes/ directory"),
                Some("a library import is `@NAME/PATH`, PATH inside the library's recipes/: no `..`, no absolute paths".to_string()),
            )));
        };
        let importer_lib = importer.and_then(|s| lock(&self.lib_of).get(s).copied());
        let Some(libs) = self.libraries.as_ref() else {
            return Err(at(fail(
                format!(
                    "`{path}` imports from library `{name}`, but there is no lvsh.toml in the script's directory or above"
                ),
                Some(
                    "a site names the libraries it imports in lvsh.toml (beside lvsh.lock): `lvsh recipes add NAME GIT-URL`"
                        .to_string(),
                ),
            )));
        };
        let index = if name == "self" {
            // A library module, or the test of a library given alone (`recipes test`).
            let single = (libs.libs.len() == 1 && libs.libs[0].root == libs.site_root).then_some(0);
            importer_lib.or(single).ok_or_else(|| {
                at(fail(
                    format!("`{path}`: `@self/` imports only work inside a library"),
                    Some(
                        "a site imports a library's modules by its name, `@NAME/MODULE`"
                            .to_string(),
                    ),
                ))
            })?
        } else {
            libs.libs.iter().position(|l| l.name == name).ok_or_else(|| {
                let manifest = crate::recipes::manifest::SITE_MANIFEST;
                let file = if libs.site_root == Path::new(".") {
                    manifest.to_string()
                } else {
                    libs.site_root.join(manifest).display().to_string()
                };
                let known: Vec<&str> = libs.libs.iter().map(|l| l.name.as_str()).collect();
                at(fail(
                    format!(
                        "library `{name}` is not in {file}{}",
                        crate::suggest::did_you_mean(name, known.iter().copied())
                    ),
                    Some(format!(
                        "add it with `lvsh recipes add {name} GIT-URL`, then `lvsh recipes lock`{}",
                        if known.is_empty() {
                            String::new()
                        } else {
                            format!("; the site's libraries: {}", known.join(", "))
                        }
                    )),
                ))
            })?
        };
        self.read_library(index, rel, pos)
    }

    /// `recipes/REL.rhai` of library `index`, named `@NAME/REL.rhai`.
    fn read_library(
        &self,
        index: usize,
        rel: &str,
        pos: Position,
    ) -> RhaiResultOf<(String, String, Option<PathBuf>)> {
        let lib = &self.libraries.as_ref().expect("checked by the caller").libs[index];
        let root = lib.root.join("recipes");
        let p = root.join(format!("{rel}.rhai"));
        let name = format!("@{}/{rel}.rhai", lib.name);
        if !p.is_file() {
            lock(&self.inputs).push(Input::absent(&p));
            let mut e = fail(
                format!("library {} has no module `{rel}`", lib.label()),
                Some(format!("its modules are the files in `{}`", root.display())),
            );
            e.set_position(pos);
            return Err(e);
        }
        let text = AllowedDirs::new([root.as_path()]).read(&p).map_err(|r| {
            let mut e = fail(r.message, r.help);
            e.set_position(pos);
            e
        })?;
        let real = p.canonicalize().unwrap_or_default();
        lock(&self.inputs).push(Input::read(&p, real, &text));
        lock(&self.lib_of).insert(name.clone(), index);
        self.ctx
            .sources()
            .libraries
            .insert(name.clone(), lib.label());
        Ok((name, text, p.parent().map(Path::to_path_buf)))
    }
}

fn display(p: &Path) -> String {
    p.strip_prefix(".").unwrap_or(p).display().to_string()
}

/// The import path as a relative name without `.rhai`; absolute paths, `..` and odd
/// characters are refused.
fn checked(path: &str) -> Result<&str, Box<EvalAltResult>> {
    let rel = path.strip_suffix(".rhai").unwrap_or(path);
    let ok = !rel.is_empty()
        && !rel.starts_with('/')
        && rel
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && rel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    if ok {
        Ok(rel)
    } else {
        Err(fail(
            format!("import path `{path}` is not allowed"),
            Some("imports are relative names like \"dr_pool\" or \"site/web\": no absolute paths, no `..`".to_string()),
        ))
    }
}

impl ModuleResolver for Shared {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> RhaiResultOf<SharedModule> {
        let r = &self.0;
        let (name, text, dir) = r.find(source, path, pos)?;
        if let Some(m) = lock(&r.cache).get(&name) {
            return Ok(m.clone());
        }
        {
            let mut loading = lock(&r.loading);
            if loading.contains(&name) {
                let chain = loading.join(" → ");
                let mut e = fail(
                    format!("import cycle: {chain} → {name}"),
                    Some("modules cannot import each other in a circle".to_string()),
                );
                e.set_position(pos);
                return Err(e);
            }
            loading.push(name.clone());
        }
        let result = load(r, engine, source.unwrap_or(""), &name, &text, dir, pos);
        lock(&r.loading).retain(|n| n != &name);
        let module = result?;
        lock(&r.cache).insert(name, module.clone());
        Ok(module)
    }
}

fn load(
    r: &Resolver,
    engine: &Engine,
    importer: &str,
    name: &str,
    text: &str,
    dir: Option<PathBuf>,
    pos: Position,
) -> RhaiResultOf<SharedModule> {
    r.ctx.sources().insert(name, text);
    if let Some(d) = dir {
        lock(&r.dirs).insert(name.to_string(), d);
    }
    let wrap =
        |e: Box<EvalAltResult>| Box::new(EvalAltResult::ErrorInModule(name.to_string(), e, pos));
    let mut ast = engine.compile(text).map_err(|e| wrap(Box::new(e.into())))?;
    ast.set_source(name);
    let importer = if importer.is_empty() {
        lock(&r.ctx.main).to_string()
    } else {
        importer.to_string()
    };
    let schema = recipe_module::read_recipe(&ast, text).map_err(|(at, message, help)| {
        recipe_module::author_error(
            &importer,
            pos,
            name,
            at,
            format!("recipe {name}: {message}"),
            help,
        )
    })?;
    let is_recipe = schema.is_some();
    {
        let mut sources = r.ctx.sources();
        sources.modules.insert(name.to_string());
        if let Some(s) = schema {
            sources.recipes.insert(name.to_string(), Arc::new(s));
        }
    }
    let before = r.ctx.registry().declared();
    let mut module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(wrap)?;
    if let Some((what, at)) = r.ctx.registry().declared_since(&before) {
        let message =
            format!("module {name} declares {what} when imported; declare it inside a function");
        let help =
            "importing a module must not change the balancer: only calling its functions does"
                .to_string();
        if is_recipe {
            return Err(recipe_module::author_error(
                &importer,
                pos,
                name,
                at,
                message,
                Some(help),
            ));
        }
        let place = at
            .map(|(l, c)| format!(" ({name}:{l}:{c})"))
            .unwrap_or_default();
        r.ctx.print(format!("warning: {message}{place}"));
    }
    module.set_id(name);
    Ok(module.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_paths_stay_inside() {
        assert_eq!(checked("dr_pool").unwrap(), "dr_pool");
        assert_eq!(checked("site/web.rhai").unwrap(), "site/web");
        for bad in ["/etc/passwd", "../x", "a/../b", "a//b", "", "a b", "./x"] {
            assert!(checked(bad).is_err(), "{bad}");
        }
    }
}
