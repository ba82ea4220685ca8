//! `http(path)` / `https(path)`: one `GET` over a connection the probe made itself, so
//! that `SO_MARK`, the timeout and the closing of the socket stay the probe's.

use super::{Phase, Target, Verdict, io_reason, quoted, tcp, tls};
use crate::model::HttpCheck;
use hyper::{
    Request, Response,
    body::{Body, Incoming},
    client::conn::http1,
    header,
};
use hyper_util::rt::TokioIo;
use std::{
    error::Error,
    future::{Future, poll_fn},
    io,
    pin::{Pin, pin},
    sync::Arc,
    task::Poll,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::{TlsConnector, rustls::ClientConfig};

/// How much of the body `contains` looks at: health pages are small, and a server
/// that streams forever must not cost memory.
pub(super) const BODY_MAX: usize = 64 * 1024;

pub(super) async fn probe(check: &HttpCheck, target: &Target, phase: &mut Phase) -> Verdict {
    get(check, target, phase, || tls::config(check.insecure)).await
}

/// The probe with the TLS configuration chosen by the caller (tests bring their own CA).
async fn get(
    check: &HttpCheck,
    target: &Target,
    phase: &mut Phase,
    tls: impl FnOnce() -> Arc<ClientConfig>,
) -> Verdict {
    let request = request(check, target)?;
    let stream = tcp::connect(target).await?;
    if !check.tls {
        return exchange(check, request, stream, phase).await;
    }
    *phase = Phase::Handshake;
    let name = tls::server_name(check, target)?;
    let stream = TlsConnector::from(tls())
        .connect(name, stream)
        .await
        .map_err(|e| tls::reason(&e))?;
    exchange(check, request, stream, phase).await
}

fn request(check: &HttpCheck, target: &Target) -> Result<Request<String>, String> {
    if !check.path.starts_with('/') {
        return Err(format!("path `{}` does not start with `/`", check.path));
    }
    let host = match &check.host {
        Some(host) => host.clone(),
        None => authority(target, check.tls),
    };
    Request::get(check.path.as_str())
        .header(header::HOST, host)
        .header(header::USER_AGENT, "lvsh-watch")
        .header(header::CONNECTION, "close")
        .body(String::new())
        .map_err(|e| format!("bad request: {e}"))
}

/// `Host` for a probe by address: the IP, with the port unless it is the scheme's.
fn authority(target: &Target, tls: bool) -> String {
    let default_port = if tls { 443 } else { 80 };
    match target.connect {
        a if a.port() != default_port => a.to_string(),
        std::net::SocketAddr::V4(a) => a.ip().to_string(),
        std::net::SocketAddr::V6(a) => format!("[{}]", a.ip()),
    }
}

/// Sends the request and judges the answer. The connection is driven here, not in a
/// spawned task, so a probe that times out drops (and closes) it with everything else.
async fn exchange<S>(
    check: &HttpCheck,
    request: Request<String>,
    stream: S,
    phase: &mut Phase,
) -> Verdict
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    *phase = Phase::Response;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| hyper_reason(&e))?;
    let mut connection = pin!(connection);
    let mut connection_done = false;
    let mut answer = pin!(async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| hyper_reason(&e))?;
        judge(check, response, phase).await
    });
    poll_fn(|cx| {
        if let Poll::Ready(verdict) = answer.as_mut().poll(cx) {
            return Poll::Ready(verdict);
        }
        if !connection_done {
            match connection.as_mut().poll(cx) {
                // The response (or its error) is in `answer`'s channel: poll it again.
                Poll::Ready(Ok(())) => {
                    connection_done = true;
                    cx.waker().wake_by_ref();
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(hyper_reason(&e))),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
    .await
}

async fn judge(check: &HttpCheck, response: Response<Incoming>, phase: &mut Phase) -> Verdict {
    let status = response.status().as_u16();
    if !check.accepts(status) {
        let expected: Vec<String> = check.expect.iter().map(ToString::to_string).collect();
        return Err(format!(
            "status {status} (expected {})",
            expected.join(", ")
        ));
    }
    let Some(needle) = &check.contains else {
        return Ok(format!("status {status}"));
    };
    *phase = Phase::Body;
    let needle = needle.as_bytes();
    let mut body = response.into_body();
    let mut seen = Vec::new();
    while seen.len() < BODY_MAX {
        let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await else {
            break;
        };
        let frame = frame.map_err(|e| format!("body: {}", hyper_reason(&e)))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        // Only the new bytes (and the needle's length before them) need a look.
        let from = seen.len().saturating_sub(needle.len().saturating_sub(1));
        let room = BODY_MAX - seen.len();
        seen.extend_from_slice(&data[..data.len().min(room)]);
        if holds(&seen[from..], needle) {
            return Ok(format!("status {status}"));
        }
    }
    if needle.is_empty() {
        return Ok(format!("status {status}"));
    }
    let within = if seen.len() >= BODY_MAX {
        " in its first 64 KiB"
    } else {
        ""
    };
    Err(format!("body lacks {}{within}", quoted(needle)))
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// hyper's errors as reasons: the socket's error when there is one underneath.
fn hyper_reason(e: &hyper::Error) -> String {
    let mut source = e.source();
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<io::Error>() {
            return io_reason(io);
        }
        source = inner.source();
    }
    if e.is_incomplete_message() {
        "connection closed early".into()
    } else if e.is_parse() {
        format!("not http: {}", e.to_string().to_lowercase())
    } else {
        e.to_string().to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{block_on, check};
    use super::super::{Outcome, Target, probe};
    use super::*;
    use crate::model::{CheckKind, StatusRange};
    use std::time::{Duration, Instant};
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::{TcpListener, TcpStream},
        sync::mpsc,
    };

    /// Reads one request head; `None` when the client went away first.
    pub(in super::super) async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<String> {
        let mut head = Vec::new();
        let mut byte = [0; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if s.read(&mut byte).await.ok()? == 0 {
                return None;
            }
            head.push(byte[0]);
        }
        Some(String::from_utf8(head).unwrap())
    }

    /// A server that answers every request with `response` and reports each request head.
    async fn server(response: &'static str) -> (Target, mpsc::UnboundedReceiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = Target::direct(listener.local_addr().unwrap());
        let (heads, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                let heads = heads.clone();
                tokio::spawn(async move {
                    if let Some(head) = read_head(&mut stream).await {
                        let _ = heads.send(head);
                        let _ = stream.write_all(response.as_bytes()).await;
                    }
                });
            }
        });
        (target, rx)
    }

    fn http(path: &str, edit: impl FnOnce(&mut HttpCheck)) -> CheckKind {
        let mut http = HttpCheck::new(path, false);
        edit(&mut http);
        CheckKind::Http(http)
    }

    async fn probe_ms(kind: CheckKind, target: &Target, timeout_ms: u32) -> Outcome {
        probe(&check(kind, timeout_ms), target).await
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nstatus ok";

    #[test]
    fn a_200_is_up_and_the_request_says_who_asks() {
        block_on(async {
            let (target, mut heads) = server(OK).await;
            let outcome = probe_ms(http("/healthz", |_| {}), &target, 1000).await;
            assert!(outcome.ok, "{outcome:?}");
            assert_eq!(outcome.reason, "status 200");
            let head = heads.recv().await.unwrap().to_lowercase();
            let port = target.connect.port();
            assert!(head.starts_with("get /healthz http/1.1\r\n"), "{head}");
            assert!(
                head.contains(&format!("host: 127.0.0.1:{port}\r\n")),
                "{head}"
            );
            assert!(head.contains("user-agent: lvsh-watch\r\n"), "{head}");
            assert!(head.contains("connection: close\r\n"), "{head}");
            assert!(!head.contains("content-length") && !head.contains("transfer-encoding"));
        });
    }

    #[test]
    fn the_host_header_is_the_checks_when_set() {
        block_on(async {
            let (target, mut heads) = server(OK).await;
            let kind = http("/", |h| h.host = Some("www.example.com".into()));
            assert!(probe_ms(kind, &target, 1000).await.ok);
            let head = heads.recv().await.unwrap().to_lowercase();
            assert!(head.contains("host: www.example.com\r\n"), "{head}");
        });
    }

    #[test]
    fn a_status_outside_expect_is_down_and_says_what_was_expected() {
        block_on(async {
            let (target, _) = server("HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n").await;
            let outcome = probe_ms(http("/", |_| {}), &target, 1000).await;
            assert!(!outcome.ok);
            assert_eq!(outcome.reason, "status 503 (expected 200-299)");
            let kind = http("/", |h| {
                h.expect = vec![StatusRange(200, 200), StatusRange(500, 503)]
            });
            assert!(probe_ms(kind, &target, 1000).await.ok);
        });
    }

    #[test]
    fn a_redirect_is_not_followed() {
        block_on(async {
            let (target, mut heads) =
                server("HTTP/1.1 302 Found\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n")
                    .await;
            let outcome = probe_ms(http("/", |_| {}), &target, 1000).await;
            assert_eq!(outcome.reason, "status 302 (expected 200-299)");
            heads.recv().await.unwrap();
            assert!(heads.try_recv().is_err(), "a second request was made");
        });
    }

    #[test]
    fn contains_looks_into_the_body() {
        block_on(async {
            let (target, _) = server(OK).await;
            let holds = http("/", |h| h.contains = Some("ok".into()));
            assert_eq!(probe_ms(holds, &target, 1000).await.reason, "status 200");
            let lacks = http("/", |h| h.contains = Some("ready".into()));
            let outcome = probe_ms(lacks, &target, 1000).await;
            assert!(!outcome.ok);
            assert_eq!(outcome.reason, "body lacks \"ready\"");
        });
    }

    #[test]
    fn contains_finds_text_split_across_chunks_and_stops_at_64_kib() {
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = Target::direct(listener.local_addr().unwrap());
            tokio::spawn(async move {
                loop {
                    let (mut s, _) = listener.accept().await.unwrap();
                    read_head(&mut s).await.unwrap();
                    s.write_all(
                        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nrea\r\n",
                    )
                    .await
                    .unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    s.write_all(b"2\r\ndy\r\n").await.unwrap();
                    // Then an endless body: the probe must stop reading at 64 KiB.
                    let chunk = format!("{:x}\r\n{}\r\n", 4096, "x".repeat(4096));
                    while s.write_all(chunk.as_bytes()).await.is_ok() {}
                }
            });
            let found = http("/", |h| h.contains = Some("ready".into()));
            assert_eq!(probe_ms(found, &target, 2000).await.reason, "status 200");
            let missing = http("/", |h| h.contains = Some("never".into()));
            let outcome = probe_ms(missing, &target, 2000).await;
            assert_eq!(outcome.reason, "body lacks \"never\" in its first 64 KiB");
        });
    }

    #[test]
    fn a_server_that_never_answers_times_out_waiting_for_the_response() {
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = Target::direct(listener.local_addr().unwrap());
            tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                read_head(&mut s).await.unwrap();
                // Holds the connection open and silent.
                let _ = s.read(&mut [0; 1]).await;
            });
            let start = Instant::now();
            let outcome = probe_ms(http("/", |_| {}), &target, 300).await;
            assert!(!outcome.ok);
            assert_eq!(
                outcome.reason,
                "timed out after 300ms waiting for the response"
            );
            assert!(start.elapsed() < Duration::from_millis(800));
        });
    }

    #[test]
    fn a_slow_loris_body_times_out_reading_it() {
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = Target::direct(listener.local_addr().unwrap());
            tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                read_head(&mut s).await.unwrap();
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n")
                    .await
                    .unwrap();
                while s.write_all(b"x").await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
            let start = Instant::now();
            let kind = http("/", |h| h.contains = Some("ok".into()));
            let outcome = probe_ms(kind, &target, 300).await;
            assert_eq!(outcome.reason, "timed out after 300ms reading the body");
            assert!(start.elapsed() < Duration::from_millis(800));
        });
    }

    #[test]
    fn a_peer_that_is_not_http_or_hangs_up_is_down() {
        block_on(async {
            let (target, _) = server("SSH-2.0-OpenSSH_9.2\r\n\r\n").await;
            let outcome = probe_ms(http("/", |_| {}), &target, 1000).await;
            assert_eq!(outcome.reason, "not http: invalid http version parsed");

            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = Target::direct(listener.local_addr().unwrap());
            tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                read_head(&mut s).await.unwrap();
            });
            let outcome = probe_ms(http("/", |_| {}), &target, 1000).await;
            assert_eq!(outcome.reason, "connection closed early");
        });
    }

    #[test]
    fn a_closed_port_and_a_bad_path_are_down_with_their_reason() {
        block_on(async {
            let closed = Target::direct(super::super::testing::unused_port("127.0.0.1:0"));
            let outcome = probe_ms(http("/", |_| {}), &closed, 1000).await;
            assert_eq!(outcome.reason, "connection refused");
            let outcome = probe_ms(http("healthz", |_| {}), &closed, 1000).await;
            assert_eq!(outcome.reason, "path `healthz` does not start with `/`");
        });
    }

    #[test]
    fn host_by_address_drops_the_default_port_and_brackets_v6() {
        let target = |a: &str| Target::direct(a.parse().unwrap());
        assert_eq!(authority(&target("10.0.0.1:80"), false), "10.0.0.1");
        assert_eq!(authority(&target("10.0.0.1:443"), false), "10.0.0.1:443");
        assert_eq!(
            authority(&target("[2001:db8::1]:443"), true),
            "[2001:db8::1]"
        );
        assert_eq!(
            authority(&target("[2001:db8::1]:8443"), true),
            "[2001:db8::1]:8443"
        );
    }

    #[test]
    fn a_connection_survives_only_as_long_as_its_probe() {
        // The probe drops its connection when it times out: the server sees EOF.
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = Target::direct(listener.local_addr().unwrap());
            let server = tokio::spawn(async move {
                let (mut s, _): (TcpStream, _) = listener.accept().await.unwrap();
                read_head(&mut s).await.unwrap();
                let start = Instant::now();
                let n = s.read(&mut [0; 16]).await.unwrap_or(0);
                (n, start.elapsed())
            });
            let outcome = probe_ms(http("/", |_| {}), &target, 200).await;
            assert!(!outcome.ok);
            let (n, waited) = server.await.unwrap();
            assert_eq!(n, 0);
            assert!(waited < Duration::from_millis(500), "{waited:?}");
        });
    }

    mod https {
        use super::super::super::testing::block_on;
        use super::super::super::{Phase, Target, probe, tls};
        use super::super::{HttpCheck, get};
        use super::{OK, probe_ms, read_head};
        use crate::model::CheckKind;
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair,
            generate_simple_self_signed,
        };
        use std::sync::{Arc, Mutex};
        use tokio::{
            io::{AsyncReadExt, AsyncWriteExt},
            net::TcpListener,
        };
        use tokio_rustls::{
            TlsAcceptor,
            rustls::{
                RootCertStore, ServerConfig,
                crypto::ring,
                pki_types::{CertificateDer, PrivateKeyDer},
                server::{ClientHello, ResolvesServerCert},
                sign::CertifiedKey,
            },
        };

        /// Serves one certificate and records the SNI of each handshake.
        #[derive(Debug)]
        struct Recorder {
            key: Arc<CertifiedKey>,
            names: Mutex<Vec<Option<String>>>,
        }

        impl ResolvesServerCert for Recorder {
            fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
                let name = hello.server_name().map(str::to_string);
                self.names.lock().unwrap().push(name);
                Some(self.key.clone())
            }
        }

        /// An https server with this certificate; answers 200 "status ok".
        async fn server(cert: CertificateDer<'static>, key: &KeyPair) -> (Target, Arc<Recorder>) {
            let key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
            let key = CertifiedKey::from_der(vec![cert], key, &ring::default_provider()).unwrap();
            let recorder = Arc::new(Recorder {
                key: Arc::new(key),
                names: Mutex::default(),
            });
            let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_cert_resolver(recorder.clone());
            let acceptor = TlsAcceptor::from(Arc::new(config));
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = Target::direct(listener.local_addr().unwrap());
            tokio::spawn(async move {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        // A refused certificate ends the handshake here.
                        let Ok(mut tls) = acceptor.accept(stream).await else {
                            return;
                        };
                        if read_head(&mut tls).await.is_some() {
                            let _ = tls.write_all(OK.as_bytes()).await;
                            let _ = tls.shutdown().await;
                        }
                    });
                }
            });
            (target, recorder)
        }

        async fn self_signed() -> (Target, Arc<Recorder>) {
            let signed = generate_simple_self_signed(vec!["lvsh.test".into()]).unwrap();
            server(signed.cert.der().clone(), &signed.signing_key).await
        }

        fn https(edit: impl FnOnce(&mut HttpCheck)) -> HttpCheck {
            let mut http = HttpCheck::new("/", true);
            edit(&mut http);
            http
        }

        #[test]
        fn a_self_signed_certificate_fails_verification_and_passes_insecure() {
            block_on(async {
                let (target, _) = self_signed().await;
                let verified = https(|h| h.host = Some("lvsh.test".into()));
                let outcome = probe_ms(CheckKind::Http(verified), &target, 2000).await;
                assert!(!outcome.ok);
                assert!(
                    outcome.reason.starts_with("certificate: unknown issuer"),
                    "{}",
                    outcome.reason
                );
                let insecure = https(|h| h.insecure = true);
                let outcome = probe_ms(CheckKind::Http(insecure), &target, 2000).await;
                assert!(outcome.ok, "{outcome:?}");
                assert_eq!(outcome.reason, "status 200");
            });
        }

        #[test]
        fn sni_is_sni_else_host_else_none_for_an_ip() {
            block_on(async {
                let (target, recorder) = self_signed().await;
                let checks = [
                    https(|h| h.insecure = true),
                    https(|h| {
                        h.insecure = true;
                        h.host = Some("www.lvsh.test".into());
                    }),
                    https(|h| {
                        h.insecure = true;
                        h.host = Some("www.lvsh.test".into());
                        h.sni = Some("sni.lvsh.test".into());
                    }),
                ];
                for check in checks {
                    let outcome = probe_ms(CheckKind::Http(check), &target, 2000).await;
                    assert!(outcome.ok, "{outcome:?}");
                }
                let names = recorder.names.lock().unwrap().clone();
                let expected = [None, Some("www.lvsh.test"), Some("sni.lvsh.test")];
                assert_eq!(names, expected.map(|n| n.map(str::to_string)));
            });
        }

        #[test]
        fn a_certificate_from_a_trusted_ca_passes_for_its_names_only() {
            block_on(async {
                let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
                ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
                let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
                let key = KeyPair::generate().unwrap();
                let names = vec!["lvsh.test".to_string(), "127.0.0.1".to_string()];
                let leaf = CertificateParams::new(names)
                    .unwrap()
                    .signed_by(&key, &ca)
                    .unwrap();
                let (target, _) = server(leaf.der().clone(), &key).await;
                let mut roots = RootCertStore::empty();
                roots.add(ca.der().clone()).unwrap();
                let roots = tls::verifying(roots);

                let run = |check: HttpCheck| {
                    let roots = roots.clone();
                    async move {
                        let mut phase = Phase::Connecting;
                        get(&check, &target, &mut phase, || roots).await
                    }
                };
                assert_eq!(run(https(|_| {})).await, Ok("status 200".into()));
                let by_name = https(|h| h.host = Some("lvsh.test".into()));
                assert_eq!(run(by_name).await, Ok("status 200".into()));
                let other = https(|h| h.host = Some("other.test".into()));
                assert_eq!(
                    run(other).await,
                    Err("certificate: not valid for other.test".into())
                );
            });
        }

        #[test]
        fn a_silent_peer_times_out_in_the_handshake() {
            block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let target = Target::direct(listener.local_addr().unwrap());
                tokio::spawn(async move {
                    let (mut s, _) = listener.accept().await.unwrap();
                    let _ = s.read(&mut [0; 4096]).await;
                    let _ = s.read(&mut [0; 1]).await;
                });
                let outcome = probe_ms(CheckKind::Http(https(|_| {})), &target, 300).await;
                assert_eq!(outcome.reason, "timed out after 300ms in the tls handshake");
            });
        }

        #[test]
        fn plain_http_to_a_tls_port_and_tls_to_a_plain_port_are_down() {
            block_on(async {
                let (tls_target, _) = self_signed().await;
                let plain = CheckKind::Http(HttpCheck::new("/", false));
                let outcome = probe_ms(plain, &tls_target, 2000).await;
                assert!(!outcome.ok);
                assert_eq!(outcome.reason, "not http: invalid http version parsed");

                // A plain server answers the ClientHello with a 400, as nginx does.
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let plain_target = Target::direct(listener.local_addr().unwrap());
                tokio::spawn(async move {
                    let (mut s, _) = listener.accept().await.unwrap();
                    let _ = s.read(&mut [0; 512]).await;
                    let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
                });
                let check = super::super::super::testing::check(
                    CheckKind::Http(https(|h| h.insecure = true)),
                    2000,
                );
                let outcome = probe(&check, &plain_target).await;
                assert!(!outcome.ok);
                assert_eq!(
                    outcome.reason,
                    "tls: received corrupt message of type InvalidContentType"
                );
            });
        }
    }
}
