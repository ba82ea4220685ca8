//! Where a byte of a JSON text is: the path of the innermost value around it
//! (`services[0].destinations[1].port`) and that value's span. serde_json names a
//! line and column only; a state file's reader wants to say which entry is wrong.

use std::ops::Range;

/// The innermost value around an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `services[0].scheduler`; empty for the whole document.
    pub path: String,
    pub span: Range<usize>,
    pub object: bool,
}

/// The innermost value of `text` whose span holds `offset`, or the object or list
/// whose punctuation (brace, comma, key) is there.
pub fn locate(text: &str, offset: usize) -> Option<Found> {
    let b = text.as_bytes();
    let start = skip_space(b, 0);
    let end = value_end(b, start)?;
    if !(start..end).contains(&offset) {
        return None;
    }
    let mut found = Found {
        path: String::new(),
        span: start..end,
        object: b[start] == b'{',
    };
    loop {
        let children = match b[found.span.start] {
            b'{' => members(text, found.span.clone()),
            b'[' => elements(b, found.span.clone())
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("[{i}]"), s))
                .collect(),
            _ => return Some(found),
        };
        let Some((key, span)) = children.into_iter().find(|(_, s)| s.contains(&offset)) else {
            return Some(found);
        };
        if !key.starts_with('[') && !found.path.is_empty() {
            found.path.push('.');
        }
        found.path.push_str(&key);
        found.object = b[span.start] == b'{';
        found.span = span;
    }
}

/// The members of the object at `span`: each key (in brackets for a list) and the
/// span of its value.
pub fn members(text: &str, span: Range<usize>) -> Vec<(String, Range<usize>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = span.start + 1;
    while i < span.end {
        i = skip_space(b, i);
        if b.get(i) != Some(&b'"') {
            break;
        }
        let Some(key_end) = value_end(b, i) else {
            break;
        };
        let key = serde_json::from_str::<String>(&text[i..key_end]).unwrap_or_default();
        i = skip_space(b, key_end);
        if b.get(i) != Some(&b':') {
            break;
        }
        let start = skip_space(b, i + 1);
        let Some(end) = value_end(b, start) else {
            break;
        };
        out.push((key, start..end));
        i = skip_space(b, end);
        if b.get(i) != Some(&b',') {
            break;
        }
        i += 1;
    }
    out
}

/// The last element of the list `found` that ends at or before `offset`: the one
/// serde had just read when it names the list's end.
pub fn element_before(text: &str, found: &Found, offset: usize) -> Option<Found> {
    let b = text.as_bytes();
    if b.get(found.span.start) != Some(&b'[') {
        return None;
    }
    let (i, span) = elements(b, found.span.clone())
        .into_iter()
        .enumerate()
        .rfind(|(_, s)| s.end <= offset + 1)?;
    Some(Found {
        path: format!("{}[{i}]", found.path),
        object: b[span.start] == b'{',
        span,
    })
}

fn elements(b: &[u8], span: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = skip_space(b, span.start + 1);
    while i < span.end && b.get(i) != Some(&b']') {
        let Some(end) = value_end(b, i) else {
            break;
        };
        out.push(i..end);
        i = skip_space(b, end);
        if b.get(i) != Some(&b',') {
            break;
        }
        i = skip_space(b, i + 1);
    }
    out
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end of the value starting at `i`; an unterminated one ends with the text.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => {
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'\\' => j += 2,
                    b'"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
            Some(b.len())
        }
        open @ (b'{' | b'[') => {
            let close = if open == b'{' { b'}' } else { b']' };
            let mut j = skip_space(b, i + 1);
            loop {
                match b.get(j) {
                    None => return Some(b.len()),
                    Some(&c) if c == close => return Some(j + 1),
                    Some(b',' | b':') => j = skip_space(b, j + 1),
                    Some(_) => j = skip_space(b, value_end(b, j)?),
                }
            }
        }
        b'}' | b']' | b',' | b':' => None,
        _ => {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|c| !c.is_ascii_whitespace() && !b",:]}".contains(c))
            {
                j += 1;
            }
            Some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
  "services": [
    { "protocol": "tcp", "address": "10.0.0.1", "port": 80, "scheduler": "RR" },
    {
      "fwmark": 10,
      "destinations": [ { "address": "10.0.0.2", "port": "eighty" } ]
    }
  ]
}"#;

    fn at(part: &str) -> usize {
        TEXT.find(part).unwrap()
    }

    #[test]
    fn the_innermost_value_and_its_path() {
        let f = locate(TEXT, at("\"RR\"") + 3).unwrap();
        assert_eq!(f.path, "services[0].scheduler");
        assert_eq!(&TEXT[f.span], "\"RR\"");
        let f = locate(TEXT, at("\"eighty\"")).unwrap();
        assert_eq!(f.path, "services[1].destinations[0].port");
        assert!(!f.object);
    }

    #[test]
    fn punctuation_belongs_to_its_object() {
        // serde_json names the closing brace of an object it buffered.
        let close = at("\"eighty\" }") + "\"eighty\" ".len();
        let f = locate(TEXT, close).unwrap();
        assert_eq!(f.path, "services[1].destinations[0]");
        assert!(f.object);
        let f = locate(TEXT, at("\"protocol\"")).unwrap();
        assert_eq!(f.path, "services[0]");
        assert_eq!(locate(TEXT, 0).unwrap().path, "");
        assert_eq!(locate(TEXT, TEXT.len()), None);
    }

    #[test]
    fn the_element_before_the_end_of_a_list() {
        let f = locate(TEXT, at("]\n}")).unwrap();
        assert_eq!(f.path, "services");
        let e = element_before(TEXT, &f, at("]\n}")).unwrap();
        assert_eq!(e.path, "services[1]");
        assert!(e.object);
        assert_eq!(element_before(TEXT, &locate(TEXT, 0).unwrap(), 5), None);
    }

    #[test]
    fn members_with_their_values() {
        let f = locate(TEXT, at("\"protocol\"")).unwrap();
        let m = members(TEXT, f.span);
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["protocol", "address", "port", "scheduler"]);
        assert_eq!(&TEXT[m[2].1.clone()], "80");
    }

    #[test]
    fn broken_text_does_not_panic() {
        for cut in 0..TEXT.len() {
            let t = &TEXT[..cut];
            for o in (0..=cut).step_by(5) {
                let _ = locate(t, o);
            }
        }
        assert_eq!(locate("", 0), None);
        assert!(locate("{\"a\": \"x\\", 7).is_some());
    }
}
