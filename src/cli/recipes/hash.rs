//! `lvsh recipes hash DIR`: the summary and hash of a library, as `lvsh.lock`
//! records it, to compare with coreutils or with another copy.

use super::super::{CliError, Context};
use crate::recipes::{LibManifest, hash};
use std::path::Path;

pub fn run(ctx: &Context, dir: &Path) -> Result<i32, CliError> {
    // A library's own tree has other files (.git, src/): only its package files
    // count. A vendored or cached copy holds exactly those.
    let include = LibManifest::load(dir)?.include;
    let tree = hash::hash_dir(dir, &include)?;
    ctx.out(&format!("{}{}\n", tree.summary(), tree.hash))?;
    Ok(0)
}
