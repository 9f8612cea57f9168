//! A TLS listener in front of a plaintext broker (Tansu 0.6 cannot terminate TLS itself):
//! every connection is accepted with rustls and forwarded to the broker, which advertises
//! this listener, so every client connection goes through TLS. Its certificate can be
//! swapped, dropping the live connections, to act a broker whose certificate was rotated.

use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use super::tls::TestPki;

pub struct KafkaTlsFront {
    listener: Option<TcpListener>,
    config: Arc<Mutex<Arc<rustls::ServerConfig>>>,
    live: Arc<Mutex<Vec<AbortHandle>>>,
    pub port: u16,
}

fn server_config(pki: &TestPki) -> Arc<rustls::ServerConfig> {
    siphon::tls::install_crypto_provider();
    Arc::new(siphon::tls::server_config(&pki.server_cert, &pki.server_key).unwrap())
}

/// `pki`'s server certificate, and a client certificate signed by `pki`'s CA required.
fn mutual_config(pki: &TestPki) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    siphon::tls::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&pki.ca).unwrap())
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&pki.server_cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(&pki.server_key).unwrap();
    Arc::new(
        rustls::ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap(),
    )
}

impl KafkaTlsFront {
    /// Binds a free port; `serve` starts forwarding once the broker behind it runs.
    pub async fn bind(pki: &TestPki) -> KafkaTlsFront {
        Self::bind_with(server_config(pki)).await
    }

    /// As `bind`, but every client must present a certificate signed by `pki`'s CA (mTLS).
    pub async fn bind_mutual(pki: &TestPki) -> KafkaTlsFront {
        Self::bind_with(mutual_config(pki)).await
    }

    async fn bind_with(config: Arc<rustls::ServerConfig>) -> KafkaTlsFront {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        KafkaTlsFront {
            listener: Some(listener),
            config: Arc::new(Mutex::new(config)),
            live: Arc::default(),
            port,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Forwards each accepted connection to `backend` (a fresh connection per client).
    pub fn serve(&mut self, backend: String) {
        let listener = self.listener.take().expect("serve is called once");
        let (config, live) = (self.config.clone(), self.live.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                // The connection is registered under the same lock `present` takes, so a
                // swap either sees it (and closes it) or comes before it (and it gets the
                // new certificate).
                let mut live = live.lock().unwrap();
                let acceptor = tokio_rustls::TlsAcceptor::from(config.lock().unwrap().clone());
                let backend = backend.clone();
                let task = tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if let Ok(mut up) = tokio::net::TcpStream::connect(&backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                    }
                });
                live.push(task.abort_handle());
            }
        });
    }

    /// From now on presents `pki`'s server certificate; the connections open now are closed,
    /// so clients reconnect and meet it.
    pub fn present(&self, pki: &TestPki) {
        let mut live = self.live.lock().unwrap();
        *self.config.lock().unwrap() = server_config(pki);
        for task in live.drain(..) {
            task.abort();
        }
    }
}
