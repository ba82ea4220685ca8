//! `lvsh recipes verify`: every check a run does before evaluating, alone, offline.

use super::super::{CliError, Context};
use crate::recipes::Libraries;
use std::path::Path;

pub fn run(ctx: &Context, dir: Option<&Path>) -> Result<i32, CliError> {
    let (site, lock) = super::site(dir)?;
    let libs = Libraries::open_verified(&site, lock.as_ref(), true)?;
    if let Some(w) = lock.as_ref().and_then(super::super::input::stdlib_warning) {
        ctx.note(&w);
    }
    // Harmless (nothing imports them), but the lock should say what the site uses.
    for old in lock.iter().flat_map(|l| &l.libraries) {
        if site.get(&old.name).is_none() {
            ctx.note(&format!(
                "warning: lvsh.lock also locks `{}`, which lvsh.toml no longer names; `lvsh recipes lock` drops it\n",
                old.name
            ));
        }
    }
    let mut out = String::new();
    for lib in &libs.libs {
        match &lib.version {
            Some(_) => out.push_str(&format!(
                "{} verified ({})\n",
                lib.label(),
                lib.root.display()
            )),
            None => out.push_str(&format!(
                "{}: `{}`, not locked (apply refuses it without --allow-unlocked)\n",
                lib.label(),
                lib.root.display()
            )),
        }
    }
    if libs.libs.is_empty() {
        out.push_str("no libraries in lvsh.toml\n");
    }
    ctx.out(&out)?;
    Ok(0)
}
