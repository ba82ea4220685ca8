//! The generic-netlink socket to the kernel's IPVS family.
//!
//! Writes are batched: many requests per `sendmsg`, each with its own sequence
//! number. The kernel handles the whole batch inside that `sendmsg`, in order, and
//! goes on after a failed request. It answers every failed request (an error with
//! its sequence number, even unasked), so only the batch's last request asks for an
//! ACK (NLM_F_ACK): when that arrives every earlier answer has, and a request with
//! no answer succeeded. That spares the kernel an answer to build and queue and us
//! a receive per successful request. The answers must fit in the socket's receive
//! buffer (else the kernel drops them and reports ENOBUFS, and the write is an
//! error that makes the caller re-read the state).
//!
//! Reads are dumps, one at a time: a socket runs one dump at a time (a second dump
//! request while one is in progress is refused with EBUSY), and the kernel only
//! continues a dump when we read. A service's destinations take a dump of their own,
//! so a read of many services spreads those dumps over a few sockets, one thread
//! each, where there are CPUs to run them: the dumps are the read's whole cost.
//!
//! The kernel sizes every datagram of a dump after the longest receive a socket
//! has ever asked for (at most 32 KiB), and kernels built with init_on_alloc (the
//! default of Debian's and Ubuntu's) zero each one: a destination dump, a few
//! hundred bytes and two datagrams, cost two zeroed 32 KiB allocations, most of
//! a read. So every socket receives at most a page ([`rx_len`]), which puts the
//! kernel back on its own small datagrams, except the one that lists the
//! services: there many entries share each datagram, and every datagram walks
//! the service table from its start, so small ones would cost more than they save.

use super::Error;
use super::batch::Units;
use super::config::decode_timeouts;
use super::constants::*;
use super::daemon::decode_daemon;
use super::dest::decode_dest;
use super::explain::{command_error, op_error};
use super::fault::Fault;
use super::info::{Info, decode_info};
use super::request::{
    Answer, CTRL_ATTR_FAMILY_ID, NLM_F_ACK, answer, encode_dump, encode_get_family, encode_op,
    op_cmd, request,
};
use super::service::{decode_service, encode_service_key};
use super::wire::{DecodeError, Encoder, Table, messages};
use crate::backend::{GoOn, Ipvs, IpvsOp, KernelError, modprobe};
use crate::model::{Balancer, Dest, Dests, Service, ServiceKey, SyncDaemon, Timeouts};
use neli::{
    consts::socket::{Msg, NlFamily},
    socket::NlSocket,
    utils::Groups,
};
use std::{
    collections::BTreeSet,
    fs::File,
    io,
    os::fd::AsRawFd,
    path::Path,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::Duration,
};

/// Bytes of requests per `sendmsg`.
const BATCH_BYTES: usize = 64 * 1024;
/// A unit (a new service and its destinations) may make a batch this large (about
/// 2,000 destinations): the kernel refuses a `sendmsg` larger than the socket's send
/// buffer, whose default (`net.core.wmem_default`, 208 KiB) this stays below.
const UNIT_BYTES: usize = 192 * 1024;
/// Receive buffer asked for: room for the ACKs of a whole batch.
const RCVBUF: usize = 4 << 20;
/// Receive-buffer budget one queued ACK may use (its skb's truesize, rounded up).
const ACK_COST: usize = 1024;
/// The receive length of the socket that lists services: the kernel's largest
/// dump datagram (32 KiB), with room to spare.
const LIST_RX_LEN: usize = 64 * 1024;
/// No kernel answer takes this long; a hang is reported instead of waited out.
const RECV_TIMEOUT: Duration = Duration::from_secs(60);
/// Services to read before a read uses more than one socket: a small read (the
/// re-read after a watch tick's weights) has little to spread.
const PARALLEL_DUMPS_MIN: usize = 64;
/// Sockets one read uses at most.
const DUMP_SOCKETS_MAX: usize = 4;

type CmdTable<'a> = Table<'a, { IPVS_CMD_ATTR_MAX as usize + 1 }>;

/// A socket to IPVS in one network namespace.
pub struct Netlink {
    sock: NlSocket,
    /// Where further sockets of this one are opened.
    netns: Option<String>,
    family: u16,
    seq: u32,
    tx: Encoder,
    /// As long as every receive asks for; see [`rx_len`].
    rx: Vec<u8>,
    /// The socket that lists services, opened by the first read.
    lister: Option<Box<Netlink>>,
    max_batch: usize,
    fault: Fault,
}

impl Netlink {
    /// Opens a socket in the current network namespace, or in `/run/netns/NAME`, and
    /// checks that IPVS is there and that we may use it.
    pub fn open(netns: Option<&str>) -> Result<Self, Error> {
        let mut nl = Netlink::bare(netns, 0, BATCH_BYTES + 4096, rx_len(), Fault::from_env())?;
        nl.max_batch = (nl.size_buffers()? / ACK_COST).clamp(8, 4096);
        if let Some(n) = nl.fault.batch {
            nl.max_batch = n.max(1);
        }
        nl.family = nl.resolve_family()?;
        nl.info()?;
        Ok(nl)
    }

    /// The generic-netlink id of the IPVS family.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// How many requests go in one `sendmsg` at most (also bounded by 64 KiB).
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Version and connection table size.
    pub fn info(&mut self) -> Result<Info, Error> {
        let attrs = self.get(IpvsCmd::GetInfo)?;
        Ok(decode_info(&attrs)?)
    }

    /// The three global timeouts (a kernel without TCP or UDP leaves those `None`).
    pub fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let attrs = self.get(IpvsCmd::GetConfig)?;
        Ok(decode_timeouts(&attrs)?)
    }

    /// Every service, without destinations (over the socket kept for that).
    pub fn services(&mut self) -> Result<Vec<Service>, Error> {
        let lister = match &mut self.lister {
            Some(l) => l,
            None => self.lister.insert(Box::new(self.sibling(LIST_RX_LEN)?)),
        };
        let mut out = Vec::new();
        lister.dump(IpvsCmd::GetService, None, |attrs| {
            if let Some(nest) = entry(attrs, IPVS_CMD_ATTR_SERVICE)? {
                out.push(decode_service(nest)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The destinations of one service (none if it does not exist).
    pub fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>, Error> {
        let family = key.family();
        let mut out = Vec::new();
        self.dump(IpvsCmd::GetDest, Some(key), |attrs| {
            if let Some(nest) = entry(attrs, IPVS_CMD_ATTR_DEST)? {
                out.push(decode_dest(nest, family)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The running sync daemons.
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        let mut out = Vec::new();
        self.dump(IpvsCmd::GetDaemon, None, |attrs| {
            if let Some(nest) = entry(attrs, IPVS_CMD_ATTR_DAEMON)? {
                out.push(decode_daemon(nest)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Zeroes the counters of one service, or of everything.
    pub fn zero(&mut self, service: Option<&ServiceKey>) -> Result<(), Error> {
        self.command(IpvsCmd::Zero, service)
    }

    /// Deletes every service (and so every destination); daemons and timeouts stay.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.command(IpvsCmd::Flush, None)
    }

    /// Everything [`Ipvs::read`] returns: services with destinations and stats,
    /// timeouts, daemons.
    pub fn read_all(&mut self) -> Result<Balancer, Error> {
        self.read_reusing(|_| None)
    }

    fn read_reusing<'a>(
        &mut self,
        known: impl Fn(&ServiceKey) -> Option<&'a Dests>,
    ) -> Result<Balancer, Error> {
        let services = self.services()?;
        let keys: Vec<ServiceKey> = services
            .iter()
            .map(|s| s.key)
            .filter(|k| known(k).is_none())
            .collect();
        let mut read = self.dests_of(&keys)?.into_iter();
        let mut b = Balancer::default();
        for mut s in services {
            s.dests = match known(&s.key) {
                Some(dests) => dests.clone(),
                None => read.next().expect("one answer per service asked"),
            };
            b.services.insert(s.key, s);
        }
        b.timeouts = self.timeouts()?;
        for d in self.daemons()? {
            b.daemons.insert(d.state, d);
        }
        Ok(b)
    }

    /// The destinations of one service as the model keeps them. The kernel lists
    /// them newest first; sorted, each insert is an append.
    fn sorted_dests(&mut self, key: &ServiceKey) -> Result<Dests, Error> {
        let mut read = self.dests(key)?;
        read.sort_by_key(|d| d.key);
        let mut dests = Dests::new();
        for d in read {
            dests.insert(d.key, d);
        }
        Ok(dests)
    }

    /// The destinations of each of `keys`, in order: over this socket alone, or over
    /// [`dump_sockets`] of them, each thread taking the next service not yet taken.
    /// The error returned is that of the first service (in `keys`' order) that failed
    /// among those read; the threads stop taking services after a failure.
    fn dests_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Dests>, Error> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let sockets = dump_sockets(keys.len(), cpus);
        if sockets <= 1 {
            return keys.iter().map(|k| self.sorted_dests(k)).collect();
        }
        let mut others = (1..sockets)
            .map(|_| self.sibling(rx_len()))
            .collect::<Result<Vec<_>, _>>()?;
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let take = |nl: &mut Netlink| {
            let mut got = vec![];
            while !failed.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(key) = keys.get(i) else { break };
                let r = nl.sorted_dests(key);
                failed.fetch_or(r.is_err(), Ordering::Relaxed);
                got.push((i, r));
            }
            got
        };
        let mut answers: Vec<(usize, Result<Dests, Error>)> = std::thread::scope(|s| {
            let threads: Vec<_> = others.iter_mut().map(|nl| s.spawn(|| take(nl))).collect();
            let mut all = take(self);
            for t in threads {
                all.extend(t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            all
        });
        answers.sort_unstable_by_key(|(i, _)| *i);
        answers.into_iter().map(|(_, r)| r).collect()
    }

    /// A socket in `netns` (this thread's namespace for `None`) whose receives ask for
    /// `rx` bytes, its options not set.
    fn bare(
        netns: Option<&str>,
        family: u16,
        tx: usize,
        rx: usize,
        fault: Fault,
    ) -> Result<Netlink, Error> {
        let sock = match netns {
            None => socket()?,
            Some(name) => in_netns(name, socket)?,
        };
        Ok(Netlink {
            sock,
            netns: netns.map(str::to_string),
            family,
            seq: 0,
            tx: Encoder::with_capacity(tx),
            rx: vec![0; rx],
            lister: None,
            max_batch: 1,
            fault,
        })
    }

    /// Another socket to IPVS in the same namespace, for dumps only, receiving `rx`
    /// bytes at a time.
    fn sibling(&self, rx: usize) -> Result<Netlink, Error> {
        let nl = Netlink::bare(
            self.netns.as_deref(),
            self.family,
            4096,
            rx,
            Fault::default(),
        )?;
        set_recv_timeout(nl.sock.as_raw_fd(), RECV_TIMEOUT)
            .map_err(|e| io_error("set the receive timeout", e))?;
        // Best effort, as for the first socket: without it an error has no text.
        let _ = nl.sock.enable_ext_ack(true);
        Ok(nl)
    }

    /// Sends `ops` in batches that never split a unit (see [`super::batch`]); one
    /// result per request sent, in order. `go_on` is asked before every batch with
    /// the results so far; sending stops when it says no, so the results may cover a
    /// prefix of `ops` only. An `Err` means the conversation itself failed (socket
    /// error, lost ACKs): earlier batches, and possibly requests of the current one,
    /// were applied, so re-read the state.
    pub fn execute_ops(
        &mut self,
        ops: &[IpvsOp],
        go_on: &mut GoOn<'_>,
    ) -> Result<Vec<Result<(), KernelError>>, Error> {
        let mut results: Vec<Result<(), KernelError>> = Vec::with_capacity(ops.len());
        let mut next = 0;
        let mut done = 0;
        while next < ops.len() && go_on(&results) {
            self.fault.before_batch(done);
            let first = next;
            let base = self.seq.wrapping_add(1);
            self.tx.clear();
            let mut units = Units::default();
            // Requests refused before sending (too long to encode), by batch index.
            let mut unsent: Vec<(usize, KernelError)> = vec![];
            // Where each request encoded in this batch starts: (batch index, byte).
            let mut starts: Vec<(usize, usize)> = vec![];
            // The last place this batch may end: a request that starts a unit, with
            // the bytes encoded before it.
            let mut cut = (first, 0);
            while next < ops.len() {
                let n = next - first;
                if units.starts_unit(&ops[next]) {
                    cut = (next, self.tx.len());
                    if n > 0 && (self.tx.len() >= BATCH_BYTES || n >= self.max_batch) {
                        break;
                    }
                } else if self.tx.len() >= UNIT_BYTES || n >= self.max_batch {
                    // A unit too large for one batch: end before it if anything
                    // precedes it, else cut it.
                    if cut.0 > first {
                        next = cut.0;
                        self.tx.truncate(cut.1);
                    }
                    break;
                }
                let at = self.tx.len();
                if let Err(e) = encode_op(
                    &mut self.tx,
                    self.family,
                    base.wrapping_add(n as u32),
                    &ops[next],
                ) {
                    // Never sent: refused here, as the kernel refuses an oversized message.
                    unsent.push((
                        n,
                        KernelError {
                            errno: libc::EMSGSIZE,
                            message: format!("{} cannot be sent: {e}", op_cmd(&ops[next]).name()),
                        },
                    ));
                } else {
                    starts.push((n, at));
                }
                next += 1;
            }
            unsent.retain(|(n, _)| *n < next - first);
            starts.retain(|(n, _)| *n < next - first);
            // The request whose ACK ends the batch's answers.
            let last = starts.last().map(|&(n, at)| {
                self.tx.add_flags(at, NLM_F_ACK);
                n
            });
            self.seq = base.wrapping_add((next - first - 1) as u32);
            let batch = &ops[first..next];
            let mut slots: Vec<Option<Result<(), KernelError>>> = vec![None; batch.len()];
            for (n, e) in unsent {
                slots[n] = Some(Err(e));
            }
            if let Some(last) = last {
                self.send()?;
                receive(&self.sock, &mut self.rx, |seq, a| {
                    let k = seq.wrapping_sub(base) as usize;
                    match (slots.get_mut(k), a) {
                        (Some(slot), Answer::Ack { errno, text }) => {
                            *slot = Some(match errno {
                                0 => Ok(()),
                                e => Err(op_error(&batch[k], e, text)),
                            });
                            Ok(k == last)
                        }
                        _ => Ok(false),
                    }
                })?;
            }
            // Unanswered before the last request's ACK: succeeded.
            results.extend(slots.into_iter().map(|r| r.unwrap_or(Ok(()))));
            done += 1;
            self.fault.after_batch(done)?;
        }
        Ok(results)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send(&mut self) -> Result<(), Error> {
        let bytes = self.tx.finish()?;
        let sent = self
            .sock
            .send(bytes, Msg::empty())
            .map_err(|e| io_error("send", e))?;
        if sent != self.tx.len() {
            return Err(Error::Io {
                context: "send",
                source: io::Error::other(format!("sent {sent} of {} bytes", self.tx.len())),
            });
        }
        Ok(())
    }

    /// A request answered by one reply message (GET_INFO, GET_CONFIG): its attributes.
    fn get(&mut self, cmd: IpvsCmd) -> Result<Vec<u8>, Error> {
        let seq = self.next_seq();
        self.tx.clear();
        request(&mut self.tx, self.family, NLM_F_ACK, seq, cmd, |_| {});
        self.send()?;
        let mut reply = None;
        let mut failed = None;
        receive(&self.sock, &mut self.rx, |s, a| {
            if s != seq {
                return Ok(false);
            }
            match a {
                Answer::Data { attrs, .. } => reply = Some(attrs.to_vec()),
                Answer::Ack { errno: 0, .. } => return Ok(true),
                Answer::Ack { errno, text } if errno != 0 => {
                    failed = Some(kernel_failure(cmd, errno, text));
                    return Ok(true);
                }
                Answer::Done { errno } if errno != 0 => {
                    failed = Some(kernel_failure(cmd, errno, None));
                    return Ok(true);
                }
                _ => {}
            }
            Ok(false)
        })?;
        match (failed, reply) {
            (Some(e), _) => Err(e),
            (None, Some(r)) => Ok(r),
            (None, None) => Err(Error::Io {
                context: cmd.name(),
                source: io::Error::other("the kernel acknowledged without a reply"),
            }),
        }
    }

    /// A request answered by an ACK only (ZERO, FLUSH).
    fn command(&mut self, cmd: IpvsCmd, service: Option<&ServiceKey>) -> Result<(), Error> {
        let seq = self.next_seq();
        self.tx.clear();
        request(&mut self.tx, self.family, NLM_F_ACK, seq, cmd, |e| {
            if let Some(k) = service {
                encode_service_key(e, k);
            }
        });
        self.send()?;
        let mut failed = None;
        receive(&self.sock, &mut self.rx, |s, a| match a {
            Answer::Ack { errno, text } if s == seq => {
                if errno != 0 {
                    failed = Some(kernel_failure(cmd, errno, text));
                }
                Ok(true)
            }
            _ => Ok(false),
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// Runs one dump to its end, handing each entry's top-level attributes to `each`.
    /// The dump is always read to its end, even after `each` failed: a socket whose
    /// dump is left unfinished refuses the next one with EBUSY.
    fn dump(
        &mut self,
        cmd: IpvsCmd,
        service: Option<&ServiceKey>,
        mut each: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let seq = self.next_seq();
        self.tx.clear();
        encode_dump(&mut self.tx, self.family, seq, cmd, service);
        self.send()?;
        let mut failed = None;
        receive(&self.sock, &mut self.rx, |s, a| {
            if s != seq {
                return Ok(false);
            }
            match a {
                Answer::Data { attrs, .. } => {
                    if failed.is_none() {
                        failed = each(attrs).err();
                    }
                    Ok(false)
                }
                Answer::Done { errno } | Answer::Ack { errno, .. } => {
                    if errno != 0 && failed.is_none() {
                        failed = Some(kernel_failure(cmd, errno, None));
                    }
                    Ok(true)
                }
                Answer::Other => Ok(false),
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// Asks for [`RCVBUF`] (forcing past `rmem_max` as root), a receive timeout and
    /// capped ACKs; returns the receive buffer the kernel granted.
    fn size_buffers(&mut self) -> Result<usize, Error> {
        let fd = self.sock.as_raw_fd();
        if setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            RCVBUF as libc::c_int,
        )
        .is_err()
        {
            setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF as libc::c_int)
                .map_err(|e| io_error("set the receive buffer", e))?;
        }
        // Best effort: without them we only get longer error ACKs or no text.
        let _ = setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (1 << 20) as libc::c_int,
        );
        let _ = setsockopt(fd, libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, 1);
        let _ = self.sock.enable_ext_ack(true);
        set_recv_timeout(fd, RECV_TIMEOUT).map_err(|e| io_error("set the receive timeout", e))?;
        let mut granted: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: granted and len are valid for writes of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&mut granted as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(io_error(
                "read the receive buffer size",
                io::Error::last_os_error(),
            ));
        }
        Ok(granted.max(0) as usize)
    }

    /// Looks up "IPVS"; when unknown, loads `ip_vs` the way ipvsadm does and asks
    /// once more. (Looking the family up already makes the kernel try the module
    /// alias, but only where it can run modprobe itself.)
    fn resolve_family(&mut self) -> Result<u16, Error> {
        match self.lookup_family(IPVS_GENL_NAME)? {
            Some(id) => Ok(id),
            None => {
                let loaded = modprobe::load("ip_vs");
                match (self.lookup_family(IPVS_GENL_NAME)?, loaded) {
                    (Some(id), _) => Ok(id),
                    (None, Err(why)) => Err(Error::NoIpvs(Box::new(why))),
                    (None, Ok(())) => Err(Error::NoIpvs(Box::new(modprobe::NotLoaded {
                        module: "ip_vs".into(),
                        cause: modprobe::Cause::Failed,
                        detail: "`modprobe ip_vs` succeeded, but generic netlink family `IPVS` \
                                 is still not registered"
                            .into(),
                    }))),
                }
            }
        }
    }

    fn lookup_family(&mut self, name: &str) -> Result<Option<u16>, Error> {
        let seq = self.next_seq();
        self.tx.clear();
        encode_get_family(&mut self.tx, seq, name);
        self.send()?;
        let mut id = None;
        let mut status = 0;
        receive(&self.sock, &mut self.rx, |s, a| {
            if s != seq {
                return Ok(false);
            }
            match a {
                Answer::Data { attrs, .. } => {
                    id = Table::<3>::parse(attrs)?
                        .u16(CTRL_ATTR_FAMILY_ID, "CTRL_ATTR_FAMILY_ID")?;
                    Ok(false)
                }
                Answer::Ack { errno, .. } => {
                    status = errno;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })?;
        match status {
            0 => Ok(id),
            libc::ENOENT => Ok(None),
            e => Err(io_error(
                "look up the IPVS family",
                io::Error::from_raw_os_error(e),
            )),
        }
    }
}

impl Ipvs for Netlink {
    fn read(&mut self) -> Result<Balancer, Error> {
        self.read_all()
    }

    fn execute(
        &mut self,
        ops: &[IpvsOp],
        go_on: &mut GoOn<'_>,
    ) -> Result<Vec<Result<(), KernelError>>, Error> {
        self.execute_ops(ops, go_on)
    }

    fn read_changed(
        &mut self,
        before: &Balancer,
        changed: &BTreeSet<ServiceKey>,
    ) -> Result<Balancer, Error> {
        self.read_reusing(|key| {
            if changed.contains(key) {
                return None;
            }
            before.services.get(key).map(|s| &s.dests)
        })
    }
}

/// How many sockets read the destinations of `services` services with `cpus` CPUs:
/// one per CPU up to [`DUMP_SOCKETS_MAX`], and one for a small read.
fn dump_sockets(services: usize, cpus: usize) -> usize {
    if services < PARALLEL_DUMPS_MIN {
        1
    } else {
        cpus.clamp(1, DUMP_SOCKETS_MAX)
    }
}

/// The receive length of a socket that does not list services: a page, at most 8
/// KiB. It is above the kernel's own size for a dump datagram (NLMSG_GOODSIZE:
/// the same, less a socket buffer's overhead), so the kernel makes each datagram
/// this long at most: any fits, and costs a small allocation.
fn rx_len() -> usize {
    // SAFETY: sysconf only reads a system value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    rx_len_for(usize::try_from(page).unwrap_or(4096))
}

fn rx_len_for(page: usize) -> usize {
    page.clamp(4096, 8192)
}

/// Reads datagrams and hands every answer to `f` with its sequence number until `f`
/// says it has seen the last one it waits for.
fn receive(
    sock: &NlSocket,
    rx: &mut [u8],
    mut f: impl FnMut(u32, Answer<'_>) -> Result<bool, Error>,
) -> Result<(), Error> {
    loop {
        let n = match sock.recv(&mut *rx, Msg::TRUNC) {
            Ok((n, _)) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Err(Error::Overrun),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io_error(
                    "receive",
                    io::Error::new(io::ErrorKind::TimedOut, "no answer from the kernel"),
                ));
            }
            Err(e) => return Err(io_error("receive", e)),
        };
        if n > rx.len() {
            return Err(io_error(
                "receive",
                io::Error::other(format!(
                    "a {n}-byte datagram did not fit in {} bytes",
                    rx.len()
                )),
            ));
        }
        for m in messages(&rx[..n]) {
            let m = m?;
            if f(m.seq, answer(&m)?)? {
                return Ok(());
            }
        }
    }
}

/// The nest of type `ty` in one dump entry's top-level attributes.
#[doc(hidden)] // public for the fuzz target of the decoders
pub fn entry(attrs: &[u8], ty: u16) -> Result<Option<&[u8]>, DecodeError> {
    Ok(CmdTable::parse(attrs)?.get(ty))
}

fn kernel_failure(cmd: IpvsCmd, errno: i32, text: Option<&str>) -> Error {
    if errno == libc::EPERM {
        Error::NotRoot
    } else {
        Error::Kernel(command_error(cmd, errno, text))
    }
}

fn io_error(context: &'static str, source: io::Error) -> Error {
    Error::Io { context, source }
}

fn socket() -> Result<NlSocket, Error> {
    NlSocket::connect(NlFamily::Generic, None, Groups::empty())
        .map_err(|e| io_error("create the generic netlink socket", e))
}

/// An int option; [`setsockopt_raw`] takes any value.
fn setsockopt(fd: i32, level: i32, name: i32, value: libc::c_int) -> io::Result<()> {
    setsockopt_raw(fd, level, name, &value)
}

fn setsockopt_raw<T>(fd: i32, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: fd is an open socket and the value pointer is valid for its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `SO_RCVTIMEO`: a receive that waits longer fails with `WouldBlock`.
pub(crate) fn set_recv_timeout(fd: i32, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    setsockopt_raw(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
}

/// Runs `f` with this thread inside the named network namespace, then switches back.
/// A netlink socket stays bound to the namespace it was created in.
pub(crate) fn in_netns<T>(name: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    let missing = || Error::NoNetns(name.to_string());
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(missing());
    }
    let target = File::open(Path::new("/run/netns").join(name)).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => missing(),
        _ => netns_error(name, "open", e),
    })?;
    let home = File::open("/proc/thread-self/ns/net")
        .map_err(|e| netns_error(name, "remember the current namespace before entering", e))?;
    switch_netns(&target).map_err(|e| match e.raw_os_error() {
        Some(libc::EPERM) => Error::NotRoot,
        _ => netns_error(name, "enter", e),
    })?;
    let result = f();
    switch_netns(&home).map_err(|e| netns_error(name, "leave", e))?;
    result
}

/// Moves this thread into namespace `name` for good (`lvsh watch --netns`: its
/// probes leave from there); threads it starts later are born there.
pub(crate) fn enter_netns(name: &str) -> Result<(), Error> {
    in_netns(name, || Ok(()))?;
    let target =
        File::open(Path::new("/run/netns").join(name)).map_err(|e| netns_error(name, "open", e))?;
    switch_netns(&target).map_err(|e| netns_error(name, "enter", e))
}

fn switch_netns(ns: &File) -> io::Result<()> {
    // SAFETY: setns takes an open namespace file descriptor and affects this thread.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn netns_error(name: &str, action: &'static str, source: io::Error) -> Error {
    Error::Netns {
        name: name.to_string(),
        action,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ipvs::request::{NLM_F_MULTI, NLMSG_DONE};
    use crate::backend::ipvs::{dest, service};
    use crate::model::Family;

    /// A datagram shaped like a GET_SERVICE dump reply, through the same steps as
    /// `services()`: framing, answer kinds, entry nests, decoding.
    #[test]
    fn dump_datagrams_decode_to_services() {
        let want = service::tests::variants();
        let mut e = Encoder::new();
        for s in &want {
            let m = e.message(0x22, NLM_F_MULTI, 5, IPVS_CMD_NEW_SERVICE, 1);
            e.attr(
                IPVS_CMD_ATTR_SERVICE | crate::backend::ipvs::wire::NLA_F_NESTED,
                &service::tests::kernel_nest(s),
            );
            e.end(m);
        }
        let done = e.message(NLMSG_DONE, NLM_F_MULTI, 5, 0, 0);
        e.end(done);
        let mut got = Vec::new();
        let mut finished = false;
        for m in messages(e.bytes()) {
            match answer(&m.unwrap()).unwrap() {
                Answer::Data { cmd, attrs } => {
                    assert_eq!(cmd, IPVS_CMD_NEW_SERVICE);
                    let nest = entry(attrs, IPVS_CMD_ATTR_SERVICE).unwrap().unwrap();
                    got.push(decode_service(nest).unwrap());
                }
                Answer::Done { errno: 0 } => finished = true,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(finished);
        assert_eq!(got, want);
        let d = dest::tests::variants().remove(0);
        let mut e = Encoder::new();
        e.attr(IPVS_CMD_ATTR_DEST, &dest::tests::kernel_nest(&d));
        let nest = entry(e.bytes(), IPVS_CMD_ATTR_DEST).unwrap().unwrap();
        assert_eq!(decode_dest(nest, Family::Inet).unwrap(), d);
        assert_eq!(entry(e.bytes(), IPVS_CMD_ATTR_SERVICE).unwrap(), None);
    }

    #[test]
    fn receives_ask_for_a_page_at_most_8_kib() {
        assert_eq!(rx_len_for(4096), 4096);
        assert_eq!(rx_len_for(16384), 8192);
        assert_eq!(rx_len_for(65536), 8192);
        assert!(rx_len() <= LIST_RX_LEN / 8);
    }

    #[test]
    fn large_reads_use_a_socket_per_cpu_up_to_four() {
        assert_eq!(dump_sockets(0, 8), 1);
        assert_eq!(dump_sockets(PARALLEL_DUMPS_MIN - 1, 8), 1);
        assert_eq!(dump_sockets(PARALLEL_DUMPS_MIN, 1), 1);
        assert_eq!(dump_sockets(PARALLEL_DUMPS_MIN, 2), 2);
        assert_eq!(dump_sockets(2_000, 3), 3);
        assert_eq!(dump_sockets(2_000, 64), DUMP_SOCKETS_MAX);
        assert_eq!(dump_sockets(2_000, 0), 1);
    }

    #[test]
    fn unknown_namespaces_are_named() {
        for name in ["lvsh-test-no-such-netns", "../etc", ""] {
            match Netlink::open(Some(name)) {
                Err(Error::NoNetns(n)) => assert_eq!(n, name),
                Err(e) => panic!("{name}: unexpected error {e}"),
                Ok(_) => panic!("{name}: opened a namespace that does not exist"),
            }
        }
        assert_eq!(
            Error::NoNetns("x".into()).to_string(),
            "network namespace `x` does not exist (no /run/netns/x; create it with `ip netns add x`)"
        );
    }
}
