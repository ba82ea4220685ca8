//! What the kernel sends back on the IPVS generic-netlink socket, as lvsh reads it:
//! one datagram split into messages, each classified (ACK, DONE, data), the data
//! messages' attributes decoded as every reader would (family lookup, GET_INFO,
//! GET_CONFIG, the service, destination and daemon dumps), refusals worded, and the
//! decoded objects assembled into the observed model that `plan` and `show` use.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsh::backend::{
    IpvsOp,
    ipvs::{
        config::decode_timeouts,
        constants::{IPVS_CMD_ATTR_DAEMON, IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE, IpvsCmd},
        daemon::decode_daemon,
        dest::decode_dest,
        explain::{command_error, op_error},
        info::decode_info,
        netlink::entry,
        request::{Answer, CTRL_ATTR_FAMILY_ID, answer},
        service::decode_service,
        wire::{Table, messages},
    },
};
use lvsh::model::{
    Balancer, DaemonState, Dest, DestKey, Family, Protocol, Service, ServiceKey, Timeouts,
};

fuzz_target!(|data: &[u8]| {
    let mut services = Vec::new();
    let mut dests = Vec::new();
    let mut b = Balancer::default();
    for m in messages(data) {
        let Ok(m) = m else { break };
        let a = match answer(&m) {
            Ok(a) => a,
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        };
        match a {
            Answer::Ack { errno, text } if errno != 0 => refused(errno, text),
            Answer::Done { errno } if errno != 0 => refused(errno, None),
            Answer::Data { attrs, .. } => {
                let _ = Table::<3>::parse(attrs).map(|t| t.u16(CTRL_ATTR_FAMILY_ID, "id"));
                if let Ok(info) = decode_info(attrs) {
                    let _ = info.to_string();
                }
                if let Ok(t) = decode_timeouts(attrs) {
                    b.timeouts = t;
                }
                if let Ok(Some(nest)) = entry(attrs, IPVS_CMD_ATTR_SERVICE) {
                    match decode_service(nest) {
                        Ok(s) => services.push(s),
                        Err(e) => drop(e.to_string()),
                    }
                }
                if let Ok(Some(nest)) = entry(attrs, IPVS_CMD_ATTR_DEST) {
                    for family in [Family::Inet, Family::Inet6] {
                        match decode_dest(nest, family) {
                            Ok(d) => dests.push(d),
                            Err(e) => drop(e.to_string()),
                        }
                    }
                }
                if let Ok(Some(nest)) = entry(attrs, IPVS_CMD_ATTR_DAEMON) {
                    match decode_daemon(nest) {
                        Ok(d) => drop(b.daemons.insert(d.state, d)),
                        Err(e) => drop(e.to_string()),
                    }
                }
            }
            _ => {}
        }
    }
    // As `Netlink::read_all` assembles them (every destination under each service).
    dests.sort_by_key(|d| d.key);
    for mut s in services {
        for d in &dests {
            s.dests.insert(d.key, d.clone());
        }
        b.services.insert(s.key, s);
    }
    lvsh_fuzz::observed(&b);
});

/// The words for a refusal, for a request of every kind.
fn refused(errno: i32, text: Option<&str>) {
    let key = ServiceKey::inet(Protocol::Tcp, [10, 0, 0, 1].into(), 80);
    let dest = Dest::new(DestKey {
        address: [10, 0, 0, 2].into(),
        port: 80,
    });
    let ops = [
        IpvsOp::AddService(Service::new(key)),
        IpvsOp::EditService(Service::new(ServiceKey::fwmark(Family::Inet6, 1))),
        IpvsOp::DelService(key),
        IpvsOp::AddDest(key, dest.clone()),
        IpvsOp::EditDest(key, dest.clone()),
        IpvsOp::DelDest(key, dest.key),
        IpvsOp::SetTimeouts(Timeouts::default()),
        IpvsOp::DelDaemon(DaemonState::Backup),
    ];
    for op in &ops {
        let _ = op_error(op, errno, text).to_string();
    }
    for cmd in [
        IpvsCmd::GetService,
        IpvsCmd::Zero,
        IpvsCmd::Flush,
        IpvsCmd::GetInfo,
    ] {
        let _ = command_error(cmd, errno, text).to_string();
    }
}
