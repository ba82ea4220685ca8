//! TLS for `https` checks: two client configurations built once and shared by every
//! probe (building one parses the system's roots, far too slow per probe), the
//! `insecure` verifier, the server name, and handshake errors as short reasons.
//!
//! ring is the crypto provider: aws-lc-rs (rustls' default) needs cmake and a long C
//! build. Session resumption is off, so every probe verifies the certificate the way
//! a new client would; an expired or replaced certificate shows at the next probe.

use super::{Target, io_reason};
use crate::model::HttpCheck;
use std::{
    io,
    sync::{Arc, OnceLock},
};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::Resumption,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, ring, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime},
};

/// The shared configuration: verifying against the system's roots, or (`insecure`)
/// accepting any certificate.
pub(super) fn config(insecure: bool) -> Arc<ClientConfig> {
    static VERIFYING: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    static INSECURE: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if insecure {
        INSECURE
            .get_or_init(|| {
                let builder = builder()
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())));
                finish(builder.with_no_client_auth())
            })
            .clone()
    } else {
        VERIFYING.get_or_init(|| verifying(system_roots())).clone()
    }
}

/// A verifying configuration with these roots (the system's, or a test's own CA).
pub(super) fn verifying(roots: RootCertStore) -> Arc<ClientConfig> {
    finish(
        builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(ring::default_provider()))
        .clone()
}

fn builder() -> rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
}

fn finish(mut config: ClientConfig) -> Arc<ClientConfig> {
    config.resumption = Resumption::disabled();
    Arc::new(config)
}

/// Unreadable files in the store are skipped: one bad file must not fail every https
/// check. With no root at all every verification fails as "unknown issuer", which
/// [`reason`] then explains.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    SYSTEM_ROOTS.get_or_init(|| roots.len());
    roots
}

static SYSTEM_ROOTS: OnceLock<usize> = OnceLock::new();

/// Builds both shared configurations now and counts the system's roots.
pub(super) fn prepare() -> usize {
    config(true);
    config(false);
    SYSTEM_ROOTS.get().copied().unwrap_or_default()
}

/// `sni`, else `host` (without a port), else the IP: rustls then sends no SNI (RFC 6066
/// forbids literal addresses there) and checks the certificate's IP addresses.
pub(super) fn server_name(
    check: &HttpCheck,
    target: &Target,
) -> Result<ServerName<'static>, String> {
    match check.sni.as_deref().or(check.host.as_deref()) {
        Some(name) => ServerName::try_from(without_port(name).to_string())
            .map_err(|_| format!("`{name}` is not a tls server name")),
        None => Ok(ServerName::IpAddress(target.connect.ip().into())),
    }
}

/// "example.com:8443" -> "example.com", "[::1]:443" -> "::1"; a bare IPv6 address stays.
fn without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// A failed handshake as a reason: "certificate: <why>" when verification refused the
/// server's certificate, "tls: <why>" for the rest.
pub(super) fn reason(e: &io::Error) -> String {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::InvalidCertificate(why)) => {
            format!("certificate: {}", certificate_reason(why))
        }
        Some(other) => format!("tls: {other}"),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            "tls: connection closed in the handshake".into()
        }
        None => format!("tls: {}", io_reason(e)),
    }
}

fn certificate_reason(why: &CertificateError) -> String {
    match why {
        CertificateError::UnknownIssuer if SYSTEM_ROOTS.get() == Some(&0) => {
            "unknown issuer (no system root certificates found)".into()
        }
        CertificateError::UnknownIssuer => "unknown issuer".into(),
        CertificateError::NotValidForNameContext { expected, .. } => {
            format!("not valid for {}", expected.to_str())
        }
        CertificateError::NotValidForName => "not valid for the name".into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired".into(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "not valid yet".into()
        }
        CertificateError::Revoked => "revoked".into(),
        CertificateError::BadSignature => "bad signature".into(),
        CertificateError::BadEncoding => "bad encoding".into(),
        other => other.to_string(),
    }
}

/// `insecure`: any certificate is accepted, but the handshake's signatures are still
/// checked with the certificate's key, so the peer holds the key it presents.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_name_is_sni_then_host_then_the_ip() {
        let target = Target::direct("192.0.2.7:443".parse().unwrap());
        let mut check = HttpCheck::new("/", true);
        let name = |c: &HttpCheck| server_name(c, &target).unwrap().to_str().into_owned();
        assert_eq!(name(&check), "192.0.2.7");
        check.host = Some("www.example.com:8443".into());
        assert_eq!(name(&check), "www.example.com");
        check.sni = Some("api.example.com".into());
        assert_eq!(name(&check), "api.example.com");
        check.sni = Some("not a name".into());
        assert_eq!(
            server_name(&check, &target).unwrap_err(),
            "`not a name` is not a tls server name"
        );
    }

    #[test]
    fn ports_come_off_host_names_and_ipv6_literals() {
        assert_eq!(without_port("example.com"), "example.com");
        assert_eq!(without_port("example.com:8443"), "example.com");
        assert_eq!(without_port("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(without_port("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn the_shared_configurations_are_built_once() {
        let mut fresh = RootCertStore::empty();
        fresh.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        assert_eq!(prepare(), fresh.len());
        assert!(Arc::ptr_eq(&config(true), &config(true)));
        assert!(Arc::ptr_eq(&config(false), &config(false)));
        assert!(!Arc::ptr_eq(&config(true), &config(false)));
    }
}
