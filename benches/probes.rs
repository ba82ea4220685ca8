//! The cost of health probes at the daemon's scale: 2,000 servers every 2 s is 1,000
//! probes a second on one thread. N probes of each kind against loopback servers:
//! all at once (burst); spread evenly over 2 s, one timer per probe (paced); and over
//! 2 s in ticks of 10 ms that start every probe due (ticked, 10 per tick). The probes
//! run on this thread's single-threaded runtime, the servers on another thread; the
//! CPU time is this thread's (getrusage), which on loopback includes the kernel's work
//! for the servers' side of each packet exchange too.
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
        "{:<16} {:<6} {:>9} {:>12} {:>10} {:>11}",
        "kind", "mode", "wall", "cpu/probe", "of it sys", "cpu share"
    );
    let cases = [
        ("tcp", &tcp_check, tcp),
        ("http", &http_check, http),
        ("http contains", &contains_check, http),
        ("https insecure", &https_check, https),
    ];
    // `cargo bench --bench probes -- http` runs the rows whose kind holds "http".
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for (name, check, address) in cases {
        if !only.is_empty() && !only.iter().any(|o| name.contains(o.as_str())) {
            continue;
        }
        for mode in [Mode::Burst, Mode::Paced, Mode::Ticked] {
            let row = runtime.block_on(run(Some(check), Target::direct(address), n, mode));
            print_row(name, mode, n, &row);
        }
    }
    // What the timers cost without any probe.
    for mode in [Mode::Paced, Mode::Ticked] {
        let row = runtime.block_on(run(None, Target::direct(tcp), n, mode));
        print_row("timers only", mode, n, &row);
    }
    let rss = max_rss_kib();
    println!(
        "peak RSS of the whole process (probes and servers): {} MiB",
        rss / 1024
    );
}

struct Row {
    wall: Duration,
    cpu: (Duration, Duration),
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Burst,
    Paced,
    Ticked,
}

const TICK: Duration = Duration::from_millis(10);

/// Burst: the share of one core that 1,000 such probes a second take; paced and
/// ticked: the share the run itself took (its CPU over its 2 s).
fn print_row(name: &str, mode: Mode, n: usize, row: &Row) {
    let (user, sys) = row.cpu;
    let per_probe = (user + sys) / n as u32;
    let share = if mode != Mode::Burst {
        (user + sys).as_secs_f64() / PERIOD.as_secs_f64()
    } else {
        per_probe.as_secs_f64() * 1_000.0
    };
    println!(
        "{name:<16} {:<6} {:>9.1?} {:>12.1?} {:>9.0}% {:>10.2}%",
        match mode {
            Mode::Burst => "burst",
            Mode::Paced => "paced",
            Mode::Ticked => "ticked",
        },
        row.wall,
        per_probe,
        sys.as_secs_f64() / (user + sys).as_secs_f64() * 100.0,
        share * 100.0
    );
}

/// N probes, spawned as tasks (which also proves a probe's future is `Send`), each
/// one up; `None` runs the timers alone. A burst gets 30 s: thousands of handshakes
/// at once queue up, which the daemon never does.
async fn run(check: Option<&Check>, target: Target, n: usize, mode: Mode) -> Row {
    let check = check.map(|c| Check {
        timeout_ms: if mode == Mode::Burst {
            30_000
        } else {
            c.timeout_ms
        },
        ..c.clone()
    });
    let cpu = thread_cpu();
    let start = Instant::now();
    let step = PERIOD / n as u32;
    let mut tasks = Vec::with_capacity(n);
    let mut next_tick = start;
    for i in 0..n {
        let due = start + step * i as u32;
        match mode {
            Mode::Burst => {}
            Mode::Paced => tokio::time::sleep_until(due.into()).await,
            Mode::Ticked if due >= next_tick => {
                tokio::time::sleep_until(next_tick.into()).await;
                next_tick += TICK;
            }
            Mode::Ticked => {}
        }
        if let Some(check) = check.clone() {
            tasks.push(tokio::spawn(async move { probe(&check, &target).await }));
        }
    }
    for task in tasks {
        let outcome: Outcome = task.await.unwrap();
        assert!(outcome.ok, "{outcome:?}");
    }
    if mode != Mode::Burst {
        // The whole period, so that its idle wakeups count too.
        tokio::time::sleep_until((start + PERIOD).into()).await;
    }
    Row {
        wall: start.elapsed(),
        cpu: minus(thread_cpu(), cpu),
    }
}

fn minus(a: (Duration, Duration), b: (Duration, Duration)) -> (Duration, Duration) {
    (a.0 - b.0, a.1 - b.1)
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

/// This thread's (user, system) CPU time.
fn thread_cpu() -> (Duration, Duration) {
    let usage = rusage(libc::RUSAGE_THREAD);
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    (time(usage.ru_utime), time(usage.ru_stime))
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
