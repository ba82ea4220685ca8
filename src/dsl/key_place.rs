//! Where a key of a map literal stands in a script text: the key of an argument
//! map at a recipe call (`web::web(#{ servers: [] })`), or a parameter's
//! declaration inside `const RECIPE`/`const PARAMS`. A scan of the text, not of the
//! AST: rhai keeps no positions for map keys.

/// 1-based line and character column (rhai's kind) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Byte offset of a 1-based line and a 1-based *byte* column, as serde_json
/// counts them (rhai counts characters: see `sources::offset`).
pub(crate) fn byte_offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let mut at = (start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    Some(at)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The offset of `key` written as a map key (`key:` or `"key":`) in `text[from..to]`,
/// outside strings and comments, at any depth when `depth` is `None`, else at that
/// depth of brackets relative to `from`.
fn find_key(text: &str, from: usize, to: usize, key: &str, depth: Option<i32>) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = from;
    let mut d = 0;
    while i < to.min(b.len()) {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i += text[i..].find('\n').unwrap_or(to - i);
                continue;
            }
            b'(' | b'[' | b'{' => d += 1,
            b')' | b']' | b'}' => d -= 1,
            b'"' | b'`' => {
                let q = b[i];
                let end = text[i + 1..]
                    .bytes()
                    .position(|c| c == q)
                    .map_or(b.len(), |e| i + 1 + e);
                if &text[i + 1..end] == key
                    && depth.is_none_or(|x| x == d)
                    && text[end + 1..].trim_start().starts_with(':')
                {
                    return Some(i);
                }
                i = end + 1;
                continue;
            }
            c if is_ident(c) => {
                let end = i + text[i..].bytes().take_while(|c| is_ident(*c)).count();
                let after = text[end..].trim_start();
                if &text[i..end] == key
                    && depth.is_none_or(|x| x == d)
                    && after.starts_with(':')
                    && !after.starts_with("::")
                {
                    return Some(i);
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The end of the bracketed group starting at or after `from` (the offset after its
/// closing bracket), or the end of the text.
fn group_end(text: &str, from: usize) -> usize {
    let b = text.as_bytes();
    let mut d = 0;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'"' | b'`' => {
                let q = b[i];
                i += text[i + 1..]
                    .bytes()
                    .position(|c| c == q)
                    .map_or(b.len(), |e| e + 1);
            }
            b'(' | b'[' | b'{' => d += 1,
            b')' | b']' | b'}' => {
                d -= 1;
                if d <= 0 {
                    return i + 1;
                }
            }
            b';' if d == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// The key `key` of the argument map of the call at `line:column`, when the map is
/// a literal there (`f(#{ key: .. })`).
pub(crate) fn argument_key(
    text: &str,
    line: usize,
    column: usize,
    key: &str,
) -> Option<(usize, usize)> {
    let start = super::sources::offset(text, line, column);
    let open = start + text[start..].find('(')?;
    let end = group_end(text, open);
    let map = open + text[open..end].find("#{")?;
    let at = find_key(text, map + 1, end, key, Some(1))?;
    Some(line_col(text, at))
}

/// The declaration of the key path `path` (`["web", "params", "port"]`) inside
/// `const NAME = ..` of `text`: each key is looked for after the one before.
pub(crate) fn declaration(text: &str, constant: &str, path: &[String]) -> Option<(usize, usize)> {
    let mut at = text.find(&format!("const {constant}"))?;
    let end = group_end(text, at);
    let mut found = at;
    for k in path {
        if let Some(i) = find_key(text, at, end, k, None) {
            found = i;
            at = i + k.len();
        }
    }
    Some(line_col(text, found))
}

/// The position of `fn name(p)` (one parameter: other arities are other functions,
/// such as a recipe's positional wrappers) and the first statement of its body.
pub(crate) fn function(text: &str, name: &str) -> Option<((usize, usize), String)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("fn ") {
        let at = from + i;
        let rest = text[at + 3..].trim_start();
        let params = rest
            .strip_prefix(name)
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.split_once(')'))
            .map(|(p, _)| p.trim());
        if params.is_some_and(|p| !p.is_empty() && !p.contains(',')) {
            let body = at + text[at..].find('{')? + 1;
            let mut first = text[body..].trim_start();
            while let Some(r) = first.strip_prefix("//") {
                first = r.split_once('\n').map_or("", |x| x.1).trim_start();
            }
            let stmt = first.split(';').next().unwrap_or("").to_string();
            return Some((line_col(text, at), stmt));
        }
        from = at + 3;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_a_literal_argument() {
        let t = "let x = 1;\nweb::web(#{ vip: \"10.0.0.1\",\n    servers: [] });\n";
        assert_eq!(argument_key(t, 2, 1, "servers"), Some((3, 5)));
        assert_eq!(argument_key(t, 2, 1, "vip"), Some((2, 13)));
        assert_eq!(argument_key(t, 2, 1, "port"), None);
        assert_eq!(argument_key("web::web(p);", 1, 1, "vip"), None);
    }

    #[test]
    fn columns_count_characters_as_rhai_does() {
        // `web` is at character column 22, byte column 31.
        let t = "let c = \"ééééééééé\"; web::web(#{ servers: [] });\n";
        assert_eq!(argument_key(t, 1, 22, "servers"), Some((1, 34)));
        assert_eq!(line_col(t, t.find("servers").unwrap()), (1, 34));
        // Inside a character: the character's own column, no panic.
        assert_eq!(line_col(t, 10), (1, 10));
        assert_eq!(byte_offset(t, 1, 11), Some(9));
    }

    #[test]
    fn declarations_by_path() {
        let t = "const RECIPE = #{\n  a: #{ params: #{ port: 1 } },\n  b: #{ params: #{\n    \"port\": 2 } } };";
        assert_eq!(
            declaration(t, "RECIPE", &["b".into(), "params".into(), "port".into()]),
            Some((4, 5))
        );
        assert_eq!(
            declaration(t, "RECIPE", &["a".into(), "params".into(), "port".into()]),
            Some((2, 20))
        );
    }

    #[test]
    fn first_statements() {
        let t = "fn web(p) {\n    // checked\n    let p = args(p);\n}";
        assert_eq!(
            function(t, "web"),
            Some(((1, 1), "let p = args(p)".to_string()))
        );
        assert_eq!(function(t, "we"), None);
    }
}
