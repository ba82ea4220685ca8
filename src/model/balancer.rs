use super::check::PROBE_MARKS;
use super::{
    Addresses, Checks, DaemonState, Family, MarkRule, Scope, Service, ServiceKey, SyncDaemon,
    Sysctls, Timeouts, keyed,
};
use serde::{Deserialize, Serialize};
use std::{borrow::Cow, collections::BTreeMap, net::IpAddr};

/// The whole load balancer: every IPVS object plus the owned nft mark rules.
/// Scripts build one (desired), backends read one (observed), `plan` compares two.
///
/// `==` compares what the kernel holds: the scope and the checks are left out; the
/// sysctls are kernel state and take part.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Balancer {
    #[serde(default, with = "keyed", skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<ServiceKey, Service>,
    #[serde(default, with = "keyed", skip_serializing_if = "BTreeMap::is_empty")]
    pub marks: BTreeMap<u32, MarkRule>,
    #[serde(default, skip_serializing_if = "Timeouts::is_empty")]
    pub timeouts: Timeouts,
    #[serde(default, with = "keyed", skip_serializing_if = "BTreeMap::is_empty")]
    pub daemons: BTreeMap<DaemonState, SyncDaemon>,
    /// `net.ipv4.vs.*`: those a script sets, or every one the kernel has.
    #[serde(default, skip_serializing_if = "Sysctls::is_empty")]
    pub sysctls: Sysctls,
    /// Addresses on interfaces: those a script declares, or those carrying lvsh's
    /// mark (see [`Addresses`] for the others).
    #[serde(default, skip_serializing_if = "Addresses::is_empty")]
    pub addresses: Addresses,
    /// What a scoped script owns; `None` = the whole table. Desired models only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// Health checks and what they do (`lvsh watch`); the kernel never sees them.
    #[serde(default, skip_serializing_if = "Checks::is_empty")]
    pub checks: Checks,
    /// The model of `lvsh watch`, which owns the probe services: a plan of it
    /// deletes those it does not hold. Scripts' models leave them alone.
    #[serde(skip)]
    pub owns_probes: bool,
}

/// Whether `key` is one of the fwmark services `lvsh watch` makes for `via_vip()`
/// probes.
pub fn is_probe_service(key: &ServiceKey) -> bool {
    matches!(key, ServiceKey::Fwmark { fwmark, .. } if PROBE_MARKS.contains(fwmark))
}

impl PartialEq for Balancer {
    fn eq(&self, other: &Self) -> bool {
        let Balancer {
            services,
            marks,
            timeouts,
            daemons,
            sysctls,
            addresses,
            scope: _,
            checks: _,
            owns_probes: _,
        } = self;
        *services == other.services
            && *marks == other.marks
            && *timeouts == other.timeouts
            && *daemons == other.daemons
            && *sysctls == other.sysctls
            && *addresses == other.addresses
    }
}

impl Eq for Balancer {}

impl Balancer {
    /// The part of `observed` that this desired model manages, which is what a plan
    /// compares it with: all of it, or with a scope what [`Scope::restrict`] keeps.
    ///
    /// The probe services of `lvsh watch` ([`PROBE_MARKS`]) are left out unless this
    /// model holds them: no plan of a script ever deletes them.
    pub fn managed<'a>(&self, observed: &'a Balancer) -> Cow<'a, Balancer> {
        let base = match &self.scope {
            None => Cow::Borrowed(observed),
            Some(scope) => Cow::Owned(scope.restrict(observed, self)),
        };
        let foreign_probe = |k: &ServiceKey| is_probe_service(k) && !self.services.contains_key(k);
        if self.owns_probes || !base.services.keys().any(foreign_probe) {
            return base;
        }
        let mut owned = base.into_owned();
        owned.services.retain(|k, _| !foreign_probe(k));
        Cow::Owned(owned)
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
            && self.marks.is_empty()
            && self.timeouts.is_empty()
            && self.daemons.is_empty()
            && self.sysctls.is_empty()
            && self.addresses.is_empty()
    }

    pub fn dest_count(&self) -> usize {
        self.services.values().map(|s| s.dests.len()).sum()
    }

    /// The addresses of the nft rule of fwmark service `key`'s mark that a script
    /// declares on that service: those of its family, and those of a family the
    /// mark has no fwmark service of (the kernel can hold such a rule; the script
    /// then names the service's family). Empty for address services and services
    /// the balancer does not hold.
    pub fn mark_vips(&self, key: ServiceKey) -> Vec<IpAddr> {
        let ServiceKey::Fwmark { family, fwmark } = key else {
            return Vec::new();
        };
        let Some(rule) = self
            .marks
            .get(&fwmark)
            .filter(|_| self.services.contains_key(&key))
        else {
            return Vec::new();
        };
        // Addresses without a service of their family go to the first service.
        let homeless = |a: &IpAddr| {
            let own = Family::of(a);
            !self.services.contains_key(&ServiceKey::fwmark(own, fwmark))
                && [Family::Inet, Family::Inet6]
                    .into_iter()
                    .find(|f| self.services.contains_key(&ServiceKey::fwmark(*f, fwmark)))
                    == Some(family)
        };
        rule.addresses
            .iter()
            .filter(|a| Family::of(a) == family || homeless(a))
            .copied()
            .collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the model always serializes")
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dest, DestKey, Family, Forward, Protocol};

    #[test]
    fn json_round_trip_of_a_whole_balancer() {
        let mut b = Balancer::default();
        let key = ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80);
        let mut s = Service::new(key);
        s.persistence = Some(120);
        let dk = DestKey {
            address: "192.168.10.11".parse().unwrap(),
            port: 80,
        };
        let mut d = Dest::new(dk);
        d.forward = Forward::Masq;
        s.dests.insert(dk, d);
        b.services.insert(key, s);
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        b.marks.insert(10, m);
        b.services.insert(
            ServiceKey::fwmark(Family::Inet, 10),
            Service::new(ServiceKey::fwmark(Family::Inet, 10)),
        );
        b.timeouts.tcp = Some(900);
        b.daemons.insert(
            DaemonState::Master,
            SyncDaemon::new(DaemonState::Master, "eth0"),
        );
        let j = b.to_json();
        assert!(!j.contains("scope"), "{j}");
        assert_eq!(Balancer::from_json(&j).unwrap(), b, "{j}");
        assert_eq!(Balancer::from_json("{}").unwrap(), Balancer::default());
    }

    #[test]
    fn the_scope_is_kept_in_json_but_not_compared() {
        let mut b = Balancer::default();
        let mut scope = Scope::default();
        scope.marks.insert("10-20".parse().unwrap());
        b.scope = Some(scope);
        let j = b.to_json();
        assert!(j.contains(r#""marks": ["#), "{j}");
        assert_eq!(Balancer::from_json(&j).unwrap().scope, b.scope);
        assert_eq!(b, Balancer::default());
    }

    #[test]
    fn an_unscoped_model_manages_everything_observed() {
        let mut observed = Balancer::default();
        let key = ServiceKey::inet(Protocol::Tcp, "10.0.0.1".parse().unwrap(), 80);
        observed.services.insert(key, Service::new(key));
        let desired = Balancer::default();
        assert!(matches!(desired.managed(&observed), Cow::Borrowed(b) if *b == observed));
        let scoped = Balancer {
            scope: Some(Scope::default()),
            ..Balancer::default()
        };
        assert!(scoped.managed(&observed).services.is_empty());
    }

    #[test]
    fn mark_vips_go_to_their_family_s_service_or_to_the_one_there_is() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let fw4 = ServiceKey::fwmark(Family::Inet, 10);
        let fw6 = ServiceKey::fwmark(Family::Inet6, 10);
        let mut b = Balancer::default();
        let mut m = MarkRule::new(10);
        m.addresses = [v4, v6].into();
        b.marks.insert(10, m);
        // No service at all: nobody declares it.
        assert!(b.mark_vips(fw4).is_empty());
        b.services.insert(fw6, Service::new(fw6));
        assert_eq!(b.mark_vips(fw6), [v4, v6]);
        b.services.insert(fw4, Service::new(fw4));
        assert_eq!(b.mark_vips(fw4), [v4]);
        assert_eq!(b.mark_vips(fw6), [v6]);
        b.services.remove(&fw6);
        assert_eq!(b.mark_vips(fw4), [v4, v6]);
        let inet = ServiceKey::inet(Protocol::Tcp, v4, 80);
        assert!(b.mark_vips(inet).is_empty());
    }

    #[test]
    fn json_errors_say_what_is_wrong() {
        let err = |j: &str| Balancer::from_json(j).unwrap_err().to_string();
        let svc = |fields: &str| format!(r#"{{"services": [{{{fields}}}]}}"#);
        assert!(err(r#"{"servces": []}"#).starts_with("unknown field `servces`"));
        assert!(
            err(&svc(
                r#""protocol": "tcp", "address": "10.0.0.1", "port": 80, "wieght": 1"#
            ))
            .starts_with("unknown field `wieght`")
        );
        assert!(
            err(&svc(
                r#""protocol": "tcp", "address": "10.0.0.1", "port": 80,
                   "destinations": [{"address": "10.0.0.2", "port": 80, "wieght": 1}]"#
            ))
            .starts_with("unknown field `wieght`")
        );
        assert!(
            err(&svc(
                r#""protocol": "tcp", "address": "10.0.0.300", "port": 80"#
            ))
            .starts_with("`10.0.0.300` is not an IP address")
        );
        assert!(
            err(&svc(
                r#""protocol": "tcp", "address": "10.0.0.1", "port": 70000"#
            ))
            .starts_with("invalid value: integer `70000`, expected u16")
        );
        assert!(
            err(&svc(r#""protocol": "tcp", "address": "10.0.0.1""#))
                .starts_with("a service has `protocol`, `address` and `port`, or `family`")
        );
        assert!(
            err(&svc(
                r#""protocol": "tcp", "address": "10.0.0.1", "port": 80, "fwmark": 3"#
            ))
            .starts_with("a service has")
        );
        assert!(
            err(&svc(
                r#""protocol": "tcp", "address": "10.0.0.1", "port": 80,
                   "destinations": [{"address": "web1", "port": 80}]"#
            ))
            .starts_with("`web1` is not an IP address")
        );
        let twice = r#"{"services": [
            {"protocol": "tcp", "address": "10.0.0.1", "port": 80},
            {"protocol": "tcp", "address": "10.0.0.1", "port": 80}]}"#;
        assert!(err(twice).starts_with("service `tcp 10.0.0.1:80` is listed twice"));
        let fwmark =
            Balancer::from_json(r#"{"services": [{"family": "inet6", "fwmark": 7}]}"#).unwrap();
        assert_eq!(
            fwmark.services.keys().next(),
            Some(&ServiceKey::fwmark(Family::Inet6, 7))
        );
    }
}
