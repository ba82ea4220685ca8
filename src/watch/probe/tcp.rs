//! `tcp()`: up when the three-way handshake completes.

use super::{Target, Verdict, io_reason, socket};
use socket2::Type;
use tokio::net::{TcpSocket, TcpStream};

/// Connects to `target.connect` (marked when asked); HTTP probes build on this too.
pub(super) async fn connect(target: &Target) -> Result<TcpStream, String> {
    let socket = socket::new(target, Type::STREAM)?;
    TcpSocket::from_std_stream(socket.into())
        .connect(target.connect)
        .await
        .map_err(|e| io_reason(&e))
}

/// Connect, then close with a FIN (not a RST, which servers log as an error).
pub(super) async fn probe(target: &Target) -> Verdict {
    connect(target).await?;
    Ok("connected".into())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{block_on, check, full_listener, has_net_admin, unused_port};
    use super::super::{Target, probe};
    use crate::model::CheckKind;
    use std::time::{Duration, Instant};
    use tokio::net::TcpListener;

    #[test]
    fn a_listening_port_is_up_on_v4_and_v6() {
        block_on(async {
            for address in ["127.0.0.1:0", "[::1]:0"] {
                let listener = TcpListener::bind(address).await.unwrap();
                let target = Target::direct(listener.local_addr().unwrap());
                let outcome = probe(&check(CheckKind::Tcp, 1000), &target).await;
                assert!(outcome.ok, "{address}: {outcome:?}");
                assert_eq!(outcome.reason, "connected");
                assert!(outcome.latency < Duration::from_millis(500));
            }
        });
    }

    #[test]
    fn a_marked_probe_connects_with_the_capability_or_says_what_it_lacks() {
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = Target {
                mark: Some(7),
                ..Target::direct(listener.local_addr().unwrap())
            };
            let outcome = probe(&check(CheckKind::Tcp, 1000), &target).await;
            if has_net_admin() {
                assert_eq!(outcome.reason, "connected");
            } else {
                assert!(
                    outcome.reason.contains("needs CAP_NET_ADMIN"),
                    "{outcome:?}"
                );
            }
        });
    }

    #[test]
    fn a_closed_port_is_refused() {
        block_on(async {
            let target = Target::direct(unused_port("[::1]:0"));
            let outcome = probe(&check(CheckKind::Tcp, 1000), &target).await;
            assert!(!outcome.ok);
            assert_eq!(outcome.reason, "connection refused");
        });
    }

    #[test]
    fn a_connect_that_never_completes_ends_at_the_timeout() {
        block_on(async {
            let (_listener, _queued, address) = full_listener();
            let start = Instant::now();
            let outcome = probe(&check(CheckKind::Tcp, 200), &Target::direct(address)).await;
            assert!(!outcome.ok);
            assert_eq!(outcome.reason, "timed out after 200ms connecting");
            assert!(
                start.elapsed() < Duration::from_millis(600),
                "{:?}",
                start.elapsed()
            );
            assert!(outcome.latency >= Duration::from_millis(200));
        });
    }
}
