//! The order `ipvsadm -S` prints services and real servers in.
//!
//! The kernel lists services in the order of its hash table, whose hash mixes in the
//! address of the namespace's IPVS data, and real servers newest first: neither can
//! be predicted. But ipvsadm sorts both before printing (unless `--nosort`), with
//! libipvs's `ipvs_cmp_services` and `ipvs_cmp_dests`: services by fwmark, address
//! family, protocol, address, port; real servers by address, port. Marks and
//! addresses (32 bits at a time, in network order) are compared by the sign of
//! their difference as an `int`, which wraps: 192.168.10.120 sorts before 10.1.1.1,
//! because their difference is more than 2^31.
//!
//! That comparison is an order as long as the compared values fit in an arc of the
//! 2^32 circle shorter than 2^31 (true for the addresses of one site, and for marks
//! below 2^31): then sorting goes round the circle from the value after the widest
//! gap. Values spread wider (10.x, 100.x and 200.x together) make the comparison
//! cyclic, and ipvsadm's output then depends on the kernel's order; lvsh sorts such
//! values by plain number.

use crate::model::{DestKey, Family, ServiceKey};
use std::net::IpAddr;

/// One level of a libipvs comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// Compared as numbers (address family, protocol, port).
    Plain(u32),
    /// Compared by the sign of `(int)(a - b)` (marks, address words).
    Wrapping(u32),
}

/// Services in `ipvsadm -S` order.
pub(super) fn services<T>(items: Vec<T>, key: impl Fn(&T) -> ServiceKey) -> Vec<T> {
    sorted(items, |t| service_keys(&key(t)))
}

/// Real servers of one service in `ipvsadm -S` order.
pub(super) fn dests<T>(items: Vec<T>, key: impl Fn(&T) -> DestKey) -> Vec<T> {
    sorted(items, |t| {
        let d = key(t);
        let mut keys = address_keys(&d.address);
        keys.push(Key::Plain(d.port.into()));
        keys
    })
}

/// `AF_INET`, `AF_INET6`: ipvsadm compares the numbers.
fn af(family: Family) -> u32 {
    match family {
        Family::Inet => libc::AF_INET as u32,
        Family::Inet6 => libc::AF_INET6 as u32,
    }
}

fn service_keys(key: &ServiceKey) -> Vec<Key> {
    match *key {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => {
            let mut keys = vec![
                Key::Wrapping(0),
                Key::Plain(af(Family::of(&address))),
                Key::Plain(protocol.number().into()),
            ];
            keys.extend(address_keys(&address));
            keys.push(Key::Plain(port.into()));
            keys
        }
        // One fwmark service per family: nothing after the family tells them apart.
        ServiceKey::Fwmark { family, fwmark } => {
            vec![Key::Wrapping(fwmark), Key::Plain(af(family))]
        }
    }
}

/// An IPv4 address is one word; an IPv6 address four, compared in turn. (A real
/// server of the other family than its neighbours, possible with tunnels, is
/// compared as ipvsadm would only approximately: its words are zero-padded.)
fn address_keys(address: &IpAddr) -> Vec<Key> {
    match address {
        IpAddr::V4(a) => vec![
            Key::Wrapping(u32::from(*a)),
            Key::Wrapping(0),
            Key::Wrapping(0),
            Key::Wrapping(0),
        ],
        IpAddr::V6(a) => a
            .octets()
            .chunks(4)
            .map(|w| Key::Wrapping(u32::from_be_bytes([w[0], w[1], w[2], w[3]])))
            .collect(),
    }
}

/// Sorts by the keys level by level: each level orders the items that are equal on
/// every level before it.
fn sorted<T>(items: Vec<T>, keys: impl Fn(&T) -> Vec<Key>) -> Vec<T> {
    let keys: Vec<Vec<Key>> = items.iter().map(&keys).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_level(&mut order, &keys, 0);
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| slots[i].take().expect("each index once"))
        .collect()
}

fn sort_level(order: &mut [usize], keys: &[Vec<Key>], level: usize) {
    if order.len() < 2 {
        return;
    }
    let value = |i: usize| keys[i].get(level).copied();
    if order.iter().all(|&i| value(i).is_none()) {
        return;
    }
    let wrapping: Vec<u32> = order
        .iter()
        .filter_map(|&i| match value(i) {
            Some(Key::Wrapping(v)) => Some(v),
            _ => None,
        })
        .collect();
    let start = circle_start(&wrapping);
    // Plain values first by number; wrapping ones by their distance from the start.
    order.sort_by_key(|&i| match value(i) {
        None => (0, 0),
        Some(Key::Plain(v)) => (1, u64::from(v)),
        Some(Key::Wrapping(v)) => (2, u64::from(v.wrapping_sub(start))),
    });
    let mut run = 0;
    while run < order.len() {
        let v = value(order[run]);
        let len = order[run..].iter().take_while(|&&i| value(i) == v).count();
        sort_level(&mut order[run..run + len], keys, level + 1);
        run += len;
    }
}

/// Where the wrapping comparison starts: the value after the one gap wider than 2^31
/// between neighbours on the circle; 0 (plain numeric order) when there is none.
fn circle_start(values: &[u32]) -> u32 {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    let (Some(&first), Some(&last)) = (v.first(), v.last()) else {
        return 0;
    };
    let half = 1u64 << 31;
    let wrap_gap = (1u64 << 32) - u64::from(last - first);
    if wrap_gap > half {
        return first;
    }
    v.windows(2)
        .find(|w| u64::from(w[1] - w[0]) > half)
        .map_or(0, |w| w[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    /// libipvs's comparison itself, to check the sort against.
    fn ipvsadm_less(a: u32, b: u32) -> bool {
        (a.wrapping_sub(b) as i32) < 0
    }

    fn tcp(address: &str, port: u16) -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, address.parse().unwrap(), port)
    }

    fn names(keys: &[ServiceKey]) -> Vec<String> {
        services(keys.to_vec(), |k| *k)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn addresses_more_than_half_the_circle_apart_sort_as_ipvsadm_sorts_them() {
        assert!(ipvsadm_less(0xc0a8_0a78, 0x0a01_0101));
        let keys = [
            tcp("10.1.1.1", 80),
            tcp("192.168.10.120", 443),
            tcp("192.168.10.120", 80),
            tcp("172.16.0.1", 80),
        ];
        assert_eq!(
            names(&keys),
            [
                "tcp 172.16.0.1:80",
                "tcp 192.168.10.120:80",
                "tcp 192.168.10.120:443",
                "tcp 10.1.1.1:80"
            ]
        );
    }

    #[test]
    fn fwmark_services_come_after_address_services_unless_their_mark_is_above_2_31() {
        let keys = [
            ServiceKey::Fwmark {
                family: Family::Inet6,
                fwmark: 10,
            },
            ServiceKey::Fwmark {
                family: Family::Inet,
                fwmark: 10,
            },
            ServiceKey::inet(Protocol::Udp, "10.0.0.1".parse().unwrap(), 53),
            tcp("10.0.0.2", 80),
            tcp("2001:db8::1", 80),
        ];
        assert_eq!(
            names(&keys),
            [
                "tcp 10.0.0.2:80",
                "udp 10.0.0.1:53",
                "tcp [2001:db8::1]:80",
                "fwmark 10",
                "fwmark 10 ipv6"
            ]
        );
        // 0 - 0x80000001 is positive as an int: ipvsadm prints this mark first.
        let big = ServiceKey::Fwmark {
            family: Family::Inet,
            fwmark: 0x8000_0001,
        };
        assert_eq!(
            names(&[tcp("10.0.0.2", 80), big]),
            ["fwmark 2147483649", "tcp 10.0.0.2:80"]
        );
    }

    #[test]
    fn ipv6_addresses_compare_word_by_word_with_the_same_wrap() {
        // 0x20010db8 - 0xb0000000 is positive as an int.
        let keys = [
            tcp("2001:db8::1", 80),
            tcp("b000::1", 80),
            tcp("fd00::1", 80),
        ];
        assert_eq!(
            names(&keys),
            [
                "tcp [b000::1]:80",
                "tcp [fd00::1]:80",
                "tcp [2001:db8::1]:80"
            ]
        );
    }

    #[test]
    fn real_servers_sort_by_wrapped_address_then_port() {
        let d = |a: &str, port| DestKey {
            address: a.parse().unwrap(),
            port,
        };
        let sorted: Vec<String> = dests(
            vec![d("10.0.0.1", 80), d("192.168.1.1", 80), d("10.0.0.1", 8)],
            |k| *k,
        )
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(sorted, ["192.168.1.1:80", "10.0.0.1:8", "10.0.0.1:80"]);
    }

    #[test]
    fn the_sort_agrees_with_every_pairwise_comparison_when_there_is_an_order() {
        let sets: [&[u32]; 4] = [
            &[0x0a00_0001, 0xc0a8_0001, 0xac10_0001, 0x0a00_0002],
            &[0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0],
            &[5, 1, 3],
            &[0xffff_fff0, 0x0000_0010, 0x7000_0000],
        ];
        for set in sets {
            let start = circle_start(set);
            let mut v = set.to_vec();
            v.sort_by_key(|x| x.wrapping_sub(start));
            for w in v.windows(2) {
                assert!(ipvsadm_less(w[0], w[1]), "{set:x?}: {v:x?}");
            }
        }
        // 10.x, 100.x, 200.x: each is "less" than the next, round the circle.
        assert_eq!(circle_start(&[0x0a00_0000, 0x6400_0000, 0xc800_0000]), 0);
    }
}
