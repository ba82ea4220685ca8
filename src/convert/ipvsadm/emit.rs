//! Model → `ipvsadm -R` input, in exactly the line format of `ipvsadm -S -n`
//! (ipvsadm 1.31), so restoring it and saving again gives the same set of lines.
//!
//! `ipvsadm -S` prints services and real servers only, and not all of them: real
//! server thresholds, the timeouts and the sync daemons are never saved, although
//! `ipvsadm -R` accepts `-x`/`-y`, `--set` and `--start-daemon`. To keep the output
//! equal to what `-S -n` prints, those are left out and reported by
//! [`unexpressible`], with everything else ipvsadm rules cannot carry.

use super::save_order;
use crate::model::{
    Balancer, Dest, DestKey, Family, Forward, Protocol, SchedFlag, Scheduler, Service, ServiceKey,
    TunnelChecksum, TunnelKind,
};
use std::fmt::Write;

/// The rules `ipvsadm -S -n` would print for `b`: each service's `-A` line followed by
/// its `-a` lines, sorted as ipvsadm sorts them (see [`save_order`]).
pub fn to_ipvsadm(b: &Balancer) -> String {
    let mut out = String::new();
    for s in save_order::services(b.services.values().collect(), |s: &&Service| s.key) {
        let svc = service_option(&s.key);
        let _ = write!(out, "-A {svc} -s {}", s.scheduler);
        if let Some(timeout) = s.persistence {
            let _ = write!(out, " -p {timeout}");
            if let Some(mask) = s.netmask {
                let _ = write!(out, " -M {mask}");
            }
        }
        if let Some(pe) = s.pe {
            let _ = write!(out, " --pe {}", pe.name());
        }
        if s.one_packet {
            out.push_str(" -o");
        }
        let flags = saved_flags(s);
        if !flags.is_empty() {
            let _ = write!(out, " -b {}", flags.join(","));
        }
        out.push('\n');
        let dests: Vec<&Dest> = s.dests.values().collect();
        for d in save_order::dests(dests, |d| d.key) {
            let _ = write!(
                out,
                "-a {svc} -r {} {} -w {}",
                d.key,
                forward_switch(&d.forward),
                d.weight
            );
            if let Forward::Tunnel {
                kind,
                port,
                checksum,
            } = d.forward
            {
                let _ = write!(out, " --tun-type {}", kind.name());
                match kind {
                    TunnelKind::Ipip => {}
                    TunnelKind::Gue => {
                        let _ = write!(out, " --tun-port {port} {}", checksum_option(checksum));
                    }
                    TunnelKind::Gre => {
                        let _ = write!(out, " {}", checksum_option(checksum));
                    }
                }
            }
            out.push('\n');
        }
    }
    out
}

/// What ipvsadm rules cannot carry for `b`, one line each (empty when nothing is lost).
pub fn unexpressible(b: &Balancer) -> Vec<String> {
    let mut lost = Vec::new();
    for m in b.marks.values() {
        let ports = if m.ports.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = m.ports.iter().map(|p| p.to_string()).collect();
            format!(" ports {}", list.join(","))
        };
        lost.push(format!(
            "mark {}: the nft rule that marks traffic{ports} is not an ipvsadm rule; `lvsh emit --to nft` writes it",
            m.mark
        ));
    }
    let t = &b.timeouts;
    if !t.is_empty() {
        let show = |v: Option<u32>| v.map_or("unchanged".to_owned(), |v| v.to_string());
        lost.push(format!(
            "timeouts (tcp {}, tcpfin {}, udp {}): `ipvsadm -S` does not save them; set them with `ipvsadm --set`",
            show(t.tcp),
            show(t.tcp_fin),
            show(t.udp)
        ));
    }
    for (name, v) in b.sysctls.iter() {
        let text = v.proc_text().trim_end().to_string();
        let text = if text.is_empty() || text.contains(' ') {
            format!("\"{text}\"")
        } else {
            text
        };
        lost.push(format!(
            "sysctl {name} = {v}: ipvsadm cannot set sysctls; `sysctl -w {}={text}` does",
            crate::model::sysctl::full_name(name),
        ));
    }
    for a in b.addresses.iter() {
        lost.push(format!(
            "address {a}: ipvsadm does not put addresses on interfaces; `ip address add {}/{} dev {} proto {}` does (lvsh's mark)",
            a.address,
            a.prefix,
            a.interface,
            crate::model::address::IFAPROT_LVSH
        ));
    }
    for d in b.daemons.values() {
        lost.push(format!(
            "{} sync daemon on `{}`: `ipvsadm -S` does not save sync daemons; start it with `ipvsadm --start-daemon`",
            d.state, d.interface
        ));
    }
    let checked = b.checks.checked_services();
    if checked > 0 {
        lost.push(format!(
            "health checks on {checked} service{} are not ipvsadm rules; `lvsh watch` runs them",
            if checked == 1 { "" } else { "s" }
        ));
    }
    for s in save_order::services(b.services.values().collect(), |s: &&Service| s.key) {
        let key = &s.key;
        if s.netmask.is_some() && s.persistence.is_none() {
            lost.push(format!(
                "service {key}: netmask {} without persistence is not saved by `ipvsadm -S`",
                s.effective_netmask()
            ));
        }
        if s.flags.flag3 && matches!(s.scheduler, Scheduler::Sh | Scheduler::Mh) {
            lost.push(format!(
                "service {key}: scheduler flag `flag-3` has no name under `{}` in `ipvsadm -S`; left out",
                s.scheduler
            ));
        }
        if let ServiceKey::Inet { protocol, port, .. } = key {
            if *port == 0 && s.persistence.is_none() {
                lost.push(format!(
                    "service {key}: port 0 without persistence is refused by `ipvsadm -R`"
                ));
            }
            if s.one_packet && *protocol != Protocol::Udp {
                lost.push(format!(
                    "service {key}: one-packet scheduling on {protocol} is refused by `ipvsadm -R`"
                ));
            }
        }
        for d in s.dests.values() {
            lost.extend(dest_losses(s, d));
        }
    }
    lost
}

fn dest_losses(s: &Service, d: &Dest) -> Vec<String> {
    let (key, dest) = (&s.key, &d.key);
    let mut lost = Vec::new();
    if d.upper_threshold != 0 || d.lower_threshold != 0 {
        lost.push(format!(
            "real server {dest} of {key}: thresholds (upper {}, lower {}) are not saved by `ipvsadm -S`; add `-x {} -y {}` by hand",
            d.upper_threshold, d.lower_threshold, d.upper_threshold, d.lower_threshold
        ));
    }
    if d.weight > 65535 {
        lost.push(format!(
            "real server {dest} of {key}: weight {} is above 65535, which upstream `ipvsadm -R` refuses",
            d.weight
        ));
    }
    let fwmark = matches!(key, ServiceKey::Fwmark { .. });
    if !fwmark
        && matches!(d.forward, Forward::Route | Forward::Tunnel { .. })
        && dest.port != key.port()
    {
        lost.push(format!(
            "real server {dest} of {key}: `ipvsadm -R` gives {} servers the service port {}",
            d.forward.name(),
            key.port()
        ));
    }
    match d.forward {
        Forward::Local => lost.push(format!(
            "real server {dest} of {key}: local delivery is written as `-g`; the kernel chooses it for local addresses"
        )),
        Forward::Tunnel {
            kind,
            port,
            checksum,
        } => {
            let refused = match kind {
                TunnelKind::Ipip => port != 0 || checksum != TunnelChecksum::None,
                TunnelKind::Gue => port == 0,
                TunnelKind::Gre => port != 0 || checksum == TunnelChecksum::Remcsum,
            };
            if refused {
                lost.push(format!(
                    "real server {dest} of {key}: tunnel `{}` cannot be written as ipvsadm options",
                    d.forward
                ));
            }
        }
        _ => {}
    }
    lost
}

/// `-t 10.0.0.1:80`, `-u [2001:db8::1]:53`, `--sctp-service …`, `-f 10`, `-f 10 -6`.
fn service_option(key: &ServiceKey) -> String {
    match *key {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => {
            let opt = match protocol {
                Protocol::Tcp => "-t",
                Protocol::Udp => "-u",
                Protocol::Sctp => "--sctp-service",
            };
            // A destination key prints `addr:port` with IPv6 in brackets, as ipvsadm.
            format!("{opt} {}", DestKey { address, port })
        }
        ServiceKey::Fwmark {
            family: Family::Inet,
            fwmark,
        } => format!("-f {fwmark}"),
        ServiceKey::Fwmark {
            family: Family::Inet6,
            fwmark,
        } => format!("-f {fwmark} -6"),
    }
}

/// Flag names as `ipvsadm -S` prints them: under `sh` and `mh` only their two named
/// flags, otherwise `flag-1..3`.
fn saved_flags(s: &Service) -> Vec<&'static str> {
    s.flags
        .iter()
        .filter(|f| {
            !(matches!(s.scheduler, Scheduler::Sh | Scheduler::Mh) && *f == SchedFlag::Flag3)
        })
        .map(|f| f.name_for(s.scheduler))
        .collect()
}

/// ipvsadm prints local delivery as `-g`, like direct routing.
fn forward_switch(f: &Forward) -> &'static str {
    match f {
        Forward::Masq => "-m",
        Forward::Tunnel { .. } => "-i",
        Forward::Route | Forward::Local => "-g",
    }
}

fn checksum_option(c: TunnelChecksum) -> &'static str {
    match c {
        TunnelChecksum::None => "--tun-nocsum",
        TunnelChecksum::Csum => "--tun-csum",
        TunnelChecksum::Remcsum => "--tun-remcsum",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        DaemonState, MarkRule, Netmask, PortRange, SchedFlag, SyncDaemon, Timeouts,
    };

    fn balancer(services: Vec<Service>) -> Balancer {
        let mut b = Balancer::default();
        for s in services {
            b.services.insert(s.key, s);
        }
        b
    }

    fn tcp(addr: &str, port: u16) -> Service {
        Service::new(ServiceKey::inet(Protocol::Tcp, addr.parse().unwrap(), port))
    }

    fn dest(addr: &str, port: u16) -> Dest {
        Dest::new(DestKey {
            address: addr.parse().unwrap(),
            port,
        })
    }

    fn with(mut s: Service, d: Dest) -> Service {
        s.dests.insert(d.key, d);
        s
    }

    #[test]
    fn service_and_server_lines_in_save_format() {
        let mut s = tcp("2001:db8::1", 443);
        s.persistence = Some(300);
        s.set_netmask(Netmask::V6(64));
        let mut d = dest("2001:db8::2", 8443);
        d.forward = Forward::Masq;
        d.weight = 0;
        let mut f = Service::new(ServiceKey::fwmark(Family::Inet6, 7));
        f.scheduler = Scheduler::Rr;
        let b = balancer(vec![with(s, d), with(f, dest("2001:db8::3", 0))]);
        assert_eq!(
            to_ipvsadm(&b),
            "-A -t [2001:db8::1]:443 -s wlc -p 300 -M 64\n\
             -a -t [2001:db8::1]:443 -r [2001:db8::2]:8443 -m -w 0\n\
             -A -f 7 -6 -s rr\n\
             -a -f 7 -6 -r [2001:db8::3]:0 -g -w 1\n"
        );
    }

    #[test]
    fn flag_3_under_sh_is_left_out_and_reported() {
        // Lab: `-s sh -b flag-3` is saved as `-s sh -b ` (not restorable) and
        // `-s sh -b sh-port,flag-3` as `-s sh -b sh-port`.
        let mut only3 = tcp("10.1.1.1", 446);
        only3.scheduler = Scheduler::Sh;
        only3.flags.insert(SchedFlag::Flag3);
        let mut both = tcp("10.1.1.1", 447);
        both.scheduler = Scheduler::Sh;
        both.flags.insert(SchedFlag::Flag2);
        both.flags.insert(SchedFlag::Flag3);
        let b = balancer(vec![only3, both]);
        assert_eq!(
            to_ipvsadm(&b),
            "-A -t 10.1.1.1:446 -s sh\n-A -t 10.1.1.1:447 -s sh -b sh-port\n"
        );
        assert_eq!(unexpressible(&b).len(), 2);
        assert!(unexpressible(&b)[0].contains("`flag-3`"));
    }

    #[test]
    fn local_delivery_is_written_as_gatewaying() {
        let mut d = dest("10.0.0.254", 80);
        d.forward = Forward::Local;
        let b = balancer(vec![with(tcp("10.0.0.1", 80), d)]);
        assert!(to_ipvsadm(&b).contains("-r 10.0.0.254:80 -g -w 1"));
        assert!(unexpressible(&b)[0].contains("local delivery"));
    }

    #[test]
    fn everything_ipvsadm_cannot_carry_is_named() {
        let mut b = Balancer::default();
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        m.ports.insert(PortRange::single(80));
        m.ports.insert(PortRange::single(443));
        b.marks.insert(10, m);
        b.timeouts = Timeouts {
            tcp: Some(900),
            tcp_fin: None,
            udp: None,
        };
        b.daemons.insert(
            DaemonState::Backup,
            SyncDaemon::new(DaemonState::Backup, "eth1"),
        );
        let mut s = tcp("10.0.0.1", 80);
        let mut d = dest("10.0.1.1", 8080);
        d.upper_threshold = 10;
        d.weight = 70000;
        s.dests.insert(d.key, d);
        let mut g = dest("10.0.1.2", 80);
        g.forward = Forward::Tunnel {
            kind: TunnelKind::Gre,
            port: 0,
            checksum: TunnelChecksum::Remcsum,
        };
        s.dests.insert(g.key, g);
        let mut zero = tcp("10.0.0.2", 0);
        zero.one_packet = true;
        b.services.insert(s.key, s);
        b.services.insert(zero.key, zero);
        let lost = unexpressible(&b);
        let expect = [
            "mark 10: the nft rule that marks traffic ports 80,443 is not an ipvsadm rule",
            "timeouts (tcp 900, tcpfin unchanged, udp unchanged)",
            "backup sync daemon on `eth1`",
            "real server 10.0.1.1:8080 of tcp 10.0.0.1:80: thresholds (upper 10, lower 0)",
            "real server 10.0.1.1:8080 of tcp 10.0.0.1:80: weight 70000",
            "real server 10.0.1.1:8080 of tcp 10.0.0.1:80: `ipvsadm -R` gives dr servers the service port 80",
            "real server 10.0.1.2:80 of tcp 10.0.0.1:80: tunnel `tun gre remcsum`",
            "service tcp 10.0.0.2:0: port 0 without persistence",
            "service tcp 10.0.0.2:0: one-packet scheduling on tcp",
        ];
        assert_eq!(lost.len(), expect.len(), "{lost:#?}");
        for (l, e) in lost.iter().zip(expect) {
            assert!(l.starts_with(e), "`{l}` should start with `{e}`");
        }
    }

    #[test]
    fn empty_model_gives_empty_rules() {
        assert_eq!(to_ipvsadm(&Balancer::default()), "");
        assert!(unexpressible(&Balancer::default()).is_empty());
    }
}
