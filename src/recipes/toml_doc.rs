//! Reading the small TOML files of this module (`lvsh.toml`, `lvsh.lock`,
//! `lvsh-lib.toml`) with spans: every wrong entry becomes an error on its line.

use super::{RecipesError, error::Origin};
use crate::suggest::did_you_mean;
use std::{ops::Range, path::Path, sync::Arc};
use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Reads `path` (`None` when it does not exist).
pub(crate) fn read(path: &Path) -> Result<Option<Origin>, RecipesError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(Origin {
            path: path.to_path_buf(),
            text: Arc::from(text),
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RecipesError::read(path, e)),
    }
}

pub(crate) fn parse(origin: &Origin) -> Result<DeTable<'_>, RecipesError> {
    DeTable::parse(&origin.text)
        .map(|t| t.into_inner())
        .map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            origin.error(
                span,
                format!(
                    "`{}` is not valid TOML: {}",
                    origin.path.display(),
                    e.message().trim_end()
                ),
                "here",
            )
        })
}

/// Refuses keys not in `known` (a typo would otherwise be ignored silently).
pub(crate) fn known_keys(
    origin: &Origin,
    table: &DeTable<'_>,
    known: &[&str],
    what: &str,
) -> Result<(), RecipesError> {
    for (k, _) in table.iter() {
        if !known.contains(&k.get_ref().as_ref()) {
            let key = k.get_ref();
            return Err(origin
                .error(
                    k.span(),
                    format!(
                        "unknown key `{key}` in {what}{}",
                        did_you_mean(key, known.iter().copied())
                    ),
                    "unknown key",
                )
                .with_help(format!("known keys: {}", known.join(", "))));
        }
    }
    Ok(())
}

pub(crate) fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Value<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v)
}

pub(crate) fn string(origin: &Origin, v: &Value<'_>, what: &str) -> Result<String, RecipesError> {
    match v.get_ref() {
        DeValue::String(s) => Ok(s.to_string()),
        _ => Err(origin.error(v.span(), format!("{what} must be a string"), "not a string")),
    }
}

pub(crate) fn table<'a, 'i>(
    origin: &Origin,
    v: &'a Value<'i>,
    what: &str,
) -> Result<&'a DeTable<'i>, RecipesError> {
    match v.get_ref() {
        DeValue::Table(t) => Ok(t),
        _ => Err(origin.error(v.span(), format!("{what} must be a table"), "not a table")),
    }
}

pub(crate) fn strings(
    origin: &Origin,
    v: &Value<'_>,
    what: &str,
) -> Result<Vec<String>, RecipesError> {
    match v.get_ref() {
        DeValue::Array(a) => a.iter().map(|x| string(origin, x, what)).collect(),
        _ => Err(origin.error(
            v.span(),
            format!("{what} must be a list of strings"),
            "not a list",
        )),
    }
}

/// A required string key of `table`, else an error at `at` (the table's place).
pub(crate) fn required(
    origin: &Origin,
    table: &DeTable<'_>,
    key: &str,
    at: Range<usize>,
    what: &str,
) -> Result<(String, Range<usize>), RecipesError> {
    match get(table, key) {
        Some(v) => Ok((string(origin, v, &format!("`{key}`"))?, v.span())),
        None => Err(origin.error(at, format!("{what} has no `{key}`"), "here")),
    }
}

/// A TOML basic string with the escapes TOML needs (for the files lvsh writes).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
