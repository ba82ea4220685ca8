use super::{Change, Mode, Object, Plan, Snapshot};
use crate::model::{
    Addresses, Balancer, DaemonState, Dest, DestCounters, Dests, MarkRule, PortRange, Service,
    StatsBox, SyncDaemon, Sysctls, Timeouts,
};
use std::{
    cmp::Ordering,
    collections::{BTreeMap, BTreeSet},
};

/// Compares `desired` with `observed` and returns the changes that turn the second
/// into the first, in apply order (see the module doc). Pure: touches nothing.
pub fn diff(desired: &Balancer, observed: &Balancer, mode: Mode) -> Plan {
    // Against an empty kernel everything is new: room for that up front.
    let mut g = Groups {
        replace: mode == Mode::Replace,
        set: Vec::with_capacity(desired.services.len() + desired.dest_count()),
        ..Groups::default()
    };
    g.services(desired, observed);
    g.marks(&desired.marks, &observed.marks);
    g.timeouts(&desired.timeouts, &observed.timeouts);
    g.daemons(&desired.daemons, &observed.daemons);
    g.sysctls(&desired.sysctls, &observed.sysctls);
    g.addresses(&desired.addresses, &observed.addresses);
    g.into_plan()
}

/// The changes sorted into the groups of the apply order, each filled in key order.
#[derive(Default)]
struct Groups {
    replace: bool,
    sysctls: Vec<Change>,
    addresses_added: Vec<Change>,
    addresses_deleted: Vec<Change>,
    marks_narrowed: Vec<Change>,
    dests_deleted: Vec<Change>,
    services_deleted: Vec<Change>,
    daemons_deleted: Vec<Change>,
    timeouts: Vec<Change>,
    /// Service additions and edits, each followed by its destinations' additions
    /// and edits: a new service travels with its real servers.
    set: Vec<Change>,
    daemons_added: Vec<Change>,
    marks_set: Vec<Change>,
}

impl Groups {
    fn services(&mut self, desired: &Balancer, observed: &Balancer) {
        join(&desired.services, &observed.services, |pair| match pair {
            Pair::Desired(d) => {
                let key = Object::Service(d.key);
                self.set.push(Change::add(key, Snapshot::from(settings(d))));
                for dest in d.dests.values() {
                    let key = Object::Dest(d.key, dest.key);
                    self.set
                        .push(Change::add(key, Snapshot::from(bare_dest(dest))));
                }
            }
            Pair::Observed(o) => {
                if self.replace {
                    // The kernel deletes the destinations with the service; they travel
                    // in the snapshot so that the plan still shows them going.
                    let mut gone = settings(o);
                    gone.dests = o.dests.values().map(|d| (d.key, bare_dest(d))).collect();
                    self.services_deleted
                        .push(Change::delete(Object::Service(o.key), Snapshot::from(gone)));
                }
            }
            Pair::Both(d, o) => {
                if !d.same_settings(o) {
                    self.set.push(Change::edit(
                        Object::Service(d.key),
                        Snapshot::from(settings(o)),
                        Snapshot::from(settings(d)),
                    ));
                }
                self.dests(d, o);
            }
        });
    }

    /// Destinations of a service that exists on both sides.
    fn dests(&mut self, desired: &Service, observed: &Service) {
        let svc = desired.key;
        join(&desired.dests, &observed.dests, |pair| match pair {
            Pair::Desired(d) => self.set.push(Change::add(
                Object::Dest(svc, d.key),
                Snapshot::from(bare_dest(d)),
            )),
            Pair::Observed(o) => {
                if self.replace {
                    self.dests_deleted.push(Change::delete(
                        Object::Dest(svc, o.key),
                        Snapshot::from(bare_dest(o)),
                    ));
                }
            }
            Pair::Both(d, o) => {
                // Every setting of a destination is edited in place: the kernel only
                // refuses to change its address family, which is part of the key.
                if d != o {
                    self.set.push(Change::edit(
                        Object::Dest(svc, d.key),
                        Snapshot::from(bare_dest(o)),
                        Snapshot::from(bare_dest(d)),
                    ));
                }
            }
        });
    }

    fn marks(&mut self, desired: &BTreeMap<u32, MarkRule>, observed: &BTreeMap<u32, MarkRule>) {
        join(desired, observed, |pair| match pair {
            Pair::Desired(d) => self
                .marks_set
                .push(Change::add(Object::Mark(d.mark), Snapshot::from(d.clone()))),
            Pair::Observed(o) => {
                if self.replace {
                    self.marks_narrowed.push(Change::delete(
                        Object::Mark(o.mark),
                        Snapshot::from(o.clone()),
                    ));
                }
            }
            Pair::Both(d, o) => {
                if !same_rule(d, o) {
                    let change = Change::edit(
                        Object::Mark(d.mark),
                        Snapshot::from(o.clone()),
                        Snapshot::from(d.clone()),
                    );
                    // Marking more (or other) traffic goes first, with the marks
                    // the new services need; marking less waits until the services
                    // that took the rest of the traffic exist.
                    if narrows(o, d) {
                        self.marks_narrowed.push(change);
                    } else {
                        self.marks_set.push(change);
                    }
                }
            }
        });
    }

    fn timeouts(&mut self, desired: &Timeouts, observed: &Timeouts) {
        if desired.satisfied_by(observed) {
            return;
        }
        let after = Timeouts {
            tcp: desired.tcp.or(observed.tcp),
            tcp_fin: desired.tcp_fin.or(observed.tcp_fin),
            udp: desired.udp.or(observed.udp),
        };
        self.timeouts.push(Change::edit(
            Object::Timeouts,
            Snapshot::from(*observed),
            Snapshot::from(after),
        ));
    }

    fn daemons(
        &mut self,
        desired: &BTreeMap<DaemonState, SyncDaemon>,
        observed: &BTreeMap<DaemonState, SyncDaemon>,
    ) {
        join(desired, observed, |pair| match pair {
            Pair::Desired(d) => self.daemons_added.push(Change::add(
                Object::Daemon(d.state),
                Snapshot::from(d.clone()),
            )),
            Pair::Observed(o) => {
                if self.replace {
                    self.daemons_deleted.push(Change::delete(
                        Object::Daemon(o.state),
                        Snapshot::from(o.clone()),
                    ));
                }
            }
            Pair::Both(d, o) => {
                // No IPVS command edits a running daemon (starting a second one of
                // the same role fails with EEXIST): stop it, then start it anew. Also
                // in merge mode, since the script names this daemon.
                if !d.satisfied_by(o) {
                    self.daemons_deleted.push(Change::delete(
                        Object::Daemon(o.state),
                        Snapshot::from(o.clone()),
                    ));
                    self.daemons_added.push(Change::add(
                        Object::Daemon(d.state),
                        Snapshot::from(d.clone()),
                    ));
                }
            }
        });
    }

    /// Only the sysctls the script sets; one the observed state does not hold (a
    /// state file, `--empty`) is an `Add`.
    fn sysctls(&mut self, desired: &Sysctls, observed: &Sysctls) {
        for (name, want) in desired.iter() {
            let object = Object::Sysctl(name.to_string());
            match observed.get(name) {
                None => self
                    .sysctls
                    .push(Change::add(object, Snapshot::from(want.clone()))),
                Some(have) if !observed.satisfies(name, want) => self.sysctls.push(Change::edit(
                    object,
                    Snapshot::from(have.clone()),
                    Snapshot::from(want.clone()),
                )),
                Some(_) => {}
            }
        }
    }

    /// Addresses the script declares that the kernel lacks are added (those it holds
    /// without lvsh's mark are left alone: the plan's caller reports them); with
    /// `Replace`, addresses with lvsh's mark the script no longer declares go.
    fn addresses(&mut self, desired: &Addresses, observed: &Addresses) {
        for a in desired.iter() {
            if !observed.contains(a) && !observed.others.contains(a) {
                let object = Object::Address(a.clone());
                self.addresses_added
                    .push(Change::add(object, Snapshot::from(a.clone())));
            }
        }
        if self.replace {
            for a in observed.iter().filter(|a| !desired.contains(a)) {
                let object = Object::Address(a.clone());
                self.addresses_deleted
                    .push(Change::delete(object, Snapshot::from(a.clone())));
            }
        }
    }

    fn into_plan(self) -> Plan {
        let groups = [
            self.sysctls,
            self.addresses_added,
            self.marks_set,
            self.daemons_deleted,
            self.timeouts,
            self.set,
            self.dests_deleted,
            self.services_deleted,
            self.daemons_added,
            self.marks_narrowed,
            self.addresses_deleted,
        ];
        let mut changes = Vec::with_capacity(groups.iter().map(Vec::len).sum());
        for g in groups {
            changes.extend(g);
        }
        Plan {
            changes,
            holds: Vec::new(),
        }
    }
}

/// An object present on one side or both.
enum Pair<'a, V> {
    Desired(&'a V),
    Observed(&'a V),
    Both(&'a V, &'a V),
}

/// Walks two maps in key order at once: linear, with no lookups.
fn join<'a, K: Ord + 'a, V: 'a>(
    desired: impl IntoIterator<Item = (&'a K, &'a V)>,
    observed: impl IntoIterator<Item = (&'a K, &'a V)>,
    mut f: impl FnMut(Pair<'a, V>),
) {
    let mut d = desired.into_iter().peekable();
    let mut o = observed.into_iter().peekable();
    loop {
        let order = match (d.peek(), o.peek()) {
            (None, None) => return,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((dk, _)), Some((ok, _))) => dk.cmp(ok),
        };
        let pair = match order {
            Ordering::Less => Pair::Desired(d.next().expect("peeked").1),
            Ordering::Greater => Pair::Observed(o.next().expect("peeked").1),
            Ordering::Equal => Pair::Both(d.next().expect("peeked").1, o.next().expect("peeked").1),
        };
        f(pair);
    }
}

/// A service's own settings, without destinations or counters.
fn settings(s: &Service) -> Service {
    Service {
        key: s.key,
        scheduler: s.scheduler,
        flags: s.flags,
        persistence: s.persistence,
        netmask: s.netmask,
        pe: s.pe,
        one_packet: s.one_packet,
        dests: Dests::new(),
        stats: StatsBox::default(),
        origin: s.origin.clone(),
    }
}

/// A destination without its counters: a plan is about configuration, and its JSON
/// must not change while traffic flows.
fn bare_dest(d: &Dest) -> Dest {
    Dest {
        counters: DestCounters::default(),
        stats: StatsBox::default(),
        ..d.clone()
    }
}

/// Equality of the nft rules two mark rules produce: the protocols only take part in
/// the rule together with ports.
fn same_rule(a: &MarkRule, b: &MarkRule) -> bool {
    a.mark == b.mark
        && a.addresses == b.addresses
        && a.ports == b.ports
        && a.comment == b.comment
        && (a.ports.is_empty() || a.protocols == b.protocols)
}

/// True when `new` marks strictly less traffic than `old`.
fn narrows(old: &MarkRule, new: &MarkRule) -> bool {
    matches_within(new, old) && !matches_within(old, new)
}

/// True when every packet `inner` marks is also marked by `outer`.
fn matches_within(inner: &MarkRule, outer: &MarkRule) -> bool {
    if !inner.addresses.is_subset(&outer.addresses) {
        return false;
    }
    // Without ports, a rule marks everything sent to its addresses.
    if outer.ports.is_empty() {
        return true;
    }
    !inner.ports.is_empty()
        && inner.protocols.is_subset(&outer.protocols)
        && ports_within(&inner.ports, &outer.ports)
}

fn ports_within(inner: &BTreeSet<PortRange>, outer: &BTreeSet<PortRange>) -> bool {
    // Merge `outer` into disjoint spans (sorted already), then look each range up.
    let mut spans: Vec<(u32, u32)> = Vec::new();
    for r in outer {
        let (first, last) = (u32::from(r.first), u32::from(r.last));
        match spans.last_mut() {
            Some(span) if first <= span.1 + 1 => span.1 = span.1.max(last),
            _ => spans.push((first, last)),
        }
    }
    inner.iter().all(|r| {
        spans
            .iter()
            .any(|&(a, b)| a <= u32::from(r.first) && u32::from(r.last) <= b)
    })
}

#[cfg(test)]
mod tests;
