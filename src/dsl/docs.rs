//! One line of documentation per function and method, for `:help`, completion and
//! "takes (..)" hints. A test checks that it matches what the engine registers.

/// A documented DSL function or method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnDoc {
    /// The name as called: `service`, `scheduler`.
    pub name: String,
    /// `service(addr: string, port: int) -> Service` or
    /// `Service.scheduler(name: string) -> Service`.
    pub signature: String,
    pub doc: String,
}

/// (receiver, name, parameters, returns, doc). An empty receiver is a global function.
pub(crate) const TABLE: &[(&str, &str, &str, &str, &str)] = &[
    (
        "",
        "service",
        "addr: string, port: int",
        "Service",
        "A TCP virtual service on `addr:port`; port 0 = every port (needs persistence).",
    ),
    (
        "",
        "service",
        "addr: string, port: int, protocol: string",
        "Service",
        "A virtual service with protocol \"tcp\", \"udp\" or \"sctp\".",
    ),
    (
        "",
        "mark",
        "n: int",
        "Service",
        "The fwmark service `n` (1..4294967295); with `.vip()` also the nft rule that marks its traffic.",
    ),
    (
        "",
        "rs",
        "addr: string",
        "RealServer",
        "A real server; `\"10.0.0.1:8080\"` or `\"[2001:db8::1]:80\"` give a port, else it takes the service's port.",
    ),
    (
        "",
        "rs",
        "addr: string, port: int",
        "RealServer",
        "A real server on `port`.",
    ),
    (
        "",
        "timeouts",
        "tcp: int, tcpfin: int, udp: int",
        "()",
        "Global connection timeouts in seconds; 0 leaves one unchanged (as ipvsadm --set).",
    ),
    (
        "",
        "timeouts",
        "timeouts: map",
        "()",
        "Global timeouts from `#{tcp: 900, tcpfin: 120, udp: 300}`; missing keys are left alone.",
    ),
    (
        "",
        "sync_daemon",
        "role: string, interface: string",
        "SyncDaemon",
        "The connection-sync daemon \"master\" or \"backup\" on `interface`.",
    ),
    (
        "",
        "sysctl",
        "name: string, value: int | bool | string | array",
        "()",
        "Sets the IPVS sysctl `net.ipv4.vs.name`; those a script does not set are left alone.",
    ),
    (
        "",
        "sysctls",
        "sysctls: map",
        "()",
        "Sets several IPVS sysctls: `#{expire_nodest_conn: 1, conntrack: 1}`.",
    ),
    (
        "",
        "param",
        "name: string",
        "string",
        "The value of `--set name=value`; an error if it is not given.",
    ),
    (
        "",
        "param",
        "name: string, default: any",
        "any",
        "`--set name=value` converted to the type of `default`, or `default`.",
    ),
    (
        "",
        "args",
        "p: map",
        "map",
        "First line of a recipe entry point: checks `p` against the entry's RECIPE params, fills defaults, returns the map.",
    ),
    (
        "",
        "args",
        "entry: string, p: map",
        "map",
        "`args(p)` for the entry point named `entry`.",
    ),
    (
        "",
        "owns",
        "address: string",
        "()",
        "Scopes the script to an address or prefix (\"192.168.10.0/24\"): apply changes no service elsewhere.",
    ),
    (
        "",
        "owns",
        "addresses: array",
        "()",
        "Scopes the script to several addresses or prefixes; calls add up.",
    ),
    (
        "",
        "owns_marks",
        "mark: int",
        "()",
        "Scopes the script to a fwmark: its fwmark services and nft mark rule; calls add up.",
    ),
    (
        "",
        "owns_marks",
        "marks: range",
        "()",
        "Scopes the script to the marks `10..20` (10 to 19) or `10..=20`.",
    ),
    (
        "",
        "owns_marks",
        "marks: array",
        "()",
        "Scopes the script to several marks and ranges.",
    ),
    (
        "",
        "tcp",
        "",
        "Check",
        "A health check that connects over TCP; up when the connection opens.",
    ),
    (
        "",
        "http",
        "path: string",
        "Check",
        "A health check that GETs `path` over HTTP; up on status 200-299 unless `.expect()` says otherwise.",
    ),
    (
        "",
        "https",
        "path: string",
        "Check",
        "As `http(path)` over TLS, with the certificate verified unless `.insecure()`.",
    ),
    (
        "",
        "udp",
        "payload: string | array",
        "Check",
        "A health check that sends a datagram (text, or an array of bytes); up when a reply comes back.",
    ),
    (
        "",
        "exec",
        "program: string",
        "Check",
        "A health check that runs `program` (an absolute path; only under `lvsh watch`); up on exit status 0.",
    ),
    (
        "",
        "exec",
        "program: string, args: array",
        "Check",
        "As `exec(program)` with arguments.",
    ),
    (
        "Service",
        "tcp",
        "",
        "Service",
        "Protocol TCP (the default); on a mark, the nft rule matches TCP ports.",
    ),
    (
        "Service",
        "udp",
        "",
        "Service",
        "Protocol UDP; on a mark, the nft rule matches UDP ports.",
    ),
    (
        "Service",
        "sctp",
        "",
        "Service",
        "Protocol SCTP; on a mark, the nft rule matches SCTP ports.",
    ),
    (
        "Service",
        "protocols",
        "list: array",
        "Service",
        "Marks only: the protocols whose `.ports()` the nft rule matches.",
    ),
    (
        "Service",
        "scheduler",
        "name: string",
        "Service",
        "rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos, or none (no scheduler: new connections get no real server) (default wlc).",
    ),
    (
        "Service",
        "persist",
        "",
        "Service",
        "Persistence with ipvsadm's default timeout, 360 s.",
    ),
    (
        "Service",
        "persist",
        "secs: int",
        "Service",
        "Persistence for `secs` seconds (1..2678400).",
    ),
    (
        "Service",
        "netmask",
        "mask: string",
        "Service",
        "Persistence granularity, IPv4: \"255.255.255.0\".",
    ),
    (
        "Service",
        "netmask",
        "prefix: int",
        "Service",
        "Persistence granularity as a prefix length: 0..32 (IPv4), 1..128 (IPv6).",
    ),
    (
        "Service",
        "pe",
        "name: string",
        "Service",
        "Persistence engine: \"sip\" (UDP, with persistence); \"none\" clears it.",
    ),
    (
        "Service",
        "ops",
        "",
        "Service",
        "One-packet scheduling (UDP services and marks).",
    ),
    (
        "Service",
        "flag",
        "name: string",
        "Service",
        "Adds a scheduler flag: sh-fallback sh-port mh-fallback mh-port flag-1 flag-2 flag-3.",
    ),
    (
        "Service",
        "flags",
        "names: array",
        "Service",
        "Sets the scheduler flags.",
    ),
    (
        "Service",
        "rs",
        "server: RealServer | string | array",
        "Service",
        "Attaches real servers (repeatable).",
    ),
    (
        "Service",
        "vip",
        "addr: string | array",
        "Service",
        "Marks only: an address whose traffic the nft rule marks (repeatable).",
    ),
    (
        "Service",
        "ports",
        "ports: array",
        "Service",
        "Marks only: the destination ports to mark, e.g. [80, 443, \"8000-8100\"].",
    ),
    (
        "Service",
        "port",
        "port: int | string",
        "Service",
        "Marks only: adds one port or range.",
    ),
    (
        "Service",
        "ipv4",
        "",
        "Service",
        "Marks only: the fwmark service is IPv4, whatever family the vips have.",
    ),
    (
        "Service",
        "ipv6",
        "",
        "Service",
        "Marks only: the fwmark service is IPv6 (without vips, or whatever family they have).",
    ),
    (
        "Service",
        "comment",
        "text: string",
        "Service",
        "Marks only: a comment on the nft rule.",
    ),
    (
        "Service",
        "remove",
        "",
        "Service",
        "Drops the service from the desired model (REPL).",
    ),
    (
        "Service",
        "remove_rs",
        "server: string",
        "Service",
        "Detaches the real server \"addr\" or \"addr:port\".",
    ),
    (
        "Service",
        "server",
        "server: string",
        "RealServer",
        "The attached real server \"addr\" or \"addr:port\", to edit it.",
    ),
    (
        "Service",
        "check",
        "check: Check",
        "Service",
        "The health check of the real servers without one of their own (acted on by `lvsh watch`).",
    ),
    (
        "Service",
        "on_down",
        "action: string",
        "Service",
        "What a failed real server becomes: \"quiesce\" (weight 0, the default) or \"remove\".",
    ),
    (
        "Service",
        "sorry",
        "server: RealServer",
        "Service",
        "The sorry server, added only while every real server is down.",
    ),
    (
        "RealServer",
        "dr",
        "",
        "RealServer",
        "Direct routing (the default).",
    ),
    (
        "RealServer",
        "nat",
        "",
        "RealServer",
        "NAT (masquerading); the only method that can map ports.",
    ),
    (
        "RealServer",
        "tun",
        "",
        "RealServer",
        "IP-in-IP tunnelling.",
    ),
    (
        "RealServer",
        "tun",
        "type: string",
        "RealServer",
        "Tunnelling of type \"ipip\" or \"gre\".",
    ),
    (
        "RealServer",
        "tun",
        "type: string, port: int",
        "RealServer",
        "A \"gue\" tunnel to UDP `port`.",
    ),
    (
        "RealServer",
        "csum",
        "",
        "RealServer",
        "Tunnel checksums (gre, gue).",
    ),
    (
        "RealServer",
        "remcsum",
        "",
        "RealServer",
        "Remote checksum offload (gue).",
    ),
    (
        "RealServer",
        "weight",
        "n: int",
        "RealServer",
        "Weight 0..65535 (default 1; 0 = no new connections).",
    ),
    (
        "RealServer",
        "u_threshold",
        "n: int",
        "RealServer",
        "Upper connection threshold (0 = none).",
    ),
    (
        "RealServer",
        "l_threshold",
        "n: int",
        "RealServer",
        "Lower connection threshold, at most the upper one.",
    ),
    (
        "RealServer",
        "check",
        "check: Check",
        "RealServer",
        "This server's own health check, instead of the service's.",
    ),
    (
        "RealServer",
        "slow_start",
        "secs: int",
        "RealServer",
        "Seconds (1..3600) over which the weight climbs back after the server rises.",
    ),
    (
        "Check",
        "every",
        "secs: int | float",
        "Check",
        "Probe interval in seconds, 0.1..3600 (default 2).",
    ),
    (
        "Check",
        "timeout",
        "secs: int | float",
        "Check",
        "Seconds a probe may take, shorter than the interval (default 1).",
    ),
    (
        "Check",
        "rise",
        "n: int",
        "Check",
        "Passed probes in a row that bring a server up, 1..100 (default 2).",
    ),
    (
        "Check",
        "fall",
        "n: int",
        "Check",
        "Failed probes in a row that take a server down, 1..100 (default 3).",
    ),
    (
        "Check",
        "port",
        "port: int",
        "Check",
        "Probe this port instead of the real server's.",
    ),
    (
        "Check",
        "via_vip",
        "",
        "Check",
        "Probe the VIP, steered to the one real server (dr and tun servers): proves it takes the VIP's traffic.",
    ),
    (
        "Check",
        "expect",
        "codes: int | string | array",
        "Check",
        "http(s): the status codes that pass, e.g. 200, \"200-399\", [200, 204] (default 200-299).",
    ),
    (
        "Check",
        "host",
        "name: string",
        "Check",
        "http(s): the `Host:` header (and the TLS server name).",
    ),
    (
        "Check",
        "contains",
        "text: string",
        "Check",
        "http(s): the body must hold `text`.",
    ),
    (
        "Check",
        "insecure",
        "",
        "Check",
        "https: do not verify the certificate.",
    ),
    (
        "Check",
        "sni",
        "name: string",
        "Check",
        "https: the TLS server name, when it differs from the host.",
    ),
    (
        "Check",
        "expect_reply",
        "reply: string | array",
        "Check",
        "udp: the reply must hold these bytes.",
    ),
    (
        "SyncDaemon",
        "syncid",
        "id: int",
        "SyncDaemon",
        "Sync id 0..255.",
    ),
    (
        "SyncDaemon",
        "maxlen",
        "bytes: int",
        "SyncDaemon",
        "Largest sync message payload.",
    ),
    (
        "SyncDaemon",
        "group",
        "addr: string",
        "SyncDaemon",
        "Multicast group (default 224.0.0.81 / ff02::81).",
    ),
    (
        "SyncDaemon",
        "port",
        "port: int",
        "SyncDaemon",
        "Multicast port (default 8848).",
    ),
    (
        "SyncDaemon",
        "ttl",
        "ttl: int",
        "SyncDaemon",
        "Multicast TTL (default 1).",
    ),
    (
        "SyncDaemon",
        "remove",
        "",
        "SyncDaemon",
        "Drops the daemon from the desired model (REPL).",
    ),
];

pub(crate) fn all() -> Vec<FnDoc> {
    TABLE
        .iter()
        .map(|(recv, name, params, ret, doc)| FnDoc {
            name: name.to_string(),
            signature: if recv.is_empty() {
                format!("{name}({params}) -> {ret}")
            } else {
                format!("{recv}.{name}({params}) -> {ret}")
            },
            doc: doc.to_string(),
        })
        .collect()
}

/// Every documented signature of `name`, for "it takes .." hints.
pub(crate) fn signatures(name: &str) -> Vec<String> {
    all()
        .into_iter()
        .filter(|d| d.name == name)
        .map(|d| d.signature)
        .collect()
}

/// Names of the methods of a type (`Service`, `RealServer`, `SyncDaemon`, `Check`), or of
/// the global functions for "".
pub(crate) fn names_of(receiver: &str) -> impl Iterator<Item = &'static str> + '_ {
    TABLE.iter().filter(move |t| t.0 == receiver).map(|t| t.1)
}
