//! The shape of table `inet lvsh`: names, the rules a mark map becomes, the comment
//! that identifies them, and their nft text. JSON (ruleset), parsing and the
//! `emit --to nft` script are all built from [`RuleSpec`], so they cannot disagree.

use super::Error;
use crate::model::{Family, MarkRule, PortRange, Protocol};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::{self, Write as _},
    net::IpAddr,
};

pub const FAMILY: &str = "inet";
pub const TABLE: &str = "lvsh";
pub const CHAIN: &str = "prerouting";
/// `priority mangle`.
pub const PRIORITY: i32 = -150;
/// nft's limit for a rule comment, in bytes (the text parser enforces it, JSON does not).
pub const COMMENT_MAX: usize = 128;
const COMMENT_PREFIX: &str = "lvsh mark ";

/// One nft rule: one mark, one address family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub mark: u32,
    pub family: Family,
    /// Sorted, not empty.
    pub addresses: Vec<IpAddr>,
    /// Empty exactly when `ports` is.
    pub protocols: Vec<Protocol>,
    /// In the form nft keeps them (see [`canonical_ports`]).
    pub ports: Vec<PortRange>,
    /// The user's part of the comment.
    pub comment: Option<String>,
}

impl RuleSpec {
    /// `lvsh mark 10` or `lvsh mark 10: user text`.
    pub fn nft_comment(&self) -> String {
        match &self.comment {
            Some(c) => format!("{COMMENT_PREFIX}{}: {c}", self.mark),
            None => format!("{COMMENT_PREFIX}{}", self.mark),
        }
    }

    /// `ip` or `ip6`, the payload protocol of the address match.
    pub fn address_protocol(&self) -> &'static str {
        match self.family {
            Family::Inet => "ip",
            Family::Inet6 => "ip6",
        }
    }
}

/// Inverse of [`RuleSpec::nft_comment`]: the mark and the user's comment.
pub fn parse_comment(text: &str) -> Option<(u32, Option<String>)> {
    let rest = text.strip_prefix(COMMENT_PREFIX)?;
    let (digits, user) = match rest.split_once(": ") {
        Some((d, u)) => (d, Some(u.to_string())),
        None => (rest, None),
    };
    let mark: u32 = digits.parse().ok()?;
    // `lvsh mark 010` or `+10` is not something lvsh wrote.
    (mark.to_string() == digits).then_some((mark, user))
}

/// Refuses what nft cannot hold or lvsh must not write: mark 0, a rule without
/// addresses (it would mark every packet), ports without a protocol, comments nft
/// truncates or its text syntax cannot quote.
pub fn validate(rule: &MarkRule) -> Result<(), Error> {
    let invalid = |reason: String| {
        Err(Error::Invalid {
            mark: rule.mark,
            reason,
        })
    };
    if rule.mark == 0 {
        return invalid("mark 0 means no mark; use 1 to 4294967295".into());
    }
    if rule.addresses.is_empty() {
        return invalid(
            "no address to match: add `.vip(addr)`, lvsh never marks traffic to every address"
                .into(),
        );
    }
    if !rule.ports.is_empty() && rule.protocols.is_empty() {
        return invalid("ports without a protocol: add `.tcp()`, `.udp()` or `.sctp()`".into());
    }
    if let Some(r) = rule.ports.iter().find(|r| r.first > r.last) {
        return invalid(format!(
            "port range `{}-{}` runs backwards",
            r.first, r.last
        ));
    }
    if let Some(c) = &rule.comment {
        if c.contains('"') || c.chars().any(char::is_control) {
            return invalid(format!(
                "comment {c:?} holds a `\"` or a control character, which nft cannot quote"
            ));
        }
        let full = spec_comment(rule.mark, Some(c));
        if full.len() > COMMENT_MAX {
            let room = COMMENT_MAX - spec_comment(rule.mark, Some("")).len();
            return invalid(format!(
                "comment is {} bytes, nft keeps {COMMENT_MAX} and lvsh needs the rest: at most {room} bytes",
                c.len()
            ));
        }
    }
    Ok(())
}

fn spec_comment(mark: u32, user: Option<&str>) -> String {
    RuleSpec {
        mark,
        family: Family::Inet,
        addresses: Vec::new(),
        protocols: Vec::new(),
        ports: Vec::new(),
        comment: user.map(str::to_string),
    }
    .nft_comment()
}

/// The rules of a whole mark map, in table order (by mark, IPv4 first), validated.
pub fn rules(marks: &BTreeMap<u32, MarkRule>) -> Result<Vec<RuleSpec>, Error> {
    let mut out = Vec::new();
    for (&key, rule) in marks {
        if key != rule.mark {
            return Err(Error::Invalid {
                mark: key,
                reason: format!("listed under mark {key} but sets mark {}", rule.mark),
            });
        }
        validate(rule)?;
        out.extend(specs_of(rule));
    }
    Ok(out)
}

/// The rules of one mark, one per address family, without validation.
pub fn specs_of(rule: &MarkRule) -> Vec<RuleSpec> {
    let rule = canonical(rule);
    let ports: Vec<PortRange> = rule.ports.iter().copied().collect();
    let protocols: Vec<Protocol> = if ports.is_empty() {
        Vec::new()
    } else {
        rule.protocols.iter().copied().collect()
    };
    [Family::Inet, Family::Inet6]
        .into_iter()
        .filter_map(|family| {
            let addresses: Vec<IpAddr> = rule
                .addresses
                .iter()
                .filter(|a| Family::of(a) == family)
                .copied()
                .collect();
            (!addresses.is_empty()).then(|| RuleSpec {
                mark: rule.mark,
                family,
                addresses,
                protocols: protocols.clone(),
                ports: ports.clone(),
                comment: rule.comment.clone(),
            })
        })
        .collect()
}

/// The rule as reading it back from nft yields it: port ranges merged the way nft
/// merges them, the protocols of a rule without ports reset to the default (nothing
/// records them), an empty comment dropped. `plan` should compare canonical forms.
pub fn canonical(rule: &MarkRule) -> MarkRule {
    let mut r = rule.clone();
    r.ports = canonical_ports(&rule.ports);
    if r.ports.is_empty() {
        r.protocols = MarkRule::new(rule.mark).protocols;
    }
    if r.comment.as_deref() == Some("") {
        r.comment = None;
    }
    r
}

/// A set with a range in it is an interval set, and nft merges the elements of those
/// that overlap or touch; a set of single ports is a plain set and stays as it is.
/// (`{80, 81-90}` is stored as `{80-90}`, `{80, 81}` stays, `{80, 81, 90-99}` becomes
/// `{80-81, 90-99}`.) Checked against real nft in the tests.
pub fn canonical_ports(ports: &BTreeSet<PortRange>) -> BTreeSet<PortRange> {
    if ports.iter().all(|r| r.first == r.last) {
        return ports.clone();
    }
    let mut out: Vec<PortRange> = Vec::new();
    for &r in ports {
        if let Some(cur) = out.last_mut()
            && u32::from(r.first) <= u32::from(cur.last) + 1
        {
            cur.last = cur.last.max(r.last);
            continue;
        }
        out.push(r);
    }
    out.into_iter().collect()
}

/// `{ a, b }` for several, the bare element for one, as nft lists them.
fn set_text<T: fmt::Display>(items: &[T]) -> String {
    match items {
        [one] => one.to_string(),
        many => {
            let inner: Vec<String> = many.iter().map(T::to_string).collect();
            format!("{{ {} }}", inner.join(", "))
        }
    }
}

impl fmt::Display for RuleSpec {
    /// The rule in nft's text syntax, as in `nft list table inet lvsh` (mark in decimal).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} daddr {} ",
            self.address_protocol(),
            set_text(&self.addresses)
        )?;
        match self.protocols.as_slice() {
            [] => {}
            [one] => write!(f, "{one} dport {} ", set_text(&self.ports))?,
            many => write!(
                f,
                "meta l4proto {} th dport {} ",
                set_text(many),
                set_text(&self.ports)
            )?,
        }
        write!(
            f,
            "meta mark set {} comment \"{}\"",
            self.mark,
            self.nft_comment()
        )
    }
}

/// The whole table in nft text syntax; empty when there are no rules (then lvsh
/// keeps no table at all).
pub fn table_text(specs: &[RuleSpec]) -> String {
    if specs.is_empty() {
        return String::new();
    }
    let mut s = format!("table {FAMILY} {TABLE} {{\n\tchain {CHAIN} {{\n");
    s.push_str("\t\ttype filter hook prerouting priority mangle; policy accept;\n");
    for spec in specs {
        let _ = writeln!(s, "\t\t{spec}");
    }
    s.push_str("\t}\n}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(list: &[&str]) -> BTreeSet<PortRange> {
        list.iter().map(|p| p.parse().unwrap()).collect()
    }

    fn mark(n: u32, addrs: &[&str]) -> MarkRule {
        let mut m = MarkRule::new(n);
        m.addresses = addrs.iter().map(|a| a.parse().unwrap()).collect();
        m
    }

    #[test]
    fn ports_merge_like_nft() {
        // Each pair was listed by nft 1.0.6 after adding the left side.
        let cases: &[(&[&str], &[&str])] = &[
            (&["80", "81"], &["80", "81"]),
            (&["80", "81-90"], &["80-90"]),
            (&["80-89", "90"], &["80-90"]),
            (&["1-2", "3-4"], &["1-4"]),
            (&["80-90", "85"], &["80-90"]),
            (&["80", "81", "82"], &["80", "81", "82"]),
            (&["80-81", "443"], &["80-81", "443"]),
            (&["79", "80-81", "82"], &["79-82"]),
            (&["8000-8100", "8101-8200"], &["8000-8200"]),
            (&["0-65535", "80"], &["0-65535"]),
            (&["65534-65535", "65535"], &["65534-65535"]),
            (&["80", "81", "90-99"], &["80-81", "90-99"]),
            (&["1017", "1018", "1021-1023"], &["1017-1018", "1021-1023"]),
        ];
        for (input, want) in cases {
            assert_eq!(canonical_ports(&ports(input)), ports(want), "{input:?}");
            // Canonical is a fixed point.
            assert_eq!(canonical_ports(&ports(want)), ports(want), "{want:?}");
        }
    }

    #[test]
    fn comments_encode_and_decode() {
        let mut m = mark(10, &["10.0.0.1"]);
        let spec = &specs_of(&m)[0];
        assert_eq!(spec.nft_comment(), "lvsh mark 10");
        assert_eq!(parse_comment("lvsh mark 10"), Some((10, None)));
        m.comment = Some("web: front".into());
        let spec = &specs_of(&m)[0];
        assert_eq!(spec.nft_comment(), "lvsh mark 10: web: front");
        assert_eq!(
            parse_comment("lvsh mark 10: web: front"),
            Some((10, Some("web: front".into())))
        );
        assert_eq!(
            parse_comment("lvsh mark 4294967295"),
            Some((u32::MAX, None))
        );
        for bad in [
            "lvsh mark 010",
            "lvsh mark +10",
            "lvsh mark 4294967296",
            "lvsh mark",
            "lvsh mark 10:x",
            "my mark 10",
            "",
        ] {
            assert_eq!(parse_comment(bad), None, "{bad}");
        }
    }

    #[test]
    fn mixed_families_become_two_rules() {
        let mut m = mark(7, &["10.0.0.2", "2001:db8::1", "10.0.0.1"]);
        m.ports = ports(&["443", "80"]);
        m.protocols = [Protocol::Udp, Protocol::Tcp].into();
        let specs = specs_of(&m);
        assert_eq!(specs.len(), 2);
        assert_eq!(
            specs[0].to_string(),
            "ip daddr { 10.0.0.1, 10.0.0.2 } meta l4proto { tcp, udp } th dport { 80, 443 } \
             meta mark set 7 comment \"lvsh mark 7\""
        );
        assert_eq!(
            specs[1].to_string(),
            "ip6 daddr 2001:db8::1 meta l4proto { tcp, udp } th dport { 80, 443 } \
             meta mark set 7 comment \"lvsh mark 7\""
        );
    }

    #[test]
    fn one_protocol_and_no_ports_shapes() {
        let mut m = mark(10, &["192.168.10.120"]);
        m.ports = ports(&["8000-8100"]);
        m.protocols = [Protocol::Sctp].into();
        assert_eq!(
            specs_of(&m)[0].to_string(),
            "ip daddr 192.168.10.120 sctp dport 8000-8100 meta mark set 10 comment \"lvsh mark 10\""
        );
        m.ports.clear();
        assert_eq!(
            specs_of(&m)[0].to_string(),
            "ip daddr 192.168.10.120 meta mark set 10 comment \"lvsh mark 10\""
        );
    }

    #[test]
    fn canonical_resets_what_nft_cannot_record() {
        let mut m = mark(3, &["10.0.0.1"]);
        m.protocols = [Protocol::Udp].into();
        m.comment = Some(String::new());
        let c = canonical(&m);
        assert_eq!(c.protocols, MarkRule::new(3).protocols);
        assert_eq!(c.comment, None);
        m.ports = ports(&["53"]);
        assert_eq!(canonical(&m).protocols, [Protocol::Udp].into());
    }

    #[test]
    fn invalid_rules_are_refused_with_a_reason() {
        let ok = mark(1, &["10.0.0.1"]);
        assert!(validate(&ok).is_ok());

        let check = |m: &MarkRule, needle: &str| {
            let e = validate(m).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        };
        check(&mark(0, &["10.0.0.1"]), "mark 0");
        check(&mark(1, &[]), "`.vip(addr)`");
        let mut m = ok.clone();
        m.ports = ports(&["80"]);
        m.protocols.clear();
        check(&m, "ports without a protocol");
        let mut m = ok.clone();
        m.ports.insert(PortRange {
            first: 90,
            last: 80,
        });
        check(&m, "runs backwards");
        let mut m = ok.clone();
        m.comment = Some("say \"hi\"".into());
        check(&m, "cannot quote");
        m.comment = Some("two\nlines".into());
        check(&m, "cannot quote");

        // "lvsh mark 1: " is 13 bytes: 115 left.
        let mut m = ok.clone();
        m.comment = Some("x".repeat(115));
        assert!(validate(&m).is_ok());
        m.comment = Some("x".repeat(116));
        check(&m, "at most 115 bytes");
    }

    #[test]
    fn rules_check_the_map_key() {
        let marks = BTreeMap::from([(2, mark(1, &["10.0.0.1"]))]);
        let e = rules(&marks).unwrap_err().to_string();
        assert_eq!(e, "mark 2: listed under mark 2 but sets mark 1");
    }

    #[test]
    fn table_text_is_empty_without_rules() {
        assert_eq!(table_text(&[]), "");
        let specs = specs_of(&mark(10, &["10.0.0.1"]));
        assert_eq!(
            table_text(&specs),
            "table inet lvsh {\n\tchain prerouting {\n\
             \t\ttype filter hook prerouting priority mangle; policy accept;\n\
             \t\tip daddr 10.0.0.1 meta mark set 10 comment \"lvsh mark 10\"\n\t}\n}\n"
        );
    }
}
