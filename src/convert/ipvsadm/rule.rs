//! One `ipvsadm` rule: the options of a line checked and turned into model objects,
//! with the checks ipvsadm (and the kernel, for what ipvsadm passes through) makes.
//!
//! Where ipvsadm would silently do something surprising (an IPv4-style `-M` before
//! an IPv6 service, a masquerading `-r` without port before the service), lvsh stops
//! and says so.

use super::class::{Class, Seen, check_options};
use super::command::{Command, START_WITH_A_COMMAND, command_of, foreign_format};
use super::dest::dest;
use super::entry::Entry;
use super::opt::Role;
use super::parsed::{Given, Parsed};
use super::problem::{Fault, Problem};
use super::value::{MAX_TIMEOUT, netmask, number, sched_flags};
use crate::model::{
    DaemonState, Dest, Protocol, SchedFlags, Service, ServiceKey, SyncDaemon, Timeouts,
};
use std::{net::IpAddr, ops::Range};

/// A checked rule: what to do, and the objects it names.
#[derive(Debug)]
pub(crate) struct Rule {
    pub command: Command,
    pub command_span: Range<usize>,
    /// The service named by the rule, with its settings as the rule gives them.
    pub service: Option<Service>,
    pub service_span: Range<usize>,
    pub dest: Option<Dest>,
    pub dest_span: Range<usize>,
    pub timeouts: Timeouts,
    pub daemon: Option<SyncDaemon>,
}

/// Checks the options of one line and builds its rule.
pub(crate) fn rule(p: &Parsed<'_>) -> Result<Rule, Fault> {
    let Some(first) = p.given.first() else {
        // A line of only `--` has no leftover word either: point at the line.
        let first_word = p.leftovers.first();
        let help = first_word
            .and_then(|w| foreign_format(w.text))
            .unwrap_or(START_WITH_A_COMMAND);
        let span = first_word.map_or(p.span.clone(), |w| w.span());
        return Err(Fault::new(Problem::NoCommand, span).help(help));
    };
    let command = command_of(first)?;
    let mut e = Entry::default();
    let mut seen = Seen::default();
    for g in &p.given[1..] {
        match g.opt.role() {
            Role::Command => return Err(second_command(first, g)),
            Role::Grouped(class) => seen.note(class, g)?,
            Role::Ungrouped => {}
        }
        e.read(g)?;
    }
    let timeouts = leftovers(p, command, first)?;
    let flags = match e.flags {
        Some(t) => sched_flags(t, e.scheduler.unwrap_or_default())?,
        None => SchedFlags::default(),
    };
    check_options(command, first, &seen)?;
    let service = if seen.has(Class::Service) {
        Some(service(&e, flags)?)
    } else {
        None
    };
    if let (Command::AddService | Command::EditService, Some(s)) = (command, &service) {
        check_service(&e, s, &seen)?;
    }
    let dest = match (&service, e.dest) {
        (Some(s), Some((address, port))) => Some(dest(&e, s, &seen, address, port)?),
        _ => None,
    };
    let daemon = match command {
        Command::StartDaemon(state) => Some(daemon(state, &e)),
        _ => None,
    };
    Ok(Rule {
        command,
        command_span: first.span.clone(),
        service,
        service_span: e.service_span,
        dest,
        dest_span: e.dest_span,
        timeouts,
        daemon,
    })
}

fn second_command(first: &Given<'_>, g: &Given<'_>) -> Fault {
    Fault::new(
        Problem::SecondCommand {
            option: g.name.clone(),
            first: first.name.clone(),
        },
        g.span.clone(),
    )
    .help("one command per line")
}

/// Words that are not options: the three timeouts of `--set`, an error otherwise.
fn leftovers(p: &Parsed<'_>, command: Command, first: &Given<'_>) -> Result<Timeouts, Fault> {
    let mut rest = p.leftovers.iter();
    let mut timeouts = Timeouts::default();
    if command == Command::SetTimeouts {
        let mut value = || -> Result<Option<u32>, Fault> {
            let t = rest.next().ok_or_else(|| {
                Fault::new(Problem::ThreeTimeouts, first.span.clone())
                    .help("write `--set 900 120 300`; 0 leaves a timeout unchanged")
            })?;
            let n = number(*t, 0, MAX_TIMEOUT, "timeout", "0..=2678400")?;
            Ok((n != 0).then_some(n))
        };
        timeouts.tcp = value()?;
        timeouts.tcp_fin = value()?;
        timeouts.udp = value()?;
    }
    if let Some(extra) = rest.next() {
        return Err(Fault::new(
            Problem::UnexpectedArgument(extra.text.to_owned()),
            extra.span(),
        ));
    }
    Ok(timeouts)
}

/// The service as the rule names it, with the settings the rule gives.
fn service(e: &Entry<'_>, flags: SchedFlags) -> Result<Service, Fault> {
    let key = if e.fwmark != 0 {
        ServiceKey::fwmark(e.family, e.fwmark)
    } else {
        let protocol = e.protocol.expect("service options set the protocol");
        ServiceKey::inet(protocol, e.address.expect("service address"), e.port)
    };
    let mut s = Service::new(key);
    s.scheduler = e.scheduler.unwrap_or_default();
    s.flags = flags;
    s.persistence = e.persistence;
    s.pe = e.pe;
    s.one_packet = e.one_packet;
    if let Some((t, family)) = e.netmask {
        s.set_netmask(netmask(t, family, e.family)?);
    }
    Ok(s)
}

/// What the kernel refuses of an added or edited service.
fn check_service(e: &Entry<'_>, s: &Service, seen: &Seen<'_, '_>) -> Result<(), Fault> {
    if e.fwmark == 0 && e.port == 0 && s.persistence.is_none() {
        let help = if matches!(e.address, Some(IpAddr::V6(_))) {
            // `2001:db8::1:80` is a whole address: the port was meant to be 80.
            "add `-p` for persistence, or give the service a port; an IPv6 address \
             with a port takes brackets, `[2001:db8::1]:80` (without them `:80` is \
             part of the address)"
        } else {
            "add `-p` for persistence, or give the service a port"
        };
        return Err(Fault::new(Problem::ZeroPortNotPersistent, e.service_span.clone()).help(help));
    }
    if e.one_packet && e.fwmark == 0 && e.protocol != Some(Protocol::Udp) {
        let g = seen.given(Class::Ops);
        return Err(Fault::new(Problem::OpsNotUdp, g.span.clone()));
    }
    Ok(())
}

/// The sync daemon of `--start-daemon`, on ipvsadm's default interface unless given.
fn daemon(state: DaemonState, e: &Entry<'_>) -> SyncDaemon {
    let interface = e.interface.clone().unwrap_or_else(|| "eth0".into());
    let mut d = SyncDaemon::new(state, interface);
    d.syncid = e.syncid;
    d.maxlen = e.maxlen;
    d.group = e.group;
    d.port = e.mcast_port;
    d.ttl = e.ttl;
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::ipvsadm::parsed::parse;
    use crate::convert::ipvsadm::tok::words;
    use crate::model::{
        Family, Forward, Netmask, PersistenceEngine, Scheduler, TunnelChecksum, TunnelKind,
    };
    use std::net::Ipv4Addr;

    fn ok(line: &str) -> Rule {
        rule(&parse(&words(line, 0)).unwrap()).unwrap()
    }

    fn err(line: &str) -> Fault {
        rule(&parse(&words(line, 0)).unwrap()).unwrap_err()
    }

    fn at<'a>(line: &'a str, f: &Fault) -> &'a str {
        &line[f.span.clone()]
    }

    #[test]
    fn add_service_with_every_setting() {
        let r = ok("-A -t 10.1.1.1:80 -s sh -p 120 -M 255.255.255.0 -b sh-port");
        assert_eq!(r.command, Command::AddService);
        let s = r.service.unwrap();
        assert_eq!(
            s.key,
            ServiceKey::inet(Protocol::Tcp, "10.1.1.1".parse().unwrap(), 80)
        );
        assert_eq!(s.scheduler, Scheduler::Sh);
        assert_eq!(s.persistence, Some(120));
        assert_eq!(
            s.netmask,
            Some(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)))
        );
        assert!(s.flags.flag2 && !s.flags.flag1);
        let s = ok("-A -u 10.1.1.3:5060 -p --pe sip").service.unwrap();
        assert_eq!(s.scheduler, Scheduler::Wlc);
        assert_eq!(s.persistence, Some(360));
        assert_eq!(s.pe, Some(PersistenceEngine::Sip));
        assert!(ok("-A -u 10.1.1.1:53 -o").service.unwrap().one_packet);
    }

    #[test]
    fn options_in_any_order_and_names_for_ports() {
        let s = ok("-A -p 60 -s rr -t 10.2.0.9:80").service.unwrap();
        assert_eq!((s.scheduler, s.persistence), (Scheduler::Rr, Some(60)));
        let r = ok("-a -t 10.3.0.1:http -r 10.3.1.2:http-alt -m");
        assert_eq!(r.service.unwrap().key.port(), 80);
        assert_eq!(r.dest.unwrap().key.port, 8080);
        let r = ok("-a -u 10.3.0.2:domain -r 10.3.1.3 -m");
        assert_eq!(r.dest.unwrap().key.port, 53);
    }

    #[test]
    fn fwmark_and_ipv6_services() {
        let s = ok("-A -f 11 -6 -p -M 64").service.unwrap();
        assert_eq!(s.key, ServiceKey::fwmark(Family::Inet6, 11));
        assert_eq!(s.netmask, Some(Netmask::V6(64)));
        let s = ok("-A -t [2001:db8::100]:80 -p 300 -M 128")
            .service
            .unwrap();
        assert_eq!(s.netmask, None, "host mask is normalised");
        // ipvsadm 1.31 -S prints mark 4294967295 as -1.
        let s = ok("-A -f -1 -s rr").service.unwrap();
        assert_eq!(s.key, ServiceKey::fwmark(Family::Inet, u32::MAX));
        let s = ok("-A -f -2147483648 -s rr").service.unwrap();
        assert_eq!(s.key, ServiceKey::fwmark(Family::Inet, 1 << 31));
    }

    #[test]
    fn real_server_ports_follow_ipvsadm() {
        // Lab: DR and tunnel servers take the service port; NAT keeps its own.
        let d = ok("-a -t 192.168.10.120:80 -r 192.168.10.12:8080 -g")
            .dest
            .unwrap();
        assert_eq!(d.key.port, 80);
        let d = ok("-a -t 192.168.10.120:80 -r 192.168.10.13:8080 -m -w 5")
            .dest
            .unwrap();
        assert_eq!((d.key.port, d.forward, d.weight), (8080, Forward::Masq, 5));
        let d = ok("-a -t 192.168.10.120:80 -r 192.168.10.11").dest.unwrap();
        assert_eq!((d.key.port, d.forward), (80, Forward::Route));
        let d = ok("-a -f 10 -r 192.168.10.13:8443 -g").dest.unwrap();
        assert_eq!(d.key.port, 8443, "fwmark servers keep their port");
        let d = ok("-a -f 10 -r 192.168.10.11").dest.unwrap();
        assert_eq!(d.key.port, 0);
        // Lab: `-a -r 10.2.1.12 -m -t 10.2.0.9:80` gives port 0: lvsh refuses to guess.
        let f = err("-a -r 10.2.1.12 -m -t 10.2.0.9:80");
        assert_eq!(f.problem, Problem::ServerBeforeService);
        // With an explicit port the order does not matter.
        let d = ok("-a -r 10.2.1.13:8080 -m -t 10.2.0.9:80").dest.unwrap();
        assert_eq!(d.key.port, 8080);
    }

    #[test]
    fn tunnels_and_thresholds() {
        let d = ok("-a -t 10.1.1.6:80 -r 10.1.2.6 -i --tun-type gue --tun-port 6080 --tun-csum -x 100 -y 50")
            .dest
            .unwrap();
        assert_eq!(
            d.forward,
            Forward::Tunnel {
                kind: TunnelKind::Gue,
                port: 6080,
                checksum: TunnelChecksum::Csum
            }
        );
        assert_eq!((d.upper_threshold, d.lower_threshold), (100, 50));
        let d = ok("-a -t 10.1.1.6:80 -r 2001:db8::31 -i").dest.unwrap();
        assert_eq!(
            d.forward,
            Forward::Tunnel {
                kind: TunnelKind::Ipip,
                port: 0,
                checksum: TunnelChecksum::None
            }
        );
        assert_eq!(d.key.port, 80);
    }

    #[test]
    fn lab_verified_refusals() {
        let cases: &[(&str, &str, &str)] = &[
            ("-A -t 10.3.0.1:0 -s rr", "-t 10.3.0.1:0", "port 0"),
            ("-A -t 10.3.0.1:53 -s rr -o", "-o", "UDP"),
            ("-A -6 -f 5", "-6", "`-f`"),
            (
                "-A -t 10.3.0.1:80 -s rr -b sh-port",
                "sh-port",
                "needs scheduler `sh`",
            ),
            (
                "-a -t 10.3.0.1:80 -r [2001:db8::5]:80 -g",
                "-r [2001:db8::5]:80",
                "ipv6",
            ),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -m --tun-type gue",
                "--tun-type",
                "tunnel",
            ),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -i --tun-type gue",
                "--tun-type gue",
                "--tun-port",
            ),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -i --tun-type gre --tun-remcsum",
                "--tun-remcsum",
                "gre",
            ),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -i -m",
                "-m",
                "forwarding method",
            ),
            ("-a -t 10.3.0.1:80 -r 10.3.1.1 -y 5", "-y 5", "above upper"),
            ("-A -t 10.3.0.1:80 -p abc", "abc", "persistence timeout"),
            ("-A -t 10.3.0.1:80 -p 0", "0", "out of range"),
            ("-A -f 0", "0", "fwmark"),
            ("-A -t 10.3.0.1:80 -s rr extra", "extra", "unexpected"),
            ("-A -t 10.3.0.1:80 -s rr -s wlc", "-s", "second scheduler"),
            ("-A -t 10.3.0.1:80 -f 3", "-f", "second virtual service"),
            ("-A -t 10.3.0.1:80 -w 3", "-w", "cannot be used"),
            ("--set 100 20", "--set", "three timeouts"),
            ("-A -t 10.3.0.1:80 -s rr -E", "-E", "second command"),
            ("-A -f 5 -p -M 64 -6", "64", "IPv6"),
            ("-A -p -M 64 -t [2001:db8::1]:80", "64", "IPv6"),
            (
                "-A -f 7 -6 -p -M 255.255.255.0",
                "255.255.255.0",
                "IPv6 netmask",
            ),
            ("-A -t 10.3.0.1:80 -s rrr", "rrr", "unknown scheduler"),
            (
                "-A -u 10.3.0.1:5060 -p --pe nosuch",
                "nosuch",
                "persistence engine",
            ),
            ("-t 10.3.0.1:80 -A", "-t", "not a command"),
            ("-R", "-R", "no place"),
            ("10.0.0.1", "10.0.0.1", "needs a command"),
            ("-a -t 10.3.0.1:80", "-a", "real server"),
            ("--start-daemon primary", "primary", "sync daemon state"),
            ("-L -c --timeout", "--timeout", "conflicts"),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -w 100000",
                "100000",
                "weight",
            ),
        ];
        for (line, token, text) in cases {
            let f = err(line);
            assert_eq!(at(line, &f), *token, "{line}: {:?}", f.problem);
            let msg = f.problem.to_string();
            assert!(msg.contains(text), "{line}: `{msg}` lacks `{text}`");
        }
        assert_eq!(
            err("-A -t 10.3.0.1:80 -s rrr").help.as_deref(),
            Some("did you mean `rr`?")
        );
    }

    #[test]
    fn timeouts_and_daemons() {
        let r = ok("--set 901 0 301");
        assert_eq!(r.command, Command::SetTimeouts);
        assert_eq!(
            r.timeouts,
            Timeouts {
                tcp: Some(901),
                tcp_fin: None,
                udp: Some(301)
            }
        );
        let r = ok(
            "--start-daemon master --mcast-interface d0 --syncid 5 --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 3 --sync-maxlen 1000",
        );
        let d = r.daemon.unwrap();
        assert_eq!(d.state, DaemonState::Master);
        assert_eq!(d.interface, "d0");
        assert_eq!(d.syncid, 5);
        assert_eq!(d.group, Some("239.1.1.1".parse().unwrap()));
        assert_eq!((d.port, d.ttl, d.maxlen), (Some(9000), Some(3), Some(1000)));
        // ipvsadm's default interface.
        assert_eq!(
            ok("--start-daemon backup").daemon.unwrap().interface,
            "eth0"
        );
        assert_eq!(
            ok("--stop-daemon backup").command,
            Command::StopDaemon(DaemonState::Backup)
        );
        assert!(
            err("--start-daemon master --mcast-group 10.0.0.1")
                .help
                .is_some()
        );
    }

    #[test]
    fn no_op_commands_parse() {
        assert_eq!(ok("-L -n").command, Command::List);
        assert_eq!(ok("-Z -t 10.0.0.1:80").command, Command::Zero);
        assert_eq!(ok("-S -n").command, Command::Save);
        assert_eq!(ok("-C").command, Command::Flush);
        assert_eq!(ok("--clear").command, Command::Flush);
    }
}
