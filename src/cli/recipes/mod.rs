//! `lvsh recipes …`: one file per subcommand.

mod add;
mod api_diff;
mod diff;
mod doc;
mod fetch;
mod hash;
mod line_diff;
mod list;
mod lock;
mod test;
mod test_case;
mod update;
mod vendor;
mod verify;

use super::{CliError, Context, args::RecipesCommand};
use crate::recipes::{Lock, RecipesError, SiteManifest};
use std::path::Path;

pub fn run(ctx: &Context, command: &RecipesCommand) -> Result<i32, CliError> {
    match command {
        RecipesCommand::Verify { dir } => verify::run(ctx, dir.as_deref()),
        RecipesCommand::List { dir, json } => list::run(ctx, dir.as_deref(), *json),
        RecipesCommand::Hash { dir } => hash::run(ctx, dir),
        RecipesCommand::Add {
            name,
            git,
            version,
            subdir,
            site,
        } => add::run(
            ctx,
            site.as_deref(),
            name,
            git,
            version.as_ref(),
            subdir.as_deref(),
        ),
        RecipesCommand::Lock { dir, check } => lock::run(ctx, dir.as_deref(), *check),
        RecipesCommand::Update {
            names,
            to,
            dry_run,
            site,
        } => update::run(ctx, site.as_deref(), names, to.as_ref(), *dry_run),
        RecipesCommand::Fetch { dir } => fetch::run(ctx, dir.as_deref()),
        RecipesCommand::Vendor { dir, check } => vendor::run(ctx, dir.as_deref(), *check),
        RecipesCommand::Test {
            args,
            bless,
            compat,
        } => test::run(ctx, args, *bless, compat.as_deref()),
        RecipesCommand::Doc {
            what,
            markdown,
            json,
        } => doc::run(ctx, what, doc::Format::new(*markdown, *json)),
        RecipesCommand::Diff { name, to, sites } => diff::run(ctx, name, to, sites),
    }
}

/// The site at or above `dir` (default: the current directory) and its lock; an
/// error when there is no `lvsh.toml`, since every subcommand needs one.
pub(super) fn site(dir: Option<&Path>) -> Result<(SiteManifest, Option<Lock>), CliError> {
    let start = dir.unwrap_or(Path::new("."));
    let site = SiteManifest::discover(start)?.ok_or_else(|| {
        RecipesError::plain(format!(
            "no lvsh.toml in `{}` or above: this is not a site with recipe libraries",
            start.display()
        ))
        .with_help("create lvsh.toml with a [libraries] table, or `lvsh recipes add NAME URL`")
    })?;
    let lock = Lock::load(&site.root)?;
    Ok((site, lock))
}
