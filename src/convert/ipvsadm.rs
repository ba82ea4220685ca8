//! Model → `ipvsadm -R` input, in exactly the line format of `ipvsadm -S -n`
//! (ipvsadm 1.31), so restoring it and saving again gives the same set of lines.
//!
//! `ipvsadm -S` prints services and real servers only, and not all of them: real
//! server thresholds, the timeouts and the sync daemons are never saved, although
//! `ipvsadm -R` accepts `-x`/`-y`, `--set` and `--start-daemon`. To keep the output
//! equal to what `-S -n` prints, those are left out and reported by
//! [`unexpressible`], with everything else ipvsadm rules cannot carry.

use crate::model::{
    Balancer, Dest, DestKey, Family, Forward, Protocol, SchedFlag, Scheduler, Service, ServiceKey,
    TunnelChecksum, TunnelKind,
};
use std::fmt::Write;
use std::net::IpAddr;

/// The rules `ipvsadm -S -n` would print for `b`: each service's `-A` line followed by
/// its `-a` lines, in ipvsadm's order (address services, then fwmark services).
pub fn to_ipvsadm(b: &Balancer) -> String {
    let mut out = String::new();
    for s in sorted_services(b) {
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
        let mut dests: Vec<&Dest> = s.dests.values().collect();
        dests.sort_by_key(|d| (d.key.address, d.key.port));
        for d in dests {
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
    for d in b.daemons.values() {
        lost.push(format!(
            "{} sync daemon on `{}`: `ipvsadm -S` does not save sync daemons; start it with `ipvsadm --start-daemon`",
            d.state, d.interface
        ));
    }
    for s in sorted_services(b) {
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

/// Services in `ipvsadm -S` order: fwmark 0 first, then family, protocol, address, port.
fn sorted_services(b: &Balancer) -> Vec<&Service> {
    let mut v: Vec<&Service> = b.services.values().collect();
    v.sort_by_key(|s| match s.key {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => (
            0,
            Family::of(&address),
            protocol.number(),
            Some(address),
            port,
        ),
        ServiceKey::Fwmark { family, fwmark } => (fwmark, family, 0, None::<IpAddr>, 0),
    });
    v
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
