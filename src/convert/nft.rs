//! `lvsh emit --to nft`: the marks of a balancer as an `nft -f` script that leaves
//! table `inet lvsh` exactly as `apply` would (same rules, same comments).
//!
//! The script replaces the table in one transaction with `table` + `delete table` +
//! definition: `destroy table` would be shorter but needs nft 1.0.8 (Debian bookworm
//! ships 1.0.6).

use crate::backend::nft::{rules, table_text};
use crate::model::Balancer;
use std::{collections::BTreeMap, fmt::Write as _};

/// The script; marks lvsh would refuse to write become a comment line saying why,
/// never a rule.
pub fn to_nft(b: &Balancer) -> String {
    let mut s = String::from(
        "#!/usr/sbin/nft -f\n\
         # Table inet lvsh, as `lvsh apply` writes it; `nft -f` replaces the whole table atomically.\n\
         table inet lvsh\n\
         delete table inet lvsh\n",
    );
    let mut specs = Vec::new();
    for (&key, rule) in &b.marks {
        let one = BTreeMap::from([(key, rule.clone())]);
        match rules(&one) {
            Ok(mut r) => specs.append(&mut r),
            Err(e) => {
                let _ = writeln!(s, "# left out: {e}");
            }
        }
    }
    s.push_str(&table_text(&specs));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MarkRule, PortRange, Protocol};

    fn pfmc() -> Balancer {
        let mut b = Balancer::default();
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        m.ports = [PortRange::single(80), PortRange::single(443)].into();
        b.marks.insert(10, m);
        let mut n = MarkRule::new(20);
        n.addresses.insert("2001:db8::20".parse().unwrap());
        n.addresses.insert("10.0.0.20".parse().unwrap());
        n.addresses.insert("10.0.0.21".parse().unwrap());
        n.protocols = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp].into();
        n.ports = ["5060".parse().unwrap(), "10000-20000".parse().unwrap()].into();
        n.comment = Some("sip".into());
        b.marks.insert(20, n);
        let mut o = MarkRule::new(30);
        o.addresses.insert("10.0.0.30".parse().unwrap());
        b.marks.insert(30, o);
        b
    }

    #[test]
    fn golden_script() {
        assert_eq!(
            to_nft(&pfmc()),
            "#!/usr/sbin/nft -f\n\
             # Table inet lvsh, as `lvsh apply` writes it; `nft -f` replaces the whole table atomically.\n\
             table inet lvsh\n\
             delete table inet lvsh\n\
             table inet lvsh {\n\
             \tchain prerouting {\n\
             \t\ttype filter hook prerouting priority mangle; policy accept;\n\
             \t\tip daddr 192.168.10.120 tcp dport { 80, 443 } meta mark set 10 comment \"lvsh mark 10\"\n\
             \t\tip daddr { 10.0.0.20, 10.0.0.21 } meta l4proto { tcp, udp, sctp } th dport { 5060, 10000-20000 } meta mark set 20 comment \"lvsh mark 20: sip\"\n\
             \t\tip6 daddr 2001:db8::20 meta l4proto { tcp, udp, sctp } th dport { 5060, 10000-20000 } meta mark set 20 comment \"lvsh mark 20: sip\"\n\
             \t\tip daddr 10.0.0.30 meta mark set 30 comment \"lvsh mark 30\"\n\
             \t}\n\
             }\n"
        );
    }

    #[test]
    fn no_marks_removes_the_table() {
        assert_eq!(
            to_nft(&Balancer::default()),
            "#!/usr/sbin/nft -f\n\
             # Table inet lvsh, as `lvsh apply` writes it; `nft -f` replaces the whole table atomically.\n\
             table inet lvsh\n\
             delete table inet lvsh\n"
        );
    }

    #[test]
    fn refused_marks_are_left_out_visibly() {
        let mut b = pfmc();
        b.marks.get_mut(&30).unwrap().addresses.clear();
        let s = to_nft(&b);
        assert!(
            s.contains("# left out: mark 30: no address to match"),
            "{s}"
        );
        assert!(!s.contains("mark set 30"), "{s}");
        assert!(s.contains("mark set 10"), "{s}");
    }
}
