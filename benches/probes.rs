//! The cost of health probes at the daemon's scale: 2,000 servers every 2 s is 1,000
//! probes a second on one thread. N probes of each kind against loopback servers,
//! first all at once (burst), then spread over 2 s as the daemon runs them (paced).
//! The probes run on this thread's single-threaded runtime; the servers on another
//! thread, so the CPU time (getrusage of this thread) is the probes' alone.
//!
//! `cargo bench --bench probes` runs N = 2,000; without `--bench` (as `cargo test
//! --benches` runs it) a quick N = 50 proves it still works.

use lvsh::model::{Check, CheckKind, HttpCheck};
use lvsh::watch::probe::{Outcome, Target, probe};
use rcgen::generate_simple_self_signed;
use socket2::{Domain, Socket, Type};
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        crypto::ring,
        pki_types::{CertificateDer, PrivateKeyDer},
    },
};

const PERIOD: Duration = Duration::from_secs(2);
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";

fn main() {
    let n = if std::env::args().any(|a| a == "--bench") {
        2_000
    } else {
        50
    };
    raise_open_files();
    let (tcp, http, https) = servers();
    let tcp_check = Check::new(CheckKind::Tcp);
    let http_check = Check::new(CheckKind::Http(HttpCheck::new("/healthz", false)));
    let mut contains = HttpCheck::new("/healthz", false);
    contains.contains = Some("ok".into());
    let contains_check = Check::new(CheckKind::Http(contains));
    let mut insecure = HttpCheck::new("/healthz", true);
    insecure.insecure = true;
    let https_check = Check::new(CheckKind::Http(insecure));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("{n} probes per row; cpu = this thread's user+sys time (getrusage)");
    println!(
        "{:<16} {:<6} {:>9} {:>12} {:>14}",
        "kind", "mode", "wall", "cpu/probe", "cpu share"
    );
    let cases = [
        ("tcp", &tcp_check, tcp),
        ("http", &http_check, http),
        ("http contains", &contains_check, http),
        ("https insecure", &https_check, https),
    ];
    for (name, check, address) in cases {
        for paced in [false, true] {
            let row = runtime.block_on(run(check, Target::direct(address), n, paced));
            let per_probe = row.cpu / n as u32;
            // Burst: the share of one core at 1,000 probes a second; paced: the share
            // the run itself took (its CPU over its 2 s).
            let share = if paced {
                row.cpu.as_secs_f64() / PERIOD.as_secs_f64()
            } else {
                per_probe.as_secs_f64() * 1_000.0
            };
            println!(
                "{name:<16} {:<6} {:>9.1?} {:>12.1?} {:>13.2}%",
                if paced { "paced" } else { "burst" },
                row.wall,
                per_probe,
                share * 100.0
            );
        }
    }
    let rss = max_rss_kib();
    println!("peak RSS of the whole process (probes and servers): {} MiB", rss / 1024);
}

struct Row {
    wall: Duration,
    cpu: Duration,
}

/// N probes, spawned as tasks (which also proves a probe's future is `Send`), all at
/// once or one every PERIOD/N; every one must be up.
async fn run(check: &Check, target: Target, n: usize, paced: bool) -> Row {
    let cpu = thread_cpu();
    let start = Instant::now();
    let step = PERIOD / n as u32;
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        if paced {
            tokio::time::sleep_until((start + step * i as u32).into()).await;
        }
        let check = check.clone();
        tasks.push(tokio::spawn(async move { probe(&check, &target).await }));
    }
    for task in tasks {
        let outcome: Outcome = task.await.unwrap();
        assert!(outcome.ok, "{outcome:?}");
    }
    Row {
        wall: start.elapsed(),
        cpu: thread_cpu() - cpu,
    }
}

/// A tcp server that accepts and closes, an http one and an https one that answer
/// 200 "ok" to anything; all on one thread of their own.
fn servers() -> (SocketAddr, SocketAddr, SocketAddr) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let tcp = listener();
            let http = listener();
            let https = listener();
            tx.send((
                tcp.local_addr().unwrap(),
                http.local_addr().unwrap(),
                https.local_addr().unwrap(),
            ))
            .unwrap();
            tokio::spawn(async move {
                loop {
                    drop(tcp.accept().await);
                }
            });
            tokio::spawn(async move {
                loop {
                    let (mut s, _) = http.accept().await.unwrap();
                    tokio::spawn(async move {
                        let mut buf = [0; 1024];
                        let _ = s.read(&mut buf).await;
                        let _ = s.write_all(RESPONSE).await;
                    });
                }
            });
            let acceptor = acceptor();
            loop {
                let (s, _) = https.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut s) = acceptor.accept(s).await {
                        let mut buf = [0; 1024];
                        let _ = s.read(&mut buf).await;
                        let _ = s.write_all(RESPONSE).await;
                        let _ = s.shutdown().await;
                    }
                });
            }
        });
    });
    rx.recv().unwrap()
}

/// A loopback listener with a backlog that holds a whole burst.
fn listener() -> TcpListener {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(4096).unwrap();
    socket.set_nonblocking(true).unwrap();
    TcpListener::from_std(socket.into()).unwrap()
}

fn acceptor() -> TlsAcceptor {
    let signed = generate_simple_self_signed(vec!["lvsh.test".into()]).unwrap();
    let cert: CertificateDer<'static> = signed.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(signed.signing_key.serialize_der().into());
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

fn thread_cpu() -> Duration {
    let usage = rusage(libc::RUSAGE_THREAD);
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn max_rss_kib() -> i64 {
    rusage(libc::RUSAGE_SELF).ru_maxrss
}

fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut usage = std::mem::zeroed();
        assert_eq!(libc::getrusage(who, &mut usage), 0);
        usage
    }
}

/// A burst holds two sockets per probe open at once (both ends are in this process).
fn raise_open_files() {
    // SAFETY: get/setrlimit on a struct we own.
    unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}
