//! Script texts by name, so errors can show the line they point at, also for
//! imported modules and earlier REPL entries.

use super::recipe_schema::RecipeSchema;
use super::state::At;
use crate::model::Origin;
use miette::SourceSpan;
use std::{
    collections::{HashMap, HashSet},
    hash::{BuildHasherDefault, Hasher},
    sync::Arc,
};

#[derive(Default, Debug)]
pub(crate) struct Sources {
    texts: HashMap<Arc<str>, Arc<str>>,
    /// Interned names, so origins share one allocation per file.
    names: Vec<Arc<str>>,
    /// One `At` per position (see `key`): the objects a loop makes share the few
    /// positions of its calls instead of holding a copy each. A literal script has
    /// a position for every call (14 per service as `lvsh save` writes one), so
    /// this is a hash map, with a hash of one multiplication.
    positions: HashMap<u128, At, BuildHasherDefault<PositionHasher>>,
    /// Index of the top-level script's name (see `set_main`).
    main: Option<usize>,
    /// The `RECIPE` of each loaded recipe module, by module name.
    pub recipes: HashMap<String, Arc<RecipeSchema>>,
    /// The names of the imported modules (not the top-level script).
    pub modules: HashSet<String>,
    /// The library of each module imported as `@NAME/…`: `acme 1.0.0`, for
    /// messages that blame or point into it.
    pub libraries: HashMap<String, String>,
}

/// A position as one number, cheap to compare: name index, line and column.
/// A line or column of 2^40 would need a terabyte of script text.
fn key(name: usize, line: usize, column: usize) -> u128 {
    ((name as u128) << 80) | ((line as u128) << 40) | column as u128
}

/// Hashes a position key: its two halves folded, multiplied by an odd constant
/// (Fibonacci hashing), and the high bits folded back into the low ones, which
/// pick the bucket. SipHash, the default, costs several times more and
/// defends against chosen keys, which positions in a script the user runs are not.
#[derive(Default)]
pub(crate) struct PositionHasher(u64);

impl Hasher for PositionHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u128(&mut self, n: u128) {
        let folded = (n as u64) ^ ((n >> 64) as u64).rotate_left(29);
        self.0 = (self.0 ^ folded).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl Sources {
    pub fn insert(&mut self, name: &str, text: &str) -> Arc<str> {
        let name = self.intern(name);
        self.texts.insert(name.clone(), Arc::from(text));
        name
    }

    pub fn text(&self, name: &str) -> Option<Arc<str>> {
        self.texts.get(name).cloned()
    }

    /// Every text: the script and the modules it imported.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.texts.values().map(|t| t.as_ref())
    }

    pub fn intern(&mut self, name: &str) -> Arc<str> {
        let i = self.name_index(name);
        self.names[i].clone()
    }

    fn name_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.names.iter().rposition(|n| n.as_ref() == name) {
            return i;
        }
        self.names.push(Arc::from(name));
        self.names.len() - 1
    }

    /// Interns the top-level script's name and remembers it as the main one.
    pub fn set_main(&mut self, name: &str) -> Arc<str> {
        let i = self.name_index(name);
        self.main = Some(i);
        self.names[i].clone()
    }

    /// The shared `At` of a call at a position of the script `name`.
    pub fn at(&mut self, name: &str, line: usize, column: usize) -> At {
        self.at_main(name, line, column).0
    }

    /// `at`, and whether `name` is the top-level script's.
    pub fn at_main(&mut self, name: &str, line: usize, column: usize) -> (At, bool) {
        let i = self.name_index(name);
        // Before any `set_main` the main name is the empty one.
        let is_main = self.main.map_or(name.is_empty(), |m| m == i);
        let name = &self.names[i];
        let at = self
            .positions
            .entry(key(i, line, column))
            .or_insert_with(|| At::of(Origin::at(name.clone(), line, column)))
            .clone();
        (at, is_main)
    }
}

/// Byte offset of a 1-based line and 1-based character column.
pub(crate) fn offset(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let col = rest[..line_end]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(line_end);
    start + col
}

/// The span of the token at a position: a whole name, a whole string literal, or
/// one character.
pub(crate) fn span_at(text: &str, line: usize, column: usize) -> SourceSpan {
    let off = offset(text, line, column);
    let rest = &text[off..];
    let mut chars = rest.char_indices();
    let len = match chars.next() {
        None => 0,
        Some((_, c)) if c.is_alphanumeric() || c == '_' => rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map(|(i, _)| i)
            .unwrap_or(rest.len()),
        Some((_, '"')) => {
            let mut end = None;
            let mut escaped = false;
            for (i, c) in chars {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i + 1);
                        break;
                    }
                    '\n' => break,
                    _ => escaped = false,
                }
            }
            end.unwrap_or(1)
        }
        Some((_, c)) => c.len_utf8(),
    };
    SourceSpan::new(off.into(), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_characters_not_bytes() {
        let t = "let a = \"éé\"; foo(1)\nbar";
        // `foo` is character 15 but byte 16 (0-based).
        assert_eq!(offset(t, 1, 15), 16);
        assert_eq!(&t[offset(t, 2, 1)..], "bar");
        let s = span_at(t, 1, 15);
        assert_eq!((s.offset(), s.len()), (16, 3));
    }

    #[test]
    fn spans_cover_names_and_strings() {
        let t = "x.scheduler(\"rrr\")";
        assert_eq!(span_at(t, 1, 3).len(), "scheduler".len());
        assert_eq!(span_at(t, 1, 13).len(), 5);
        assert_eq!(span_at(t, 1, 12).len(), 1);
        assert_eq!(span_at(t, 9, 1).offset(), t.len());
    }
}
