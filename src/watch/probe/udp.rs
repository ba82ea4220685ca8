//! `udp(payload)`: up when a reply arrives, and with `expect` when the reply starts
//! with those bytes.

use super::{Phase, Target, Verdict, io_reason, quoted, socket};
use socket2::Type;
use tokio::net::UdpSocket;

/// Enough for any banner worth comparing; a longer datagram is cut, which only
/// matters for the byte count in the reason.
const REPLY_MAX: usize = 2048;

pub(super) async fn probe(
    payload: &[u8],
    expect: Option<&[u8]>,
    target: &Target,
    phase: &mut Phase,
) -> Verdict {
    let socket = socket::new(target, Type::DGRAM)?;
    let socket = UdpSocket::from_std(socket.into()).map_err(|e| io_reason(&e))?;
    // Connected, so the kernel hands us the ICMP errors for this peer (and only its
    // datagrams): an ICMP port unreachable is a failure now, not a timeout.
    socket
        .connect(target.connect)
        .await
        .map_err(|e| udp_reason(&e))?;
    socket.send(payload).await.map_err(|e| udp_reason(&e))?;
    *phase = Phase::Reply;
    let mut reply = vec![0; REPLY_MAX.max(expect.map_or(0, <[u8]>::len))];
    let n = socket.recv(&mut reply).await.map_err(|e| udp_reason(&e))?;
    let reply = &reply[..n];
    match expect {
        Some(expect) if !reply.starts_with(expect) => Err(format!(
            "reply {} does not start with {}",
            quoted(reply),
            quoted(expect)
        )),
        _ => Ok(format!("reply {n} bytes")),
    }
}

/// On a connected UDP socket ECONNREFUSED is the ICMP port unreachable of the peer.
fn udp_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => "port unreachable".into(),
        _ => io_reason(e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{block_on, check};
    use super::super::{Target, probe};
    use crate::model::CheckKind;
    use std::time::{Duration, Instant};
    use tokio::net::UdpSocket;

    fn udp(payload: &[u8], expect: Option<&[u8]>) -> CheckKind {
        CheckKind::Udp {
            payload: payload.to_vec(),
            expect: expect.map(<[u8]>::to_vec),
        }
    }

    /// A server that answers each datagram with `answer(request)`.
    async fn server(bind: &str, answer: fn(&[u8]) -> Vec<u8>) -> Target {
        let socket = UdpSocket::bind(bind).await.unwrap();
        let target = Target::direct(socket.local_addr().unwrap());
        tokio::spawn(async move {
            let mut buf = [0; 1500];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                socket.send_to(&answer(&buf[..n]), from).await.unwrap();
            }
        });
        target
    }

    #[test]
    fn an_echo_is_up_and_holds_the_expected_prefix() {
        block_on(async {
            for bind in ["127.0.0.1:0", "[::1]:0"] {
                let target = server(bind, |req| req.to_vec()).await;
                let outcome = probe(&check(udp(b"ping\n", Some(b"ping")), 1000), &target).await;
                assert!(outcome.ok, "{outcome:?}");
                assert_eq!(outcome.reason, "reply 5 bytes");
            }
        });
    }

    #[test]
    fn any_reply_is_up_without_expect_even_an_empty_one() {
        block_on(async {
            let target = server("127.0.0.1:0", |_| Vec::new()).await;
            let outcome = probe(&check(udp(b"", None), 1000), &target).await;
            assert!(outcome.ok, "{outcome:?}");
            assert_eq!(outcome.reason, "reply 0 bytes");
        });
    }

    #[test]
    fn a_reply_without_the_prefix_is_down() {
        block_on(async {
            let target = server("127.0.0.1:0", |_| b"PONG\x00".to_vec()).await;
            let outcome = probe(&check(udp(b"ping", Some(b"pong")), 1000), &target).await;
            assert!(!outcome.ok);
            assert_eq!(
                outcome.reason,
                "reply \"PONG\\x00\" does not start with \"pong\""
            );
        });
    }

    #[test]
    fn a_server_that_never_answers_times_out() {
        block_on(async {
            let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let target = Target::direct(silent.local_addr().unwrap());
            let start = Instant::now();
            let outcome = probe(&check(udp(b"ping", None), 200), &target).await;
            assert!(!outcome.ok);
            assert_eq!(outcome.reason, "timed out after 200ms waiting for a reply");
            assert!(start.elapsed() < Duration::from_millis(600));
        });
    }

    #[test]
    fn a_closed_port_is_unreachable_at_once() {
        block_on(async {
            let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let target = Target::direct(closed.local_addr().unwrap());
            drop(closed);
            let outcome = probe(&check(udp(b"ping", None), 1000), &target).await;
            assert!(!outcome.ok);
            assert_eq!(outcome.reason, "port unreachable");
            assert!(outcome.latency < Duration::from_millis(500));
        });
    }
}
