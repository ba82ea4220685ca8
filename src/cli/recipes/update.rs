//! `lvsh recipes update [NAME…] [--to VERSION] [--dry-run]`: moves the named (or
//! all) libraries to the newest version their requirement allows, or to `--to`.
//! `recipes diff` shows what such a move changes in each site before it is made.

use super::super::{CliError, Context};
use super::lock::{self, Change, Moves};
use std::path::Path;

pub fn run(
    ctx: &Context,
    site_dir: Option<&Path>,
    names: &[String],
    to: Option<&semver::Version>,
    dry_run: bool,
) -> Result<i32, CliError> {
    if to.is_some() && names.len() != 1 {
        return Err(
            crate::recipes::RecipesError::plain("--to needs exactly one library name")
                .with_help("lvsh recipes update NAME --to VERSION")
                .into(),
        );
    }
    let (site, old) = super::site(site_dir)?;
    let moves = Moves {
        names: Some(names.to_vec()),
        to: to.cloned(),
    };
    let changes = lock::plan(&site, old.as_ref(), &moves)?;
    let lines: Vec<String> = changes.iter().filter_map(Change::line).collect();
    if dry_run {
        if lines.is_empty() {
            ctx.out("nothing to update\n")?;
        } else {
            ctx.out(&format!("{}\n", lines.join("\n")))?;
        }
        ctx.note(
            "dry run: nothing written; `lvsh recipes diff` shows what this changes in each site\n",
        );
        return Ok(0);
    }
    let lock = lock::apply(&site, &changes)?;
    lock::write(ctx, &site, old.as_ref(), &lock)?;
    if lines.is_empty() {
        ctx.out("nothing to update\n")?;
    } else {
        ctx.out(&format!("{}\n", lines.join("\n")))?;
    }
    Ok(0)
}
