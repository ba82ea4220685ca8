//! Reading what a command works on: scripts (file or `-`), state files, rules files.

use super::{CliError, Context};
use crate::{
    dsl::{self, Evaluated},
    model::Balancer,
};
use std::{io::Read, path::Path};

/// Reads a file, or standard input for `-`.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    let read = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(path)
    };
    read.map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Evaluates a script into a validated model; what it printed goes to stderr.
pub fn evaluate(ctx: &Context, path: &Path) -> Result<Balancer, CliError> {
    let Evaluated { balancer, output } = if path == Path::new("-") {
        let src = read_text(path)?;
        dsl::evaluate_source("<stdin>", &src, None, &ctx.dsl)?
    } else {
        if let Err(source) = std::fs::metadata(path) {
            return Err(CliError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
        dsl::evaluate_file(path, &ctx.dsl)?
    };
    for line in output {
        eprintln!("{line}");
    }
    Ok(balancer)
}

/// Reads a state file written by `emit --to json`.
pub fn read_state(path: &Path) -> Result<Balancer, CliError> {
    let text = read_text(path)?;
    Balancer::from_json(&text).map_err(|source| CliError::StateFile {
        path: path.to_path_buf(),
        source,
    })
}
