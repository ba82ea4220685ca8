//! How each object reads in a plan: ipvsadm's and nft's words, the DSL's names, and
//! `old → new` for just the fields that change. Display wrappers, so that a plan of
//! ten thousand lines is written into one buffer without a string per field.

use crate::model::{Dest, MarkRule, Service, SyncDaemon, Timeouts};
use std::{
    collections::BTreeSet,
    fmt::{self, Display, Formatter},
};

/// `rr flags sh-fallback,sh-port persist 120 netmask 255.255.255.0 pe sip ops`.
pub struct ServiceDesc<'a>(pub &'a Service);

impl Display for ServiceDesc<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = self.0;
        f.write_str(s.scheduler.name())?;
        if !s.flags.is_empty() {
            write!(f, " flags {}", Flags(s))?;
        }
        if let Some(p) = s.persistence {
            write!(f, " persist {p}")?;
        }
        if let Some(m) = s.netmask {
            write!(f, " netmask {m}")?;
        }
        if let Some(pe) = s.pe {
            write!(f, " pe {}", pe.name())?;
        }
        if s.one_packet {
            f.write_str(" ops")?;
        }
        Ok(())
    }
}

/// `scheduler wlc → rr, persist 300 → 1200`.
pub struct ServiceEdit<'a>(pub &'a Service, pub &'a Service);

impl Display for ServiceEdit<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (b, a) = (self.0, self.1);
        let mut e = Edits::new(f);
        e.field("scheduler", b.scheduler, a.scheduler)?;
        if b.flags != a.flags {
            e.show("flags", Flags(b), Flags(a))?;
        }
        e.field(
            "persist",
            Or(b.persistence, "off"),
            Or(a.persistence, "off"),
        )?;
        e.field("netmask", b.effective_netmask(), a.effective_netmask())?;
        let pe = |s: &Service| Or(s.pe.map(|p| p.name()), "none");
        e.field("pe", pe(b), pe(a))?;
        e.field("ops", OnOff(b.one_packet), OnOff(a.one_packet))
    }
}

/// Scheduler flags by the names ipvsadm gives them under the service's scheduler.
struct Flags<'a>(&'a Service);

impl Display for Flags<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0.flags.is_empty() {
            return f.write_str("none");
        }
        for (i, name) in self.0.flags.names(self.0.scheduler).iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// `nat weight 1`, `tun gue port 6080 csum weight 5 u_threshold 100 l_threshold 75`.
pub struct DestDesc<'a>(pub &'a Dest);

impl Display for DestDesc<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(f, "{} weight {}", d.forward, d.weight)?;
        if d.upper_threshold != 0 {
            write!(f, " u_threshold {}", d.upper_threshold)?;
        }
        if d.lower_threshold != 0 {
            write!(f, " l_threshold {}", d.lower_threshold)?;
        }
        Ok(())
    }
}

/// `forward dr → nat, weight 1 → 0 (no new connections)`.
pub struct DestEdit<'a>(pub &'a Dest, pub &'a Dest);

impl Display for DestEdit<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (b, a) = (self.0, self.1);
        let mut e = Edits::new(f);
        e.field("forward", b.forward, a.forward)?;
        if b.weight != a.weight {
            e.show("weight", b.weight, Weight(a.weight))?;
        }
        e.field("u_threshold", b.upper_threshold, a.upper_threshold)?;
        e.field("l_threshold", b.lower_threshold, a.lower_threshold)
    }
}

/// A weight, saying what 0 means to people who drain servers with it.
struct Weight(u32);

impl Display for Weight {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("0 (no new connections)"),
            w => write!(f, "{w}"),
        }
    }
}

/// The rule in nft's words: `ip daddr 192.168.10.120 tcp dport {80, 443} → fwmark 10`.
pub struct MarkDesc<'a>(pub &'a MarkRule);

impl Display for MarkDesc<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let m = self.0;
        let v4 = m.addresses.iter().filter(|a| a.is_ipv4()).count();
        let daddr = match (v4, m.addresses.len() - v4) {
            (_, 0) => "ip daddr",
            (0, _) => "ip6 daddr",
            _ => "daddr",
        };
        write!(f, "{daddr} {}", Set(&m.addresses))?;
        if !m.ports.is_empty() {
            if m.protocols.len() == 1 {
                write!(f, " {} dport {}", Set(&m.protocols), Set(&m.ports))?;
            } else {
                let (p, d) = (Set(&m.protocols), Set(&m.ports));
                write!(f, " meta l4proto {p} th dport {d}")?;
            }
        }
        if let Some(c) = &m.comment {
            write!(f, " comment {c:?}")?;
        }
        write!(f, " → fwmark {}", m.mark)
    }
}

/// `daddr 10.0.0.1 → {10.0.0.1, 10.0.0.2}, dport 80 → any`.
pub struct MarkEdit<'a>(pub &'a MarkRule, pub &'a MarkRule);

impl Display for MarkEdit<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (b, a) = (self.0, self.1);
        let mut e = Edits::new(f);
        e.field("daddr", Set(&b.addresses), Set(&a.addresses))?;
        // Protocols only take part in the rule together with ports.
        if !(b.ports.is_empty() && a.ports.is_empty()) {
            e.field("protocols", Set(&b.protocols), Set(&a.protocols))?;
        }
        e.field("dport", Ports(&b.ports), Ports(&a.ports))?;
        e.field("comment", Comment(&b.comment), Comment(&a.comment))
    }
}

/// `80`, or `{80, 443}` for several items (and `{}` for none), as nft writes sets.
#[derive(PartialEq)]
struct Set<'a, T>(&'a BTreeSet<T>);

impl<T: Display> Display for Set<'_, T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut items = self.0.iter();
        if let (Some(one), None) = (items.next(), items.next()) {
            return one.fmt(f);
        }
        f.write_str("{")?;
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{item}")?;
        }
        f.write_str("}")
    }
}

/// Destination ports of a mark rule; none means all of them.
#[derive(PartialEq)]
struct Ports<'a, T>(&'a BTreeSet<T>);

impl<T: Display> Display for Ports<'_, T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("any")
        } else {
            Set(self.0).fmt(f)
        }
    }
}

#[derive(PartialEq)]
struct Comment<'a>(&'a Option<String>);

impl Display for Comment<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(c) => write!(f, "{c:?}"),
            None => f.write_str("none"),
        }
    }
}

/// `tcp 900 → 600, udp 300 → 60`; a value the kernel did not report is `unknown`.
pub struct TimeoutsEdit<'a>(pub &'a Timeouts, pub &'a Timeouts);

impl Display for TimeoutsEdit<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (b, a) = (self.0, self.1);
        let mut e = Edits::new(f);
        e.field("tcp", Or(b.tcp, "unknown"), Or(a.tcp, "unknown"))?;
        e.field("tcpfin", Or(b.tcp_fin, "unknown"), Or(a.tcp_fin, "unknown"))?;
        e.field("udp", Or(b.udp, "unknown"), Or(a.udp, "unknown"))
    }
}

/// `on eth0 syncid 1 maxlen 1472 group 224.0.0.81 port 8848 ttl 1`, unset fields left out.
pub struct DaemonDesc<'a>(pub &'a SyncDaemon);

impl Display for DaemonDesc<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(f, "on {} syncid {}", d.interface, d.syncid)?;
        if let Some(v) = d.maxlen {
            write!(f, " maxlen {v}")?;
        }
        if let Some(v) = d.group {
            write!(f, " group {v}")?;
        }
        if let Some(v) = d.port {
            write!(f, " port {v}")?;
        }
        if let Some(v) = d.ttl {
            write!(f, " ttl {v}")?;
        }
        Ok(())
    }
}

/// What restarting a daemon changes: the fields the new one sets differently.
pub struct DaemonEdit<'a>(pub &'a SyncDaemon, pub &'a SyncDaemon);

impl Display for DaemonEdit<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (b, a) = (self.0, self.1);
        let mut e = Edits::new(f);
        e.field("interface", &b.interface, &a.interface)?;
        e.field("syncid", b.syncid, a.syncid)?;
        // Unset fields take whatever the kernel chooses: not a change.
        if a.maxlen.is_some() {
            e.field("maxlen", Or(b.maxlen, "default"), Or(a.maxlen, "default"))?;
        }
        if a.group.is_some() {
            e.field("group", Or(b.group, "default"), Or(a.group, "default"))?;
        }
        if a.port.is_some() {
            e.field("port", Or(b.port, "default"), Or(a.port, "default"))?;
        }
        if a.ttl.is_some() {
            e.field("ttl", Or(b.ttl, "default"), Or(a.ttl, "default"))?;
        }
        Ok(())
    }
}

/// Writes `name old → new` for each field that differs, comma-separated.
struct Edits<'a, 'b> {
    f: &'a mut Formatter<'b>,
    first: bool,
}

impl<'a, 'b> Edits<'a, 'b> {
    fn new(f: &'a mut Formatter<'b>) -> Self {
        Edits { f, first: true }
    }

    fn field<T: Display + PartialEq>(&mut self, name: &str, old: T, new: T) -> fmt::Result {
        if old == new {
            return Ok(());
        }
        self.show(name, old, new)
    }

    fn show(&mut self, name: &str, old: impl Display, new: impl Display) -> fmt::Result {
        if !self.first {
            self.f.write_str(", ")?;
        }
        self.first = false;
        write!(self.f, "{name} {old} → {new}")
    }
}

/// An optional value, or a word for its absence.
#[derive(PartialEq)]
struct Or<T>(Option<T>, &'static str);

impl<T: Display> Display for Or<T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str(self.1),
        }
    }
}

#[derive(PartialEq)]
struct OnOff(bool);

impl Display for OnOff {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "on" } else { "off" })
    }
}
