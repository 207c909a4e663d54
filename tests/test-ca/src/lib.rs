//! A throw-away certificate authority for tests.
//!
//! Owns key generation and signing for test TLS: a self-signed CA, serving certificates with
//! IP/DNS subject alternative names, Kubernetes-style client certificates (CN = user,
//! O = groups) and ready-made `rustls` server configurations. Everything uses the aws-lc-rs
//! crypto provider explicitly, so nothing here depends on the process-level default provider.
//!
//! It must not be used outside tests: keys are generated in memory, never protected, and all
//! failures panic with a message naming the step.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

/// The OID of the X.520 organizationName attribute (`O=`).
const ORGANIZATION_OID: [u64; 4] = [2, 5, 4, 10];

/// A certificate authority generated in memory.
pub struct TestCa {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate issued by a [`TestCa`], with its private key, both PEM-encoded.
#[derive(Clone)]
pub struct Issued {
    /// The certificate (leaf only; the CA is [`TestCa::cert_pem`]).
    pub cert_pem: String,
    /// The PKCS#8 private key.
    pub key_pem: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// Whether a server built by [`TestCa::server_config`] asks for client certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is requested.
    None,
    /// A client certificate is requested and, when sent, must chain to this CA; clients
    /// without one are still accepted (like kube-apiserver, which then tries bearer tokens).
    Optional,
}

impl TestCa {
    /// Generates a new CA whose subject is `CN=<common_name>`, valid from a day ago for ten years.
    #[must_use]
    pub fn new(common_name: &str) -> TestCa {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let key = KeyPair::generate().expect("generate the CA key");
        let cert = params
            .self_signed(&key)
            .expect("self-sign the CA certificate");
        TestCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate, PEM-encoded: what clients put in their trust store
    /// (`certificate-authority-data` in a kubeconfig).
    #[must_use]
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Issues a serving certificate for `sans`; each entry that parses as an IP address becomes
    /// an IP SAN, anything else a DNS SAN. The first entry is also the subject CN.
    #[must_use]
    pub fn server_cert(&self, sans: &[&str]) -> Issued {
        let mut params = leaf_params(Duration::days(3650));
        params.subject_alt_names = sans
            .iter()
            .map(|san| match san.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(
                    (*san)
                        .try_into()
                        .unwrap_or_else(|e| panic!("invalid DNS name {san:?}: {e}")),
                ),
            })
            .collect();
        if let Some(first) = sans.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(&params)
    }

    /// Issues a client certificate the way Kubernetes reads them: `CN=<common_name>` is the user
    /// name and each `O=` is a group. `not_after` defaults to ten years from now; pass a past
    /// time to get an expired certificate.
    ///
    /// # Panics
    /// With more than two organizations: `rcgen` keeps one value per attribute type, so the
    /// second group is written under the organizationName OID spelled as a custom type.
    #[must_use]
    pub fn client_cert(
        &self,
        common_name: &str,
        organizations: &[&str],
        not_after: Option<OffsetDateTime>,
    ) -> Issued {
        assert!(
            organizations.len() <= 2,
            "test-ca supports at most two O= groups per client certificate, got {organizations:?}"
        );
        let mut params = leaf_params(Duration::days(3650));
        if let Some(not_after) = not_after {
            params.not_after = not_after;
            if params.not_before >= not_after {
                params.not_before = not_after - Duration::days(1);
            }
        }
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        for (i, org) in organizations.iter().enumerate() {
            let ty = if i == 0 {
                DnType::OrganizationName
            } else {
                DnType::CustomDnType(ORGANIZATION_OID.to_vec())
            };
            params.distinguished_name.push(ty, *org);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(&params)
    }

    /// A `rustls` server configuration serving `server` (issued by this CA), offering HTTP/1.1
    /// and HTTP/2 through ALPN, with client certificates per `client_auth`.
    #[must_use]
    pub fn server_config(
        &self,
        server: &Issued,
        client_auth: ClientAuth,
    ) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default TLS versions");
        let builder = match client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Optional => {
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(pem_cert(&self.cert_pem))
                    .expect("add the CA to the client root store");
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    roots.into(),
                    provider,
                )
                .allow_unauthenticated()
                .build()
                .expect("build the client certificate verifier");
                builder.with_client_cert_verifier(verifier)
            }
        };
        let chain = vec![pem_cert(&server.cert_pem), pem_cert(&self.cert_pem)];
        let key = PrivateKeyDer::from_pem_slice(server.key_pem.as_bytes())
            .expect("parse the server private key");
        let mut config = builder
            .with_single_cert(chain, key)
            .expect("the server certificate matches its key");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// A `rustls` client configuration that trusts only this CA (no client certificate).
    #[must_use]
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(pem_cert(&self.cert_pem))
            .expect("add the CA to the root store");
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    fn sign(&self, params: &CertificateParams) -> Issued {
        let key = KeyPair::generate().expect("generate a leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign the leaf certificate");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

fn leaf_params(validity: Duration) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + validity;
    params
}

fn pem_cert(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).expect("parse a PEM certificate")
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::*;

    fn parse(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .expect("pem")
            .to_vec()
    }

    #[test]
    fn a_client_certificate_carries_the_user_as_cn_and_groups_as_o() {
        let ca = TestCa::new("test-ca");
        let issued = ca.client_cert("alice", &["system:masters", "devs"], None);
        let der = parse(&issued.cert_pem);
        let (_, cert) = X509Certificate::from_der(&der).expect("der");
        let cn: Vec<_> = cert
            .subject()
            .iter_common_name()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let orgs: Vec<_> = cert
            .subject()
            .iter_organization()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(cn, ["alice"]);
        assert_eq!(orgs, ["system:masters", "devs"]);
        assert_eq!(
            cert.issuer()
                .iter_common_name()
                .next()
                .unwrap()
                .as_str()
                .unwrap(),
            "test-ca"
        );
    }

    #[test]
    fn an_expired_client_certificate_ends_when_asked() {
        let ca = TestCa::new("test-ca");
        let past = OffsetDateTime::now_utc() - Duration::days(2);
        let issued = ca.client_cert("old", &[], Some(past));
        let der = parse(&issued.cert_pem);
        let (_, cert) = X509Certificate::from_der(&der).expect("der");
        assert!(!cert.validity().is_valid());
    }

    #[test]
    fn a_server_certificate_has_ip_and_dns_sans() {
        let ca = TestCa::new("test-ca");
        let issued = ca.server_cert(&["127.0.0.1", "localhost"]);
        let der = parse(&issued.cert_pem);
        let (_, cert) = X509Certificate::from_der(&der).expect("der");
        let san = cert.subject_alternative_name().unwrap().unwrap();
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .map(|n| format!("{n}"))
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    /// Runs a TLS handshake between the two ends in memory.
    fn handshake(
        client: &mut rustls::ClientConnection,
        server: &mut rustls::ServerConnection,
    ) -> Result<(), rustls::Error> {
        for _ in 0..10 {
            let mut buf = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut buf).expect("write");
            }
            if !buf.is_empty() {
                server.read_tls(&mut buf.as_slice()).expect("read");
                server.process_new_packets()?;
            }
            let mut buf = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut buf).expect("write");
            }
            if !buf.is_empty() {
                client.read_tls(&mut buf.as_slice()).expect("read");
                client.process_new_packets()?;
            }
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(());
            }
        }
        Err(rustls::Error::General(
            "the handshake made no progress".into(),
        ))
    }

    fn connect(
        client: Arc<rustls::ClientConfig>,
        server: Arc<rustls::ServerConfig>,
    ) -> (Result<(), rustls::Error>, rustls::ServerConnection) {
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut c = rustls::ClientConnection::new(client, name).unwrap();
        let mut s = rustls::ServerConnection::new(server).unwrap();
        (handshake(&mut c, &mut s), s)
    }

    #[test]
    fn a_client_trusting_the_ca_completes_a_handshake_on_the_ip_san() {
        let ca = TestCa::new("test-ca");
        let server = ca.server_config(&ca.server_cert(&["127.0.0.1"]), ClientAuth::Optional);
        let (result, conn) = connect(ca.client_config(), server);
        result.expect("handshake");
        assert!(conn.peer_certificates().is_none());
    }

    #[test]
    fn a_client_trusting_another_ca_is_refused() {
        let ca = TestCa::new("test-ca");
        let other = TestCa::new("other-ca");
        let server = ca.server_config(&ca.server_cert(&["127.0.0.1"]), ClientAuth::None);
        let (result, _) = connect(other.client_config(), server);
        assert!(result.is_err());
    }

    #[test]
    fn an_optional_client_certificate_is_presented_to_the_server() {
        let ca = TestCa::new("test-ca");
        let server = ca.server_config(&ca.server_cert(&["127.0.0.1"]), ClientAuth::Optional);
        let issued = ca.client_cert("alice", &["devs"], None);
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pem_cert(ca.cert_pem())).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![pem_cert(&issued.cert_pem)],
            PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
        let (result, conn) = connect(Arc::new(client), server);
        result.expect("handshake");
        assert_eq!(conn.peer_certificates().map(<[_]>::len), Some(1));
    }

    #[test]
    fn server_configs_build_with_and_without_client_auth() {
        let ca = TestCa::new("test-ca");
        let server = ca.server_cert(&["127.0.0.1"]);
        let _ = ca.server_config(&server, ClientAuth::None);
        let _ = ca.server_config(&server, ClientAuth::Optional);
        let _ = ca.client_config();
    }
}
