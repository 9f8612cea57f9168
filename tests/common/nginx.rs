//! A real TLS + basic-auth front for a plain HTTP server (the schema registry has neither):
//! Debian's nginx, in the foreground as a child of the test, on a free port, with its files in
//! the test's directory. Killed when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the front requires of each request.
pub enum FrontAuth<'a> {
    /// HTTP basic authentication with this user and password (an htpasswd file).
    Basic(&'a str, &'a str),
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
}

pub struct TlsFront {
    child: Child,
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    pub access_log: std::path::PathBuf,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TlsFront {
    /// Serves `cert`/`key` and forwards to `upstream` (an `http://host:port` URL) the
    /// requests that carry `auth`; others get 401. With `client_ca`, a client certificate
    /// signed by it is required too (mutual TLS).
    pub fn start(
        dir: &Path,
        upstream: &str,
        (cert, key): (&Path, &Path),
        auth: FrontAuth<'_>,
        client_ca: Option<&Path>,
    ) -> TlsFront {
        std::fs::create_dir_all(dir).unwrap();
        let auth = match auth {
            FrontAuth::Basic(user, password) => {
                let hash = Command::new("openssl")
                    .args(["passwd", "-apr1", password])
                    .output()
                    .expect("openssl (for the htpasswd file)");
                assert!(hash.status.success(), "openssl passwd failed");
                let htpasswd = dir.join("htpasswd");
                std::fs::write(
                    &htpasswd,
                    format!("{user}:{}", String::from_utf8_lossy(&hash.stdout)),
                )
                .unwrap();
                format!(
                    "auth_basic \"schema registry\";\n        auth_basic_user_file {};",
                    htpasswd.display()
                )
            }
            // nginx has no bearer module: the header is compared with the one expected.
            FrontAuth::Bearer(token) => {
                format!("if ($http_authorization != \"Bearer {token}\") {{ return 401; }}")
            }
        };
        let port = super::process::free_port();
        let mutual = client_ca.map_or(String::new(), |ca| {
            format!(
                "ssl_client_certificate {};\n        ssl_verify_client on;",
                ca.display()
            )
        });
        let access_log = dir.join("access.log");
        let conf = format!(
            r#"daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {access};
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        {mutual}
        {auth}
        location / {{
            proxy_pass {upstream};
        }}
    }}
}}
"#,
            dir = dir.display(),
            access = access_log.display(),
            cert = cert.display(),
            key = key.display(),
            upstream = upstream.trim_end_matches('/'),
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let nginx = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("nginx");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (scripts/install-deps.sh installs nginx-light)");
        let mut front = TlsFront {
            child,
            url: format!("https://127.0.0.1:{port}"),
            access_log,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = front.child.try_wait() {
                panic!(
                    "nginx exited with {status}:\n{}",
                    std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        front
    }

    /// The access log: one line per request, with its status.
    pub fn requests(&self) -> String {
        std::fs::read_to_string(&self.access_log).unwrap_or_default()
    }
}
