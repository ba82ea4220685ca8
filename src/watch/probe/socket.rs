//! Probe sockets, made with socket2 so that a `via_vip` probe carries its `SO_MARK`
//! from the first packet: IPVS picks the per-check fwmark service at the SYN.

use super::{Target, io_reason};
use socket2::{Domain, Socket, Type};

/// A non-blocking, close-on-exec socket for `target`, marked when it asks for a mark.
pub(super) fn new(target: &Target, ty: Type) -> Result<Socket, String> {
    let socket = Socket::new(Domain::for_address(target.connect), ty.nonblocking(), None)
        .map_err(|e| format!("socket: {}", io_reason(&e)))?;
    if let Some(mark) = target.mark {
        socket.set_mark(mark).map_err(|e| mark_reason(mark, &e))?;
        // The VIP is the director's own address, so an unbound probe would leave
        // from the VIP, and the server (which holds the VIP on `lo`) drops a packet
        // from its own address. It leaves from the address the director reaches the
        // server from instead; the answer comes from the VIP, which the director
        // takes only with `accept_local` on that interface.
        if let Some(source) = route_source(target.server) {
            socket
                .bind(&std::net::SocketAddr::new(source, 0).into())
                .map_err(|e| format!("binding to {source}: {}", io_reason(&e)))?;
        }
    }
    Ok(socket)
}

/// The source address the routing table picks toward `to` (a connected UDP
/// socket sends nothing).
fn route_source(to: std::net::SocketAddr) -> Option<std::net::IpAddr> {
    let any: std::net::SocketAddr = if to.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = std::net::UdpSocket::bind(any).ok()?;
    let port = if to.port() == 0 { 9 } else { to.port() };
    probe
        .connect(std::net::SocketAddr::new(to.ip(), port))
        .ok()?;
    Some(probe.local_addr().ok()?.ip())
}

/// Without the capability the kernel says only "operation not permitted"; the operator
/// needs to know which capability the daemon lacks.
fn mark_reason(mark: u32, e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) => {
            format!("setting mark {mark:#x} needs CAP_NET_ADMIN (via_vip checks run as root)")
        }
        _ => format!("setting mark {mark:#x}: {}", io_reason(e)),
    }
}

#[cfg(test)]
mod route_tests {
    #[test]
    fn the_source_toward_loopback_is_loopback() {
        let src = super::route_source("127.0.0.7:80".parse().unwrap());
        assert_eq!(src, Some("127.0.0.1".parse().unwrap()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{has_net_admin, without_net_caps};
    use super::*;

    fn marked(mark: u32) -> Target {
        Target {
            mark: Some(mark),
            ..Target::direct("127.0.0.1:9".parse().unwrap())
        }
    }

    #[test]
    fn without_the_capability_the_reason_names_it() {
        let reason = without_net_caps(|| new(&marked(0x10001), Type::STREAM).unwrap_err());
        assert_eq!(
            reason,
            "setting mark 0x10001 needs CAP_NET_ADMIN (via_vip checks run as root)"
        );
    }

    #[test]
    fn the_mark_is_on_the_socket_before_it_connects() {
        // Root (CI) reads the mark back; a user without the capability gets the reason.
        match new(&marked(0x10001), Type::STREAM) {
            Ok(socket) => {
                assert!(has_net_admin(), "marked without the capability");
                assert_eq!(socket.mark().unwrap(), 0x10001);
            }
            Err(reason) => {
                assert!(!has_net_admin(), "refused with the capability: {reason}");
                assert!(reason.contains("needs CAP_NET_ADMIN"), "{reason}");
            }
        }
    }

    #[test]
    fn an_unmarked_socket_keeps_mark_zero_and_needs_no_capability() {
        let socket =
            without_net_caps(|| new(&Target::direct("[::1]:9".parse().unwrap()), Type::DGRAM));
        let socket = socket.unwrap();
        assert_eq!(socket.domain().unwrap(), Domain::IPV6);
        assert!(socket.nonblocking().unwrap());
    }
}
