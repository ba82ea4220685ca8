//! Reading what a command works on: scripts (file or `-`), state files, rules files.

use super::{CliError, Context, state_file::StateFileError};
use crate::{
    dsl::{self, Evaluated},
    model::Balancer,
};
use std::{
    io::{BufReader, Read},
    path::Path,
};

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

/// Evaluates a script into a validated model; what it printed and its warnings go
/// to stderr (not with `-q`).
pub fn evaluate(ctx: &Context, path: &Path) -> Result<Balancer, CliError> {
    let Evaluated { balancer, output } = if path == Path::new("-") {
        let src = dsl::read_script(std::io::stdin().lock(), "-")?;
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
        ctx.note(&format!("{line}\n"));
    }
    Ok(balancer)
}

/// Reads a state file written by `emit --to json`.
///
/// A file is parsed while it is read: the text of 40,000 destinations is 8 MB, more
/// than the model it becomes, and would otherwise sit beside both models. Only when
/// it does not parse is the text read again, to show where it is wrong.
pub fn read_state(path: &Path) -> Result<Balancer, CliError> {
    let read_error = |source| CliError::Read {
        path: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        let text = read_text(path)?;
        return serde_json::from_str(&text)
            .map_err(|e| StateFileError::new("<stdin>", text, &e).into());
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(read_error)?;
    serde_json::from_reader(BufReader::with_capacity(64 * 1024, file)).map_err(|e| {
        if e.is_io() {
            // The reader's own error, as reading the whole file would have reported it.
            return read_error(std::io::Error::from(e));
        }
        match std::fs::read_to_string(path) {
            Ok(text) => StateFileError::new(&name, text, &e).into(),
            Err(source) => read_error(source),
        }
    })
}
