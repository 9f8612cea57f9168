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

impl KafkaTlsFront {
    /// Binds a free port; `serve` starts forwarding once the broker behind it runs.
    pub async fn bind(pki: &TestPki) -> KafkaTlsFront {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        KafkaTlsFront {
            listener: Some(listener),
            config: Arc::new(Mutex::new(server_config(pki))),
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
                live.lock().unwrap().push(task.abort_handle());
            }
        });
    }

    /// From now on presents `pki`'s server certificate; the connections open now are closed,
    /// so clients reconnect and meet it.
    pub fn present(&self, pki: &TestPki) {
        *self.config.lock().unwrap() = server_config(pki);
        for task in self.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}
