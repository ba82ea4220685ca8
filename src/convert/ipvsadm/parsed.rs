//! Splitting an `ipvsadm -R` line into options the way ipvsadm (popt) does.
//!
//! What popt accepts and lvsh therefore accepts: long options `--name value` and
//! `--name=value` (exact names, no abbreviations); short options `-s rr`, `-srr`,
//! `-s=rr`; bundles such as `-At 10.0.0.1:80` or `-mw 3`; options in any order;
//! arguments that are not options anywhere ("leftovers"); `--` ends the options.
//! An optional value (`-p [timeout]`) is taken from the next word only when that
//! word does not start with `-`. A single-dash word is always a bundle of short
//! options (`-scheduler rr` is `-s cheduler` plus a stray `rr`, as in ipvsadm).

use super::opt::Takes::{Nothing, OptionalValue};
use super::opt::{Opt, SPECS, Takes};
use super::problem::{Fault, Problem};
use super::tok::Tok;
use crate::suggest::closest;
use std::ops::Range;

/// One option as written: `name` is `-t` (also inside a bundle) or `--tcp-service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Given<'a> {
    pub opt: Opt,
    pub name: String,
    pub span: Range<usize>,
    pub value: Option<Tok<'a>>,
}

impl Given<'_> {
    /// From the option to the end of its value.
    pub fn full_span(&self) -> Range<usize> {
        match &self.value {
            Some(v) if v.start >= self.span.start => self.span.start..v.span().end,
            _ => self.span.clone(),
        }
    }
}

/// The options of one line in order, and the words that are not options.
#[derive(Debug, Default)]
pub(crate) struct Parsed<'a> {
    pub given: Vec<Given<'a>>,
    pub leftovers: Vec<Tok<'a>>,
    /// From the first word to the end of the last (a line of only `--` has no
    /// option and no leftover to point at).
    pub span: Range<usize>,
}

pub(crate) fn parse<'a>(words: &[Tok<'a>]) -> Result<Parsed<'a>, Fault> {
    let mut out = Parsed::default();
    if let (Some(first), Some(last)) = (words.first(), words.last()) {
        out.span = first.start..last.span().end;
    }
    let mut i = 0;
    let mut rest_are_leftovers = false;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if rest_are_leftovers || !w.text.starts_with('-') || w.text == "-" {
            out.leftovers.push(w);
        } else if w.text == "--" {
            rest_are_leftovers = true;
        } else if let Some(body) = w.text.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(spec) = SPECS.iter().find(|s| s.long == name) else {
                let f = Fault::new(Problem::UnknownOption(format!("--{name}")), w.span());
                return Err(match closest(name, SPECS.iter().map(|s| s.long)) {
                    Some(c) => f.help(format!("did you mean `--{c}`?")),
                    None => f,
                });
            };
            let name_span = w.start..w.start + 2 + name.len();
            let value = match (spec.takes, inline) {
                (Nothing, Some(_)) => {
                    return Err(Fault::new(
                        Problem::UnexpectedValue(format!("--{name}")),
                        w.span(),
                    ));
                }
                (Nothing, None) => None,
                (_, Some(v)) => Some(Tok {
                    text: v,
                    start: name_span.end + 1,
                }),
                (takes, None) => next_value(words, &mut i, takes)
                    .map_err(|()| missing(&format!("--{name}"), name_span.clone()))?,
            };
            out.given.push(Given {
                opt: spec.opt,
                name: format!("--{name}"),
                span: name_span,
                value,
            });
        } else {
            // A bundle of short options; an option with a value ends it.
            let body = &w.text[1..];
            for (k, c) in body.char_indices() {
                // The first option of a bundle is shown with its dash.
                let at = if k == 0 { w.start } else { w.start + 1 + k };
                let end = w.start + 1 + k + c.len_utf8();
                let name = format!("-{c}");
                let Some(spec) = SPECS.iter().find(|s| s.short == Some(c)) else {
                    let f = Fault::new(Problem::UnknownOption(name), at..end);
                    return Err(match SPECS.iter().find(|s| s.long == body) {
                        Some(s) => f.help(format!("long options need two dashes: `--{}`", s.long)),
                        None => f,
                    });
                };
                let span = at..end;
                if spec.takes == Nothing {
                    out.given.push(Given {
                        opt: spec.opt,
                        name,
                        span,
                        value: None,
                    });
                    continue;
                }
                let after = &body[k + c.len_utf8()..];
                let attached = after.strip_prefix('=').unwrap_or(after);
                let value = if attached.is_empty() {
                    next_value(words, &mut i, spec.takes)
                        .map_err(|()| missing(&name, span.clone()))?
                } else {
                    Some(Tok {
                        text: attached,
                        start: w.start + w.text.len() - attached.len(),
                    })
                };
                // `-scheduler rr`: ipvsadm reads `-s cheduler`; say what was meant.
                if SPECS.iter().any(|s| s.long == body)
                    && let Some(v) = &value
                {
                    return Err(Fault::new(
                        Problem::Invalid {
                            what: "option bundle",
                            value: w.text.to_owned(),
                        },
                        w.span(),
                    )
                    .help(format!(
                        "ipvsadm reads this as `{name} {}`; long options need two dashes: `-{}`",
                        v.text, w.text
                    )));
                }
                out.given.push(Given {
                    opt: spec.opt,
                    name,
                    span,
                    value,
                });
                break;
            }
        }
    }
    Ok(out)
}

/// The value of an option from the next word; `Ok(None)` when an optional value is
/// absent, `Err` when a required one is.
fn next_value<'a>(words: &[Tok<'a>], i: &mut usize, takes: Takes) -> Result<Option<Tok<'a>>, ()> {
    match words.get(*i) {
        Some(w) if takes == OptionalValue && w.text.starts_with('-') => Ok(None),
        Some(w) => {
            *i += 1;
            Ok(Some(*w))
        }
        None if takes == OptionalValue => Ok(None),
        None => Err(()),
    }
}

fn missing(name: &str, span: Range<usize>) -> Fault {
    Fault::new(Problem::MissingValue(name.to_owned()), span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::ipvsadm::tok::words;

    fn opts(line: &str) -> Vec<(Opt, Option<&str>)> {
        let w = words(line, 0);
        let p = parse(&w).unwrap();
        p.given
            .iter()
            .map(|g| (g.opt, g.value.map(|v| v.text)))
            .collect()
    }

    fn fault(line: &str) -> Fault {
        parse(&words(line, 0)).unwrap_err()
    }

    #[test]
    fn short_long_bundled_and_attached_forms() {
        use Opt::*;
        assert_eq!(
            opts("-At 10.0.0.2:80 -srr"),
            [
                (AddService, None),
                (TcpService, Some("10.0.0.2:80")),
                (Scheduler, Some("rr"))
            ]
        );
        assert_eq!(
            opts("-A --tcp-service=10.0.0.3:80 --scheduler=lc --persistent=100"),
            [
                (AddService, None),
                (TcpService, Some("10.0.0.3:80")),
                (Scheduler, Some("lc")),
                (Persistent, Some("100"))
            ]
        );
        assert_eq!(opts("-s=rr"), [(Scheduler, Some("rr"))]);
        assert_eq!(
            opts("-a -mw 3 -mr 10.2.1.10"),
            [
                (AddServer, None),
                (Masquerading, None),
                (Weight, Some("3")),
                (Masquerading, None),
                (RealServer, Some("10.2.1.10"))
            ]
        );
        assert_eq!(
            opts("--list -l -L"),
            [(List, None), (List, None), (List, None)]
        );
    }

    #[test]
    fn optional_persistence_value() {
        use Opt::*;
        assert_eq!(opts("-p 300"), [(Persistent, Some("300"))]);
        assert_eq!(opts("-p300"), [(Persistent, Some("300"))]);
        assert_eq!(
            opts("-p -s rr"),
            [(Persistent, None), (Scheduler, Some("rr"))]
        );
        assert_eq!(opts("--persistent"), [(Persistent, None)]);
        // `-p -1` is `-p` and an unknown option `-1`, as in ipvsadm.
        assert_eq!(
            fault("-A -p -1").problem,
            Problem::UnknownOption("-1".into())
        );
        // A required value may start with a dash, as in ipvsadm.
        assert_eq!(opts("-w -1"), [(Weight, Some("-1"))]);
    }

    #[test]
    fn leftovers_anywhere_and_after_double_dash() {
        let w = words("--set 900 120 -- -300", 0);
        let p = parse(&w).unwrap();
        assert_eq!(p.given.len(), 1);
        let l: Vec<_> = p.leftovers.iter().map(|t| t.text).collect();
        assert_eq!(l, ["900", "120", "-300"]);
    }

    #[test]
    fn spans_point_into_bundles_and_values() {
        let w = words("-At 10.0.0.2:80", 100);
        let p = parse(&w).unwrap();
        assert_eq!(p.given[1].span, 102..103);
        assert_eq!(p.given[1].full_span(), 102..115);
        let w = words("--weight=7", 0);
        let p = parse(&w).unwrap();
        assert_eq!(p.given[0].span, 0..8);
        assert_eq!(p.given[0].value.unwrap().span(), 9..10);
    }

    #[test]
    fn errors_name_the_option() {
        let f = fault("-A --sheduler rr");
        assert_eq!(f.problem, Problem::UnknownOption("--sheduler".into()));
        assert_eq!(f.span, 3..13);
        assert_eq!(f.help.as_deref(), Some("did you mean `--scheduler`?"));
        let f = fault("-A -t");
        assert_eq!(f.problem, Problem::MissingValue("-t".into()));
        let f = fault("-A -q");
        assert_eq!(f.problem, Problem::UnknownOption("-q".into()));
        assert_eq!(f.span, 3..5);
        let f = fault("-a -m=1");
        assert_eq!(f.problem, Problem::UnknownOption("-=".into()));
        let f = fault("-a --masquerading=yes");
        assert_eq!(f.problem, Problem::UnexpectedValue("--masquerading".into()));
        let f = fault("-A -scheduler rr");
        assert!(f.help.unwrap().contains("`--scheduler`"));
    }
}
