//! rediss://: a push and a flush over TLS to a private redis-server whose certificate a test CA signed — trusted
//! through the system store (SSL_CERT_FILE) or reg_buffer.tls_ca_file — and a client certificate
//! (reg_buffer.tls_cert_file / tls_key_file) where the server demands one (tls-auth-clients yes).
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reg_buffer::core::buffer::Buffer;
use reg_buffer::core::config::Config;
use reg_buffer::core::error::ErrorKind;
use serde_json::json;

/// The tests set SSL_CERT_FILE for the whole process: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn run(cmd: &str, dir: &Path) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "{cmd}");
}

/// A temp dir with ca.crt (signs srv.crt and client.crt) and other-ca.crt (signs other-client.crt).
fn certificates(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regbuf-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for ca in ["ca", "other-ca"] {
        run(&format!("openssl req -x509 -newkey rsa:2048 -nodes -keyout {ca}.key -out {ca}.crt -days 2 -subj /CN=regbuf-test-{ca}"), &dir);
    }
    for (cert, ca, ext) in [
        ("srv", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ("client", "ca", "extendedKeyUsage=clientAuth"),
        ("other-client", "other-ca", "extendedKeyUsage=clientAuth"),
    ] {
        run(&format!("openssl req -newkey rsa:2048 -nodes -keyout {cert}.key -out {cert}.csr -subj /CN={cert}"), &dir);
        std::fs::write(dir.join(format!("{cert}.cnf")), format!("{ext}\n")).unwrap();
        run(&format!("openssl x509 -req -in {cert}.csr -CA {ca}.crt -CAkey {ca}.key -CAcreateserial -out {cert}.crt -days 2 -extfile {cert}.cnf"), &dir);
    }
    dir
}

/// redis-server serving TLS only, on a free port; it ends when the returned child's stdin closes (on drop).
fn tls_server(dir: &Path, auth_clients: &str) -> (Child, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let script = format!(
        "redis-server --port 0 --tls-port {port} --bind 127.0.0.1 --tls-cert-file srv.crt --tls-key-file srv.key \
         --tls-ca-cert-file ca.crt --tls-auth-clients {auth_clients} --save '' --appendonly no & pid=$!; read _; kill $pid"
    );
    let server = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server with TLS did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (server, port)
}

/// A config from reg_buffer.* settings (the retry interval 0: each attempt connects anew).
fn config(settings: &[(&str, String)]) -> Config {
    let settings: Vec<(String, String)> = [("reg_buffer.retry_interval_ms", "0".to_owned())]
        .into_iter()
        .chain(settings.iter().map(|(n, v)| (*n, v.clone())))
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    Config::from_lookup(|n| settings.iter().find(|(name, _)| name == n).map(|(_, v)| v.clone())).unwrap()
}

fn round_trip(cfg: &Config) {
    let buffer = Buffer::new(cfg);
    buffer.push(1, &json!({"a": 1}), None).unwrap();
    let batch = buffer.claim(10, 60).unwrap();
    assert_eq!(batch.registrations.len(), 1);
    assert_eq!(buffer.ack(&batch.id).unwrap(), 1);
}

fn assert_refused(cfg: &Config, why: &str) {
    let err = Buffer::new(cfg).push(1, &json!({"a": 1}), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{why}: {}", err.message);
}

#[test]
fn pushes_and_flushes_over_tls_and_refuses_an_unknown_issuer() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = certificates("store");
    let (_server, port) = tls_server(&dir, "no");
    let cfg = config(&[("reg_buffer.redis_url", format!("rediss://localhost:{port}"))]);

    // Before the CA is trusted the handshake must fail.
    std::env::set_var("SSL_CERT_FILE", "/dev/null");
    assert_refused(&cfg, "the system store does not know the test CA");

    // The system trust store honours SSL_CERT_FILE.
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.crt"));
    round_trip(&cfg);
    std::env::remove_var("SSL_CERT_FILE");
}

#[test]
fn trusts_the_ca_file_and_presents_a_client_certificate() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = certificates("client");
    let (_server, port) = tls_server(&dir, "yes");
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let url = ("reg_buffer.redis_url", format!("rediss://localhost:{port}"));
    let trust = |ca: &str| ("reg_buffer.tls_ca_file", file(ca));
    let identity = |cert: &str| {
        [
            ("reg_buffer.tls_cert_file", file(&format!("{cert}.crt"))),
            ("reg_buffer.tls_key_file", file(&format!("{cert}.key"))),
        ]
    };

    assert_refused(&config(&[url.clone(), trust("other-ca.crt")]), "tls_ca_file names another CA");
    assert_refused(&config(&[url.clone(), trust("ca.crt")]), "no client certificate");
    let [cert, key] = identity("other-client");
    assert_refused(
        &config(&[url.clone(), trust("ca.crt"), cert, key]),
        "a client certificate the server does not trust",
    );
    let [cert, key] = identity("client");
    round_trip(&config(&[url, trust("ca.crt"), cert, key]));
}
