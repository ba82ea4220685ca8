//! Exercises the IPVS backend against a real kernel and prints what it sees.
//!
//! usage: ipvs_probe [--netns NAME] COMMAND
//!   bench            encode/decode speed, no kernel needed
//!   open             open the socket, print the IPVS version
//!   show             read the whole table and print it
//!   flush            delete every service
//!   batch            add services and destinations of every kind in one batch
//!   errors           requests the kernel refuses, with their errnos
//!   edit             edit a service and a destination in place
//!   timeouts         set and read the global timeouts
//!   daemons          start and read sync daemons (needs interface d0)
//!   daemons-stop     stop them, twice
//!   daemon6          an IPv6 backup daemon with kernel defaults
//!   dumps            two dump requests in one sendmsg on one socket
//!   acks             receive-buffer cost of queued ACKs, and ENOBUFS when it is short
//!   scale S D        S services x D NAT destinations, batched, timed
//!   traffic          a local service for the scenario's traffic test
//!   noroot           drop root, then open (expects the EPERM error)
//! Meant to run as root inside the qemu lab; every line it prints is stable text.

use lvsh::backend::ipvs::{Netlink, constants::IpvsCmd, request, wire};
use lvsh::backend::{Ipvs, IpvsOp, KernelError};
use lvsh::model::{
    Balancer, DaemonState, Dest, DestKey, Family, Forward, Netmask, PersistenceEngine, Protocol,
    SchedFlag, Scheduler, Service, ServiceKey, SyncDaemon, Timeouts, TunnelChecksum, TunnelKind,
};
use std::{process::ExitCode, time::Instant};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut netns = None;
    if args.first().map(String::as_str) == Some("--netns") && args.len() > 1 {
        netns = Some(args.remove(1));
        args.remove(0);
    }
    let cmd = args.first().cloned().unwrap_or_default();
    let result = match cmd.as_str() {
        "bench" => {
            bench();
            Ok(())
        }
        "noroot" => noroot(),
        "dumps" => dumps(netns.as_deref()),
        "acks" => acks(),
        _ => match Netlink::open(netns.as_deref()) {
            Err(e) => Err(e.to_string()),
            Ok(mut nl) => run(&mut nl, &cmd, &args[1..]),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(nl: &mut Netlink, cmd: &str, args: &[String]) -> Result<(), String> {
    match cmd {
        "open" => {
            let info = nl.info().map_err(|e| e.to_string())?;
            println!(
                "open: {info} family id {} max batch {}",
                nl.family_id(),
                nl.max_batch()
            );
        }
        "show" => show(nl)?,
        "flush" => nl.flush().map_err(|e| e.to_string())?,
        "batch" => report(nl, &batch_ops())?,
        "errors" => report(nl, &error_ops())?,
        "edit" => report(nl, &edit_ops())?,
        "timeouts" => timeouts(nl)?,
        "daemons" => daemons(nl)?,
        "daemons-stop" => stop_daemons(nl)?,
        "daemon6" => {
            let mut d = SyncDaemon::new(DaemonState::Backup, "d0");
            d.group = Some(ip("ff02::81"));
            report(nl, &[IpvsOp::AddDaemon(d)])?;
            for d in nl.daemons().map_err(|e| e.to_string())? {
                println!("{d:?}");
            }
            report(nl, &[IpvsOp::DelDaemon(DaemonState::Backup)])?;
        }
        "scale" => {
            let n = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
            scale(nl, n(0, 2000), n(1, 4))?
        }
        "traffic" => report(nl, &traffic_ops())?,
        "zero" => nl.zero(None).map_err(|e| e.to_string())?,
        other => return Err(format!("unknown command `{other}`")),
    }
    Ok(())
}

fn ip(s: &str) -> std::net::IpAddr {
    s.parse().unwrap()
}

fn inet(p: Protocol, a: &str, port: u16) -> ServiceKey {
    ServiceKey::inet(p, ip(a), port)
}

fn svc(key: ServiceKey, sched: Scheduler) -> Service {
    let mut s = Service::new(key);
    s.scheduler = sched;
    s
}

fn dest(a: &str, port: u16, forward: Forward) -> Dest {
    let mut d = Dest::new(DestKey {
        address: ip(a),
        port,
    });
    d.forward = forward;
    d
}

fn tun(kind: TunnelKind, port: u16, checksum: TunnelChecksum) -> Forward {
    Forward::Tunnel {
        kind,
        port,
        checksum,
    }
}

/// Every kind of service and destination, with a missing scheduler (`twos`) and a
/// duplicate in the middle.
fn batch_ops() -> Vec<IpvsOp> {
    let mut ops = Vec::new();
    let web = inet(Protocol::Tcp, "10.10.0.1", 80);
    ops.push(IpvsOp::AddService(svc(web, Scheduler::Wlc)));
    let mut d = dest("10.20.0.1", 80, Forward::Masq);
    d.weight = 3;
    d.upper_threshold = 100;
    d.lower_threshold = 50;
    ops.push(IpvsOp::AddDest(web, d));
    ops.push(IpvsOp::AddDest(web, dest("10.20.0.2", 8080, Forward::Masq)));

    let dns = inet(Protocol::Udp, "10.10.0.1", 53);
    let mut s = svc(dns, Scheduler::Rr);
    s.one_packet = true;
    ops.push(IpvsOp::AddService(s));
    ops.push(IpvsOp::AddDest(dns, dest("10.20.0.3", 53, Forward::Masq)));

    let all = inet(Protocol::Tcp, "10.10.0.2", 0);
    let mut s = svc(all, Scheduler::Rr);
    s.persistence = Some(600);
    s.set_netmask(Netmask::V4("255.255.255.0".parse().unwrap()));
    ops.push(IpvsOp::AddService(s));
    ops.push(IpvsOp::AddDest(all, dest("10.30.0.5", 0, Forward::Route)));

    let missing = inet(Protocol::Tcp, "10.10.0.5", 80);
    ops.push(IpvsOp::AddService(svc(missing, Scheduler::Twos)));
    ops.push(IpvsOp::AddDest(
        missing,
        dest("10.20.0.9", 80, Forward::Masq),
    ));

    let diameter = inet(Protocol::Sctp, "10.10.0.3", 3868);
    let mut s = svc(diameter, Scheduler::Sh);
    s.flags.insert(SchedFlag::Flag1);
    s.flags.insert(SchedFlag::Flag2);
    ops.push(IpvsOp::AddService(s));
    ops.push(IpvsOp::AddDest(
        diameter,
        dest("10.20.0.4", 3868, Forward::Masq),
    ));

    let fw = ServiceKey::fwmark(Family::Inet, 10);
    let mut s = svc(fw, Scheduler::Rr);
    s.persistence = Some(1200);
    ops.push(IpvsOp::AddService(s));
    ops.push(IpvsOp::AddDest(fw, dest("10.30.0.5", 0, Forward::Route)));
    ops.push(IpvsOp::AddDest(fw, dest("10.30.0.6", 0, Forward::Route)));

    let fw6 = ServiceKey::fwmark(Family::Inet6, 11);
    let mut s = svc(fw6, Scheduler::Mh);
    s.flags.insert(SchedFlag::Flag2);
    ops.push(IpvsOp::AddService(s));
    ops.push(IpvsOp::AddDest(
        fw6,
        dest("2001:db8:2::5", 0, Forward::Route),
    ));

    let sip = inet(Protocol::Udp, "2001:db8::1", 5060);
    let mut s = svc(sip, Scheduler::Wrr);
    s.persistence = Some(60);
    s.set_netmask(Netmask::V6(64));
    s.pe = Some(PersistenceEngine::Sip);
    ops.push(IpvsOp::AddService(s));
    ops.push(IpvsOp::AddDest(
        sip,
        dest("2001:db8:2::6", 5060, Forward::Masq),
    ));

    let tunnels = inet(Protocol::Tcp, "10.10.0.4", 80);
    ops.push(IpvsOp::AddService(svc(tunnels, Scheduler::Lc)));
    let ipip = tun(TunnelKind::Ipip, 0, TunnelChecksum::None);
    ops.push(IpvsOp::AddDest(tunnels, dest("10.30.0.7", 80, ipip)));
    ops.push(IpvsOp::AddDest(
        tunnels,
        dest(
            "10.30.0.8",
            80,
            tun(TunnelKind::Gue, 6080, TunnelChecksum::Csum),
        ),
    ));
    ops.push(IpvsOp::AddDest(
        tunnels,
        dest(
            "10.30.0.9",
            80,
            tun(TunnelKind::Gre, 0, TunnelChecksum::Remcsum),
        ),
    ));
    // another family than the service: tunnels only
    ops.push(IpvsOp::AddDest(tunnels, dest("2001:db8:2::7", 80, ipip)));

    ops.push(IpvsOp::AddService(svc(web, Scheduler::Rr)));
    ops
}

/// Requests the kernel refuses, one per errno worth pinning down.
fn error_ops() -> Vec<IpvsOp> {
    let web = inet(Protocol::Tcp, "10.10.0.1", 80);
    let nowhere = inet(Protocol::Tcp, "10.10.0.99", 80);
    let mut heavy = dest("10.20.0.7", 80, Forward::Masq);
    heavy.weight = u32::MAX;
    let mut inverted = dest("10.20.0.8", 80, Forward::Masq);
    inverted.upper_threshold = 10;
    inverted.lower_threshold = 20;
    let mut v6 = svc(ServiceKey::fwmark(Family::Inet6, 12), Scheduler::Rr);
    v6.netmask = Some(Netmask::V6(0));
    vec![
        IpvsOp::EditService(svc(nowhere, Scheduler::Rr)),
        IpvsOp::DelService(nowhere),
        IpvsOp::AddDest(nowhere, dest("10.20.0.1", 80, Forward::Masq)),
        IpvsOp::AddDest(web, dest("10.20.0.1", 80, Forward::Masq)),
        IpvsOp::EditDest(web, dest("10.20.0.77", 80, Forward::Masq)),
        IpvsOp::DelDest(web, dest("10.20.0.77", 80, Forward::Masq).key),
        IpvsOp::AddDest(web, heavy),
        IpvsOp::AddDest(web, inverted),
        IpvsOp::AddDest(
            web,
            dest(
                "10.20.0.9",
                80,
                tun(TunnelKind::Gue, 0, TunnelChecksum::None),
            ),
        ),
        IpvsOp::AddDest(web, dest("2001:db8:2::9", 80, Forward::Masq)),
        IpvsOp::AddDest(web, dest("224.0.0.5", 80, Forward::Route)),
        IpvsOp::AddDest(web, dest("192.0.2.1", 80, Forward::Route)),
        IpvsOp::AddService(v6),
        IpvsOp::SetTimeouts(Timeouts {
            tcp: Some(u32::MAX),
            tcp_fin: None,
            udp: None,
        }),
        IpvsOp::DelDaemon(DaemonState::Backup),
    ]
}

fn edit_ops() -> Vec<IpvsOp> {
    let all = inet(Protocol::Tcp, "10.10.0.2", 0);
    let mut s = svc(all, Scheduler::Wrr);
    s.persistence = Some(300);
    let web = inet(Protocol::Tcp, "10.10.0.1", 80);
    let mut d = dest("10.20.0.1", 80, Forward::Masq);
    d.weight = 0;
    let tunnels = inet(Protocol::Tcp, "10.10.0.4", 80);
    vec![
        IpvsOp::EditService(s),
        IpvsOp::EditDest(web, d),
        IpvsOp::EditDest(
            tunnels,
            dest(
                "10.30.0.7",
                80,
                tun(TunnelKind::Gue, 7070, TunnelChecksum::Remcsum),
            ),
        ),
        IpvsOp::DelDest(web, dest("10.20.0.2", 8080, Forward::Masq).key),
        IpvsOp::DelService(inet(Protocol::Udp, "10.10.0.1", 53)),
    ]
}

fn traffic_ops() -> Vec<IpvsOp> {
    let k = inet(Protocol::Tcp, "10.99.0.1", 8000);
    vec![
        IpvsOp::AddService(svc(k, Scheduler::Rr)),
        IpvsOp::AddDest(k, dest("10.30.0.1", 8000, Forward::Route)),
    ]
}

fn report(nl: &mut Netlink, ops: &[IpvsOp]) -> Result<(), String> {
    let t = Instant::now();
    let results = nl.execute(ops, &mut |_| true).map_err(|e| e.to_string())?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    for (op, r) in ops.iter().zip(&results) {
        println!("{:<40} {}", describe(op), outcome(r));
    }
    println!("{} ops in {ms:.1} ms", ops.len());
    Ok(())
}

fn outcome(r: &Result<(), KernelError>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => format!("{} {e}", errno_name(e.errno)),
    }
}

fn errno_name(e: i32) -> &'static str {
    match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ERANGE => "ERANGE",
        libc::EBUSY => "EBUSY",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        _ => "E?",
    }
}

fn describe(op: &IpvsOp) -> String {
    match op {
        IpvsOp::AddService(s) => format!("add {} {}", s.key, s.scheduler),
        IpvsOp::EditService(s) => format!("edit {} {}", s.key, s.scheduler),
        IpvsOp::DelService(k) => format!("del {k}"),
        IpvsOp::AddDest(k, d) => format!("add {k} -> {} {}", d.key, d.forward),
        IpvsOp::EditDest(k, d) => format!("edit {k} -> {} {}", d.key, d.forward),
        IpvsOp::DelDest(k, d) => format!("del {k} -> {d}"),
        IpvsOp::SetTimeouts(t) => format!("timeouts {:?}/{:?}/{:?}", t.tcp, t.tcp_fin, t.udp),
        IpvsOp::AddDaemon(d) => format!("start {} {}", d.state, d.interface),
        IpvsOp::DelDaemon(s) => format!("stop {s}"),
    }
}

fn show(nl: &mut Netlink) -> Result<(), String> {
    let t = Instant::now();
    let b = nl.read_all().map_err(|e| e.to_string())?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    print!("{}", render(&b));
    println!(
        "read {} services, {} destinations in {ms:.1} ms",
        b.services.len(),
        b.dest_count()
    );
    Ok(())
}

/// The table in a stable text form, with counters.
fn render(b: &Balancer) -> String {
    let mut out = String::new();
    let t = &b.timeouts;
    out += &format!(
        "timeouts tcp {:?} tcpfin {:?} udp {:?}\n",
        t.tcp, t.tcp_fin, t.udp
    );
    for d in b.daemons.values() {
        out += &format!(
            "daemon {} {} syncid {} maxlen {:?} group {:?} port {:?} ttl {:?}\n",
            d.state, d.interface, d.syncid, d.maxlen, d.group, d.port, d.ttl
        );
    }
    for s in b.services.values() {
        out += &format!("service {} {}", s.key, s.scheduler);
        if let Some(p) = s.persistence {
            out += &format!(" persistent {p}");
        }
        if let Some(m) = s.netmask {
            out += &format!(" netmask {m}");
        }
        if let Some(pe) = s.pe {
            out += &format!(" pe {}", pe.name());
        }
        if s.one_packet {
            out += " ops";
        }
        if !s.flags.is_empty() {
            out += &format!(" flags {}", s.flags.names(s.scheduler).join(","));
        }
        let st = &s.stats;
        out += &format!(
            "  [conns {} inpkts {} outpkts {} inbytes {} outbytes {}]\n",
            st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes
        );
        for d in s.dests.values() {
            let c = &d.counters;
            out += &format!(
                "  -> {} {} weight {} thresholds {}/{}  [active {} inactive {} persistent {} conns {} inpkts {}]\n",
                d.key,
                d.forward,
                d.weight,
                d.upper_threshold,
                d.lower_threshold,
                c.active,
                c.inactive,
                c.persistent,
                d.stats.conns,
                d.stats.inpkts
            );
        }
    }
    out
}

fn timeouts(nl: &mut Netlink) -> Result<(), String> {
    println!("before {:?}", nl.timeouts().map_err(|e| e.to_string())?);
    report(
        nl,
        &[
            IpvsOp::SetTimeouts(Timeouts {
                tcp: Some(1000),
                tcp_fin: Some(100),
                udp: Some(200),
            }),
            IpvsOp::SetTimeouts(Timeouts {
                tcp: Some(0),
                tcp_fin: None,
                udp: Some(250),
            }),
            IpvsOp::SetTimeouts(Timeouts {
                tcp: Some(8_000_000),
                tcp_fin: None,
                udp: None,
            }),
            IpvsOp::SetTimeouts(Timeouts {
                tcp: Some(9_000_000),
                tcp_fin: None,
                udp: None,
            }),
        ],
    )?;
    println!("after {:?}", nl.timeouts().map_err(|e| e.to_string())?);
    report(nl, &[IpvsOp::SetTimeouts(Timeouts::KERNEL_DEFAULT)])
}

fn daemons(nl: &mut Netlink) -> Result<(), String> {
    let mut master = SyncDaemon::new(DaemonState::Master, "d0");
    master.syncid = 5;
    let mut backup = SyncDaemon::new(DaemonState::Backup, "d0");
    backup.group = Some(ip("ff02::82"));
    backup.port = Some(8849);
    backup.ttl = Some(3);
    backup.maxlen = Some(1200);
    backup.syncid = 200;
    report(
        nl,
        &[
            IpvsOp::AddDaemon(master.clone()),
            IpvsOp::AddDaemon(master),
            IpvsOp::AddDaemon(SyncDaemon::new(DaemonState::Backup, "nosuch0")),
            IpvsOp::AddDaemon(SyncDaemon::new(
                DaemonState::Backup,
                "averyveryverylongname",
            )),
            IpvsOp::AddDaemon({
                let mut d = SyncDaemon::new(DaemonState::Backup, "d0");
                d.group = Some(ip("10.1.1.1"));
                d
            }),
            IpvsOp::AddDaemon(backup),
        ],
    )?;
    for d in nl.daemons().map_err(|e| e.to_string())? {
        println!("{d:?}");
    }
    Ok(())
}

fn stop_daemons(nl: &mut Netlink) -> Result<(), String> {
    report(
        nl,
        &[
            IpvsOp::DelDaemon(DaemonState::Master),
            IpvsOp::DelDaemon(DaemonState::Master),
            IpvsOp::DelDaemon(DaemonState::Backup),
        ],
    )?;
    println!(
        "daemons left: {}",
        nl.daemons().map_err(|e| e.to_string())?.len()
    );
    Ok(())
}

fn scale(nl: &mut Netlink, services: usize, dests: usize) -> Result<(), String> {
    let mut ops = Vec::with_capacity(services * (dests + 1));
    for i in 0..services {
        let vip = format!("10.1.{}.{}", i / 250, i % 250 + 1);
        let k = inet(Protocol::Tcp, &vip, 80);
        ops.push(IpvsOp::AddService(svc(k, Scheduler::Wrr)));
        for j in 1..=dests {
            let mut d = dest(&format!("10.2.{j}.{}", i % 250 + 1), 8080, Forward::Masq);
            d.weight = j as u32;
            ops.push(IpvsOp::AddDest(k, d));
        }
    }
    let t = Instant::now();
    let results = nl.execute(&ops, &mut |_| true).map_err(|e| e.to_string())?;
    let write = t.elapsed();
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        println!("first failure: {e}");
    }
    let t = Instant::now();
    let b = nl.read_all().map_err(|e| e.to_string())?;
    let read = t.elapsed();
    println!(
        "scale: {} ops ({failed} failed) written in {:.0} ms; read {} services {} dests in {:.0} ms",
        ops.len(),
        write.as_secs_f64() * 1000.0,
        b.services.len(),
        b.dest_count(),
        read.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Sends a GET_SERVICE dump and a GET_DEST dump in one sendmsg and prints every answer.
fn dumps(netns: Option<&str>) -> Result<(), String> {
    use neli::{
        consts::socket::{Msg, NlFamily},
        socket::NlSocket,
        utils::Groups,
    };
    // open via the backend first so the namespace and family are handled the same way
    let nl = Netlink::open(netns).map_err(|e| e.to_string())?;
    let family = nl.family_id();
    drop(nl);
    if netns.is_some() {
        return Err("dumps: run it in the current namespace".into());
    }
    let sock =
        NlSocket::connect(NlFamily::Generic, None, Groups::empty()).map_err(|e| e.to_string())?;
    let mut e = wire::Encoder::new();
    request::encode_dump(&mut e, family, 1, IpvsCmd::GetService, None);
    request::encode_dump(
        &mut e,
        family,
        2,
        IpvsCmd::GetDest,
        Some(&inet(Protocol::Tcp, "10.10.0.4", 80)),
    );
    sock.send(e.finish().map_err(|e| e.to_string())?, Msg::empty())
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 65536];
    let mut done = 0;
    let mut counts = [0usize; 3];
    while done < 2 {
        let (n, _) = sock
            .recv(&mut buf[..], Msg::empty())
            .map_err(|e| e.to_string())?;
        for m in wire::messages(&buf[..n]) {
            let m = m.map_err(|e| e.to_string())?;
            match request::answer(&m).map_err(|e| e.to_string())? {
                request::Answer::Data { .. } => counts[m.seq as usize % 3] += 1,
                other => {
                    println!(
                        "seq {}: {other:?} after {} entries",
                        m.seq,
                        counts[m.seq as usize % 3]
                    );
                    done += 1;
                }
            }
        }
    }
    Ok(())
}

/// Sends 200 requests in one sendmsg without reading, then looks at the socket's
/// receive-buffer use in /proc/net/netlink; then overflows a small buffer.
fn acks() -> Result<(), String> {
    use neli::{
        consts::socket::{Msg, NlFamily},
        socket::NlSocket,
        utils::Groups,
    };
    use std::os::fd::AsRawFd;
    let family = Netlink::open(None).map_err(|e| e.to_string())?.family_id();
    let set = |sock: &NlSocket, level: i32, name: i32, v: i32| {
        // SAFETY: valid fd and an int option value.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                level,
                name,
                (&v as *const i32).cast(),
                size_of::<i32>() as libc::socklen_t,
            )
        }
    };
    let rmem = |pid: u32| -> usize {
        let t = std::fs::read_to_string("/proc/net/netlink").unwrap_or_default();
        t.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() > 5 && f[2] == pid.to_string()).then(|| f[4].parse().unwrap_or(0))
            })
            .next()
            .unwrap_or(0)
    };
    for (what, cmd, cap) in [
        ("ok acks", IpvsCmd::Zero, 1),
        ("error acks, capped", IpvsCmd::DelService, 1),
        ("error acks, uncapped", IpvsCmd::DelService, 0),
    ] {
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| e.to_string())?;
        set(&sock, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 4 << 20);
        set(&sock, libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, cap);
        let mut e = wire::Encoder::new();
        for seq in 1..=200 {
            request::request(&mut e, family, request::NLM_F_ACK, seq, cmd, |e| {
                if cmd == IpvsCmd::DelService {
                    lvsh::backend::ipvs::service::encode_service_key(
                        e,
                        &inet(Protocol::Tcp, "10.77.0.1", 1),
                    );
                }
            });
        }
        sock.send(e.finish().map_err(|e| e.to_string())?, Msg::empty())
            .map_err(|e| e.to_string())?;
        let used = rmem(sock.pid().map_err(|e| e.to_string())?);
        println!(
            "acks: 200 {what} queued use {used} bytes of receive buffer ({} each)",
            used / 200
        );
    }
    let sock =
        NlSocket::connect(NlFamily::Generic, None, Groups::empty()).map_err(|e| e.to_string())?;
    set(&sock, libc::SOL_SOCKET, libc::SO_RCVBUF, 16384);
    let mut e = wire::Encoder::new();
    for seq in 1..=200 {
        request::request(
            &mut e,
            family,
            request::NLM_F_ACK,
            seq,
            IpvsCmd::Zero,
            |_| {},
        );
    }
    sock.send(e.finish().map_err(|e| e.to_string())?, Msg::empty())
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 65536];
    let mut got = 0;
    loop {
        match sock.recv(&mut buf[..], Msg::DONTWAIT) {
            Ok(_) => got += 1,
            Err(e) => {
                println!("acks: 16 KiB buffer: read {got} acks of 200, then: {e}");
                break;
            }
        }
    }
    Ok(())
}

fn noroot() -> Result<(), String> {
    // SAFETY: plain syscalls dropping privileges of this single-threaded process.
    unsafe {
        if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
            return Err("cannot drop root".into());
        }
    }
    match Netlink::open(None) {
        Ok(_) => Err("opened IPVS without root".into()),
        Err(e) => {
            println!("noroot: {e}");
            Ok(())
        }
    }
}

/// Encoding and decoding cost of 10,000 objects, without a kernel.
fn bench() {
    use lvsh::backend::ipvs::{dest, service};
    let mut ops = Vec::new();
    for i in 0..2000u32 {
        let k = inet(
            Protocol::Tcp,
            &format!("10.1.{}.{}", i / 250, i % 250 + 1),
            80,
        );
        let mut s = svc(k, Scheduler::Wrr);
        s.persistence = Some(300);
        ops.push(IpvsOp::AddService(s));
        for j in 1..=4u32 {
            ops.push(IpvsOp::AddDest(
                k,
                dest(&format!("10.2.{j}.{}", i % 250 + 1), 8080, Forward::Masq),
            ));
        }
    }
    let mut e = wire::Encoder::with_capacity(2 << 20);
    let rounds = 20;
    let t = Instant::now();
    for _ in 0..rounds {
        e.clear();
        for (i, op) in ops.iter().enumerate() {
            request::encode_op(&mut e, 0x24, i as u32, op).unwrap();
        }
    }
    let enc = t.elapsed() / rounds;
    let bytes = e.len();
    // decode the service and destination nests back, as a dump would deliver them
    let mut nests = Vec::new();
    for m in wire::messages(e.finish().unwrap()) {
        let m = m.unwrap();
        let t = wire::Table::<7>::parse(&m.payload[4..]).unwrap();
        match m.payload[0] {
            1 => nests.push((true, t.get(1).unwrap())),
            _ => nests.push((false, t.get(2).unwrap())),
        }
    }
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..rounds {
        for (is_service, nest) in &nests {
            if *is_service {
                n += service::decode_service(nest).unwrap().dests.len() + 1;
            } else {
                n += dest::decode_dest(nest, Family::Inet).map_or(0, |_| 1);
            }
        }
    }
    let dec = t.elapsed() / rounds;
    println!(
        "bench: {} objects encoded in {:.2} ms ({bytes} bytes), decoded in {:.2} ms",
        ops.len(),
        enc.as_secs_f64() * 1000.0,
        dec.as_secs_f64() * 1000.0
    );
    assert_eq!(n, ops.len() * rounds as usize);
}
