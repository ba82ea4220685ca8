//! The sysctls of a network namespace that lvsh manages: the IPVS ones
//! (`net.ipv4.vs.*`, keyed by their short name) and the few host settings a director
//! needs ([`HOST_SPECS`], keyed by their full name): which ones lvsh knows, what they
//! hold, their defaults and the values that mean something.
//!
//! Every network namespace starts from the compiled defaults (they are not
//! inherited from the initial namespace), and most of these are plain ints the
//! kernel takes without a range check: the ranges here are lvsh's, except where
//! [`Kind`] says the kernel enforces them.

use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt};

/// Where the sysctls live; the IPVS ones are `net/ipv4/vs/NAME` below it.
pub const SYSCTL_ROOT: &str = "/proc/sys";

/// One sysctl's value: an int for almost all, a pair for `sync_threshold`, a CPU list
/// (in the kernel's canonical `0-3,8` form) for `est_cpulist`. Displayed as the
/// script writes it: `1`, `[3, 50]`, `"0-3,8"`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SysctlValue {
    Int(i64),
    Pair(i64, i64),
    Cpus(String),
}

impl fmt::Display for SysctlValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysctlValue::Int(v) => write!(f, "{v}"),
            SysctlValue::Pair(a, b) => write!(f, "[{a}, {b}]"),
            SysctlValue::Cpus(c) => write!(f, "\"{c}\""),
        }
    }
}

impl SysctlValue {
    /// What is written to the `/proc` file.
    pub fn proc_text(&self) -> String {
        match self {
            SysctlValue::Int(v) => format!("{v}\n"),
            SysctlValue::Pair(a, b) => format!("{a} {b}\n"),
            SysctlValue::Cpus(c) => format!("{c}\n"),
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            SysctlValue::Int(v) => Some(*v),
            _ => None,
        }
    }
}

/// What values a sysctl takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 0 or 1; the kernel takes any int and only tests it for non-zero.
    Bool,
    /// An int in `min..=max`; `kernel`: the kernel refuses the others (EINVAL).
    Int { min: i64, max: i64, kernel: bool },
    /// A defense strategy (kernel: 0..3): 0 off, 1 and 2 automatic (the kernel
    /// itself switches between 1 and 2 as memory runs short), 3 always on.
    Defense,
    /// A power of two, at least 1 (kernel).
    PowerOfTwo,
    /// `sync_threshold`: `[threshold, period]`, threshold below period unless period
    /// is 0 (kernel).
    Threshold,
    /// `est_cpulist`: a CPU list such as `"0-3,8"`; empty stops the estimators.
    CpuList,
    /// Shown, never written.
    ReadOnly(&'static str),
    /// One of these ints (the kernel takes any, and treats the others as the
    /// nearest it knows or as reserved).
    OneOf(&'static [i64]),
}

/// What a fresh network namespace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Int(i64),
    Pair(i64, i64),
    /// Depends on the machine (memory, CPUs): `save` never writes it.
    Machine,
}

/// One sysctl lvsh knows.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    /// One line for docs and `:help`.
    pub about: &'static str,
}

const I32: i64 = i32::MAX as i64;

const fn spec(name: &'static str, kind: Kind, default: i64, about: &'static str) -> Spec {
    Spec {
        name,
        kind,
        default: DefaultValue::Int(default),
        about,
    }
}

const fn int(min: i64, max: i64, kernel: bool) -> Kind {
    Kind::Int { min, max, kernel }
}

/// Every `net.ipv4.vs.*` sysctl of Linux up to 6.x, by name. A kernel has those of
/// its version: `est_cpulist` and `est_nice` came with 6.2, `run_estimation` with
/// 5.16, and `debug_level` only with CONFIG_IP_VS_DEBUG.
pub const SPECS: &[Spec] = &[
    spec(
        "am_droprate",
        int(0, I32, false),
        10,
        "drop 1 packet in this many in drop_packet mode 3",
    ),
    spec(
        "amemthresh",
        int(1, I32, false),
        1024,
        "free memory (pages) below which the automatic defenses start",
    ),
    spec(
        "backup_only",
        Kind::Bool,
        0,
        "no balancing while the backup sync daemon runs (DR/TUN loops)",
    ),
    spec(
        "cache_bypass",
        Kind::Bool,
        0,
        "send packets to their original destination when no real server is available",
    ),
    spec(
        "conn_reuse_mode",
        int(0, 3, false),
        1,
        "bitmap: 1 reschedules a reused source port in TIME_WAIT/CLOSE, 2 also in FIN_WAIT for DR/TUN",
    ),
    spec(
        "conntrack",
        Kind::Bool,
        0,
        "keep netfilter conntrack entries for IPVS connections",
    ),
    Spec {
        name: "debug_level",
        kind: Kind::ReadOnly(
            "it exists only in kernels built with CONFIG_IP_VS_DEBUG and is read-only outside the initial network namespace",
        ),
        default: DefaultValue::Int(0),
        about: "IPVS debug messages (read-only)",
    },
    spec(
        "drop_entry",
        Kind::Defense,
        0,
        "defense: drop connection entries at random",
    ),
    spec(
        "drop_packet",
        Kind::Defense,
        0,
        "defense: drop 1 packet in am_droprate",
    ),
    Spec {
        name: "est_cpulist",
        kind: Kind::CpuList,
        default: DefaultValue::Machine,
        about: "CPUs of the rate estimator threads (Linux 6.2); empty stops them",
    },
    spec(
        "est_nice",
        int(-20, 19, true),
        0,
        "nice value of the rate estimator threads (Linux 6.2)",
    ),
    spec(
        "expire_nodest_conn",
        Kind::Bool,
        0,
        "end the connections of a deleted real server at their next packet",
    ),
    spec(
        "expire_quiescent_template",
        Kind::Bool,
        0,
        "expire persistence templates of weight-0 real servers",
    ),
    spec(
        "ignore_tunneled",
        Kind::Bool,
        0,
        "leave tunnelled packets of unknown protocols alone",
    ),
    spec(
        "nat_icmp_send",
        Kind::Bool,
        0,
        "answer NAT replies without a connection entry with ICMP unreachable",
    ),
    spec(
        "pmtu_disc",
        Kind::Bool,
        1,
        "path MTU discovery for tunnelled packets (0 only makes sense for TUN)",
    ),
    spec(
        "run_estimation",
        Kind::Bool,
        1,
        "run the rate estimators (rates read 0 without them)",
    ),
    spec(
        "schedule_icmp",
        Kind::Bool,
        0,
        "schedule ICMP errors that match no connection",
    ),
    spec(
        "secure_tcp",
        Kind::Defense,
        0,
        "defense: a stricter TCP state table",
    ),
    spec(
        "sloppy_sctp",
        Kind::Bool,
        0,
        "create SCTP connection entries from any packet, not only INIT",
    ),
    spec(
        "sloppy_tcp",
        Kind::Bool,
        0,
        "create TCP connection entries from any packet, not only SYN",
    ),
    spec(
        "snat_reroute",
        Kind::Bool,
        1,
        "route SNATed replies again (policy routing)",
    ),
    spec(
        "sync_persist_mode",
        Kind::Bool,
        0,
        "sync only persistence templates of persistent services",
    ),
    spec(
        "sync_ports",
        Kind::PowerOfTwo,
        1,
        "sync threads and ports, read when a sync daemon starts",
    ),
    Spec {
        name: "sync_qlen_max",
        kind: int(1, I32, false),
        default: DefaultValue::Machine,
        about: "most sync messages queued (default: free memory / 32 pages)",
    },
    spec(
        "sync_refresh_period",
        int(0, I32 / 1000, false),
        0,
        "seconds of state drift that trigger a sync (0: state changes only)",
    ),
    spec(
        "sync_retries",
        int(0, 3, true),
        0,
        "sync retries, each after sync_refresh_period / 8",
    ),
    spec(
        "sync_sock_size",
        int(0, I32, false),
        0,
        "send/receive buffer of the sync sockets (0: the system default)",
    ),
    Spec {
        name: "sync_threshold",
        kind: Kind::Threshold,
        default: DefaultValue::Pair(3, 50),
        about: "sync a connection after `threshold` packets, then every `period` packets",
    },
    spec("sync_version", int(0, 1, true), 1, "sync protocol version"),
];

/// The host sysctls a director needs, by full name; `*` stands for an interface
/// (`all`, `default` or a device). Forwarding: LVS-NAT routes the real servers'
/// replies back through the director. ARP: a host that carries a VIP on `lo` (a DR or
/// TUN real server, or a director that is one too) must not answer ARP for it.
/// The kernel takes any int for all of them.
pub const HOST_SPECS: &[Spec] = &[
    spec(
        "net.ipv4.conf.*.arp_announce",
        int(0, 2, false),
        0,
        "which source address ARP requests announce (2: the best local one for the target)",
    ),
    Spec {
        name: "net.ipv4.conf.*.arp_ignore",
        kind: Kind::OneOf(&[0, 1, 2, 3, 8]),
        default: DefaultValue::Int(0),
        about: "which ARP requests are answered (1: only for addresses on the interface asked)",
    },
    spec(
        "net.ipv4.ip_forward",
        Kind::Bool,
        0,
        "forward IPv4 packets between interfaces (LVS-NAT needs it)",
    ),
    spec(
        "net.ipv6.conf.*.forwarding",
        Kind::Bool,
        0,
        "forward IPv6 packets (`all`: every interface; LVS-NAT over IPv6 needs it)",
    ),
];

/// The spec of `name`, if lvsh knows it: an IPVS sysctl by its short name, or a host
/// one by its full name.
pub fn spec_of(name: &str) -> Option<&'static Spec> {
    if name.starts_with("net.") {
        return HOST_SPECS.iter().find(|s| host_matches(s.name, name));
    }
    SPECS.iter().find(|s| s.name == name)
}

/// Whether `name` is a host sysctl (its key is its full name).
pub fn is_host(name: &str) -> bool {
    name.starts_with("net.")
}

/// The interface a per-interface host sysctl names (`lo` of
/// `net.ipv4.conf.lo.arp_ignore`); `all` and `default` too.
pub fn interface_of(name: &str) -> Option<&str> {
    let rest = name
        .strip_prefix("net.ipv4.conf.")
        .or_else(|| name.strip_prefix("net.ipv6.conf."))?;
    rest.rsplit_once('.').map(|(dev, _)| dev)
}

/// Whether `pattern` (`net.ipv4.conf.*.arp_ignore`) names `name`. The interface is
/// as `sysctl(8)` writes it: a `.` in a device name is a `/` there (`eth0/100`).
fn host_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name
            .strip_prefix(head)
            .and_then(|r| r.strip_suffix(tail))
            .is_some_and(is_device_name),
    }
}

/// A name the kernel takes for a network device (`dev_valid_name`): 1 to 15 bytes,
/// no `/`, `:` or white space, not `.` or `..`. The `/` of `sysctl(8)`'s vlan names
/// (`eth0/100` for `eth0.100`) is allowed.
pub fn is_device_name(dev: &str) -> bool {
    let dev = dev.replace('/', ".");
    !dev.is_empty()
        && dev.len() <= 15
        && dev != "."
        && dev != ".."
        && !dev.contains(['/', ':'])
        && !dev.chars().any(char::is_whitespace)
}

/// The `/proc/sys` path below `root` of the sysctl named `name` (short IPVS names
/// live under `net/ipv4/vs`).
pub fn proc_path(root: &std::path::Path, name: &str) -> std::path::PathBuf {
    if !is_host(name) {
        return root.join("net/ipv4/vs").join(name);
    }
    let mut path = root.to_path_buf();
    match interface_of(name) {
        Some(dev) => {
            // `net.ipv4.conf.` + dev + `.leaf`: the device is one path part.
            let (family, _) = name.split_at("net.ipv4.conf".len());
            let leaf = &name["net.ipv4.conf.".len() + dev.len() + 1..];
            path.extend(family.split('.'));
            path.push(dev.replace('/', "."));
            path.push(leaf);
        }
        None => path.extend(name.split('.')),
    }
    path
}

impl Spec {
    /// Whether `have` (read from the kernel) is what `want` asks for: equal, except
    /// that the two automatic defense modes are one setting.
    pub fn satisfied(&self, want: &SysctlValue, have: &SysctlValue) -> bool {
        let auto = |v: &SysctlValue| matches!(v, SysctlValue::Int(1 | 2));
        want == have || (self.kind == Kind::Defense && auto(want) && auto(have))
    }

    /// Whether `v` is what a fresh network namespace holds (never, for a default
    /// that depends on the machine).
    pub fn is_default(&self, v: &SysctlValue) -> bool {
        match (self.default, v) {
            (DefaultValue::Int(d), SysctlValue::Int(v)) => d == *v,
            (DefaultValue::Pair(a, b), SysctlValue::Pair(x, y)) => (a, b) == (*x, *y),
            _ => false,
        }
    }

    /// Reads the text of the `/proc` file.
    pub fn parse(&self, text: &str) -> Option<SysctlValue> {
        let text = text.trim();
        match self.kind {
            Kind::Threshold => {
                let mut words = text.split_whitespace().map(str::parse::<i64>);
                match (words.next(), words.next(), words.next()) {
                    (Some(Ok(a)), Some(Ok(b)), None) => Some(SysctlValue::Pair(a, b)),
                    _ => None,
                }
            }
            Kind::CpuList => cpu_list(text).map(SysctlValue::Cpus),
            _ => text.parse().ok().map(SysctlValue::Int),
        }
    }

    /// Why `v` is not a value this sysctl takes, with the values it does take; `None`
    /// when it is fine. `kernel` in the answer: the kernel would refuse it too.
    pub fn check(&self, v: &SysctlValue) -> Option<Invalid> {
        let bad = |why: String, kernel: bool| Some(Invalid { why, kernel });
        match (self.kind, v) {
            (Kind::ReadOnly(why), _) => bad(format!("it is read-only: {why}"), true),
            (Kind::Bool, SysctlValue::Int(0 | 1)) => None,
            (Kind::Bool, _) => bad(
                "it is 0 or 1 (the kernel tests only for non-zero)".into(),
                false,
            ),
            (Kind::Int { min, max, kernel }, SysctlValue::Int(n)) => (!(min..=max).contains(n))
                .then(|| Invalid {
                    why: format!("it is {min}..{max}"),
                    kernel,
                }),
            (Kind::OneOf(ok), SysctlValue::Int(n)) if ok.contains(n) => None,
            (Kind::OneOf(ok), _) => bad(
                format!(
                    "it is one of {}",
                    ok.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                ),
                false,
            ),
            (Kind::Defense, SysctlValue::Int(0..=3)) => None,
            (Kind::Defense, _) => bad(
                "it is 0 (off), 1 or 2 (automatic: on while memory is short) or 3 (always)".into(),
                true,
            ),
            (Kind::PowerOfTwo, SysctlValue::Int(n))
                if *n >= 1 && *n <= I32 && n.count_ones() == 1 =>
            {
                None
            }
            (Kind::PowerOfTwo, _) => bad("it is a power of two (1, 2, 4, 8, ...)".into(), true),
            (Kind::Threshold, SysctlValue::Pair(t, p))
                if *t >= 0 && *p >= 0 && *t <= I32 && *p <= I32 && (t < p || *p == 0) =>
            {
                None
            }
            (Kind::Threshold, _) => bad(
                "it is `[threshold, period]` with threshold below period (or period 0), both >= 0"
                    .into(),
                true,
            ),
            (Kind::CpuList, SysctlValue::Cpus(c)) if cpu_list(c).as_deref() == Some(c) => None,
            (Kind::CpuList, _) => bad("it is a CPU list such as \"0-3,8\"".into(), true),
            (_, _) => bad("it is an int".into(), true),
        }
    }
}

/// Why a value does not fit its sysctl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `it is 0..3`: what the sysctl takes.
    pub why: String,
    /// The kernel refuses it too (else it would take it and mean nothing by it).
    pub kernel: bool,
}

/// `"0-3, 8,9"` in the kernel's canonical form (`0-3,8-9`); `None` if it is no CPU list.
pub fn cpu_list(text: &str) -> Option<String> {
    let mut cpus = std::collections::BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?),
            None => {
                let n = part.parse::<u32>().ok()?;
                (n, n)
            }
        };
        // More CPUs than any kernel has (NR_CPUS is at most 8192).
        if a > b || b >= 8192 {
            return None;
        }
        cpus.extend(a..=b);
    }
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for c in cpus {
        match ranges.last_mut() {
            Some(r) if r.1 + 1 == c => r.1 = c,
            _ => ranges.push((c, c)),
        }
    }
    let parts: Vec<String> = ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    Some(parts.join(","))
}

/// Sysctls by name. A desired model holds those the script sets (the others are
/// left as they are); an observed one every sysctl lvsh knows that the kernel has.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sysctls {
    pub values: BTreeMap<String, SysctlValue>,
}

impl Sysctls {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn get(&self, name: &str) -> Option<&SysctlValue> {
        self.values.get(name)
    }

    /// The int value of `name`, if set (and an int).
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(SysctlValue::int)
    }

    pub fn set(&mut self, name: &str, value: SysctlValue) {
        self.values.insert(name.to_string(), value);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &SysctlValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Those not at their defaults (what `save` writes and `show` lists): a default
    /// kernel has none.
    pub fn changed(&self) -> Sysctls {
        Sysctls {
            values: self
                .values
                .iter()
                .filter(|(k, v)| {
                    spec_of(k)
                        .is_some_and(|s| !s.is_default(v) && s.default != DefaultValue::Machine)
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Whether `name` holds what `want` asks for in `self` (an observed model).
    pub fn satisfies(&self, name: &str, want: &SysctlValue) -> bool {
        match (self.get(name), spec_of(name)) {
            (Some(have), Some(spec)) => spec.satisfied(want, have),
            (Some(have), None) => have == want,
            (None, _) => false,
        }
    }
}

/// `net.ipv4.vs.NAME`, as `sysctl(8)` names it (host sysctls are keyed by it).
pub fn full_name(name: &str) -> String {
    if is_host(name) {
        name.to_string()
    } else {
        format!("net.ipv4.vs.{name}")
    }
}

/// Warnings for NAT services on a host that does not forward: the real servers'
/// replies come back through the director, which drops them unless it forwards.
/// Only for a family whose forwarding the kernel has off (`observed`) and the script
/// (`desired`) does not set.
pub fn forwarding_warnings(desired: &super::Balancer, observed: &Sysctls) -> Vec<String> {
    let mut out = Vec::new();
    for (v6, name) in [
        (false, "net.ipv4.ip_forward"),
        (true, "net.ipv6.conf.all.forwarding"),
    ] {
        let nat = desired.services.values().find(|s| {
            s.dests
                .values()
                .any(|d| d.forward == super::Forward::Masq && d.key.address.is_ipv6() == v6)
        });
        let (Some(service), Some(0)) = (nat, observed.int(name)) else {
            continue;
        };
        if desired.sysctls.get(name).is_some() {
            continue;
        }
        out.push(format!(
            "warning: service {} has NAT servers, but `{name}` is 0: their replies will \
             not get back to the clients; add `sysctl(\"{name}\", 1)` to the script",
            service.key
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_paths_and_specs() {
        use std::path::Path;
        let root = Path::new("/proc/sys");
        assert_eq!(
            proc_path(root, "conntrack"),
            Path::new("/proc/sys/net/ipv4/vs/conntrack")
        );
        assert_eq!(
            proc_path(root, "net.ipv4.ip_forward"),
            Path::new("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            proc_path(root, "net.ipv4.conf.eth0/100.arp_ignore"),
            Path::new("/proc/sys/net/ipv4/conf/eth0.100/arp_ignore")
        );
        assert_eq!(
            proc_path(root, "net.ipv6.conf.all.forwarding"),
            Path::new("/proc/sys/net/ipv6/conf/all/forwarding")
        );
        assert_eq!(interface_of("net.ipv4.conf.lo.arp_ignore"), Some("lo"));
        assert_eq!(interface_of("net.ipv4.ip_forward"), None);
        assert_eq!(
            spec_of("net.ipv4.conf.lo.arp_announce").map(|s| s.name),
            Some("net.ipv4.conf.*.arp_announce")
        );
        assert!(spec_of("net.ipv4.conf..arp_announce").is_none());
        assert!(spec_of("net.ipv4.conf.a/b:c.arp_announce").is_none());
        assert!(spec_of("net.ipv4.conf.sixteen-chars-xx.arp_announce").is_none());
        assert!(spec_of("net.ipv4.tcp_syncookies").is_none());
        assert_eq!(full_name("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
        let mut s = Sysctls::default();
        s.set("net.ipv4.conf.lo.arp_ignore", SysctlValue::Int(1));
        s.set("net.ipv4.conf.eth0.arp_ignore", SysctlValue::Int(0));
        s.set("net.ipv4.ip_forward", SysctlValue::Int(0));
        assert_eq!(
            s.changed().iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["net.ipv4.conf.lo.arp_ignore"]
        );
        for h in HOST_SPECS {
            assert!(h.is_default(&SysctlValue::Int(0)), "{}", h.name);
            assert_eq!(h.check(&SysctlValue::Int(0)), None, "{}", h.name);
        }
    }

    #[test]
    fn specs_are_sorted_unique_and_their_defaults_valid() {
        let names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        for s in SPECS {
            let v = match s.default {
                DefaultValue::Int(n) => SysctlValue::Int(n),
                DefaultValue::Pair(a, b) => SysctlValue::Pair(a, b),
                DefaultValue::Machine => continue,
            };
            assert!(s.is_default(&v), "{}", s.name);
            if !matches!(s.kind, Kind::ReadOnly(_)) {
                assert_eq!(s.check(&v), None, "{}", s.name);
            }
        }
    }

    #[test]
    fn values_read_from_proc() {
        let s = |n| spec_of(n).unwrap();
        assert_eq!(s("conn_reuse_mode").parse("1\n"), Some(SysctlValue::Int(1)));
        assert_eq!(s("amemthresh").parse("-5\n"), Some(SysctlValue::Int(-5)));
        assert_eq!(
            s("sync_threshold").parse("3\t50\n"),
            Some(SysctlValue::Pair(3, 50))
        );
        assert_eq!(s("sync_threshold").parse("3\n"), None);
        assert_eq!(
            s("est_cpulist").parse("0-1\n"),
            Some(SysctlValue::Cpus("0-1".into()))
        );
        assert_eq!(
            s("est_cpulist").parse("\n"),
            Some(SysctlValue::Cpus("".into()))
        );
        assert_eq!(s("secure_tcp").parse("x"), None);
        assert_eq!(SysctlValue::Pair(3, 50).proc_text(), "3 50\n");
    }

    #[test]
    fn ranges_and_who_enforces_them() {
        let check = |n: &str, v: SysctlValue| spec_of(n).unwrap().check(&v);
        let int = SysctlValue::Int;
        assert_eq!(check("expire_nodest_conn", int(1)), None);
        assert!(!check("expire_nodest_conn", int(2)).unwrap().kernel);
        assert!(check("drop_entry", int(4)).unwrap().kernel);
        assert_eq!(check("drop_entry", int(3)), None);
        assert!(!check("conn_reuse_mode", int(7)).unwrap().kernel);
        assert_eq!(check("sync_ports", int(4)), None);
        assert!(check("sync_ports", int(3)).unwrap().kernel);
        assert!(check("sync_ports", int(0)).unwrap().kernel);
        assert!(check("est_nice", int(20)).unwrap().kernel);
        assert_eq!(check("est_nice", int(-20)), None);
        assert_eq!(check("sync_threshold", SysctlValue::Pair(3, 0)), None);
        assert!(check("sync_threshold", SysctlValue::Pair(50, 3)).is_some());
        assert!(check("sync_threshold", int(3)).is_some());
        assert!(!check("amemthresh", int(0)).unwrap().kernel);
        assert!(
            check("debug_level", int(0))
                .unwrap()
                .why
                .contains("read-only")
        );
        assert_eq!(
            check("est_cpulist", SysctlValue::Cpus("0-3,8".into())),
            None
        );
        assert!(check("est_cpulist", SysctlValue::Cpus("3,0".into())).is_some());
    }

    #[test]
    fn cpu_lists_take_the_kernel_s_form() {
        assert_eq!(cpu_list("0-3, 8,9").as_deref(), Some("0-3,8-9"));
        assert_eq!(cpu_list("5,1,2,3").as_deref(), Some("1-3,5"));
        assert_eq!(cpu_list("").as_deref(), Some(""));
        for bad in ["x", "3-1", "1-", "9000", "-1"] {
            assert_eq!(cpu_list(bad), None, "{bad}");
        }
    }

    #[test]
    fn automatic_defense_modes_are_one_setting() {
        let mut observed = Sysctls::default();
        observed.set("drop_entry", SysctlValue::Int(2));
        observed.set("conn_reuse_mode", SysctlValue::Int(2));
        assert!(observed.satisfies("drop_entry", &SysctlValue::Int(1)));
        assert!(!observed.satisfies("drop_entry", &SysctlValue::Int(3)));
        assert!(!observed.satisfies("conn_reuse_mode", &SysctlValue::Int(1)));
        assert!(!observed.satisfies("sloppy_tcp", &SysctlValue::Int(0)));
    }

    #[test]
    fn only_changed_values_are_worth_saving() {
        let mut s = Sysctls::default();
        s.set("expire_nodest_conn", SysctlValue::Int(0));
        s.set("conntrack", SysctlValue::Int(1));
        s.set("sync_threshold", SysctlValue::Pair(3, 50));
        s.set("sync_qlen_max", SysctlValue::Int(7248));
        let changed = s.changed();
        assert_eq!(
            changed.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["conntrack"]
        );
    }

    #[test]
    fn json_is_a_map_of_plain_values() {
        let mut s = Sysctls::default();
        s.set("conntrack", SysctlValue::Int(1));
        s.set("sync_threshold", SysctlValue::Pair(3, 50));
        s.set("est_cpulist", SysctlValue::Cpus("0-1".into()));
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(
            j,
            r#"{"conntrack":1,"est_cpulist":"0-1","sync_threshold":[3,50]}"#
        );
        assert_eq!(serde_json::from_str::<Sysctls>(&j).unwrap(), s);
    }
}
