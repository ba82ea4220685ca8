//! The rtnetlink socket for addresses, opened in the namespace lvsh works on (a
//! netlink socket stays in the namespace it was made in).

use super::{Addrs, Error, refusal, wire};
use crate::{
    backend::{KernelError, ipvs::netlink::in_netns, ipvs::wire::messages},
    model::{Addresses, HostAddress, Origin, address::IFAPROT_LVSH},
};
use neli::{
    consts::socket::{Msg, NlFamily},
    socket::NlSocket,
    utils::Groups,
};
use std::{collections::BTreeMap, io};

/// Dump datagrams are at most 32 KiB.
const RX_LEN: usize = 64 * 1024;

pub struct Rtnl {
    netns: Option<String>,
    sock: Option<NlSocket>,
    seq: u32,
    rx: Vec<u8>,
    /// Interface indexes by name, from the last link dump.
    links: BTreeMap<String, u32>,
}

impl Rtnl {
    /// Addresses of the current namespace, or of `/run/netns/NAME`. The socket is
    /// opened on first use: a script without addresses never needs it.
    pub fn new(netns: Option<&str>) -> Self {
        Rtnl {
            netns: netns.map(str::to_string),
            sock: None,
            seq: 0,
            rx: vec![0; RX_LEN],
            links: BTreeMap::new(),
        }
    }

    fn socket(&mut self) -> Result<&NlSocket, Error> {
        if self.sock.is_none() {
            let open = || {
                NlSocket::connect(NlFamily::Route, None, Groups::empty()).map_err(|e| {
                    crate::backend::ipvs::Error::Io {
                        context: "create the rtnetlink socket",
                        source: io::Error::other(e),
                    }
                })
            };
            let sock = match &self.netns {
                None => open(),
                Some(name) => in_netns(name, open),
            }
            .map_err(|e| Error::Netns(Box::new(e)))?;
            self.sock = Some(sock);
        }
        Ok(self.sock.as_ref().expect("opened above"))
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let sock = self.socket()?;
        sock.send(bytes, Msg::empty()).map_err(|source| Error::Io {
            context: "send",
            source,
        })?;
        Ok(())
    }

    /// Sends a dump request and hands each entry's payload to `f`.
    fn dump(
        &mut self,
        request: impl FnOnce(u32) -> Vec<u8>,
        want: u16,
        context: &'static str,
        mut f: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.send(&request(seq))?;
        let mut rx = std::mem::take(&mut self.rx);
        let result = (|| loop {
            let n = self.recv(&mut rx)?;
            for m in messages(&rx[..n]) {
                let m = m.map_err(|e| Error::Decode(e.to_string()))?;
                if m.seq != seq {
                    continue;
                }
                match m.ty {
                    wire::NLMSG_DONE => return Ok(()),
                    wire::NLMSG_ERROR => {
                        let errno = wire::decode_error(m.payload)
                            .map_err(|e| Error::Decode(e.to_string()))?;
                        return Err(Error::Refused {
                            context,
                            source: refusal(errno),
                        });
                    }
                    ty if ty == want => f(m.payload)?,
                    _ => {}
                }
            }
        })();
        self.rx = rx;
        result
    }

    fn recv(&mut self, rx: &mut [u8]) -> Result<usize, Error> {
        let sock = self.socket()?;
        loop {
            match sock.recv(&mut *rx, Msg::empty()) {
                Ok((n, _)) => return Ok(n.min(rx.len())),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Io {
                        context: "receive",
                        source,
                    });
                }
            }
        }
    }

    fn read_links(&mut self) -> Result<(), Error> {
        let mut links = BTreeMap::new();
        self.dump(
            wire::get_links,
            wire::RTM_NEWLINK,
            "list the interfaces",
            |p| {
                let (index, name) =
                    wire::decode_link(p).map_err(|e| Error::Decode(e.to_string()))?;
                links.insert(name, index);
                Ok(())
            },
        )?;
        self.links = links;
        Ok(())
    }

    /// Sends one address change and waits for its ACK.
    fn change(&mut self, a: &HostAddress, proto: Option<u8>) -> Result<(), KernelError> {
        let io = |e: Error| KernelError {
            errno: libc::EIO,
            message: e.to_string(),
        };
        if !self.links.contains_key(&a.interface) {
            self.read_links().map_err(io)?;
        }
        let Some(&index) = self.links.get(&a.interface) else {
            return Err(refusal(libc::ENODEV));
        };
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.send(&wire::change_address(
            seq, index, &a.address, a.prefix, proto,
        ))
        .map_err(io)?;
        let mut rx = std::mem::take(&mut self.rx);
        let result = (|| loop {
            let n = self.recv(&mut rx).map_err(io)?;
            for m in messages(&rx[..n]) {
                let m = m.map_err(|e| io(Error::Decode(e.to_string())))?;
                if m.seq == seq && m.ty == wire::NLMSG_ERROR {
                    return match wire::decode_error(m.payload) {
                        Ok(0) => Ok(()),
                        Ok(errno) => Err(refusal(errno)),
                        Err(e) => Err(io(Error::Decode(e.to_string()))),
                    };
                }
            }
        })();
        self.rx = rx;
        result
    }
}

impl Addrs for Rtnl {
    fn read(&mut self) -> Result<Addresses, Error> {
        self.read_links()?;
        let names: BTreeMap<u32, String> = self
            .links
            .iter()
            .map(|(name, index)| (*index, name.clone()))
            .collect();
        let mut out = Addresses::default();
        out.interfaces = Some(self.links.keys().cloned().collect());
        self.dump(
            wire::get_addresses,
            wire::RTM_NEWADDR,
            "list the addresses",
            |p| {
                let Some(e) = wire::decode_address(p).map_err(|e| Error::Decode(e.to_string()))?
                else {
                    return Ok(());
                };
                let Some(interface) = names.get(&e.index) else {
                    return Ok(());
                };
                let a = HostAddress {
                    interface: interface.clone(),
                    address: e.address,
                    prefix: e.prefix,
                };
                if e.proto == IFAPROT_LVSH {
                    out.insert(a, Origin::NONE);
                } else {
                    out.others.insert(a);
                }
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn add(&mut self, a: &HostAddress) -> Result<(), KernelError> {
        // An older kernel drops IFA_PROTO silently: the address would be there
        // without lvsh's mark, and lvsh could never tell it from someone else's.
        if let Some(release) = kernel_release().filter(|r| !has_ifa_proto(r)) {
            return Err(KernelError {
                errno: libc::EOPNOTSUPP,
                message: format!(
                    "Linux {release} cannot mark an address as lvsh's (IFA_PROTO came with 5.18)"
                ),
            });
        }
        self.change(a, Some(IFAPROT_LVSH))
    }

    fn delete(&mut self, a: &HostAddress) -> Result<(), KernelError> {
        self.change(a, None)
    }
}

/// `uname -r`.
fn kernel_release() -> Option<String> {
    // SAFETY: uname fills the struct it is given; all-zero is a valid start.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = u
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8(bytes).ok()
}

/// Whether a kernel of release `r` (`6.1.0-13-cloud-amd64`) keeps `IFA_PROTO`
/// (5.18 or later); a release lvsh cannot read is given the benefit of the doubt.
fn has_ifa_proto(r: &str) -> bool {
    let mut parts = r.split(|c: char| !c.is_ascii_digit());
    match (
        parts.next().and_then(|p| p.parse::<u32>().ok()),
        parts.next().and_then(|p| p.parse::<u32>().ok()),
    ) {
        (Some(major), Some(minor)) => (major, minor) >= (5, 18),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::has_ifa_proto;

    #[test]
    fn ifa_proto_needs_5_18() {
        assert!(has_ifa_proto("6.1.0-13-cloud-amd64"));
        assert!(has_ifa_proto("5.18.0"));
        assert!(!has_ifa_proto("5.17.15-arch1"));
        assert!(!has_ifa_proto("4.19.0-26-amd64"));
        assert!(has_ifa_proto("weird"));
    }
}
