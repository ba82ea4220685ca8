//! The real server of an `-a`/`-e`/`-d` rule, with ipvsadm's adjustments and the
//! checks ipvsadm and the kernel make.

use super::class::{Class, Seen};
use super::entry::Entry;
use super::opt::Opt;
use super::parsed::Given;
use super::problem::{Fault, Problem};
use crate::model::{Dest, DestKey, Family, Forward, Service, TunnelKind};
use std::net::IpAddr;

/// The real server `address`:`port` (the port as `-r` gave it) of `service`.
pub(crate) fn dest(
    e: &Entry<'_>,
    service: &Service,
    seen: &Seen<'_, '_>,
    address: IpAddr,
    port: u16,
) -> Result<Dest, Fault> {
    let forward = forward(e);
    let fwmark = e.fwmark != 0;
    // ipvsadm gives direct-routing and tunnel servers the service port.
    let port = match forward {
        Forward::Route | Forward::Tunnel { .. } if !fwmark => e.port,
        _ => port,
    };
    if e.dest_port_guessed && forward == Forward::Masq && !fwmark && e.port != 0 {
        return Err(Fault::new(Problem::ServerBeforeService, e.dest_span.clone()).help(format!(
            "ipvsadm gives this server port 0 because the service comes later; write `-r {}` or put the service first",
            DestKey { address, port: e.port }
        )));
    }
    let service_family = service.key.family();
    if Family::of(&address) != service_family && !forward.is_tunnel() {
        return Err(Fault::new(
            Problem::FamilyMismatch {
                dest: address.to_string(),
                dest_family: Family::of(&address).name(),
                service_family: service_family.name(),
            },
            e.dest_span.clone(),
        )
        .help("only tunnel (`-i`) servers may have the other address family"));
    }
    check_tunnel(e, forward, seen)?;
    // The kernel refuses a lower threshold above the upper one (0 = none).
    if e.lower > e.upper {
        let g = seen.given(Class::LThreshold);
        return Err(Fault::new(
            Problem::ThresholdOrder {
                lower: e.lower,
                upper: e.upper,
            },
            g.full_span(),
        )
        .help("the kernel refuses it (ERANGE); set `-x` at least as high as `-y`"));
    }
    let mut d = Dest::new(DestKey { address, port });
    d.forward = forward;
    d.weight = e.weight;
    d.upper_threshold = e.upper;
    d.lower_threshold = e.lower;
    Ok(d)
}

/// `-m`, `-i` (with the tunnel options), `-g`; `-g` when none is given.
fn forward(e: &Entry<'_>) -> Forward {
    match e.forward {
        Some(Opt::Masquerading) => Forward::Masq,
        Some(Opt::Ipip) => Forward::Tunnel {
            kind: e.tun_kind,
            port: e.tun_port,
            checksum: e.tun_checksum,
        },
        _ => Forward::Route,
    }
}

/// Tunnel options only on tunnel servers, and only those their type takes.
fn check_tunnel(e: &Entry<'_>, forward: Forward, seen: &Seen<'_, '_>) -> Result<(), Fault> {
    let tunnel_opts: Vec<(Class, &Given<'_>)> =
        seen.iter().filter(|(c, _)| c.is_tunnel()).collect();
    if let Some((_, g)) = tunnel_opts.first()
        && !forward.is_tunnel()
    {
        return Err(
            Fault::new(Problem::TunnelOnly(g.name.clone()), g.span.clone())
                .help("add `-i` for a tunnel server"),
        );
    }
    // ipvsadm's tunnel_types_v_options table.
    let mut checksum_opt: Option<&Given<'_>> = None;
    for (class, g) in &tunnel_opts {
        let legal = match (e.tun_kind, class) {
            (_, Class::TunType) => true,
            (TunnelKind::Ipip, _) => false,
            (TunnelKind::Gre, Class::TunPort | Class::TunRemcsum) => false,
            _ => true,
        };
        if !legal {
            return Err(Fault::new(
                Problem::TunnelIllegal {
                    option: g.name.clone(),
                    kind: e.tun_kind.name(),
                },
                g.span.clone(),
            ));
        }
        if matches!(class, Class::TunNocsum | Class::TunCsum | Class::TunRemcsum) {
            if let Some(other) = checksum_opt {
                return Err(Fault::new(
                    Problem::Conflict {
                        option: g.name.clone(),
                        other: other.name.clone(),
                    },
                    g.span.clone(),
                ));
            }
            checksum_opt = Some(g);
        }
    }
    if forward.is_tunnel() && e.tun_kind == TunnelKind::Gue && e.tun_port == 0 {
        let at = seen
            .get(Class::TunType)
            .map_or(e.dest_span.clone(), |g| g.full_span());
        return Err(Fault::new(Problem::GueNeedsPort, at).help("write `--tun-port 6080`"));
    }
    Ok(())
}
