//! A `via_vip` probe's answers come from the VIP, an address of the director's own:
//! Linux drops them as martian sources unless `accept_local` is on for the interface
//! they arrive on (or for `all`). The probe then only times out, so a failed one
//! says what to set.

use std::net::{IpAddr, Ipv4Addr};

/// `; answers from the VIP are dropped unless net.ipv4.conf.br0.accept_local=1`, when
/// accept_local is off for the interface toward `server` and for `all`; IPv4 only
/// (IPv6 has no `accept_local`).
pub(super) fn hint(server: IpAddr) -> Option<String> {
    let IpAddr::V4(server) = server else {
        return None;
    };
    let on = |conf: &str| {
        std::fs::read_to_string(format!("/proc/sys/net/ipv4/conf/{conf}/accept_local"))
            .is_ok_and(|v| v.trim() != "0")
    };
    if on("all") {
        return None;
    }
    let table = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let conf = route_interface(&table, server).unwrap_or_else(|| "all".into());
    (!on(&conf)).then(|| {
        format!("; answers from the VIP are dropped unless net.ipv4.conf.{conf}.accept_local=1")
    })
}

/// The interface of the main table's route to `to` (`/proc/net/route`): the longest
/// prefix that is up, the lowest metric among equals.
fn route_interface(table: &str, to: Ipv4Addr) -> Option<String> {
    const RTF_UP: u32 = 0x1;
    let hex = |s: &str| u32::from_str_radix(s, 16).ok();
    // The kernel prints the addresses as numbers in the host's byte order.
    let address = |n: u32| u32::from_be_bytes(n.to_ne_bytes());
    let to = u32::from(to);
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (iface, dest, flags, metric, mask) = (
                f.first()?,
                address(hex(f.get(1)?)?),
                hex(f.get(3)?)?,
                f.get(6)?.parse::<u32>().ok()?,
                address(hex(f.get(7)?)?),
            );
            (flags & RTF_UP != 0 && to & mask == dest & mask).then_some((
                mask.count_ones(),
                std::cmp::Reverse(metric),
                iface.to_string(),
            ))
        })
        .max()
        .map(|(_, _, iface)| iface)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/proc/net/route` with IFACE DEST FLAGS METRIC MASK per route, the addresses
    /// printed as the kernel prints them on this host.
    fn table(routes: &[(&str, &str, u32, u32, &str)]) -> String {
        let hex = |a: &str| {
            format!(
                "{:08X}",
                u32::from_ne_bytes(a.parse::<Ipv4Addr>().unwrap().octets())
            )
        };
        let mut t =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                .to_string();
        for (iface, dest, flags, metric, mask) in routes {
            t.push_str(&format!(
                "{iface}\t{}\t00000000\t{flags:04X}\t0\t0\t{metric}\t{}\t0\t0\t0\n",
                hex(dest),
                hex(mask)
            ));
        }
        t
    }

    #[test]
    fn the_longest_prefix_that_is_up_wins_then_the_lowest_metric() {
        let t = table(&[
            ("br0", "0.0.0.0", 3, 0, "0.0.0.0"),
            ("br0", "192.168.10.0", 1, 0, "255.255.255.0"),
            ("eth1", "192.168.10.0", 1, 0, "255.255.255.128"),
            ("eth2", "192.168.10.128", 1, 5, "255.255.255.128"),
            ("eth3", "192.168.10.128", 1, 1, "255.255.255.128"),
            ("down", "192.168.10.11", 0, 0, "255.255.255.255"),
        ]);
        let iface = |to: &str| route_interface(&t, to.parse().unwrap());
        assert_eq!(
            iface("192.168.10.11").as_deref(),
            Some("eth1"),
            "/25 over /24"
        );
        assert_eq!(
            iface("192.168.10.200").as_deref(),
            Some("eth3"),
            "metric 1 over 5"
        );
        assert_eq!(
            iface("10.0.0.1").as_deref(),
            Some("br0"),
            "the default route"
        );
        assert_eq!(
            route_interface("Iface\n", "10.0.0.1".parse().unwrap()),
            None
        );
    }

    #[test]
    fn a_little_endian_host_prints_the_lab_s_subnet_so() {
        let lab = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n\
                   br0\t000AA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n";
        let got = route_interface(lab, "192.168.10.11".parse().unwrap());
        let want = cfg!(target_endian = "little").then(|| "br0".to_string());
        assert_eq!(got, want);
    }

    #[test]
    fn no_hint_for_ipv6() {
        assert_eq!(hint("2001:db8::1".parse().unwrap()), None);
    }
}
