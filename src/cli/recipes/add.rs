//! `lvsh recipes add NAME GIT [--version REQ] [--subdir D]`: adds a library to
//! lvsh.toml (edited with toml_edit, so comments and order stay; created when
//! missing), then locks and fetches it. Without `--version` the requirement is `^`
//! of the newest release. When locking fails, lvsh.toml is restored.

use super::super::{CliError, Context};
use super::lock::{self, Change, Moves};
use crate::recipes::{
    RecipesError, SiteManifest, git,
    manifest::{SITE_MANIFEST, valid_name},
    resolve,
};
use std::{fs, path::Path};
use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

const NEW_MANIFEST: &str = "# The recipe libraries of this site; `lvsh recipes lock` pins them in lvsh.lock.\n[libraries]\n";

pub fn run(
    ctx: &Context,
    site_dir: Option<&Path>,
    name: &str,
    url: &str,
    version: Option<&semver::VersionReq>,
    subdir: Option<&str>,
) -> Result<i32, CliError> {
    if !valid_name(name) {
        return Err(RecipesError::plain(format!("`{name}` is not a library name"))
            .with_help("a name is what sites import as `@NAME/…`: lowercase letters, digits, `_` and `-`")
            .into());
    }
    let start = site_dir.unwrap_or(Path::new("."));
    let root = match SiteManifest::discover(start)? {
        Some(site) => site.root,
        None => start.to_path_buf(),
    };
    let path = root.join(SITE_MANIFEST);
    let before = match fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(RecipesError::read(&path, e).into()),
    };
    let mut doc: DocumentMut = before
        .as_deref()
        .unwrap_or(NEW_MANIFEST)
        .parse()
        .map_err(|e| RecipesError::plain(format!("cannot edit `{}`: {e}", path.display())))?;
    let requested = match version {
        Some(v) => v.to_string(),
        None => {
            let tags = git::list_tags(url)?;
            let releases = resolve::releases(tags.iter().map(|(t, _)| t.as_str()));
            let newest = resolve::pick(name, url, &releases, None)?;
            format!("^{}", newest.version)
        }
    };
    let libraries = doc
        .entry("libraries")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| {
            RecipesError::plain(format!(
                "`libraries` in `{}` is not a table",
                path.display()
            ))
        })?;
    if libraries.contains_key(name) {
        return Err(RecipesError::plain(format!("`{name}` is already in {SITE_MANIFEST}"))
            .with_help(format!(
                "change its entry in {SITE_MANIFEST} and run `lvsh recipes lock`, or move it with `lvsh recipes update {name}`"
            ))
            .into());
    }
    let mut entry = InlineTable::new();
    entry.insert("git", Value::from(url));
    entry.insert("version", Value::from(requested.as_str()));
    if let Some(d) = subdir {
        entry.insert("subdir", Value::from(d.trim_matches('/')));
    }
    libraries.insert(name, Item::Value(Value::InlineTable(entry)));
    let text = doc.to_string();
    fs::write(&path, &text).map_err(|e| RecipesError::read(&path, e))?;
    let restore = || match &before {
        Some(t) => {
            let _ = fs::write(&path, t);
        }
        None => {
            let _ = fs::remove_file(&path);
        }
    };
    let result = (|| -> Result<Vec<String>, CliError> {
        let site = SiteManifest::load(&root)?;
        let old = crate::recipes::Lock::load(&root)?;
        let changes = lock::plan(&site, old.as_ref(), &Moves::default())?;
        let new = lock::apply(&site, &changes)?;
        lock::write(ctx, &site, old.as_ref(), &new)?;
        Ok(changes.iter().filter_map(Change::line).collect())
    })();
    match result {
        Ok(lines) => {
            ctx.out(&format!(
                "added {name} = {{ git = \"{url}\", version = \"{requested}\" }} to {SITE_MANIFEST}\n{}\n",
                lines.join("\n")
            ))?;
            Ok(0)
        }
        Err(e) => {
            restore();
            Err(e)
        }
    }
}
