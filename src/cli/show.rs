//! `lvsh show`: the live balancer as a table in the spirit of `ipvsadm -L -n`, plus
//! what ipvsadm never shows (marks, timeouts, sysctls, sync daemons).

use super::{CliError, Context, live};
use crate::model::{Balancer, Dest, DestCounters, Forward, Service, ServiceKey, Stats, StatsBox};
use std::fmt::Write;

/// `lvsh show [--json] [--stats]`.
pub fn run(ctx: &Context, json: bool, stats: bool) -> Result<i32, CliError> {
    let mut kernel = live::Live::open(ctx)?;
    if !ctx.quiet {
        kernel.warn_interrupted(false);
    }
    let info = kernel.ipvs.info().map_err(CliError::Ipvs)?;
    let mut observed = kernel.read()?;
    if !stats {
        for s in observed.balancer.services.values_mut() {
            s.stats = StatsBox::default();
            for d in s.dests.values_mut() {
                d.stats = StatsBox::default();
                if json {
                    d.counters = DestCounters::default();
                }
            }
        }
    }
    // Every interface has its host sysctls: only those that differ are worth a line.
    observed
        .balancer
        .sysctls
        .values
        .retain(|name, v| !crate::model::sysctl::is_host(name) || observed_changed(name, v));
    if json {
        ctx.out(&(observed.balancer.to_json() + "\n"))?;
    } else {
        let mut text = format!("{info}\n");
        text.push_str(&render(&observed.balancer, stats));
        text.push_str(&observed.foreign_notice());
        ctx.out(&text)?;
    }
    Ok(0)
}

/// Whether host sysctl `name` is not at its default.
fn observed_changed(name: &str, v: &crate::model::SysctlValue) -> bool {
    crate::model::sysctl::spec_of(name).is_none_or(|s| !s.is_default(v))
}

/// Renders the whole balancer; with `stats`, counters and rates instead of settings.
pub fn render(b: &Balancer, stats: bool) -> String {
    let mut out = String::new();
    if b.services.is_empty() {
        out.push_str("No virtual services.\n");
    } else if stats {
        render_stats(&mut out, b);
    } else {
        render_table(&mut out, b);
    }
    if !b.marks.is_empty() {
        out.push_str("\nnft table inet lvsh:\n");
        for m in b.marks.values() {
            let _ = writeln!(out, "  {}", m);
        }
    }
    if !b.timeouts.is_empty() {
        let t = b.timeouts;
        let show = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
        let _ = writeln!(
            out,
            "\nTimeouts (tcp tcpfin udp): {} {} {}",
            show(t.tcp),
            show(t.tcp_fin),
            show(t.udp)
        );
    }
    // Those a fresh namespace holds are left out: a default kernel shows none.
    let changed = b.sysctls.changed();
    let (host, ipvs): (Vec<_>, Vec<_>) = changed
        .iter()
        .partition(|(name, _)| crate::model::sysctl::is_host(name));
    if !ipvs.is_empty() {
        out.push_str("\nSysctls not at their defaults (net.ipv4.vs):\n");
        for (name, v) in ipvs {
            let _ = writeln!(out, "  {name} = {v}");
        }
    }
    if !host.is_empty() {
        out.push_str("\nHost sysctls not at their defaults:\n");
        for (name, v) in host {
            let _ = writeln!(out, "  {name} = {v}");
        }
    }
    if !b.addresses.is_empty() {
        out.push_str("\nAddresses lvsh put on interfaces:\n");
        for a in b.addresses.iter() {
            let _ = writeln!(out, "  {a}");
        }
    }
    for d in b.daemons.values() {
        let _ = write!(
            out,
            "\nSync daemon {}: interface {}, syncid {}",
            d.state, d.interface, d.syncid
        );
        if let Some(v) = d.maxlen {
            let _ = write!(out, ", maxlen {v}");
        }
        if let Some(v) = d.group {
            let _ = write!(out, ", group {v}");
        }
        if let Some(v) = d.port {
            let _ = write!(out, ", port {v}");
        }
        if let Some(v) = d.ttl {
            let _ = write!(out, ", ttl {v}");
        }
        out.push('\n');
    }
    out
}

fn service_head(s: &Service) -> String {
    match &s.key {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => {
            let addr = match address {
                std::net::IpAddr::V4(a) => format!("{a}:{port}"),
                std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
            };
            format!("{:<4} {addr}", protocol.name().to_uppercase())
        }
        ServiceKey::Fwmark { family, fwmark } => match family {
            crate::model::Family::Inet => format!("FWM  {fwmark}"),
            crate::model::Family::Inet6 => format!("FWM  {fwmark} IPv6"),
        },
    }
}

fn service_flags(s: &Service) -> String {
    let mut f = vec![s.scheduler.name().to_string()];
    f.extend(s.flags.names(s.scheduler).iter().map(|n| n.to_string()));
    if let Some(t) = s.persistence {
        f.push(format!("persistent {t}"));
        if let Some(m) = s.netmask {
            f.push(format!("mask {m}"));
        }
    }
    if let Some(pe) = s.pe {
        f.push(format!("pe {}", pe.name()));
    }
    if s.one_packet {
        f.push("ops".into());
    }
    f.join(" ")
}

fn forward_name(d: &Dest) -> String {
    match d.forward {
        Forward::Masq => "Masq".into(),
        Forward::Local => "Local".into(),
        Forward::Route => "Route".into(),
        Forward::Tunnel { .. } => {
            let t = d.forward.to_string();
            // "tun gue port 6080" -> "Tunnel gue port 6080"
            format!("Tunnel{}", t.strip_prefix("tun").unwrap_or(""))
        }
    }
}

fn render_table(out: &mut String, b: &Balancer) {
    out.push_str("Prot LocalAddress:Port Scheduler Flags\n");
    out.push_str("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn PersistConn Thresholds\n");
    for s in b.services.values() {
        let _ = writeln!(out, "{} {}", service_head(s), service_flags(s));
        for d in s.dests.values() {
            let thresholds = if d.upper_threshold == 0 && d.lower_threshold == 0 {
                String::new()
            } else {
                format!("{}/{}", d.lower_threshold, d.upper_threshold)
            };
            let line = format!(
                "  -> {:<28} {:<7} {:<6} {:<10} {:<9} {:<11} {}",
                d.key.to_string(),
                forward_name(d),
                d.weight,
                d.counters.active,
                d.counters.inactive,
                d.counters.persistent,
                thresholds
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

fn stats_cells(s: &Stats) -> String {
    format!(
        "{:>10} {:>10} {:>10} {:>12} {:>12} {:>8} {:>8} {:>8} {:>10} {:>10}",
        s.conns,
        s.inpkts,
        s.outpkts,
        s.inbytes,
        s.outbytes,
        s.cps,
        s.inpps,
        s.outpps,
        s.inbps,
        s.outbps
    )
}

fn render_stats(out: &mut String, b: &Balancer) {
    let _ = writeln!(
        out,
        "{:<34} {:>10} {:>10} {:>10} {:>12} {:>12} {:>8} {:>8} {:>8} {:>10} {:>10}",
        "Prot LocalAddress:Port",
        "Conns",
        "InPkts",
        "OutPkts",
        "InBytes",
        "OutBytes",
        "CPS",
        "InPPS",
        "OutPPS",
        "InBPS",
        "OutBPS"
    );
    for s in b.services.values() {
        let _ = writeln!(out, "{:<34} {}", service_head(s), stats_cells(&s.stats));
        for d in s.dests.values() {
            let _ = writeln!(
                out,
                "{:<34} {}",
                format!("  -> {}", d.key),
                stats_cells(&d.stats)
            );
        }
    }
}
