//! A state file (`--state FILE.json`) that does not read: which entry is wrong and
//! how, pointed at in the file, in words rather than serde's.

use super::json_place::{Found, element_before, locate, members};
use crate::{
    model::{Family, Protocol},
    suggest::did_you_mean,
};
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use std::{fmt, net::IpAddr};

const HELP: &str = "a state file is the JSON written by `lvsh emit FILE --to json`";

#[derive(Debug)]
pub struct StateFileError(Box<Details>);

#[derive(Debug)]
struct Details {
    message: String,
    help: String,
    source: NamedSource<String>,
    label: Option<LabeledSpan>,
}

impl fmt::Display for StateFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for StateFileError {}

impl Diagnostic for StateFileError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.0.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.0.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = self.0.label.clone()?;
        Some(Box::new(std::iter::once(label)))
    }
}

impl StateFileError {
    /// Why `text` (the file `name`) did not read as a state file.
    pub fn new(name: &str, text: String, e: &serde_json::Error) -> Self {
        let what = without_position(&e.to_string());
        let offset = offset(&text, e.line(), e.column());
        let (message, help, span) = if e.is_data() {
            explain_data(&text, offset, &what)
        } else {
            let at = last_visible(&text, offset);
            (format!("not JSON: {what}"), HELP.to_string(), at..at + 1)
        };
        let label = (!text.is_empty())
            .then(|| LabeledSpan::new_primary_with_span(Some("here".into()), span));
        StateFileError(Box::new(Details {
            message: format!("`{name}` is not a state file: {message}"),
            help,
            source: NamedSource::new(name, text),
            label,
        }))
    }
}

/// serde_json's message without its ` at line L column C`.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The byte serde_json names: its column counts the bytes read on the line.
fn offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// The last non-space byte at or before `offset` (an end of file is shown where
/// the text stops).
fn last_visible(text: &str, offset: usize) -> usize {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let visible = |c: &u8| !c.is_ascii_whitespace();
    match text.as_bytes().get(offset) {
        Some(c) if visible(c) => offset,
        _ => before.iter().rposition(visible).unwrap_or(0),
    }
}

/// (message, help, span) for JSON that is well formed but not a state file.
fn explain_data(text: &str, offset: usize, what: &str) -> (String, String, std::ops::Range<usize>) {
    let Some(found) = locate(text, offset) else {
        return (what.to_string(), HELP.to_string(), offset..offset + 1);
    };
    // A duplicate is found once the list has it: serde names the list.
    let found = if what.contains("duplicate object in list") {
        element_before(text, &found, offset).unwrap_or(found)
    } else {
        found
    };
    // serde reads some objects whole before it looks at them (flattened and
    // untagged keys) and then names the object's end: find the member at fault.
    let found = if found.object && !what.contains("duplicate object in list") {
        match key_fault(text, &found) {
            Some(fault) => return fault,
            None => member_with_value(text, found, what),
        }
    } else {
        found
    };
    let (what, help) = reword(what, &found.path);
    let span = if found.object {
        found.span.start..found.span.start + 1
    } else {
        found.span
    };
    (at_path(&found.path, &what), help, span)
}

fn at_path(path: &str, what: &str) -> String {
    if path.is_empty() {
        what.to_string()
    } else {
        format!("`{path}`: {what}")
    }
}

/// A check of one member of an object: its name and whether its JSON text reads.
type Check = (&'static str, fn(&str) -> Result<(), serde_json::Error>);

fn check<T: serde::de::DeserializeOwned>(text: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<T>(text).map(|_| ())
}

/// What is wrong with the key of a service or a real server, the parts serde reads
/// as a whole and reports as "did not match any variant".
fn key_fault(text: &str, found: &Found) -> Option<(String, String, std::ops::Range<usize>)> {
    const INET: &[Check] = &[
        ("protocol", check::<Protocol>),
        ("address", check::<IpAddr>),
        ("port", check::<u16>),
    ];
    const FWMARK: &[Check] = &[("family", check::<Family>), ("fwmark", check::<u32>)];
    const DEST: &[Check] = &[("address", check::<IpAddr>), ("port", check::<u16>)];
    let last = found.path.rsplit('.').next().unwrap_or_default();
    let m = members(text, found.span.clone());
    let has = |k: &str| m.iter().any(|(key, _)| key == k);
    let (what, checks, help) = if last.starts_with("destinations[") {
        (
            "a real server",
            DEST,
            "a real server has `address` and `port`",
        )
    } else if found.path.starts_with("services[") && !found.path.contains('.') {
        let help = "a service has `protocol`, `address` and `port`, or `family` and `fwmark` \
                    (a fwmark service)";
        if has("fwmark") || has("family") {
            ("a fwmark service", FWMARK, help)
        } else {
            ("a service", INET, help)
        }
    } else {
        return None;
    };
    let brace = found.span.start..found.span.start + 1;
    for (name, check) in checks {
        let Some((_, span)) = m.iter().find(|(k, _)| k == name) else {
            return Some((
                at_path(&found.path, &format!("{what} needs `{name}`")),
                help.to_string(),
                brace,
            ));
        };
        if let Err(e) = check(&text[span.clone()]) {
            let path = format!("{}.{name}", found.path);
            let (why, help) = reword(&without_position(&e.to_string()), &path);
            return Some((at_path(&path, &why), help, span.clone()));
        }
    }
    None
}

/// The member of `object` serde means: the one whose value it quotes in `what`
/// (`string "eighty"`), or the one named like the type it could not read
/// (`untagged enum Netmask`: `netmask`).
fn member_with_value(text: &str, object: Found, what: &str) -> Found {
    let quoted = what
        .split_once("string \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| serde_json::Value::String(v.to_string()))
        .or_else(|| {
            let (_, rest) = what.split_once('`')?;
            let (v, _) = rest.split_once('`')?;
            serde_json::from_str::<serde_json::Value>(v).ok()
        });
    let type_name = what
        .split_once("untagged enum ")
        .map(|(_, t)| t.trim().to_lowercase());
    let is_it = |key: &str, span: &std::ops::Range<usize>| match (&quoted, &type_name) {
        (Some(value), _) => {
            serde_json::from_str::<serde_json::Value>(&text[span.clone()])
                .ok()
                .as_ref()
                == Some(value)
        }
        (None, Some(name)) => key == name,
        (None, None) => false,
    };
    members(text, object.span.clone())
        .into_iter()
        .find(|(k, s)| is_it(k, s))
        .map(|(k, span)| Found {
            path: format!("{}.{k}", object.path),
            object: text.as_bytes()[span.start] == b'{',
            span,
        })
        .unwrap_or(object)
}

/// serde's words for a value that does not fit, as a user would say them, and
/// the help: the values allowed, or what a state file is.
fn reword(what: &str, path: &str) -> (String, String) {
    if let Some(rest) = what
        .strip_prefix("unknown variant `")
        .or_else(|| what.strip_prefix("unknown field `"))
    {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let field = path.rsplit('.').next().unwrap_or(path);
        let kind = if what.starts_with("unknown field") {
            "unknown field"
        } else {
            "unknown value"
        };
        return (
            format!(
                "{kind} `{value}`{}",
                did_you_mean(value, allowed.iter().copied())
            ),
            if allowed.is_empty() {
                HELP.to_string()
            } else {
                format!("`{field}` is one of: {}", allowed.join(", "))
            },
        );
    }
    let untagged = [
        (
            "untagged enum Netmask",
            "not a netmask: an IPv4 mask (\"255.255.255.0\") or an IPv6 prefix length (1-128)",
        ),
        (
            "untagged enum Raw",
            "not a number or a range written \"first-last\"",
        ),
        ("untagged enum", "not in a form lvsh reads here"),
    ];
    if let Some((_, said)) = untagged.iter().find(|(k, _)| what.contains(k)) {
        return (said.to_string(), HELP.to_string());
    }
    let mut what = what
        .replace("invalid type: ", "")
        .replace("invalid value: ", "");
    for (serde, ours) in [
        ("expected u8", "expected a number 0-255"),
        ("expected u16", "expected a number 0-65535"),
        ("expected u32", "expected a number 0-4294967295"),
        ("expected u64", "expected a number 0-18446744073709551615"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected an object"),
        (
            "duplicate object in list",
            "an earlier entry of the list has the same key",
        ),
    ] {
        what = what.replace(serde, ours);
    }
    if let Some(i) = what.find("expected struct ") {
        what.replace_range(i.., "expected an object");
    }
    (what, HELP.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Balancer;

    fn error(text: &str) -> StateFileError {
        let e = serde_json::from_str::<Balancer>(text).unwrap_err();
        StateFileError::new("s.json", text.to_string(), &e)
    }

    fn labelled(e: &StateFileError) -> String {
        let l = e.0.label.as_ref().unwrap();
        e.0.source.inner()[l.offset()..l.offset() + l.len()].to_string()
    }

    const GOOD: &str = r#"{
  "services": [
    {
      "protocol": "tcp",
      "address": "192.168.10.120",
      "port": 80,
      "scheduler": "rr",
      "destinations": [
        { "address": "192.168.10.11", "port": 80, "weight": 1 }
      ]
    }
  ]
}"#;

    #[test]
    fn the_good_text_reads() {
        serde_json::from_str::<Balancer>(GOOD).unwrap();
    }

    #[test]
    fn a_missing_key_names_the_entry() {
        let e = error(&GOOD.replace("\"protocol\": \"tcp\",", ""));
        assert_eq!(
            e.to_string(),
            "`s.json` is not a state file: `services[0]`: a service needs `protocol`"
        );
        assert_eq!(labelled(&e), "{");
        assert!(!format!("{:?}", e.0.help).contains("untagged"));
    }

    #[test]
    fn a_bad_key_value_points_at_it() {
        let e = error(&GOOD.replace("\"port\": 80,\n", "\"port\": \"eighty\",\n"));
        assert_eq!(
            e.to_string(),
            "`s.json` is not a state file: `services[0].port`: string \"eighty\", expected a number 0-65535"
        );
        assert_eq!(labelled(&e), "\"eighty\"");
        let e = error(&GOOD.replace("\"port\": 80, \"weight\"", "\"port\": \"x\", \"weight\""));
        assert!(
            e.to_string().contains("`services[0].destinations[0].port`"),
            "{e}"
        );
        assert_eq!(labelled(&e), "\"x\"");
        let e = error(&GOOD.replace("192.168.10.11", "192.168.10.x"));
        assert!(
            e.to_string()
                .contains("`services[0].destinations[0].address`: invalid IP address syntax"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_name_gets_a_guess() {
        let e = error(&GOOD.replace("\"rr\"", "\"RR\""));
        assert_eq!(
            e.to_string(),
            "`s.json` is not a state file: `services[0].scheduler`: unknown value `RR`, did you mean `rr`?"
        );
        assert!(
            e.0.help.starts_with("`scheduler` is one of: rr, wrr"),
            "{}",
            e.0.help
        );
        assert_eq!(labelled(&e), "\"RR\"");
        let e = error(&GOOD.replace("\"weight\": 1", "\"forward\": { \"method\": \"masq\" }"));
        assert!(
            e.to_string()
                .ends_with("unknown value `masq`, did you mean `nat`?"),
            "{e}"
        );
    }

    #[test]
    fn an_untagged_value_is_found_by_its_type() {
        let e = error(&GOOD.replace("\"port\": 80,\n", "\"port\": 80, \"netmask\": \"foo\",\n"));
        assert!(
            e.to_string()
                .ends_with("`services[0].netmask`: not a netmask: an IPv4 mask (\"255.255.255.0\") or an IPv6 prefix length (1-128)"),
            "{e}"
        );
        assert_eq!(labelled(&e), "\"foo\"");
    }

    #[test]
    fn a_duplicate_names_its_key_and_points_at_the_list() {
        let service = r#"{"protocol":"tcp","address":"10.0.0.1","port":80}"#;
        let e = error(&format!("{{\"services\": [{service},\n{service}]}}"));
        assert_eq!(
            e.to_string(),
            "`s.json` is not a state file: `services`: service `tcp 10.0.0.1:80` is listed twice"
        );
        assert!(labelled(&e).starts_with("[{"), "{}", labelled(&e));
    }

    #[test]
    fn broken_json_is_shown_where_it_breaks() {
        let e = error("{\"services\": [\n");
        assert!(
            e.to_string().contains("not JSON: EOF while parsing a list"),
            "{e}"
        );
        assert_eq!(labelled(&e), "[");
        let e = error("");
        assert!(e.0.label.is_none());
    }
}
