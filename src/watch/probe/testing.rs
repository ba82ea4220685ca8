//! Helpers for the probe tests: a runtime, checks, loopback peers that misbehave on
//! purpose, and the capabilities `SO_MARK` needs.

use crate::model::{Check, CheckKind};
use socket2::{Domain, Socket, Type};
use std::{
    future::Future,
    net::{SocketAddr, TcpStream},
    time::Duration,
};

/// The daemon's kind of runtime: one thread, IO and timers.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

pub fn check(kind: CheckKind, timeout_ms: u32) -> Check {
    Check {
        timeout_ms,
        ..Check::new(kind)
    }
}

/// A loopback port nobody listens on (bound, then released).
pub fn unused_port(bind: &str) -> SocketAddr {
    std::net::TcpListener::bind(bind)
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A listener whose accept queue is full, so the kernel drops further SYNs and a
/// connect hangs: the offline way to make a TCP connect time out.
pub fn full_listener() -> (Socket, Vec<TcpStream>, SocketAddr) {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    listener.listen(0).unwrap();
    let address = listener.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    for _ in 0..8 {
        match TcpStream::connect_timeout(&address, Duration::from_millis(100)) {
            Ok(stream) => queued.push(stream),
            Err(_) => return (listener, queued, address),
        }
    }
    panic!("the accept queue of a backlog-0 listener never filled");
}

const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn capget() -> [CapData; 2] {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: the header and two data structs of the v3 ABI, both alive for the call.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    assert_eq!(rc, 0, "capget: {}", std::io::Error::last_os_error());
    data
}

const NET_CAPS: u32 = 1 << CAP_NET_ADMIN | 1 << CAP_NET_RAW;

/// Whether this thread may set `SO_MARK` (either capability does, since Linux 5.17).
pub fn has_net_admin() -> bool {
    capget()[0].effective & NET_CAPS != 0
}

/// Runs `f` on a thread without CAP_NET_ADMIN and CAP_NET_RAW: capabilities are per
/// thread, so the rest of the test process (root in CI) keeps them.
pub fn without_net_caps<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        let mut data = capget();
        data[0].effective &= !NET_CAPS;
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        // SAFETY: as in `capget`; only lowers this thread's effective set.
        let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
        assert_eq!(rc, 0, "capset: {}", std::io::Error::last_os_error());
        assert!(!has_net_admin());
        f()
    })
    .join()
    .unwrap()
}
