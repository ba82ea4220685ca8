//! Reading what a command works on: scripts (file or `-`), state files, rules files.

use super::{CliError, Context};
use crate::{
    dsl::{self, Evaluated},
    model::Balancer,
    not_text::NotText,
};
use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
};

/// Reads a text file, or standard input for `-`.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    let stdin = path == Path::new("-");
    let read = if stdin {
        let mut bytes = vec![];
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let bytes = read.map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    NotText::decode(bytes).map_err(|at| CliError::NotText {
        what: if stdin {
            "standard input".to_string()
        } else {
            format!("`{}`", path.display())
        },
        at,
    })
}

/// Evaluates a script into a validated model; what it printed goes to stderr.
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
        eprintln!("{line}");
    }
    Ok(balancer)
}

/// Reads a state file written by `emit --to json`.
///
/// Parsed while it is read: the text of 40,000 destinations is 8 MB, more than the
/// model it becomes, and would otherwise sit beside both models.
pub fn read_state(path: &Path) -> Result<Balancer, CliError> {
    let read_error = |source| CliError::Read {
        path: path.to_path_buf(),
        source,
    };
    let input: Box<dyn Read> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(read_error)?)
    };
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    // serde reads a struct from an array too (`[]` would be an empty balancer),
    // and would name the type of other values by its Rust name.
    let other = match first_byte(&mut reader).map_err(read_error)? {
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b'-' | b'0'..=b'9') => Some("a number"),
        _ => None,
    };
    if let Some(other) = other {
        return Err(CliError::StateFile {
            path: path.to_path_buf(),
            source: serde::de::Error::invalid_type(
                serde::de::Unexpected::Other(other),
                &"a JSON object",
            ),
        });
    }
    serde_json::from_reader(reader).map_err(|e| {
        if e.is_io() {
            // The reader's own error, as reading the whole file would have reported it.
            read_error(std::io::Error::from(e))
        } else {
            CliError::StateFile {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })
}

/// The first byte that is not JSON white space, left unread.
fn first_byte(r: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = r.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            return Ok(Some(b));
        }
        r.consume(1);
    }
}
