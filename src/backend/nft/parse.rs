//! `nft -j list table inet lvsh` → marks, plus whatever else the table holds.
//!
//! Only the exact shapes [`replace_batch`](super::replace_batch) writes are marks.
//! Anything else (a rule added by hand, an edited lvsh rule that no longer fits the
//! shape, another chain, a set, a changed chain policy, table flags) becomes a
//! [`Foreign`] entry instead of being ignored or failing the whole read: `plan` shows
//! it as drift, `apply` replaces the table anyway.

use super::{CHAIN, FAMILY, Foreign, PRIORITY, TABLE, layout::parse_comment};
use crate::model::{Family, MarkRule, PortRange, Protocol};
use nftables::{
    expr::{Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField, SetItem},
    schema::{Chain, Rule},
    stmt::{Mangle, Match, Operator, Statement},
    types::{NfChainPolicy, NfChainType, NfHook},
};
use serde_json::{Map, Value};
use std::{
    collections::{BTreeMap, BTreeSet},
    net::IpAddr,
};

/// What table `inet lvsh` holds: the marks lvsh recognises and everything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableRead {
    pub marks: BTreeMap<u32, MarkRule>,
    pub foreign: Vec<Foreign>,
}

/// Parses the JSON listing of table `inet lvsh`. Only malformed JSON is an error.
pub fn parse_table(json: &str) -> Result<TableRead, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Listing {
        nftables: Vec<Value>,
    }
    let listing: Listing = serde_json::from_str(json)?;
    let mut p = Parser::default();
    for item in &listing.nftables {
        p.item(item);
    }
    Ok(TableRead {
        marks: p.marks,
        foreign: p.foreign,
    })
}

#[derive(Default)]
struct Parser {
    marks: BTreeMap<u32, MarkRule>,
    families: BTreeMap<u32, BTreeSet<Family>>,
    foreign: Vec<Foreign>,
}

const TABLE_KEYS: &[&str] = &["family", "name", "handle"];
const CHAIN_KEYS: &[&str] = &[
    "family", "table", "name", "handle", "type", "hook", "prio", "policy",
];
const RULE_KEYS: &[&str] = &["family", "table", "chain", "handle", "comment", "expr"];

impl Parser {
    fn item(&mut self, item: &Value) {
        let Some((kind, body)) = item.as_object().and_then(|o| o.iter().next()) else {
            return self.foreign("object", "?", item, brief(item));
        };
        let Some(body) = body.as_object() else {
            return self.foreign(kind, "?", item, brief(body));
        };
        match kind.as_str() {
            "metainfo" => {}
            "table" => self.table(body),
            "chain" => self.chain(body),
            "rule" => self.rule(body),
            _ => self.foreign(kind, &text(body, "name"), item, String::new()),
        }
    }

    fn foreign(&mut self, kind: &str, name: &str, item: &Value, detail: String) {
        self.foreign_with(kind, name, item, detail, None);
    }

    fn foreign_with(
        &mut self,
        kind: &str,
        name: &str,
        item: &Value,
        detail: String,
        content: Option<String>,
    ) {
        let handle = item
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|b| b.get("handle"))
            .and_then(Value::as_u64)
            .and_then(|h| u32::try_from(h).ok());
        self.foreign.push(Foreign {
            kind: kind.to_string(),
            name: name.to_string(),
            handle,
            detail,
            content,
        });
    }

    fn table(&mut self, body: &Map<String, Value>) {
        let extra = extra_keys(body, TABLE_KEYS);
        let ours = text(body, "family") == FAMILY && text(body, "name") == TABLE;
        if !ours || !extra.is_empty() {
            let item = wrap("table", body);
            self.foreign("table", &text(body, "name"), &item, extra.join(", "));
        }
    }

    fn chain(&mut self, body: &Map<String, Value>) {
        let item = wrap("chain", body);
        let name = text(body, "name");
        let Ok(chain) = serde_json::from_value::<Chain>(Value::Object(body.clone())) else {
            return self.foreign("chain", &name, &item, brief(&item));
        };
        if name != CHAIN || !in_our_table(body) {
            return self.foreign("chain", &name, &item, chain_text(&chain));
        }
        let expected = chain.family == nftables::types::NfFamily::INet
            && chain._type == Some(NfChainType::Filter)
            && chain.hook == Some(NfHook::Prerouting)
            && chain.prio == Some(PRIORITY)
            && chain.policy == Some(NfChainPolicy::Accept)
            && chain.dev.is_none();
        let extra = extra_keys(body, CHAIN_KEYS);
        if !expected || !extra.is_empty() {
            let mut detail = format!(
                "{}, lvsh writes type filter hook prerouting priority {PRIORITY} policy accept",
                chain_text(&chain)
            );
            if !extra.is_empty() {
                detail = format!("{detail} and no {}", extra.join(", "));
            }
            self.foreign("chain", &name, &item, detail);
        }
    }

    fn rule(&mut self, body: &Map<String, Value>) {
        let item = wrap("rule", body);
        let chain = text(body, "chain");
        let comment = body.get("comment").and_then(Value::as_str);
        let why = match self.our_rule(body) {
            Ok(()) => return,
            Err(why) => why,
        };
        let mut detail = match comment {
            Some(c) => format!("comment {c:?}, "),
            None => String::new(),
        };
        detail.push_str(&why);
        let content = body.get("expr").map(brief);
        self.foreign_with("rule", &chain, &item, detail, content);
    }

    /// Records the rule as a mark, or says why it is not one lvsh wrote.
    fn our_rule(&mut self, body: &Map<String, Value>) -> Result<(), String> {
        if !in_our_table(body) || text(body, "chain") != CHAIN {
            return Err("not in chain `prerouting` of table `inet lvsh`".into());
        }
        if !extra_keys(body, RULE_KEYS).is_empty() {
            return Err(format!("has {}", extra_keys(body, RULE_KEYS).join(", ")));
        }
        let rule: Rule = serde_json::from_value(Value::Object(body.clone()))
            .map_err(|_| "not a rule lvsh writes".to_string())?;
        let Some((mark, comment)) = rule.comment.as_deref().and_then(parse_comment) else {
            return Err("no `lvsh mark N` comment".into());
        };
        let d = decode(&rule.expr).ok_or("not a rule lvsh writes")?;
        if d.mark != mark {
            return Err(format!(
                "sets mark {} under comment for mark {mark}",
                d.mark
            ));
        }
        let family = Family::of(&d.addresses[0]);
        let seen = self.families.entry(mark).or_default();
        let mut m = MarkRule::new(mark);
        m.addresses = d.addresses.into_iter().collect();
        if !d.ports.is_empty() {
            m.protocols = d.protocols;
            m.ports = d.ports;
        }
        m.comment = comment;
        match self.marks.get_mut(&mark) {
            None => {
                seen.insert(family);
                self.marks.insert(mark, m);
                Ok(())
            }
            Some(have)
                if !seen.contains(&family)
                    && have.protocols == m.protocols
                    && have.ports == m.ports
                    && have.comment == m.comment =>
            {
                seen.insert(family);
                have.addresses.extend(m.addresses);
                Ok(())
            }
            Some(_) => Err(format!(
                "a second rule for mark {mark} that does not fit the first"
            )),
        }
    }
}

struct Decoded {
    addresses: Vec<IpAddr>,
    protocols: BTreeSet<Protocol>,
    ports: BTreeSet<PortRange>,
    mark: u32,
}

/// The statements lvsh writes, in its order: daddr match, then `tcp dport` or
/// `meta l4proto` + `th dport` (or nothing), then `meta mark set`. Nothing else.
fn decode(stmts: &[Statement]) -> Option<Decoded> {
    let mut it = stmts.iter();
    let (proto, field, right) = payload_match(it.next()?)?;
    let family = match (proto, field) {
        ("ip", "daddr") => Family::Inet,
        ("ip6", "daddr") => Family::Inet6,
        _ => return None,
    };
    let addresses = elements(right)?
        .iter()
        .map(|e| match e {
            Expression::String(s) => s.parse::<IpAddr>().ok(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    if addresses.is_empty() || addresses.iter().any(|a| Family::of(a) != family) {
        return None;
    }

    let mut next = it.next()?;
    let mut protocols = BTreeSet::new();
    let mut ports = BTreeSet::new();
    if let Statement::Match(Match {
        left:
            Expression::Named(NamedExpression::Meta(Meta {
                key: MetaKey::L4proto,
            })),
        right,
        op: Operator::EQ,
    }) = next
    {
        for e in elements(right)? {
            protocols.insert(l4proto(e)?);
        }
        let (proto, field, right) = payload_match(it.next()?)?;
        if (proto, field) != ("th", "dport") {
            return None;
        }
        ports = port_set(right)?;
        next = it.next()?;
    } else if let Some((proto, "dport", right)) = payload_match(next) {
        protocols.insert(proto.parse().ok()?);
        ports = port_set(right)?;
        next = it.next()?;
    }

    let Statement::Mangle(Mangle {
        key: Expression::Named(NamedExpression::Meta(Meta { key: MetaKey::Mark })),
        value: Expression::Number(mark),
    }) = next
    else {
        return None;
    };
    if it.next().is_some() {
        return None;
    }
    Some(Decoded {
        addresses,
        protocols,
        ports,
        mark: *mark,
    })
}

/// One element of the `meta l4proto` set: nft lists the name `/etc/protocols` gives
/// the number, and the bare number on hosts without that file (no netbase package).
fn l4proto(e: &Expression) -> Option<Protocol> {
    match e {
        Expression::String(s) => s.parse().ok(),
        Expression::Number(n) => Protocol::from_number(u16::try_from(*n).ok()?),
        _ => None,
    }
}

fn payload_match<'a>(s: &'a Statement) -> Option<(&'a str, &'a str, &'a Expression<'a>)> {
    match s {
        Statement::Match(Match {
            left:
                Expression::Named(NamedExpression::Payload(Payload::PayloadField(PayloadField {
                    protocol,
                    field,
                }))),
            right,
            op: Operator::EQ,
        }) => Some((protocol, field, right)),
        _ => None,
    }
}

/// The elements of an anonymous set, or the one bare value nft lists instead.
fn elements<'a>(e: &'a Expression<'a>) -> Option<Vec<&'a Expression<'a>>> {
    match e {
        Expression::Named(NamedExpression::Set(items)) => items
            .iter()
            .map(|i| match i {
                SetItem::Element(e) => Some(e),
                _ => None,
            })
            .collect(),
        Expression::Named(_) | Expression::List(_) => None,
        one => Some(vec![one]),
    }
}

fn port_set(e: &Expression) -> Option<BTreeSet<PortRange>> {
    let num = |e: &Expression| match e {
        Expression::Number(n) => u16::try_from(*n).ok(),
        _ => None,
    };
    elements(e)?
        .into_iter()
        .map(|e| match e {
            Expression::Range(r) => Some(PortRange {
                first: num(&r.range[0])?,
                last: num(&r.range[1])?,
            }),
            one => num(one).map(PortRange::single),
        })
        .collect()
}

fn in_our_table(body: &Map<String, Value>) -> bool {
    text(body, "family") == FAMILY && text(body, "table") == TABLE
}

fn text(body: &Map<String, Value>, key: &str) -> String {
    body.get(key)
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

fn extra_keys(body: &Map<String, Value>, allowed: &[&str]) -> Vec<String> {
    body.iter()
        .filter(|(k, _)| !allowed.contains(&k.as_str()))
        .map(|(k, v)| format!("{k} {}", brief(v)))
        .collect()
}

fn wrap(kind: &str, body: &Map<String, Value>) -> Value {
    Value::Object(Map::from_iter([(
        kind.to_string(),
        Value::Object(body.clone()),
    )]))
}

fn chain_text(c: &Chain) -> String {
    let mut parts = Vec::new();
    if let Some(t) = c._type {
        parts.push(format!("type {}", lower(&t)));
    }
    if let Some(h) = c.hook {
        parts.push(format!("hook {}", lower(&h)));
    }
    if let Some(p) = c.prio {
        parts.push(format!("priority {p}"));
    }
    if let Some(p) = c.policy {
        parts.push(format!("policy {}", lower(&p)));
    }
    if parts.is_empty() {
        "regular chain".into()
    } else {
        parts.join(" ")
    }
}

/// The serde name of an nft enum value (`filter`, `prerouting`, `drop`).
fn lower<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Compact JSON, cut to a length that fits an error line.
fn brief(v: &Value) -> String {
    const MAX: usize = 200;
    let s = v.to_string();
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What nft 1.0.6 printed for `nft -j list table inet lvsh` after lvsh's own
    /// batch (handles and all), abridged to three rules.
    const LISTED: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "lvsh", "handle": 2}}, {"chain": {"family": "inet", "table": "lvsh", "name": "prerouting", "handle": 1, "type": "filter", "hook": "prerouting", "prio": -150, "policy": "accept"}}, {"rule": {"family": "inet", "table": "lvsh", "chain": "prerouting", "handle": 3, "comment": "lvsh mark 10", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "192.168.10.120"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [80, 443]}}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 10}}]}}, {"rule": {"family": "inet", "table": "lvsh", "chain": "prerouting", "handle": 7, "comment": "lvsh mark 11: web", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"set": ["10.0.0.1", "10.0.0.2"]}}}, {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": ["tcp", "udp"]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": {"set": [80, {"range": [8000, 8100]}]}}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 11}}]}}, {"rule": {"family": "inet", "table": "lvsh", "chain": "prerouting", "handle": 8, "comment": "lvsh mark 12", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "2001:db8::1"}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 12}}]}}]}"#;

    fn rule_json(comment: &str, expr: &str) -> String {
        format!(
            r#"{{"rule": {{"family": "inet", "table": "lvsh", "chain": "prerouting", "handle": 9, "comment": "{comment}", "expr": {expr}}}}}"#
        )
    }

    fn with(extra: &[String]) -> String {
        let mut s = LISTED.trim_end_matches("]}").to_string();
        for e in extra {
            s.push_str(", ");
            s.push_str(e);
        }
        s.push_str("]}");
        s
    }

    #[test]
    fn reads_what_nft_listed() {
        let o = parse_table(LISTED).unwrap();
        assert_eq!(o.foreign, vec![]);
        let m10 = &o.marks[&10];
        assert_eq!(m10.addresses, ["192.168.10.120".parse().unwrap()].into());
        assert_eq!(m10.protocols, [Protocol::Tcp].into());
        assert_eq!(
            m10.ports,
            [PortRange::single(80), PortRange::single(443)].into()
        );
        assert_eq!(m10.comment, None);
        let m11 = &o.marks[&11];
        assert_eq!(m11.protocols, [Protocol::Tcp, Protocol::Udp].into());
        assert_eq!(
            m11.ports,
            [PortRange::single(80), "8000-8100".parse().unwrap()].into()
        );
        assert_eq!(m11.comment.as_deref(), Some("web"));
        let m12 = &o.marks[&12];
        assert!(m12.ports.is_empty());
        assert_eq!(m12.protocols, MarkRule::new(12).protocols);
    }

    /// What nft 1.0.6 listed for lvsh's multi-protocol rules on a host without
    /// `/etc/protocols` (a mount namespace with it emptied): the set holds numbers.
    const LISTED_NUMERIC: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "lvsh", "handle": 1}}, {"chain": {"family": "inet", "table": "lvsh", "name": "prerouting", "handle": 1, "type": "filter", "hook": "prerouting", "prio": -150, "policy": "accept"}}, {"rule": {"family": "inet", "table": "lvsh", "chain": "prerouting", "handle": 3, "comment": "lvsh mark 10", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "192.168.10.120"}}, {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": [6, 17]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": 53}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 10}}]}}, {"rule": {"family": "inet", "table": "lvsh", "chain": "prerouting", "handle": 5, "comment": "lvsh mark 10", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "2001:db8::10"}}, {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": [6, 17]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": 53}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 10}}]}}, {"rule": {"family": "inet", "table": "lvsh", "chain": "prerouting", "handle": 8, "comment": "lvsh mark 11: dns", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "2001:db8::11"}}, {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": [6, 17, 132]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": {"set": [53, {"range": [8000, 8100]}]}}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 11}}]}}]}"#;

    #[test]
    fn reads_protocol_numbers_nft_lists_without_etc_protocols() {
        let o = parse_table(LISTED_NUMERIC).unwrap();
        assert_eq!(o.foreign, vec![]);
        let m10 = &o.marks[&10];
        assert_eq!(
            m10.addresses,
            [
                "192.168.10.120".parse().unwrap(),
                "2001:db8::10".parse().unwrap()
            ]
            .into()
        );
        assert_eq!(m10.protocols, [Protocol::Tcp, Protocol::Udp].into());
        assert_eq!(m10.ports, [PortRange::single(53)].into());
        let m11 = &o.marks[&11];
        assert_eq!(
            m11.protocols,
            [Protocol::Tcp, Protocol::Udp, Protocol::Sctp].into()
        );
        assert_eq!(
            m11.ports,
            [PortRange::single(53), "8000-8100".parse().unwrap()].into()
        );
        assert_eq!(m11.comment.as_deref(), Some("dns"));
        // Names and numbers are the same rule.
        let named = LISTED_NUMERIC
            .replace("[6, 17]", r#"["tcp", "udp"]"#)
            .replace("[6, 17, 132]", r#"["tcp", "udp", "sctp"]"#);
        assert_eq!(parse_table(&named).unwrap(), o);
    }

    #[test]
    fn unknown_protocol_numbers_are_foreign() {
        // 1 is icmp: lvsh never writes it.
        let s = LISTED_NUMERIC.replace("[6, 17, 132]", "[6, 1]");
        let o = parse_table(&s).unwrap();
        assert_eq!(o.marks.keys().copied().collect::<Vec<_>>(), [10]);
        assert_eq!(o.foreign.len(), 1);
        assert!(o.foreign[0].detail.contains("not a rule lvsh writes"));
    }

    #[test]
    fn empty_listing_is_no_marks() {
        assert_eq!(
            parse_table(r#"{"nftables": []}"#).unwrap(),
            TableRead::default()
        );
        assert!(parse_table("Error: nope").is_err());
    }

    #[test]
    fn second_family_joins_its_mark() {
        let v6 = rule_json(
            "lvsh mark 10",
            r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "2001:db8::10"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [80, 443]}}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 10}}]"#,
        );
        let o = parse_table(&with(&[v6])).unwrap();
        assert_eq!(o.foreign, vec![]);
        assert_eq!(o.marks[&10].addresses.len(), 2);
    }

    #[test]
    fn hand_made_objects_are_foreign() {
        let hand_rule = r#"{"rule": {"family": "inet", "table": "lvsh", "chain": "prerouting", "handle": 20, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "10.9.9.9"}}, {"drop": null}]}}"#;
        let set = r#"{"set": {"family": "inet", "name": "s", "table": "lvsh", "type": "ipv4_addr", "handle": 4}}"#;
        let chain =
            r#"{"chain": {"family": "inet", "table": "lvsh", "name": "extra", "handle": 5}}"#;
        // Right comment, wrong mark.
        let liar = rule_json(
            "lvsh mark 98",
            r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "1.1.1.1"}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 99}}]"#,
        );
        // Our shape plus a counter.
        let counted = rule_json(
            "lvsh mark 30",
            r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "1.1.1.1"}}, {"counter": {"packets": 0, "bytes": 0}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 30}}]"#,
        );
        // A second IPv4 rule for mark 10.
        let twice = rule_json(
            "lvsh mark 10",
            r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "10.0.0.9"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [80, 443]}}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 10}}]"#,
        );
        let o = parse_table(&with(&[
            hand_rule.into(),
            set.into(),
            chain.into(),
            liar,
            counted,
            twice,
        ]))
        .unwrap();
        // The lvsh rules still read.
        assert_eq!(o.marks.keys().copied().collect::<Vec<_>>(), [10, 11, 12]);
        assert_eq!(
            o.marks[&10].addresses,
            ["192.168.10.120".parse().unwrap()].into()
        );
        let lines: Vec<String> = o.foreign.iter().map(|f| f.to_string()).collect();
        assert_eq!(lines.len(), 6, "{lines:#?}");
        assert!(lines[0].starts_with(
            "rule in chain `prerouting` (handle 20): no `lvsh mark N` comment: `[{\"match\""
        ));
        assert_eq!(lines[1], "set `s` (handle 4)");
        assert_eq!(lines[2], "chain `extra` (handle 5): regular chain");
        assert!(lines[3].contains("sets mark 99 under comment for mark 98"));
        assert!(lines[4].contains("comment \"lvsh mark 30\", not a rule lvsh writes"));
        assert!(lines[5].contains("a second rule for mark 10"));
    }

    #[test]
    fn changed_chain_and_table_flags_are_foreign() {
        let s = LISTED
            .replace(r#""policy": "accept""#, r#""policy": "drop""#)
            .replace(
                r#""name": "lvsh", "handle": 2"#,
                r#""name": "lvsh", "handle": 2, "flags": "dormant""#,
            );
        let o = parse_table(&s).unwrap();
        let lines: Vec<String> = o.foreign.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            lines,
            [
                "table `lvsh` (handle 2): flags \"dormant\"",
                "chain `prerouting` (handle 1): type filter hook prerouting priority -150 policy drop, \
                 lvsh writes type filter hook prerouting priority -150 policy accept"
            ]
        );
        assert_eq!(o.marks.len(), 3);
    }

    #[test]
    fn unknown_statements_do_not_break_the_read() {
        let odd = rule_json(
            "lvsh mark 40",
            r#"[{"xt": {"type": "match", "name": "conntrack"}}, {"some future thing": 1}]"#,
        );
        let o = parse_table(&with(&[odd])).unwrap();
        assert_eq!(o.marks.len(), 3);
        assert_eq!(o.foreign.len(), 1);
        assert!(o.foreign[0].detail.contains("not a rule lvsh writes"));
    }
}
