//! Marks → one `nft -j -f` transaction that replaces table `inet lvsh` whole.

use super::{CHAIN, Error, PRIORITY, RuleSpec, TABLE, rules};
use crate::model::{MarkRule, PortRange};
use nftables::{
    batch::Batch,
    expr::{Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField, Range, SetItem},
    schema::{Chain, NfListObject, Nftables, Rule, Table},
    stmt::{Mangle, Match, Operator, Statement},
    types::{NfChainPolicy, NfChainType, NfFamily, NfHook},
};
use std::collections::BTreeMap;

/// `add table` (so that the delete finds a table even on a fresh host), `delete
/// table`, then the new table, chain and rules; an empty map stops after the delete.
/// nft runs the batch as one kernel transaction: packets see the old table or the
/// new one, never a mix, and a batch that fails changes nothing.
pub fn replace_batch(marks: &BTreeMap<u32, MarkRule>) -> Result<Nftables<'static>, Error> {
    let specs = rules(marks)?;
    let mut b = Batch::new();
    b.add(NfListObject::Table(table()));
    b.delete(NfListObject::Table(table()));
    if !specs.is_empty() {
        b.add(NfListObject::Table(table()));
        b.add(NfListObject::Chain(chain()));
        for spec in &specs {
            b.add(NfListObject::Rule(rule(spec)));
        }
    }
    Ok(b.to_nftables())
}

pub(super) fn table() -> Table<'static> {
    Table {
        family: NfFamily::INet,
        name: TABLE.into(),
        handle: None,
    }
}

pub(super) fn chain() -> Chain<'static> {
    Chain {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: CHAIN.into(),
        _type: Some(NfChainType::Filter),
        hook: Some(NfHook::Prerouting),
        prio: Some(PRIORITY),
        policy: Some(NfChainPolicy::Accept),
        ..Chain::default()
    }
}

pub(super) fn rule(spec: &RuleSpec) -> Rule<'static> {
    Rule {
        family: NfFamily::INet,
        table: TABLE.into(),
        chain: CHAIN.into(),
        expr: statements(spec).into(),
        comment: Some(spec.nft_comment().into()),
        ..Rule::default()
    }
}

fn statements(spec: &RuleSpec) -> Vec<Statement<'static>> {
    let addresses = spec
        .addresses
        .iter()
        .map(|a| Expression::String(a.to_string().into()))
        .collect();
    let mut out = vec![eq(
        payload(spec.address_protocol(), "daddr"),
        one_or_set(addresses),
    )];
    let ports = || one_or_set(spec.ports.iter().map(|&p| port(p)).collect());
    match spec.protocols.as_slice() {
        [] => {}
        [one] => out.push(eq(payload(one.name(), "dport"), ports())),
        many => {
            let names = many
                .iter()
                .map(|p| Expression::String(p.name().into()))
                .collect();
            out.push(eq(meta(MetaKey::L4proto), one_or_set(names)));
            out.push(eq(payload("th", "dport"), ports()));
        }
    }
    out.push(Statement::Mangle(Mangle {
        key: meta(MetaKey::Mark),
        value: Expression::Number(spec.mark),
    }));
    out
}

fn eq(left: Expression<'static>, right: Expression<'static>) -> Statement<'static> {
    Statement::Match(Match {
        left,
        right,
        op: Operator::EQ,
    })
}

fn payload(protocol: &'static str, field: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.into(),
            field: field.into(),
        },
    )))
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn port(p: PortRange) -> Expression<'static> {
    if p.first == p.last {
        Expression::Number(p.first.into())
    } else {
        Expression::Range(Box::new(Range {
            range: [
                Expression::Number(p.first.into()),
                Expression::Number(p.last.into()),
            ],
        }))
    }
}

/// One element bare, several as an anonymous set: nft lists them the same way.
fn one_or_set(mut items: Vec<Expression<'static>>) -> Expression<'static> {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Expression::Named(NamedExpression::Set(
            items.into_iter().map(SetItem::Element).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    fn pfmc() -> BTreeMap<u32, MarkRule> {
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        m.ports = [PortRange::single(80), PortRange::single(443)].into();
        let mut n = MarkRule::new(11);
        n.addresses.insert("2001:db8::1".parse().unwrap());
        n.ports = ["53".parse().unwrap(), "8000-8100".parse().unwrap()].into();
        n.protocols = [Protocol::Tcp, Protocol::Udp].into();
        n.comment = Some("dns".into());
        BTreeMap::from([(10, m), (11, n)])
    }

    #[test]
    fn empty_map_only_removes_the_table() {
        let j = serde_json::to_string(&replace_batch(&BTreeMap::new()).unwrap()).unwrap();
        assert_eq!(
            j,
            r#"{"nftables":[{"add":{"table":{"family":"inet","name":"lvsh"}}},{"delete":{"table":{"family":"inet","name":"lvsh"}}}]}"#
        );
    }

    #[test]
    fn golden_json_of_two_marks() {
        let j = serde_json::to_string(&replace_batch(&pfmc()).unwrap()).unwrap();
        let want = concat!(
            r#"{"nftables":["#,
            r#"{"add":{"table":{"family":"inet","name":"lvsh"}}},"#,
            r#"{"delete":{"table":{"family":"inet","name":"lvsh"}}},"#,
            r#"{"add":{"table":{"family":"inet","name":"lvsh"}}},"#,
            r#"{"add":{"chain":{"family":"inet","table":"lvsh","name":"prerouting","type":"filter","hook":"prerouting","prio":-150,"policy":"accept"}}},"#,
            r#"{"add":{"rule":{"family":"inet","table":"lvsh","chain":"prerouting","expr":["#,
            r#"{"match":{"left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"192.168.10.120","op":"=="}},"#,
            r#"{"match":{"left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"set":[80,443]},"op":"=="}},"#,
            r#"{"mangle":{"key":{"meta":{"key":"mark"}},"value":10}}],"comment":"lvsh mark 10"}}},"#,
            r#"{"add":{"rule":{"family":"inet","table":"lvsh","chain":"prerouting","expr":["#,
            r#"{"match":{"left":{"payload":{"protocol":"ip6","field":"daddr"}},"right":"2001:db8::1","op":"=="}},"#,
            r#"{"match":{"left":{"meta":{"key":"l4proto"}},"right":{"set":["tcp","udp"]},"op":"=="}},"#,
            r#"{"match":{"left":{"payload":{"protocol":"th","field":"dport"}},"right":{"set":[53,{"range":[8000,8100]}]},"op":"=="}},"#,
            r#"{"mangle":{"key":{"meta":{"key":"mark"}},"value":11}}],"comment":"lvsh mark 11: dns"}}}"#,
            r#"]}"#
        );
        assert_eq!(j, want);
    }

    #[test]
    fn invalid_marks_build_no_batch() {
        let mut marks = pfmc();
        marks.get_mut(&10).unwrap().addresses.clear();
        assert!(matches!(
            replace_batch(&marks),
            Err(Error::Invalid { mark: 10, .. })
        ));
    }
}
