//! Reading a script's text, with one size limit for the top-level script (file,
//! standard input, the REPL's script and `:load`) and every imported module.

use super::error::ScriptError;
use crate::not_text::NotText;
use std::io::{self, Read};

/// Largest script or module lvsh reads. More is not a script (a log, an image,
/// `/dev/zero`) and would only fill memory, as root.
pub const MAX_SCRIPT_BYTES: u64 = 1 << 20;

#[derive(Debug)]
pub(crate) enum ReadError {
    TooLarge,
    NotText(NotText),
    Io(io::Error),
}

/// Reads all of `r` as UTF-8, but never more than [`MAX_SCRIPT_BYTES`].
pub(crate) fn read_limited(r: impl Read) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    r.take(MAX_SCRIPT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_SCRIPT_BYTES {
        return Err(ReadError::TooLarge);
    }
    NotText::decode(bytes).map_err(ReadError::NotText)
}

/// "`what` is not UTF-8 text: ..." for a script or module that is something else.
pub(crate) fn not_text(what: &str, at: NotText) -> String {
    format!("{what} is not UTF-8 text: {at}")
}

/// Why a file is refused as a script, when it is not text.
pub(crate) const NOT_TEXT_HELP: &str = "is this the right file? scripts are UTF-8 text";

/// "`what` is larger than ..." for a script or module over the limit.
pub(crate) fn too_large(what: &str) -> String {
    format!("{what} is larger than {MAX_SCRIPT_BYTES} bytes, the most lvsh reads of a script")
}

/// Reads a top-level script from `r`; `name` is the file name (`-` for standard
/// input) that errors show.
pub fn read_script(r: impl Read, name: &str) -> Result<String, ScriptError> {
    let what = if name == "-" {
        "the script on standard input".to_string()
    } else {
        format!("script `{name}`")
    };
    read_limited(r).map_err(|e| match e {
        ReadError::TooLarge => ScriptError::new("lvsh::limit", too_large(&what)).with_help(Some(
            "is this the right file? a larger balancer can be split into modules (`import`)"
                .to_string(),
        )),
        ReadError::NotText(at) => ScriptError::new("lvsh::io", not_text(&what, at))
            .with_help(Some(NOT_TEXT_HELP.to_string())),
        ReadError::Io(e) => ScriptError::new("lvsh::io", format!("cannot read {what}: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_no_further() {
        let max = MAX_SCRIPT_BYTES as usize;
        assert_eq!(read_limited(&b"let x = 1;"[..]).unwrap(), "let x = 1;");
        assert_eq!(read_limited(&vec![b' '; max][..]).unwrap().len(), max);
        assert!(matches!(
            read_limited(&vec![b' '; max + 1][..]),
            Err(ReadError::TooLarge)
        ));
        // An endless source stops at the limit.
        assert!(matches!(
            read_limited(io::repeat(b'x')),
            Err(ReadError::TooLarge)
        ));
        assert!(matches!(
            read_limited(&[0xff, 0xfe][..]),
            Err(ReadError::NotText(NotText { byte: 0xff, .. }))
        ));
    }

    #[test]
    fn the_error_names_the_script_and_the_limit() {
        let e = read_script(io::repeat(b'x'), "big.rhai").unwrap_err();
        assert_eq!(
            e.message(),
            "script `big.rhai` is larger than 1048576 bytes, the most lvsh reads of a script"
        );
        let e = read_script(io::repeat(b'x'), "-").unwrap_err();
        assert!(
            e.message()
                .starts_with("the script on standard input is larger")
        );
    }
}
