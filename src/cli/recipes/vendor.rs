//! `lvsh recipes vendor [--check]`: copies the locked libraries into
//! `vendor/lvsh/` for directors without git or network; `--check` (for CI) only
//! compares and fails naming each difference.

use super::super::{CliError, Context};
use crate::recipes::{Lock, RecipesError, vendor};
use std::path::Path;

pub fn run(ctx: &Context, dir: Option<&Path>, check: bool) -> Result<i32, CliError> {
    let (site, lock) = super::site(dir)?;
    let diffs = super::lock::disagreements(&site, lock.as_ref());
    if !diffs.is_empty() {
        return Err(
            RecipesError::plain("lvsh.lock does not agree with lvsh.toml")
                .with_help(format!(
                    "{}\nrun `lvsh recipes lock` first",
                    diffs.join("\n")
                ))
                .into(),
        );
    }
    let lock = lock.unwrap_or_else(|| Lock::new(String::new(), String::new(), Vec::new()));
    if check {
        let diffs = vendor::check(&site.root, &lock)?;
        if diffs.is_empty() {
            ctx.out("vendor/lvsh/ matches lvsh.lock\n")?;
            return Ok(0);
        }
        return Err(RecipesError::plain("vendor/lvsh/ differs from lvsh.lock")
            .with_help(format!("{}\nrun `lvsh recipes vendor`", diffs.join("\n")))
            .into());
    }
    let changes = vendor::vendor(&site.root, &lock)?;
    if changes.is_empty() {
        ctx.out("vendor/lvsh/ is up to date\n")?;
    } else {
        ctx.out(&format!("{}\n", changes.join("\n")))?;
    }
    Ok(0)
}
