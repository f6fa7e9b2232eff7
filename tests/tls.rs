//! rediss://: a push and a flush over TLS to a private redis-server whose certificate a test CA signed.
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reg_buffer::core::buffer::Buffer;
use reg_buffer::core::config::Config;
use reg_buffer::core::error::ErrorKind;
use serde_json::json;

fn run(cmd: &str, dir: &std::path::Path) {
    let ok = Command::new("sh").arg("-c").arg(cmd).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    assert!(ok.success(), "{cmd}");
}

#[test]
fn pushes_and_flushes_over_tls_and_refuses_an_unknown_issuer() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("regbuf-tls-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=regbuf-test-ca", &dir);
    run("openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost", &dir);
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run("openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext.cnf", &dir);
    let script = format!(
        "redis-server --port 0 --tls-port {port} --bind 127.0.0.1 --tls-cert-file srv.crt --tls-key-file srv.key \
         --tls-ca-cert-file ca.crt --tls-auth-clients no --save '' --appendonly no & pid=$!; read _; kill $pid"
    );
    let _server = Command::new("sh").arg("-c").arg(&script).current_dir(&dir).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server with TLS did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("rediss://localhost:{port}");
    let cfg = Config::from_lookup(|n| (n == "reg_buffer.redis_url").then(|| url.clone())).unwrap();

    // Before the CA is trusted the handshake must fail.
    let err = Buffer::new(&cfg).push(1, &json!({"a": 1}), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{}", err.message);

    // The system trust store honours SSL_CERT_FILE; a new retry interval lets the breaker close again at once.
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.crt"));
    let mut cfg = cfg;
    cfg.retry_interval = Duration::ZERO;
    let buffer = Buffer::new(&cfg);
    buffer.push(1, &json!({"a": 1}), None).unwrap();
    let batch = buffer.claim(10, 60).unwrap();
    assert_eq!(batch.registrations.len(), 1);
    assert_eq!(buffer.ack(&batch.id).unwrap(), 1);
}
