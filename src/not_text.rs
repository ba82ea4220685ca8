//! Where a file that should be text stops being UTF-8: what lvsh says of an image,
//! a compressed file or a binary given as a script or a rules file.

use std::fmt;

/// The first byte that is not UTF-8, with its line and column (1-based; the column
/// counts characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotText {
    pub byte: u8,
    pub line: usize,
    pub column: usize,
}

impl NotText {
    /// `None` when `bytes` is UTF-8.
    pub fn find(bytes: &[u8]) -> Option<NotText> {
        let valid = std::str::from_utf8(bytes).err()?.valid_up_to();
        let text = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let last_line = text.rsplit('\n').next().unwrap_or_default();
        Some(NotText {
            byte: bytes[valid],
            line: text.matches('\n').count() + 1,
            column: last_line.chars().count() + 1,
        })
    }

    /// `bytes` as a string, or where it is not one.
    pub fn decode(bytes: Vec<u8>) -> Result<String, NotText> {
        String::from_utf8(bytes).map_err(|e| {
            NotText::find(e.as_bytes()).expect("from_utf8 failed, so there is a bad byte")
        })
    }
}

impl fmt::Display for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "byte 0x{:02x} at line {}, column {}",
            self.byte, self.line, self.column
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_the_first_byte_that_is_not_utf8() {
        assert_eq!(NotText::find("héllo\nwörld".as_bytes()), None);
        let at = NotText::find(b"-A -t 10.0.0.1:80\n-a \xc3\xa9\xff rest\xfe").unwrap();
        assert_eq!((at.byte, at.line, at.column), (0xff, 2, 5));
        assert_eq!(at.to_string(), "byte 0xff at line 2, column 5");
        // A sequence cut short counts from its first byte.
        let at = NotText::find(b"ab\xc3").unwrap();
        assert_eq!((at.byte, at.line, at.column), (0xc3, 1, 3));
        assert_eq!(NotText::decode(b"ok".to_vec()).unwrap(), "ok");
        assert_eq!(NotText::decode(vec![0x89, b'P']).unwrap_err().column, 1);
    }
}
