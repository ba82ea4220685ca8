//! `lvsh values explain SITE.toml [KEY]`: where each value of a site comes from.

use super::{CliError, Context, input};
use crate::dsl::{self, ScriptError};
use std::path::Path;

pub fn explain(ctx: &Context, file: &Path, key: Option<&str>) -> Result<i32, CliError> {
    if !dsl::is_values_file(file) {
        return Err(ScriptError::new(format!(
            "`{}` is not a values file (.toml or .json)",
            file.display()
        ))
        .with_help(Some(
            "give the site's values file, the one whose [lvsh] names the script".into(),
        ))
        .into());
    }
    let (_, opts) = input::with_values(ctx, file)?;
    let text = dsl::explain_values(&opts, key)?;
    ctx.out(&text)?;
    Ok(0)
}
