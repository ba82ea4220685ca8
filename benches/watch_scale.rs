//! `lvsh watch` at the issue's scale: 2,000 real servers checked every 2 s. The
//! real daemon loop (`watch::run`) with the real prober, over an in-memory kernel
//! (this host has no IPVS), against servers on loopback or behind a veth pair.
//!
//! Three processes, so that each number belongs to one of them:
//! - this one runs the rows and prints what each daemon reports;
//! - `--serve`: the real servers, one listener per server on its own address
//!   (`127.1.x.y:8080`, or `10.99.x.y:8080` behind the veth) with an accept task
//!   each, on one thread;
//! - `--floor`: instead of the daemon, the least a prober can do: blocking
//!   connect and close (with a FIN, as lvsh's `tcp()` does) from one thread, at
//!   the daemon's rate; for `http`, the same request sent and its answer read to
//!   the end. Its CPU is what the kernel alone costs for those probes.
//! - `--daemon`: the daemon alone. Its CPU time is `getrusage(RUSAGE_SELF)` over
//!   the measured window (which opens after the warm-up and once every server
//!   that does not flap is up, or after 10 minutes), its memory `VmHWM` (peak,
//!   start-up included) and `VmRSS` (sampled each second).
//!
//! The script is 1,000 services of 4 servers each over 2,000 servers, every
//! server in two services: 4,000 (service, server) pairs that dedupe to 2,000
//! probes. Rows: `tcp()` and its floor, `http("/")` and its floor, and `tcp()`
//! with 1% of the servers flapping (10 s down, 10 s up), which runs the apply
//! path; an apply's time is from the tick's kernel read to the daemon's
//! `wrote:` line. Then the first four rows again with the servers behind a veth
//! pair, in a namespace of their own on the other CPU ([`Net::Veth`], as root):
//! on loopback the kernel does the servers' side of each connection in the
//! prober's time, which a director whose servers are other machines does not.
//!
//! `cargo bench --bench watch_scale [-- ROW...]` runs 20 s of warm-up and 60 s
//! measured per row; without `--bench` (as `cargo test --benches` runs it) 40
//! servers for a few seconds prove it still works.

use lvsh::{
    apply::{Journal, Kernel},
    backend::{GoOn, Ipvs, IpvsOp, KernelError, Nft, addr::Addrs, sysctl::Sysctl},
    model::{Balancer, MarkRule, ServiceKey, SysctlValue, Sysctls, Timeouts},
    watch::{self, ProbeKey, Prober, Request, Store},
};
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    io::{BufRead, BufReader, Read, Write},
    net::{Ipv4Addr, SocketAddr},
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// The script `lvsh watch` would run: `services` services of 4 servers each,
/// drawn in turn from `servers` addresses (`net.x.y`, see [`Net`]).
const SCRIPT: &str = r#"
let services = param("services", 1000);
let servers = param("servers", 2000);
let kind = param("check", "tcp");
let net = param("net", "127.1");
for i in 0..services {
    let vip = `10.1.${i / 250}.${i % 250 + 1}`;
    let svc = service(vip, 80).scheduler("wrr")
        .check(if kind == "http" { http("/") } else { tcp() });
    for j in 0..4 {
        let k = (4 * i + j) % servers;
        svc.rs(rs(`${net}.${k / 250}.${k % 250 + 1}:8080`).nat().weight(j + 1));
    }
}
"#;

const PORT: u16 = 8080;
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";

/// What the bench counts of the daemon's probes.
#[derive(Default)]
struct Counts {
    done: AtomicU64,
    /// Failed probes by reason.
    failed: Mutex<BTreeMap<String, u64>>,
    per_address: Mutex<HashMap<SocketAddr, u32>>,
    /// 1 while the window is open.
    counting: AtomicU64,
}

/// One row of the table.
#[derive(Clone, Debug)]
struct Scenario {
    name: &'static str,
    check: &'static str,
    servers: usize,
    services: usize,
    /// How many servers flap, and their period (half down, half up).
    flapping: usize,
    flap_period: Duration,
    warm_up: Duration,
    measured: Duration,
    net: Net,
}

/// Where the servers are, and so whose CPU does their side of each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Net {
    /// `127.1.x.y` in the bench's own namespace: the kernel handles a loopback
    /// packet in the sender's context, so the daemon's system time holds part of
    /// the servers' side (their SYN handling, new sockets, the request's receipt).
    Loopback,
    /// `10.99.x.y` in a namespace of their own behind a veth pair, the daemon (or
    /// floor) in another, pinned to CPU 0 and the servers to CPU 1, with receive
    /// packet steering sending each side's packets to its own CPU: as a director
    /// and servers that are other machines, the servers' side runs on CPU 1 and
    /// the director's receive processing on CPU 0.
    Veth,
}

impl Net {
    fn prefix(self) -> [u8; 2] {
        match self {
            Net::Loopback => [127, 1],
            Net::Veth => [10, 99],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Net::Loopback => "loopback",
            Net::Veth => "veth",
        }
    }

    fn parse(text: &str) -> Net {
        match text {
            "loopback" => Net::Loopback,
            "veth" => Net::Veth,
            _ => panic!("no network `{text}`"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--serve") => serve(&args[1..]),
        Some("--daemon") => daemon(&args[1..]),
        Some("--floor") => floor(&args[1..]),
        _ => orchestrate(&args),
    }
}

fn scenarios(full: bool) -> Vec<Scenario> {
    let base = if full {
        Scenario {
            name: "",
            check: "tcp",
            servers: 2_000,
            services: 1_000,
            flapping: 0,
            flap_period: Duration::from_secs(20),
            warm_up: Duration::from_secs(20),
            measured: Duration::from_secs(60),
            net: Net::Loopback,
        }
    } else {
        Scenario {
            name: "",
            check: "tcp",
            servers: 40,
            services: 20,
            flapping: 0,
            flap_period: Duration::from_secs(20),
            warm_up: Duration::from_secs(6),
            measured: Duration::from_secs(3),
            net: Net::Loopback,
        }
    };
    let flapping = base.servers / 100;
    let mut rows = vec![
        Scenario {
            name: "tcp",
            ..base.clone()
        },
        Scenario {
            name: "tcp floor",
            check: "floor",
            ..base.clone()
        },
        Scenario {
            name: "http",
            check: "http",
            ..base.clone()
        },
        Scenario {
            name: "http floor",
            check: "http floor",
            ..base.clone()
        },
        Scenario {
            name: "tcp 1% flapping",
            flapping,
            ..base.clone()
        },
        Scenario {
            name: "veth tcp",
            net: Net::Veth,
            ..base.clone()
        },
        Scenario {
            name: "veth tcp floor",
            check: "floor",
            net: Net::Veth,
            ..base.clone()
        },
        Scenario {
            name: "veth http",
            check: "http",
            net: Net::Veth,
            ..base.clone()
        },
        Scenario {
            name: "veth http floor",
            check: "http floor",
            net: Net::Veth,
            ..base.clone()
        },
    ];
    if !full {
        rows.truncate(1);
    }
    rows
}

// ---------------------------------------------------------------------------
// The orchestrator: one server process and one daemon process per row.

fn orchestrate(args: &[String]) {
    let full = args.iter().any(|a| a == "--bench");
    // `cargo bench --bench watch_scale -- flap` runs the rows whose name holds
    // "flap"; `-- =tcp` the row named "tcp" only.
    let only: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let exe = std::env::current_exe().unwrap();
    println!(
        "lvsh watch: the daemon's CPU over the measured window (getrusage RUSAGE_SELF of its process); \
         servers in another process"
    );
    let rows: Vec<Scenario> = scenarios(full)
        .into_iter()
        .filter(|s| {
            let picked = |o: &&String| match o.strip_prefix('=') {
                Some(name) => s.name == name,
                None => s.name.contains(o.as_str()),
            };
            only.is_empty() || only.iter().any(picked)
        })
        .collect();
    let veth = rows
        .iter()
        .any(|s| s.net == Net::Veth)
        .then(|| Veth::up(most_servers(&rows)));
    for s in rows {
        // A floor row is served like the check it is the floor of.
        let (served, runner) = match s.check {
            "floor" => ("tcp", "--floor"),
            "http floor" => ("http", "--floor"),
            check => (check, "--daemon"),
        };
        let (server_place, daemon_place) = match (&veth, s.net) {
            (Some(v), Net::Veth) => (Some((&v.servers, 1)), Some((&v.director, 0))),
            _ => (None, None),
        };
        let mut server = Command::new(&exe);
        server
            .args([
                "--serve",
                &s.servers.to_string(),
                served,
                &s.flapping.to_string(),
                &s.flap_period.as_millis().to_string(),
                s.net.name(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut server = place(&mut server, server_place).spawn().unwrap();
        let mut ready = String::new();
        BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready", "the servers did not start");
        let mut daemon = Command::new(&exe);
        daemon
            .args([
                runner,
                &s.servers.to_string(),
                &s.services.to_string(),
                s.check,
                &s.warm_up.as_millis().to_string(),
                &s.measured.as_millis().to_string(),
                &server.id().to_string(),
                &s.flapping.to_string(),
                s.net.name(),
            ])
            .stderr(Stdio::inherit());
        let out = place(&mut daemon, daemon_place).output().unwrap();
        // Closing its standard input ends the server process.
        drop(server.stdin.take());
        server.wait().unwrap();
        assert!(out.status.success(), "the daemon failed: {}", out.status);
        let report = String::from_utf8(out.stdout).unwrap();
        println!(
            "\n== {} ({} servers, {} services, check {} every 2 s{}{}) ==",
            s.name,
            s.servers,
            s.services,
            s.check,
            if s.flapping > 0 {
                format!(
                    ", {} flapping every {} s",
                    s.flapping,
                    s.flap_period.as_secs() / 2
                )
            } else {
                String::new()
            },
            match s.net {
                Net::Loopback => "",
                Net::Veth => "; servers behind a veth, their side on CPU 1, the daemon on CPU 0",
            }
        );
        print!("{report}");
    }
    drop(veth);
}

fn most_servers(rows: &[Scenario]) -> usize {
    rows.iter().map(|s| s.servers).max().unwrap_or(0)
}

/// Runs the child in a namespace (an open `/run/netns/NAME`) on one CPU.
fn place<'a>(cmd: &'a mut Command, at: Option<(&std::fs::File, usize)>) -> &'a mut Command {
    use std::os::{fd::AsRawFd, unix::process::CommandExt};
    let Some((netns, cpu)) = at else { return cmd };
    let fd = netns.as_raw_fd();
    // SAFETY: setns and sched_setaffinity are async-signal-safe system calls on
    // memory the closure owns.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut set = std::mem::zeroed::<libc::cpu_set_t>();
            libc::CPU_SET(cpu, &mut set);
            if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// The two namespaces of [`Net::Veth`]: `lvshb-director` (10.98.0.1, a route to
/// 10.99/16 through the servers' side) and `lvshb-servers` (10.98.0.2, every
/// server's address on `lo`), one veth pair between them, each side's received
/// packets steered to its CPU. Nothing of this machine's own namespace changes;
/// dropping it deletes both namespaces (and the pair with them).
struct Veth {
    director: std::fs::File,
    servers: std::fs::File,
}

const DIRECTOR_NS: &str = "lvshb-director";
const SERVERS_NS: &str = "lvshb-servers";

impl Veth {
    fn up(servers: usize) -> Veth {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "the veth rows make network namespaces: run them as root"
        );
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(
            cpus >= 2,
            "the veth rows need two CPUs, this machine has {cpus}"
        );
        Veth::remove();
        let ip = |args: &str| {
            let status = Command::new("ip")
                .args(args.split_whitespace())
                .status()
                .unwrap_or_else(|e| panic!("cannot run `ip`: {e}"));
            assert!(status.success(), "`ip {args}` failed: {status}");
        };
        ip(&format!("netns add {DIRECTOR_NS}"));
        ip(&format!("netns add {SERVERS_NS}"));
        ip(&format!(
            "-n {DIRECTOR_NS} link add lvshb0 type veth peer name lvshb1 netns {SERVERS_NS}"
        ));
        for (ns, dev, address) in [
            (DIRECTOR_NS, "lvshb0", "10.98.0.1/30"),
            (SERVERS_NS, "lvshb1", "10.98.0.2/30"),
        ] {
            ip(&format!("-n {ns} link set lo up"));
            ip(&format!("-n {ns} addr add {address} dev {dev}"));
            ip(&format!("-n {ns} link set {dev} up"));
        }
        ip(&format!(
            "-n {DIRECTOR_NS} route add 10.99.0.0/16 via 10.98.0.2 dev lvshb0"
        ));
        let mut batch = Command::new("ip")
            .args(["-n", SERVERS_NS, "-batch", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = String::new();
        for k in 0..servers {
            lines.push_str(&format!(
                "addr add {}/32 dev lo\n",
                server_address(Net::Veth, k)
            ));
        }
        batch
            .stdin
            .take()
            .unwrap()
            .write_all(lines.as_bytes())
            .unwrap();
        assert!(
            batch.wait().unwrap().success(),
            "adding the servers' addresses failed"
        );
        // Receive packet steering: each side's packets are handled on its CPU.
        for (ns, dev, mask) in [(DIRECTOR_NS, "lvshb0", 1), (SERVERS_NS, "lvshb1", 2)] {
            let status = Command::new("ip")
                .args(["netns", "exec", ns, "sh", "-c"])
                .arg(format!(
                    "echo {mask} > /sys/class/net/{dev}/queues/rx-0/rps_cpus"
                ))
                .status()
                .unwrap();
            assert!(status.success(), "steering {dev}'s packets failed");
        }
        let open = |ns: &str| std::fs::File::open(format!("/run/netns/{ns}")).unwrap();
        Veth {
            director: open(DIRECTOR_NS),
            servers: open(SERVERS_NS),
        }
    }

    fn remove() {
        for ns in [DIRECTOR_NS, SERVERS_NS] {
            let _ = Command::new("ip")
                .args(["netns", "delete", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        Veth::remove();
    }
}

// ---------------------------------------------------------------------------
// The servers.

fn server_address(net: Net, k: usize) -> Ipv4Addr {
    let [a, b] = net.prefix();
    Ipv4Addr::new(a, b, (k / 250) as u8, (k % 250 + 1) as u8)
}

/// `--serve SERVERS KIND FLAPPING PERIOD_MS NET`: binds every server, says `ready`,
/// serves until its standard input closes. Flapping servers are spread evenly
/// over the addresses and their phases over the period.
fn serve(args: &[String]) {
    let servers: usize = args[0].parse().unwrap();
    let http = args[1] == "http";
    let flapping: usize = args[2].parse().unwrap();
    let period = Duration::from_millis(args[3].parse().unwrap());
    let net = Net::parse(&args[4]);
    raise_open_files();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let start = tokio::time::Instant::now();
        let stride = servers.checked_div(flapping).unwrap_or(1).max(1);
        for k in 0..servers {
            let address = SocketAddr::new(server_address(net, k).into(), PORT);
            let listener = listener(address);
            let flap = flapping > 0 && k % stride == stride / 2 && k / stride < flapping;
            let phase = if flap {
                period * (k / stride) as u32 / flapping as u32
            } else {
                Duration::ZERO
            };
            tokio::spawn(async move {
                let mut listener = Some(listener);
                if !flap {
                    accept_loop(listener.take().unwrap(), http).await;
                    return;
                }
                // Up for the first half of each period, down for the second.
                let mut at = start + phase;
                loop {
                    let l = listener.take().unwrap_or_else(|| self::listener(address));
                    at += period / 2;
                    tokio::select! {
                        _ = accept_loop(l, http) => unreachable!(),
                        _ = tokio::time::sleep_until(at) => {}
                    }
                    at += period / 2;
                    tokio::time::sleep_until(at).await;
                }
            });
        }
        println!("ready");
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let mut sink = vec![];
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .unwrap();
    });
}

async fn accept_loop(listener: tokio::net::TcpListener, http: bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            continue;
        };
        if http {
            tokio::spawn(async move {
                let mut buf = [0; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(RESPONSE).await;
            });
        }
    }
}

fn listener(address: SocketAddr) -> tokio::net::TcpListener {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_reuse_address(true).unwrap();
    socket.bind(&address.into()).unwrap();
    socket.listen(1024).unwrap();
    socket.set_nonblocking(true).unwrap();
    tokio::net::TcpListener::from_std(socket.into()).unwrap()
}

// ---------------------------------------------------------------------------
// The daemon.

/// What the in-memory kernel and the log see, for the report.
#[derive(Default)]
struct Seen {
    /// The last full read of the kernel: where a tick's write starts.
    read_at: Option<Instant>,
    /// (when, how long) of every write that changed weights.
    applies: Vec<(Instant, Duration)>,
    /// (when, line) of every transition.
    transitions: Vec<(Instant, String)>,
    /// Each (service, server) pair's health by the transition lines: up or not,
    /// and how many are up.
    up: HashMap<String, bool>,
    up_count: usize,
    /// When the last pair rose while all were up for the first time.
    all_up_at: Option<Instant>,
    probes_line: String,
    errors: Vec<String>,
}

/// `--daemon SERVERS SERVICES KIND WARM_MS MEASURED_MS SERVER_PID FLAPPING NET`:
/// runs the daemon, measures it, prints the report.
fn daemon(args: &[String]) {
    let servers: usize = args[0].parse().unwrap();
    let services: usize = args[1].parse().unwrap();
    let kind = args[2].clone();
    let warm_up = Duration::from_millis(args[3].parse().unwrap());
    let measured = Duration::from_millis(args[4].parse().unwrap());
    let server_pid: u32 = args[5].parse().unwrap();
    let flapping: usize = args[6].parse().unwrap();
    let net = Net::parse(&args[7]);
    let pairs = 4 * services;

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("lb.rhai");
    std::fs::write(&script, SCRIPT).unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut ipvs = MemIpvs {
        state: Balancer {
            timeouts: Timeouts::KERNEL_DEFAULT,
            ..Balancer::default()
        },
        seen: seen.clone(),
    };
    let mut nft = MemNft::default();
    let mut sysctl = MemSysctl;
    let mut addr = MemAddrs;

    // The real prober, counted (one Arc per probe: the counting is not the daemon's cost).
    let counts: Arc<Counts> = Arc::default();
    let prober: Prober = {
        let real = lvsh::cli::prober();
        let counts = counts.clone();
        Arc::new(move |key: Arc<ProbeKey>| {
            let (real, counts) = (real.clone(), counts.clone());
            Box::pin(async move {
                let connect = key.connect;
                let result = real(key).await;
                if counts.counting.load(Ordering::Relaxed) == 1 {
                    counts.done.fetch_add(1, Ordering::Relaxed);
                    if !result.ok {
                        *counts
                            .failed
                            .lock()
                            .unwrap()
                            .entry(result.reason.clone())
                            .or_default() += 1;
                    }
                    *counts
                        .per_address
                        .lock()
                        .unwrap()
                        .entry(connect)
                        .or_default() += 1;
                }
                result
            })
        })
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let params = vec![
        ("services".to_string(), services.to_string()),
        ("servers".to_string(), servers.to_string()),
        ("check".to_string(), kind.clone()),
        ("net".to_string(), {
            let [a, b] = net.prefix();
            format!("{a}.{b}")
        }),
    ];
    let log_seen = seen.clone();
    let script_path = script.clone();
    let inputs_path = script.clone();
    let io = watch::Io {
        kernel: Kernel {
            ipvs: &mut ipvs,
            nft: &mut nft,
            sysctl: &mut sysctl,
            addr: &mut addr,
        },
        journal: Journal::at(dir.path().join("journal")),
        store: Store::at(dir.path().join("runtime.json")),
        lock_dir: dir.path().join("lock"),
        netns: None,
        script: "lb.rhai".into(),
        evaluate: Box::new(move || {
            let opts = lvsh::dsl::Options {
                params: params.clone(),
                ..Default::default()
            };
            lvsh::dsl::evaluate_file(&script_path, &opts)
                .map(|e| {
                    let mut b = e.balancer;
                    lvsh::state::canonical(&mut b);
                    b
                })
                .map_err(|e| format!("{:?}", miette::Report::new(e)))
        }),
        // As `lvsh watch` does every 2 s: looks at the script for a change.
        inputs: Box::new(move || {
            let meta = std::fs::metadata(&inputs_path).unwrap();
            let modified = meta.modified().unwrap();
            let since = modified.duration_since(std::time::UNIX_EPOCH).unwrap();
            meta.len() ^ since.as_nanos() as u64
        }),
        prober,
        log: Box::new(move |line: &str| {
            let now = Instant::now();
            let mut seen = log_seen.lock().unwrap();
            if line.starts_with("wrote: ") {
                if let Some(at) = seen.read_at.take() {
                    seen.applies.push((now, now - at));
                }
            } else if line.contains(" -> ") && line.starts_with("rs ") {
                seen.transitions.push((now, line.to_string()));
                if let Some((pair, rest)) = line.split_once(": ") {
                    let up = rest.contains("-> up");
                    let was = seen.up.insert(pair.to_string(), up).unwrap_or(false);
                    seen.up_count = seen.up_count + usize::from(up) - usize::from(was);
                }
                if seen.all_up_at.is_none() && seen.up_count == pairs {
                    seen.all_up_at = Some(now);
                }
            } else if line.starts_with("watching ") {
                seen.probes_line = line.to_string();
            } else if line.contains("error") || line.contains("not written") {
                eprintln!("daemon: {line}");
                seen.errors.push(line.to_string());
            }
        }),
        notify: Box::new(|_| {}),
        allow_mass_delete: false,
    };

    // The measuring thread: opens the window after the warm-up and once every
    // steady server is up (or after 10 minutes), samples the memory each second,
    // closes it and stops the daemon.
    let started = Instant::now();
    let measure = {
        let counts = counts.clone();
        let seen = seen.clone();
        std::thread::spawn(move || {
            std::thread::sleep(warm_up);
            let steady = pairs - 2 * flapping;
            while started.elapsed() < Duration::from_secs(600) {
                if seen.lock().unwrap().up_count >= steady {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            let cpu0 = process_cpu();
            let server0 = proc_cpu(server_pid);
            let idle0 = cpu0_idle(net);
            let t0 = Instant::now();
            counts.counting.store(1, Ordering::Relaxed);
            let mut rss = vec![];
            while t0.elapsed() < measured {
                std::thread::sleep(Duration::from_secs(1).min(measured));
                rss.push(status_kib("VmRSS"));
            }
            counts.counting.store(0, Ordering::Relaxed);
            let wall = t0.elapsed();
            let cpu1 = process_cpu();
            let server1 = proc_cpu(server_pid);
            let idle = cpu0_idle(net) - idle0;
            let _ = tx.send(Request::Stop);
            Window {
                t0,
                wall,
                user: cpu1.0 - cpu0.0,
                sys: cpu1.1 - cpu0.1,
                server: server1 - server0,
                idle,
                rss,
            }
        })
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(watch::run(io, rx, None)).unwrap();
    let w = measure.join().unwrap();
    let peak = status_kib("VmHWM");
    drop(runtime);

    let seen = seen.lock().unwrap();
    let cpu = w.user + w.sys;
    let in_window = |at: &Instant| *at >= w.t0 && *at <= w.t0 + w.wall;
    let up_at_start = seen
        .transitions
        .iter()
        .filter(|(at, _)| *at < w.t0)
        .fold(HashMap::new(), |mut m, (_, l)| {
            if let Some((pair, rest)) = l.split_once(": ") {
                m.insert(pair, rest.contains("-> up"));
            }
            m
        })
        .values()
        .filter(|u| **u)
        .count();
    let transitions = seen.transitions.iter().filter(|(at, _)| in_window(at));
    let (mut downs, mut ups) = (0, 0);
    for (_, line) in transitions {
        if line.contains("-> down") {
            downs += 1;
        } else if line.contains("-> up") {
            ups += 1;
        }
    }
    let done = counts.done.load(Ordering::Relaxed);
    let reasons = counts.failed.lock().unwrap().clone();
    let failed: u64 = reasons.values().sum();
    let mut reasons: Vec<(u64, String)> = reasons.into_iter().map(|(r, n)| (n, r)).collect();
    reasons.sort_unstable_by(|a, b| b.cmp(a));
    let per_address = counts.per_address.lock().unwrap();
    let counts: Vec<u32> = per_address.values().copied().collect();
    let mut rss = w.rss.clone();
    rss.sort_unstable();
    let pct = |d: Duration| d.as_secs_f64() / w.wall.as_secs_f64() * 100.0;
    println!("{} ({pairs} pairs)", seen.probes_line);
    println!(
        "every pair up {}; window opened after {:.1?} with {up_at_start} of {pairs} up",
        match seen.all_up_at {
            Some(at) => format!("{:.1?} after the start", at - started),
            None => "never".into(),
        },
        w.t0 - started
    );
    println!(
        "window {:.1?}: {done} probes ({:.1}/s of {} due), {failed} failed; {} addresses probed, {}..{} probes each",
        w.wall,
        done as f64 / w.wall.as_secs_f64(),
        servers / 2,
        counts.len(),
        counts.iter().min().unwrap_or(&0),
        counts.iter().max().unwrap_or(&0),
    );
    if !reasons.is_empty() {
        let top: Vec<String> = reasons
            .iter()
            .take(3)
            .map(|(n, r)| format!("{n}× {r}"))
            .collect();
        println!("failed probes by reason: {}", top.join("; "));
    }
    println!(
        "daemon cpu: {:.2?} = {:.2}% of one core (user {:.2}%, sys {:.2}%); {:.1} µs per probe",
        cpu,
        pct(cpu),
        pct(w.user),
        pct(w.sys),
        cpu.as_secs_f64() * 1e6 / done.max(1) as f64
    );
    director_share(net, w.wall, w.idle, pct);
    println!(
        "servers' process cpu (not the daemon's): {:.2}% of one core",
        pct(w.server)
    );
    println!(
        "daemon memory: peak (VmHWM) {:.1} MiB; steady VmRSS {:.1}..{:.1} MiB (median {:.1})",
        peak as f64 / 1024.0,
        rss[0] as f64 / 1024.0,
        rss[rss.len() - 1] as f64 / 1024.0,
        rss[rss.len() / 2] as f64 / 1024.0
    );
    let mut applies: Vec<Duration> = seen
        .applies
        .iter()
        .filter(|(at, _)| in_window(at))
        .map(|(_, d)| *d)
        .collect();
    applies.sort_unstable();
    let mut warm: Vec<Duration> = seen
        .applies
        .iter()
        .filter(|(at, _)| *at < w.t0)
        .map(|(_, d)| *d)
        .collect();
    warm.sort_unstable();
    println!(
        "transitions in the window: {downs} to down, {ups} to up (of pairs); applies: {}",
        applies.len()
    );
    if !applies.is_empty() {
        let q = |p: usize| applies[(applies.len() - 1) * p / 100];
        println!(
            "apply durations: min {:.1?}, median {:.1?}, p90 {:.1?}, max {:.1?}",
            q(0),
            q(50),
            q(90),
            q(100)
        );
    }
    if let (Some(first), Some(last)) = (warm.first(), warm.last()) {
        println!(
            "applies before the window (first load, every server's rise): {}, {:.1?} in all; \
             min {first:.1?}, median {:.1?}, max {last:.1?}",
            warm.len(),
            warm.iter().sum::<Duration>(),
            warm[warm.len() / 2],
        );
    }
    let journal: Vec<u64> = std::fs::read_dir(dir.path().join("journal"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .collect()
        })
        .unwrap_or_default();
    println!(
        "state on disk: runtime.json {} KiB; journal {} files, {} KiB",
        std::fs::metadata(dir.path().join("runtime.json")).map_or(0, |m| m.len()) / 1024,
        journal.len(),
        journal.iter().sum::<u64>() / 1024
    );
    assert!(seen.errors.is_empty(), "the daemon logged errors");
    assert!(done > 0, "no probe ran in the window");
}

/// `--floor` with `--daemon`'s arguments: connects to every server in turn, a
/// two hundredth of them every 10 ms (each every 2 s), and reports its CPU as the
/// daemon does.
fn floor(args: &[String]) {
    let servers: usize = args[0].parse().unwrap();
    let warm_up = Duration::from_millis(args[3].parse().unwrap());
    let measured = Duration::from_millis(args[4].parse().unwrap());
    let server_pid: u32 = args[5].parse().unwrap();
    let net = Net::parse(&args[7]);
    let http = args[2] == "http floor";
    // Every server every 2 s, as `tcp()`'s default interval.
    let step = Duration::from_millis(10);
    let per_step = (servers / 200).max(1);
    let (mut next, mut k, mut done, mut failed) = (Instant::now(), 0, 0u64, 0u64);
    let mut run = |until: Instant, count: bool| {
        while Instant::now() < until {
            for _ in 0..per_step {
                let address = SocketAddr::new(server_address(net, k).into(), PORT);
                k = (k + 1) % servers;
                let ok = if http {
                    http_get(address)
                } else {
                    std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)).map(drop)
                };
                if count {
                    done += 1;
                    failed += u64::from(ok.is_err());
                }
            }
            next += step;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    };
    run(Instant::now() + warm_up, false);
    let (t0, (u0, s0), server0) = (Instant::now(), process_cpu(), proc_cpu(server_pid));
    let idle0 = cpu0_idle(net);
    run(t0 + measured, true);
    let wall = t0.elapsed();
    let (u1, s1) = process_cpu();
    let server = proc_cpu(server_pid) - server0;
    let idle = cpu0_idle(net) - idle0;
    let (user, sys) = (u1 - u0, s1 - s0);
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / wall.as_secs_f64();
    println!(
        "window {wall:.1?}: {done} connects ({:.1}/s), {failed} failed",
        done as f64 / wall.as_secs_f64()
    );
    println!(
        "floor cpu: {:.2?} = {:.2}% of one core (user {:.2}%, sys {:.2}%); {:.1} µs per probe",
        user + sys,
        pct(user + sys),
        pct(user),
        pct(sys),
        (user + sys).as_secs_f64() * 1e6 / done.max(1) as f64
    );
    director_share(net, wall, idle, pct);
    println!(
        "servers' process cpu (not the floor's): {:.2}% of one core",
        pct(server)
    );
    assert_eq!(failed, 0, "connects failed");
}

/// The least an HTTP check does: connect, send the request `http("/")` sends,
/// read the answer to its end, see a 200, close.
fn http_get(address: SocketAddr) -> std::io::Result<()> {
    let timeout = Some(Duration::from_secs(1));
    let mut stream = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)?;
    // One write, as hyper sends it: the server reads once and closes, and a request
    // in pieces would leave bytes unread there (then the close is a reset).
    let request = format!(
        "GET / HTTP/1.1\r\nhost: {address}\r\nuser-agent: lvsh-watch\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::with_capacity(128);
    stream.read_to_end(&mut answer)?;
    if answer.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other("not a 200"))
    }
}

struct Window {
    t0: Instant,
    wall: Duration,
    user: Duration,
    sys: Duration,
    server: Duration,
    /// CPU 0's idle time over the window ([`cpu0_idle`]), zero on loopback.
    idle: Duration,
    rss: Vec<u64>,
}

/// With [`Net::Veth`], CPU 0's idle time so far (`/proc/stat`; idle and iowait,
/// which the kernel counts exactly, where the busy fields are sampled at the tick
/// and miss the short interrupts of an idle CPU).
fn cpu0_idle(net: Net) -> Duration {
    if net == Net::Loopback {
        return Duration::ZERO;
    }
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let cpu0: Vec<u64> = stat
        .lines()
        .find_map(|l| l.strip_prefix("cpu0 "))
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    // user nice system idle iowait ...
    let ticks = cpu0[3] + cpu0[4];
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_micros(ticks * 1_000_000 / hz)
}

/// The veth rows' line: how busy CPU 0 was, the prober included. The rest is the
/// director's receive processing of the probes' packets (steered there), and
/// whatever else this machine ran on CPU 0: an upper bound of the probes' cost.
fn director_share(net: Net, wall: Duration, idle: Duration, pct: impl Fn(Duration) -> f64) {
    if net == Net::Veth {
        println!(
            "CPU 0 busy (the prober, its packets' receive processing, anything else there): {:.2}% of one core",
            pct(wall.saturating_sub(idle))
        );
    }
}

/// This process's (user, system) CPU time.
fn process_cpu() -> (Duration, Duration) {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    (time(usage.ru_utime), time(usage.ru_stime))
}

/// Another process's user + system CPU time, from `/proc/PID/stat` (clock ticks).
fn proc_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_micros(ticks * 1_000_000 / hz)
}

/// A `/proc/self/status` line's value in KiB.
fn status_kib(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap()
}

fn raise_open_files() {
    // SAFETY: get/setrlimit on a struct we own.
    unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}

// ---------------------------------------------------------------------------
// The in-memory kernel: stores what lvsh writes and reads it back.

struct MemIpvs {
    state: Balancer,
    seen: Arc<Mutex<Seen>>,
}

impl Ipvs for MemIpvs {
    fn read(&mut self) -> Result<Balancer, lvsh::backend::ipvs::Error> {
        self.seen.lock().unwrap().read_at = Some(Instant::now());
        Ok(self.state.clone())
    }

    /// As the netlink backend does: the services not written come from `before`.
    fn read_changed(
        &mut self,
        before: &Balancer,
        changed: &BTreeSet<ServiceKey>,
    ) -> Result<Balancer, lvsh::backend::ipvs::Error> {
        let mut b = Balancer {
            services: BTreeMap::new(),
            ..self.state.clone()
        };
        for (k, s) in &self.state.services {
            let from = match before.services.get(k) {
                Some(old) if !changed.contains(k) => old,
                _ => s,
            };
            b.services.insert(*k, from.clone());
        }
        Ok(b)
    }

    fn execute(
        &mut self,
        ops: &[IpvsOp],
        go_on: &mut GoOn<'_>,
    ) -> Result<Vec<Result<(), KernelError>>, lvsh::backend::ipvs::Error> {
        if !go_on(&[]) {
            return Ok(vec![]);
        }
        Ok(ops.iter().map(|op| self.one(op)).collect())
    }
}

impl MemIpvs {
    fn one(&mut self, op: &IpvsOp) -> Result<(), KernelError> {
        let refused = |errno| KernelError {
            errno,
            message: "refused by the in-memory kernel".into(),
        };
        let services = &mut self.state.services;
        match op {
            IpvsOp::AddService(s) => {
                let mut s = s.clone();
                s.dests.clear();
                services.insert(s.key, s);
            }
            IpvsOp::EditService(s) => {
                let old = services.get_mut(&s.key).ok_or(refused(libc::ESRCH))?;
                let dests = std::mem::take(&mut old.dests);
                *old = s.clone();
                old.dests = dests;
            }
            IpvsOp::DelService(k) => {
                services.remove(k).ok_or(refused(libc::ESRCH))?;
            }
            IpvsOp::AddDest(k, d) | IpvsOp::EditDest(k, d) => {
                let svc = services.get_mut(k).ok_or(refused(libc::ESRCH))?;
                svc.dests.insert(d.key, d.clone());
            }
            IpvsOp::DelDest(k, d) => {
                let svc = services.get_mut(k).ok_or(refused(libc::ESRCH))?;
                svc.dests.remove(d).ok_or(refused(libc::ENOENT))?;
            }
            IpvsOp::SetTimeouts(t) => {
                let cur = &mut self.state.timeouts;
                cur.tcp = t.tcp.or(cur.tcp);
                cur.tcp_fin = t.tcp_fin.or(cur.tcp_fin);
                cur.udp = t.udp.or(cur.udp);
            }
            IpvsOp::AddDaemon(d) => {
                self.state.daemons.insert(d.state, d.clone());
            }
            IpvsOp::DelDaemon(s) => {
                self.state.daemons.remove(s);
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct MemNft {
    marks: BTreeMap<u32, MarkRule>,
}

impl Nft for MemNft {
    fn read(&mut self) -> Result<BTreeMap<u32, MarkRule>, lvsh::backend::nft::Error> {
        Ok(self.marks.clone())
    }

    fn replace(
        &mut self,
        marks: &BTreeMap<u32, MarkRule>,
    ) -> Result<(), lvsh::backend::nft::Error> {
        self.marks = marks.clone();
        Ok(())
    }
}

/// A kernel without `net.ipv4.vs.*` (the script sets none).
struct MemSysctl;

impl Sysctl for MemSysctl {
    fn read(&mut self) -> Result<Sysctls, lvsh::backend::sysctl::Error> {
        Ok(Sysctls::default())
    }

    fn write(&mut self, _: &str, _: &SysctlValue) -> Result<(), KernelError> {
        Err(KernelError {
            errno: libc::ENOENT,
            message: "no such sysctl".into(),
        })
    }
}

/// A kernel whose interfaces carry no address lvsh manages (the script sets none).
struct MemAddrs;

impl Addrs for MemAddrs {
    fn read(&mut self) -> Result<lvsh::model::Addresses, lvsh::backend::addr::Error> {
        Ok(lvsh::model::Addresses::default())
    }

    fn add(&mut self, _: &lvsh::model::HostAddress) -> Result<(), KernelError> {
        Err(KernelError {
            errno: libc::EPERM,
            message: "not in this benchmark".into(),
        })
    }

    fn delete(&mut self, a: &lvsh::model::HostAddress) -> Result<(), KernelError> {
        self.add(a)
    }
}
