//! `lvsh recipes fetch`: fills the cache from lvsh.lock, verifying each tree
//! (the tag still points at the locked commit, the files hash to the lock).

use super::super::{CliError, Context};
use crate::recipes::{RecipesError, fetch};
use std::path::Path;

pub fn run(ctx: &Context, dir: Option<&Path>) -> Result<i32, CliError> {
    let (_site, lock) = super::site(dir)?;
    let lock = lock.ok_or_else(|| {
        RecipesError::plain("there is no lvsh.lock to fetch from")
            .with_help("run `lvsh recipes lock`")
    })?;
    let mut out = String::new();
    for locked in &lock.libraries {
        let (_, how) = fetch::ensure(locked, true, Some(&lock))?;
        let how = match how {
            fetch::Fetched::Cached => "cached",
            fetch::Fetched::Fetched => "fetched",
        };
        out.push_str(&format!("{} {} {how}\n", locked.name, locked.version));
    }
    if lock.libraries.is_empty() {
        out.push_str("no locked libraries\n");
    }
    ctx.out(&out)?;
    Ok(0)
}
