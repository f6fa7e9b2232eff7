//! The core's guarantees against a real, private redis-server (started on a free port per test binary).
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reg_buffer::core::buffer::{Buffer, PushOutcome};
use reg_buffer::core::config::Config;
use reg_buffer::core::error::ErrorKind;
use serde_json::json;

struct Server {
    port: u16,
    _child: Child,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("regbuf-cargo-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        // The shell stops the server when this test binary exits and its end of the stdin pipe closes.
        let script = format!(
            "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no --dir '{}' & pid=$!; read _; kill $pid",
            dir.display()
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (./build.sh deps)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { port, _child: child }
    })
}

fn config(prefix: &str) -> Config {
    let url = format!("redis://127.0.0.1:{}", server().port);
    let prefix = format!("{prefix}:");
    Config::from_lookup(|name| match name {
        "reg_buffer.redis_url" => Some(url.clone()),
        "reg_buffer.key_prefix" => Some(prefix.clone()),
        _ => None,
    })
    .unwrap()
}

fn id_of(outcome: PushOutcome) -> String {
    match outcome {
        PushOutcome::Buffered(id) => id,
        PushOutcome::Duplicate => panic!("unexpected duplicate"),
    }
}

#[test]
fn a_pushed_registration_is_claimed_once_and_leaves_redis_on_ack() {
    let cfg = config("cycle");
    let buffer = Buffer::new(&cfg);
    let data = json!({"name": "Ada", "qty": 2, "ratio": 0.1, "tags": ["a", "b"]});
    let id = id_of(buffer.push(7, &data, Some(b"ada@example.com")).unwrap());
    let batch = buffer.claim(10, 60).unwrap();
    assert_eq!(batch.registrations.len(), 1);
    let reg = &batch.registrations[0];
    assert_eq!((reg.id.as_str(), reg.event_id), (id.as_str(), 7));
    assert_eq!(reg.stored.data(), &data);
    assert_eq!(reg.stored.unique_key.as_deref(), Some(&b"ada@example.com"[..]));
    assert!(buffer.claim(10, 60).unwrap().registrations.is_empty(), "handed out twice while leased");
    assert_eq!(buffer.ack(&batch.id).unwrap(), 1);
    assert_eq!(buffer.ack(&batch.id).unwrap(), 0);
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.pending, stats.in_flight, stats.buffered), (0, 0, 0));
    assert!(stats.last_ack_age.is_some_and(|age| age < 60.0), "{:?}", stats.last_ack_age);
}

#[test]
fn this_process_counts_what_it_did() {
    let cfg = config("metrics");
    let buffer = Buffer::new(&cfg);
    let before = reg_buffer::core::metrics::snapshot();
    buffer.push(1, &json!({}), Some(b"m")).unwrap();
    buffer.push(1, &json!({}), Some(b"m")).unwrap();
    let batch = buffer.claim(10, 60).unwrap();
    buffer.ack(&batch.id).unwrap();
    let after = reg_buffer::core::metrics::snapshot();
    assert_eq!(
        (after.pushed - before.pushed, after.duplicates - before.duplicates, after.claimed - before.claimed, after.acked - before.acked),
        (1, 1, 1, 1)
    );
}

#[test]
fn a_unique_key_is_refused_twice_per_event_even_after_the_flush() {
    let cfg = config("dedupe");
    let buffer = Buffer::new(&cfg);
    id_of(buffer.push(1, &json!({}), Some(b"k")).unwrap());
    assert_eq!(buffer.push(1, &json!({}), Some(b"k")).unwrap(), PushOutcome::Duplicate);
    id_of(buffer.push(2, &json!({}), Some(b"k")).unwrap());
    let batch = buffer.claim(10, 60).unwrap();
    buffer.ack(&batch.id).unwrap();
    assert_eq!(buffer.push(1, &json!({}), Some(b"k")).unwrap(), PushOutcome::Duplicate);
    assert_eq!(buffer.stats().unwrap().pending, 0);
}

#[test]
fn redelivers_a_batch_whose_lease_expired() {
    let cfg = config("lease");
    let buffer = Buffer::new(&cfg);
    let ids: Vec<String> = (0..3).map(|i| id_of(buffer.push(3, &json!({"i": i}), None).unwrap())).collect();
    let first = buffer.claim(10, 1).unwrap();
    assert_eq!(first.registrations.len(), 3);
    std::thread::sleep(Duration::from_millis(1200));
    let second = buffer.claim(10, 60).unwrap();
    let again: Vec<String> = second.registrations.iter().map(|r| r.id.clone()).collect();
    assert_eq!(again, ids, "redelivered in their original order");
    assert_eq!(buffer.ack(&first.id).unwrap(), 0, "a late ack of the old batch is harmless");
    assert_eq!(buffer.ack(&second.id).unwrap(), 3);
    assert_eq!(buffer.stats().unwrap().counters.iter().find(|(k, _)| k == "redelivered").unwrap().1, 3);
}

#[test]
fn a_busy_event_does_not_starve_a_quiet_one() {
    let cfg = config("fair");
    let buffer = Buffer::new(&cfg);
    for i in 0..2000 {
        buffer.push(100, &json!({"i": i}), None).unwrap();
    }
    buffer.push(200, &json!({"quiet": true}), None).unwrap();
    let batch = buffer.claim(50, 60).unwrap();
    assert!(batch.registrations.iter().any(|r| r.event_id == 200), "the quiet event waited behind the busy one");
    assert_eq!(batch.registrations.len(), 50);
}

#[test]
fn an_undecodable_entry_is_quarantined_and_blocks_nothing() {
    let cfg = config("quarantine");
    let buffer = Buffer::new(&cfg);
    let bad = id_of(buffer.push(5, &json!({"a": 1}), None).unwrap());
    let good = id_of(buffer.push(5, &json!({"b": 2}), None).unwrap());
    let client = redis::Client::open(cfg.redis_url.as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    redis::cmd("HSET").arg("quarantine:ev:{5}:d").arg(&bad).arg("garbage").query::<()>(&mut con).unwrap();
    let batch = buffer.claim(10, 60).unwrap();
    assert_eq!(batch.quarantined, 1);
    assert_eq!(batch.registrations.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), vec![good]);
    assert_eq!(buffer.ack(&batch.id).unwrap(), 1);
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.quarantined, stats.buffered, stats.in_flight), (1, 0, 0));
}

#[test]
fn imports_the_legacy_snippets_lists_keeping_their_time() {
    let cfg = config("import");
    let buffer = Buffer::new(&cfg);
    let client = redis::Client::open(cfg.redis_url.as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    for i in 0..450 {
        let element = json!({"timestamp": 1_700_000_000 + i, "registration_details": {"n": i}}).to_string();
        redis::cmd("LPUSH").arg("legacytest_reg_buffer:9").arg(element).query::<()>(&mut con).unwrap();
    }
    redis::cmd("LPUSH").arg("legacytest_reg_buffer:9").arg("not json").query::<()>(&mut con).unwrap();
    assert_eq!(buffer.import_legacy("legacytest_reg_buffer:*").unwrap(), 450, "the malformed element is quarantined, not counted");
    let len: i64 = redis::cmd("LLEN").arg("legacytest_reg_buffer:9").query(&mut con).unwrap();
    assert_eq!(len, 0);
    let batch = buffer.claim(1000, 60).unwrap();
    assert_eq!(batch.registrations.len(), 450);
    let first = &batch.registrations[0];
    assert_eq!(first.stored.registered_at_micros, 1_700_000_000_000_000);
    assert_eq!(first.stored.data(), &json!({"n": 0}));
    assert_eq!(buffer.stats().unwrap().quarantined, 1);
}

#[test]
fn at_capacity_a_push_is_refused_with_its_id() {
    let mut cfg = config("cap");
    cfg.max_pending = 2;
    let buffer = Buffer::new(&cfg);
    buffer.push(1, &json!({}), None).unwrap();
    buffer.push(1, &json!({}), None).unwrap();
    let err = buffer.push(1, &json!({}), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Capacity);
    assert!(err.registration_id.is_some());
}

#[test]
fn an_unreachable_redis_fails_fast_then_the_breaker_answers_at_once() {
    let mut cfg = config("down");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    cfg.redis_url = format!("redis://127.0.0.1:{port}");
    cfg.retry_interval = Duration::from_secs(60);
    let buffer = Buffer::new(&cfg);
    let err = buffer.push(1, &json!({}), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(err.registration_id.is_some());
    let again = buffer.push(1, &json!({}), None).unwrap_err();
    assert!(again.message.contains("retry_interval_ms"), "{}", again.message);
}

#[test]
fn range_returns_an_events_registrations_in_a_time_window_oldest_first() {
    let cfg = config("range");
    let buffer = Buffer::new(&cfg);
    let before = reg_buffer::core::id::now_micros() as f64 / 1e6;
    let ids: Vec<String> = (0..5).map(|i| id_of(buffer.push(4, &json!({"i": i}), None).unwrap())).collect();
    buffer.push(5, &json!({}), None).unwrap();
    let got = buffer.range(4, before - 1.0, before + 60.0, 3).unwrap();
    assert_eq!(got.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), ids[..3].to_vec());
    assert!(buffer.range(4, before - 100.0, before - 50.0, 10).unwrap().is_empty());
}
