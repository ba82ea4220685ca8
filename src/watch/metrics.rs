//! `--metrics ADDR`: Prometheus text about health, transitions, probe latency,
//! applies and the kernel's counters per real server.

use crate::model::{Balancer, CheckKind, DestKey, HealthState, Runtime, ServiceKey};
use http_body_util::Full;
use hyper::{Request, Response, body::Bytes, header::CONTENT_TYPE, service::service_fn};
use hyper_util::rt::TokioIo;
use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::net::TcpListener;

type Labels = Vec<(&'static str, String)>;

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// The daemon's metrics and the listener that serves them.
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    listener: Option<TcpListener>,
    pub addr: SocketAddr,
    health: Family<Labels, Gauge>,
    weight: Family<Labels, Gauge>,
    connections: Family<Labels, Gauge>,
    packets: Family<Labels, Gauge>,
    bytes: Family<Labels, Gauge>,
    transitions: Family<Labels, Counter>,
    probe_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    apply_seconds: Histogram,
    applies: Family<Labels, Counter>,
}

impl Metrics {
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Metrics> {
        let listener = TcpListener::bind(addr).await?;
        let mut m = Metrics::new(listener.local_addr()?);
        m.listener = Some(listener);
        Ok(m)
    }

    fn new(addr: SocketAddr) -> Metrics {
        let mut registry = Registry::with_prefix("lvsh");
        let m = Metrics {
            registry: Arc::default(),
            listener: None,
            addr,
            health: Family::default(),
            weight: Family::default(),
            connections: Family::default(),
            packets: Family::default(),
            bytes: Family::default(),
            transitions: Family::default(),
            probe_seconds: Family::new_with_constructor(latency_histogram),
            apply_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            applies: Family::default(),
        };
        registry.register(
            "server_health",
            "Health of each checked real server: 1 up, 0 down, -1 unknown",
            m.health.clone(),
        );
        registry.register(
            "server_weight",
            "Weight of each real server: the script's and the kernel's (effective)",
            m.weight.clone(),
        );
        registry.register(
            "server_connections",
            "Connections of each real server in the kernel, by state",
            m.connections.clone(),
        );
        registry.register(
            "server_packets",
            "Packets the kernel counted for each real server, by direction",
            m.packets.clone(),
        );
        registry.register(
            "server_bytes",
            "Bytes the kernel counted for each real server, by direction",
            m.bytes.clone(),
        );
        registry.register(
            "health_transitions",
            "Health changes of real servers, by the state reached",
            m.transitions.clone(),
        );
        registry.register(
            "probe_duration_seconds",
            "How long probes took, by check kind and result",
            m.probe_seconds.clone(),
        );
        registry.register(
            "apply_duration_seconds",
            "How long each write of watch took (lock, read, write, verify)",
            m.apply_seconds.clone(),
        );
        registry.register("applies", "Writes of watch, by outcome", m.applies.clone());
        *m.registry.lock().unwrap() = registry;
        m
    }

    /// Serves `GET /metrics` (any path) until the runtime ends.
    pub fn serve(&mut self) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        let registry = self.registry.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(answer(stream, registry.clone()));
            }
        });
    }

    pub fn probe(&self, kind: &CheckKind, ok: bool, latency: Duration) {
        self.probe_seconds
            .get_or_create(&vec![
                ("check", kind.name().to_string()),
                ("result", if ok { "ok" } else { "failed" }.to_string()),
            ])
            .observe(latency.as_secs_f64());
    }

    pub fn transition(&self, service: &ServiceKey, dest: &DestKey, to: HealthState) {
        let mut labels = server(service, dest);
        labels.push(("to", to.name().to_string()));
        self.transitions.get_or_create(&labels).inc();
    }

    pub fn applied(&self, took: Duration, ok: bool) {
        self.apply_seconds.observe(took.as_secs_f64());
        self.applies
            .get_or_create(&vec![(
                "outcome",
                if ok { "ok" } else { "failed" }.to_string(),
            )])
            .inc();
    }

    /// Every real server's gauges from the script, the run-time state and a fresh
    /// read of the kernel. Servers gone since the last call lose their series.
    pub fn servers(&self, desired: &Balancer, runtime: &Runtime, kernel: &Balancer) {
        for family in [
            &self.health,
            &self.weight,
            &self.connections,
            &self.packets,
            &self.bytes,
        ] {
            family.clear();
        }
        for (skey, svc) in &desired.services {
            for dest in svc.dests.values() {
                let labels = server(skey, &dest.key);
                let with = |k: &'static str, v: &str| {
                    let mut l = labels.clone();
                    l.push((k, v.to_string()));
                    l
                };
                if desired.checks.check_of(skey, &dest.key).is_some() {
                    let h = match runtime.health(skey, &dest.key).map(|h| h.state) {
                        Some(HealthState::Up) => 1,
                        Some(HealthState::Down) => 0,
                        Some(HealthState::Unknown) | None => -1,
                    };
                    self.health.get_or_create(&labels).set(h);
                }
                self.weight
                    .get_or_create(&with("kind", "script"))
                    .set(i64::from(dest.weight));
                let Some(k) = kernel
                    .services
                    .get(skey)
                    .and_then(|s| s.dests.get(&dest.key))
                else {
                    continue;
                };
                self.weight
                    .get_or_create(&with("kind", "effective"))
                    .set(i64::from(k.weight));
                for (state, n) in [
                    ("active", k.counters.active),
                    ("inactive", k.counters.inactive),
                    ("persistent", k.counters.persistent),
                ] {
                    self.connections
                        .get_or_create(&with("state", state))
                        .set(i64::from(n));
                }
                let saturate = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                self.packets
                    .get_or_create(&with("direction", "in"))
                    .set(saturate(k.stats.inpkts));
                self.packets
                    .get_or_create(&with("direction", "out"))
                    .set(saturate(k.stats.outpkts));
                self.bytes
                    .get_or_create(&with("direction", "in"))
                    .set(saturate(k.stats.inbytes));
                self.bytes
                    .get_or_create(&with("direction", "out"))
                    .set(saturate(k.stats.outbytes));
            }
        }
    }

    /// The text a scrape gets.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry.lock().unwrap());
        out
    }
}

/// Serves one connection, for at most 30 s.
async fn answer<S>(stream: S, registry: Arc<Mutex<Registry>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
        let mut body = String::new();
        let _ = encode(&mut body, &registry.lock().unwrap());
        async move {
            Response::builder()
                .header(
                    CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )
                .body(Full::new(Bytes::from(body)))
        }
    });
    // `nc` and the like shut their sending half once the request is out: without
    // half_close, hyper takes an end of input that comes before the answer is written
    // for the end of the connection and drops the answer.
    let conn = hyper::server::conn::http1::Builder::new()
        .half_close(true)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(Duration::from_secs(30), conn).await;
}

fn server(service: &ServiceKey, dest: &DestKey) -> Labels {
    vec![
        ("service", service.to_string()),
        ("server", dest.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Check, Dest, Health, Protocol, Service};

    /// `printf 'GET /metrics HTTP/1.0\r\n\r\n' | nc HOST PORT` shuts its sending
    /// half once the request is out; here the end of input is there before the
    /// server reads.
    #[test]
    fn a_client_that_half_closes_after_its_request_gets_the_answer() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let m = Metrics::new("127.0.0.1:0".parse().unwrap());
        m.applied(Duration::from_millis(1), true);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let text = rt.block_on(async {
            let (mut client, server) = tokio::io::duplex(1 << 16);
            client
                .write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
                .await
                .unwrap();
            client.shutdown().await.unwrap();
            tokio::spawn(answer(server, m.registry.clone()));
            let mut text = String::new();
            client.read_to_string(&mut text).await.unwrap();
            text
        });
        assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text:?}");
        assert!(
            text.contains("\nlvsh_applies_total{outcome=\"ok\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn a_scrape_shows_health_weights_counters_and_latency() {
        let key = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
        let dk = DestKey {
            address: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        let mut desired = Balancer::default();
        let mut s = Service::new(key);
        s.dests.insert(dk, Dest::new(dk));
        desired.services.insert(key, s);
        desired.checks.service_mut(key).check = Some(Check::new(CheckKind::Tcp));
        let mut kernel = desired.clone();
        let d = kernel
            .services
            .get_mut(&key)
            .unwrap()
            .dests
            .get_mut(&dk)
            .unwrap();
        d.weight = 0;
        d.counters.active = 3;
        d.stats.inpkts = 42;
        let mut rt = Runtime::default();
        rt.entry(key, dk).health = Some(Health {
            state: HealthState::Down,
            since: 1,
            last: None,
        });
        let m = Metrics::new("127.0.0.1:0".parse().unwrap());
        m.servers(&desired, &rt, &kernel);
        m.transition(&key, &dk, HealthState::Down);
        m.probe(&CheckKind::Tcp, false, Duration::from_millis(3));
        m.applied(Duration::from_millis(5), true);
        let text = m.render();
        let labels = r#"service="tcp 192.0.2.1:80",server="10.0.0.1:80""#;
        for line in [
            format!("lvsh_server_health{{{labels}}} 0"),
            format!(r#"lvsh_server_weight{{{labels},kind="script"}} 1"#),
            format!(r#"lvsh_server_weight{{{labels},kind="effective"}} 0"#),
            format!(r#"lvsh_server_connections{{{labels},state="active"}} 3"#),
            format!(r#"lvsh_server_packets{{{labels},direction="in"}} 42"#),
            format!(r#"lvsh_health_transitions_total{{{labels},to="down"}} 1"#),
            r#"lvsh_probe_duration_seconds_count{check="tcp",result="failed"} 1"#.to_string(),
            "lvsh_apply_duration_seconds_count 1".to_string(),
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
    }
}
