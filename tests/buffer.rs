//! The core's guarantees against real, private Redis: every guarantee runs on a single redis-server and on a
//! 3-master, 3-replica Redis Cluster (each started once per test binary on free ports).
use std::sync::OnceLock;
use std::time::Duration;

use reg_buffer::core::buffer::{Buffer, PushLimits, PushOutcome, RateLimit, UseLimit};
use reg_buffer::core::config::{Config, Durability, Topology};
use reg_buffer::core::error::ErrorKind;
use reg_buffer::core::keys::Keys;
use serde_json::json;

mod support;

fn single_url() -> String {
    static SERVER: OnceLock<support::Servers> = OnceLock::new();
    format!("redis://127.0.0.1:{}", SERVER.get_or_init(|| support::start(1, "")).ports[0])
}

fn cluster_url() -> String {
    static CLUSTER: OnceLock<support::Servers> = OnceLock::new();
    let cluster = CLUSTER.get_or_init(support::start_cluster);
    let nodes: Vec<String> = cluster.ports.iter().take(2).map(|p| format!("127.0.0.1:{p}")).collect();
    format!("redis+cluster://{}", nodes.join(","))
}

fn config_for(url: String, prefix: &str) -> Config {
    let prefix = format!("{prefix}:");
    Config::from_lookup(|name| match name {
        "reg_buffer.redis_url" => Some(url.clone()),
        "reg_buffer.key_prefix" => Some(prefix.clone()),
        _ => None,
    })
    .unwrap()
}

/// A client of the test's own, for what the tests do to Redis behind the buffer's back.
fn raw_connection(cfg: &Config) -> Box<dyn redis::ConnectionLike> {
    match &cfg.topology {
        Topology::Single => Box::new(redis::Client::open(cfg.redis_url.as_str()).unwrap().get_connection().unwrap()),
        Topology::Cluster(nodes) => {
            Box::new(redis::cluster::ClusterClient::new(nodes.clone()).unwrap().get_connection().unwrap())
        }
    }
}

/// The keys of the shard holding `event_id`.
fn keys_of(cfg: &Config, event_id: i64) -> Keys {
    match cfg.topology {
        Topology::Single => Keys::new(&cfg.key_prefix),
        Topology::Cluster(_) => Keys::shard(&cfg.key_prefix, Keys::shard_of(event_id, cfg.shards())),
    }
}

/// Each guarantee, once per topology: `single::<name>` and `cluster::<name>`.
macro_rules! on_both_topologies {
    ($($name:ident),* $(,)?) => {
        mod single {
            $( #[test] fn $name() { super::$name(super::config_for(super::single_url(), concat!("s-", stringify!($name)))) } )*
        }
        mod cluster {
            $( #[test] fn $name() { super::$name(super::config_for(super::cluster_url(), concat!("c-", stringify!($name)))) } )*
        }
    };
}

on_both_topologies!(
    a_pushed_registration_is_claimed_once_and_leaves_redis_on_ack,
    this_process_counts_what_it_did,
    a_unique_key_is_refused_twice_per_event_even_after_the_flush,
    redelivers_a_batch_whose_lease_expired,
    a_busy_event_does_not_starve_a_quiet_one,
    an_undecodable_entry_is_quarantined_and_blocks_nothing,
    at_capacity_a_push_is_refused_with_its_id,
    range_returns_an_events_registrations_in_a_time_window_oldest_first,
    range_bounds_are_exact_to_the_microsecond_within_one_millisecond,
    many_events_are_flushed_exactly_once,
    a_use_limited_token_carries_its_uses_and_no_more,
    a_token_whose_expiry_is_past_is_used_up,
    a_client_over_its_rate_limit_is_refused_with_the_seconds_left,
    a_push_repeated_on_a_new_connection_is_counted_once,
    the_epoch_stays_while_the_data_stays_and_changes_when_it_is_lost,
    the_oldest_pending_age_follows_claims_redeliveries_and_drains,
    the_oldest_pending_age_is_right_after_a_claim_served_many_events,
    an_id_whose_data_vanished_is_counted_lost_and_the_rest_is_delivered,
    a_marker_holds_a_transaction_push_until_it_is_filed,
    a_held_registration_outlives_a_dedupe_ttl_shorter_than_its_wait,
    a_first_attempt_arriving_after_its_repeat_is_filed_once,
    a_held_registration_that_cannot_move_blocks_no_other_event,
    a_vanished_held_registration_is_lost_and_duplicates_leave_nothing,
    a_transaction_push_whose_inbox_entry_is_refused_leaves_nothing,
    a_plain_push_whose_data_write_is_refused_is_an_error_not_a_duplicate,
    a_key_filing_cannot_write_stops_the_step_before_it_trims,
    filing_many_steps_keeps_push_order_across_the_inbox_and_the_held_list,
    a_push_sent_again_after_its_connection_was_closed_gets_the_scripts_answer,
);

/// Claims and acks until the buffer is empty; returns every registration claimed.
fn drain(buffer: &Buffer) -> Vec<reg_buffer::core::buffer::BufferedRegistration> {
    let mut all = Vec::new();
    loop {
        let batch = buffer.claim(500, 60).unwrap();
        if batch.id.is_empty() {
            return all;
        }
        assert_eq!(buffer.ack(&batch.id).unwrap(), batch.registrations.len() as i64);
        all.extend(batch.registrations);
    }
}

fn id_of(outcome: PushOutcome) -> String {
    match outcome {
        PushOutcome::Buffered(id) => id,
        PushOutcome::Duplicate => panic!("unexpected duplicate"),
    }
}

fn a_pushed_registration_is_claimed_once_and_leaves_redis_on_ack(cfg: Config) {
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

fn this_process_counts_what_it_did(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let before = reg_buffer::core::metrics::snapshot();
    buffer.push(1, &json!({}), Some(b"m")).unwrap();
    buffer.push(1, &json!({}), Some(b"m")).unwrap();
    let batch = buffer.claim(10, 60).unwrap();
    buffer.ack(&batch.id).unwrap();
    let after = reg_buffer::core::metrics::snapshot();
    assert_eq!(
        (
            after.pushed - before.pushed,
            after.duplicates - before.duplicates,
            after.claimed - before.claimed,
            after.acked - before.acked
        ),
        (1, 1, 1, 1)
    );
}

fn a_unique_key_is_refused_twice_per_event_even_after_the_flush(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    id_of(buffer.push(1, &json!({}), Some(b"k")).unwrap());
    assert_eq!(buffer.push(1, &json!({}), Some(b"k")).unwrap(), PushOutcome::Duplicate);
    id_of(buffer.push(2, &json!({}), Some(b"k")).unwrap());
    assert_eq!(drain(&buffer).len(), 2);
    assert_eq!(buffer.push(1, &json!({}), Some(b"k")).unwrap(), PushOutcome::Duplicate);
    assert_eq!(buffer.stats().unwrap().pending, 0);
}

fn redelivers_a_batch_whose_lease_expired(cfg: Config) {
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

fn a_busy_event_does_not_starve_a_quiet_one(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    for i in 0..2000 {
        buffer.push(100, &json!({"i": i}), None).unwrap();
    }
    buffer.push(200, &json!({"quiet": true}), None).unwrap();
    // One claim per shard is one pass over the buffer: the quiet event must come out in it.
    let batches: Vec<_> = (0..cfg.shards()).map(|_| buffer.claim(50, 60).unwrap()).collect();
    assert!(
        batches.iter().flat_map(|b| &b.registrations).any(|r| r.event_id == 200),
        "the quiet event waited behind the busy one"
    );
    assert!(batches.iter().all(|b| b.registrations.len() <= 50));
}

fn an_undecodable_entry_is_quarantined_and_blocks_nothing(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let bad = id_of(buffer.push(5, &json!({"a": 1}), None).unwrap());
    let good = id_of(buffer.push(5, &json!({"b": 2}), None).unwrap());
    let mut con = raw_connection(&cfg);
    redis::cmd("HSET").arg(keys_of(&cfg, 5).data(5)).arg(&bad).arg("garbage").query::<()>(&mut *con).unwrap();
    let batch = buffer.claim(10, 60).unwrap();
    assert_eq!(batch.quarantined, 1);
    assert_eq!(batch.registrations.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), vec![good]);
    assert_eq!(buffer.ack(&batch.id).unwrap(), 1);
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.quarantined, stats.buffered, stats.in_flight), (1, 0, 0));
}

#[test]
fn imports_the_legacy_snippets_lists_keeping_their_time() {
    let cfg = config_for(single_url(), "import");
    let buffer = Buffer::new(&cfg);
    let client = redis::Client::open(cfg.redis_url.as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    for i in 0..450 {
        let element = json!({"timestamp": 1_700_000_000 + i, "registration_details": {"n": i}}).to_string();
        redis::cmd("LPUSH").arg("legacytest_reg_buffer:9").arg(element).query::<()>(&mut con).unwrap();
    }
    redis::cmd("LPUSH").arg("legacytest_reg_buffer:9").arg("not json").query::<()>(&mut con).unwrap();
    assert_eq!(
        buffer.import_legacy("legacytest_reg_buffer:*").unwrap(),
        450,
        "the malformed element is quarantined, not counted"
    );
    let len: i64 = redis::cmd("LLEN").arg("legacytest_reg_buffer:9").query(&mut con).unwrap();
    assert_eq!(len, 0);
    let batch = buffer.claim(1000, 60).unwrap();
    assert_eq!(batch.registrations.len(), 450);
    let first = &batch.registrations[0];
    assert_eq!(first.stored.registered_at_micros, 1_700_000_000_000_000);
    assert_eq!(first.stored.data(), &json!({"n": 0}));
    assert_eq!(buffer.stats().unwrap().quarantined, 1);
}

fn at_capacity_a_push_is_refused_with_its_id(mut cfg: Config) {
    // On a cluster each shard enforces the whole cap: one event may use all of it.
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
    let mut cfg = config_for(single_url(), "down");
    let port = support::free_port();
    cfg.redis_url = format!("redis://127.0.0.1:{port}");
    cfg.retry_interval = Duration::from_secs(60);
    let buffer = Buffer::new(&cfg);
    let err = buffer.push(1, &json!({}), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(err.registration_id.is_some());
    let again = buffer.push(1, &json!({}), None).unwrap_err();
    assert!(again.message.contains("retry_interval_ms"), "{}", again.message);
}

fn range_returns_an_events_registrations_in_a_time_window_oldest_first(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let before = reg_buffer::core::id::now_micros() as f64 / 1e6;
    let ids: Vec<String> = (0..5).map(|i| id_of(buffer.push(4, &json!({"i": i}), None).unwrap())).collect();
    buffer.push(5, &json!({}), None).unwrap();
    let got = buffer.range(4, before - 1.0, before + 60.0, 3).unwrap();
    assert_eq!(got.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), ids[..3].to_vec());
    assert!(buffer.range(4, before - 100.0, before - 50.0, 10).unwrap().is_empty());
}

fn range_bounds_are_exact_to_the_microsecond_within_one_millisecond(cfg: Config) {
    // The time index scores whole milliseconds; range() must still tell apart two registrations of one millisecond.
    let buffer = Buffer::new(&cfg);
    let micros = |b: &Buffer| {
        b.range(6, f64::NEG_INFINITY, f64::INFINITY, 1000)
            .unwrap()
            .iter()
            .map(|r| (r.id.clone(), r.stored.registered_at_micros))
            .collect::<Vec<_>>()
    };
    let pair = (0..2000)
        .find_map(|_| {
            buffer.push(6, &json!({}), None).unwrap();
            let all = micros(&buffer);
            let (a, b) = (&all[all.len().saturating_sub(2)], all.last().unwrap());
            (all.len() >= 2 && a.1 / 1000 == b.1 / 1000 && a.1 < b.1).then(|| (a.clone(), b.clone()))
        })
        .expect("two pushes within one millisecond");
    let ((first, t1), (second, t2)) = pair;
    let ids =
        |from: f64, to: f64| buffer.range(6, from, to, 1000).unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(t2 as f64 / 1e6, t2 as f64 / 1e6), vec![second.clone()]);
    assert_eq!(ids(t1 as f64 / 1e6, t1 as f64 / 1e6), vec![first.clone()]);
    assert!(!ids(t2 as f64 / 1e6, f64::INFINITY).contains(&first));
    assert!(!ids(f64::NEG_INFINITY, t1 as f64 / 1e6).contains(&second));
    assert_eq!(ids(t1 as f64 / 1e6, t2 as f64 / 1e6), vec![first, second]);
}

fn many_events_are_flushed_exactly_once(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let mut pushed: Vec<String> =
        (0..600).map(|i| id_of(buffer.push(1 + i % 150, &json!({"i": i}), None).unwrap())).collect();
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.pending, stats.events), (600, 150));
    let mut flushed: Vec<String> = drain(&buffer).into_iter().map(|r| r.id).collect();
    pushed.sort();
    flushed.sort();
    assert_eq!(flushed, pushed, "every registration once");
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.buffered, stats.in_flight, stats.events), (0, 0, 0));
    assert_eq!(stats.counters.iter().find(|(k, _)| k == "acked").unwrap().1, 600);
}

#[test]
fn a_cluster_spreads_the_shards_over_its_masters() {
    let cfg = config_for(cluster_url(), "spread");
    let buffer = Buffer::new(&cfg);
    for e in 1..=64 {
        buffer.push(e, &json!({}), None).unwrap();
    }
    let Topology::Cluster(nodes) = &cfg.topology else { unreachable!() };
    let port: u16 = nodes[0].rsplit(':').next().unwrap().parse().unwrap();
    let calls = support::cli(port, &["--cluster", "call", &format!("127.0.0.1:{port}"), "DBSIZE"]);
    let nodes_with_keys = calls.lines().filter(|l| l.contains(": ") && !l.trim_end().ends_with(": 0")).count();
    assert!(nodes_with_keys >= 3, "64 events should land on every master:\n{calls}");
}

#[test]
fn a_cluster_refuses_the_legacy_import_instead_of_a_half_move() {
    let cfg = config_for(cluster_url(), "noimport");
    let err = Buffer::new(&cfg).import_legacy("event_reg_buffer:*").unwrap_err();
    assert!(err.message.contains("single Redis server"), "{}", err.message);
}

#[test]
fn replica_durability_acknowledges_after_the_replica_has_the_write() {
    let mut cfg = config_for(cluster_url(), "durable");
    cfg.durability = Durability::Replica { replicas: 1, timeout: Duration::from_millis(2000) };
    let buffer = Buffer::new(&cfg);
    let id = id_of(buffer.push(11, &json!({"seat": 1}), None).unwrap());
    let batch = buffer.claim(10, 60).unwrap();
    assert_eq!(batch.registrations[0].id, id);
    assert_eq!(buffer.ack(&batch.id).unwrap(), 1);
}

#[test]
fn a_write_the_replicas_did_not_confirm_throws_with_its_id_and_is_stored_once() {
    let mut cfg = config_for(cluster_url(), "undurable");
    // Each master has one replica: two can never confirm.
    cfg.durability = Durability::Replica { replicas: 2, timeout: Duration::from_millis(300) };
    let buffer = Buffer::new(&cfg);
    let err = buffer.push(12, &json!({"seat": 2}), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection);
    assert!(err.message.contains(" of the 2 replicas"), "{}", err.message);
    let id = err.registration_id.clone().expect("the id travels with the error");
    cfg.durability = Durability::Local;
    let flushed = drain(&Buffer::new(&cfg));
    assert_eq!(flushed.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), vec![id], "on the master, flushed once");
}

#[test]
fn replica_durability_works_on_a_single_server_with_a_replica() {
    let servers = support::start(2, "");
    let [master, replica] = [servers.ports[0], servers.ports[1]];
    support::cli(replica, &["REPLICAOF", "127.0.0.1", &master.to_string()]);
    support::wait_until(20, "the replica to sync", || {
        support::cli(master, &["INFO", "replication"]).contains(",state=online,")
    });
    let mut cfg = config_for(format!("redis://127.0.0.1:{master}"), "durable1");
    cfg.durability = Durability::Replica { replicas: 1, timeout: Duration::from_millis(2000) };
    let id = id_of(Buffer::new(&cfg).push(1, &json!({}), None).unwrap());
    assert_eq!(
        support::cli(replica, &["HEXISTS", &Keys::new(&cfg.key_prefix).data(1), &id]).trim(),
        "1",
        "the replica has it when push returns"
    );
}

fn a_use_limited_token_carries_its_uses_and_no_more(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let limit = UseLimit { token: b"nonce", uses: 2, expires_at: 4_000_000_000 };
    id_of(buffer.push_limited(8, &json!({}), None, Some(&limit)).unwrap());
    assert!(!buffer.push_limited(8, &json!({}), Some(b"j"), Some(&limit)).unwrap().is_duplicate());
    assert!(!buffer.push_limited(9, &json!({}), Some(b"k"), None).unwrap().is_duplicate());
    assert!(buffer
        .push_limited(9, &json!({}), Some(b"k"), Some(&UseLimit { token: b"other", ..limit.clone() }))
        .unwrap()
        .is_duplicate());
    // Used up: the same answer for a registered key, an unknown one and none (the token tells nothing about keys).
    for key in [Some(&b"j"[..]), Some(b"new"), None] {
        let err = buffer.push_limited(8, &json!({}), key, Some(&limit)).unwrap_err();
        assert_eq!((err.kind, err.registration_id), (ErrorKind::Limit, None), "{key:?}");
    }
    assert_eq!(buffer.stats().unwrap().pending, 3);
}

fn a_token_whose_expiry_is_past_is_used_up(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    for expires_at in [1, now - 60, now] {
        let limit = UseLimit { token: b"old", uses: 5, expires_at };
        let err = buffer.push_limited(8, &json!({}), Some(b"k"), Some(&limit)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Limit, "expires_at {expires_at}");
    }
    assert_eq!(buffer.stats().unwrap().pending, 0);
    assert!(!buffer.push(8, &json!({}), Some(b"k")).unwrap().is_duplicate(), "no marker was taken");
}

fn a_client_over_its_rate_limit_is_refused_with_the_seconds_left(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let rate = RateLimit { client: b"203.0.113.7", limit: 2, window: 3600 };
    let limits = PushLimits { uses: None, rate: Some(rate.clone()), seats: None };
    assert!(!buffer.push_json(5, b"{}", Some(b"a"), &limits).unwrap().is_duplicate());
    assert!(buffer.push_json(5, b"{}", Some(b"a"), &limits).unwrap().is_duplicate(), "a duplicate counts");
    let err = buffer.push_json(5, b"{}", Some(b"b"), &limits).unwrap_err();
    assert_eq!((err.kind, err.registration_id.is_none()), (ErrorKind::RateLimit, true));
    let left = err.retry_after.unwrap();
    assert!((1..=3600).contains(&left), "{left}");
    let other = PushLimits { uses: None, rate: Some(RateLimit { client: b"198.51.100.1", ..rate }), seats: None };
    assert!(!buffer.push_json(5, b"{}", Some(b"b"), &other).unwrap().is_duplicate(), "the refused push took no marker");
    assert_eq!(buffer.stats().unwrap().pending, 2);
}

/// push.lua run directly, to send a push "again on a new connection" (the repeat flag) as with_connection does.
fn run_push_script(
    cfg: &Config,
    event_id: i64,
    id: &str,
    unique_key: Option<&[u8]>,
    repeat: bool,
    rate: &RateLimit,
) -> redis::Value {
    let k = keys_of(cfg, event_id);
    let script = redis::Script::new(reg_buffer::core::buffer::PUSH_LUA);
    let mut call = script.prepare_invoke();
    for key in k.push_keys(event_id) {
        call.key(key);
    }
    if let Some(u) = unique_key {
        call.key(k.unique_marker(event_id, u));
    }
    call.key(k.rate_counter(rate.client));
    let entry = reg_buffer::core::codec::encode(&json!({}), 1_700_000_000_000_000, unique_key, 1000).unwrap();
    call.arg(id).arg(entry).arg(1_700_000_000_000i64).arg(event_id).arg(0).arg(if repeat { "1" } else { "0" }).arg(60);
    call.arg("").arg("").arg(rate.limit).arg(rate.window).arg("").arg("");
    call.invoke(&mut *raw_connection(cfg)).unwrap()
}

fn a_push_repeated_on_a_new_connection_is_counted_once(cfg: Config) {
    let rate = RateLimit { client: b"192.0.2.5", limit: 2, window: 3600 };
    let counter = || -> String {
        redis::cmd("GET").arg(keys_of(&cfg, 6).rate_counter(rate.client)).query(&mut *raw_connection(&cfg)).unwrap()
    };
    assert_eq!(run_push_script(&cfg, 6, "01JREPEATED0000000000000A", None, false, &rate), redis::Value::Int(1));
    assert_eq!(
        run_push_script(&cfg, 6, "01JREPEATED0000000000000A", None, true, &rate),
        redis::Value::Int(1),
        "the repeat finds its first attempt"
    );
    assert_eq!(counter(), "1", "the repeat was not counted again");
    // Flushed before the repeat arrives: its unique key's marker still names it.
    assert_eq!(run_push_script(&cfg, 6, "01JREPEATED0000000000000B", Some(b"ada"), false, &rate), redis::Value::Int(1));
    assert_eq!(counter(), "2");
    drain(&Buffer::new(&cfg));
    assert_eq!(
        run_push_script(&cfg, 6, "01JREPEATED0000000000000B", Some(b"ada"), true, &rate),
        redis::Value::Int(1),
        "at the limit, the repeat of an accepted push is still accepted, and not counted"
    );
    assert_eq!(counter(), "2");
    assert!(
        matches!(run_push_script(&cfg, 6, "01JREPEATED0000000000000C", None, false, &rate), redis::Value::Array(_)),
        "a new push is over the limit"
    );
}

/// A lifetime counter from stats.
fn counter(stats: &reg_buffer::core::buffer::Stats, name: &str) -> i64 {
    stats.counters.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v)
}

/// GET of a key as bytes (None when missing), and its TTL.
fn get_with_ttl(cfg: &Config, key: &str) -> (Option<Vec<u8>>, i64) {
    let mut c = raw_connection(cfg);
    (redis::cmd("GET").arg(key).query(&mut *c).unwrap(), redis::cmd("TTL").arg(key).query(&mut *c).unwrap())
}

/// A push with a unique key and nothing else to check (no cap here) is a transaction on one server: its marker, taken
/// with SET NX, holds the registration with no TTL until filing moves it into the event's data.
fn a_marker_holds_a_transaction_push_until_it_is_filed(mut cfg: Config) {
    cfg.max_pending = 0;
    let buffer = Buffer::new(&cfg);
    let k = keys_of(&cfg, 8);
    let marker = k.unique_marker(8, b"ada");
    let id = id_of(buffer.push(8, &json!({"n": 1}), Some(b"ada")).unwrap());
    let (held, ttl) = get_with_ttl(&cfg, &marker);
    let held = held.unwrap();
    if cfg.topology == Topology::Single {
        assert!(held.starts_with(format!("{id}:{}:1:", cfg.dedupe_ttl).as_bytes()), "codec.rs's write_held");
        assert_eq!(ttl, -1, "no TTL while it holds the registration");
        let rate = RateLimit { client: b"192.0.2.8", limit: 5, window: 60 };
        assert_eq!(run_push_script(&cfg, 8, &id, Some(b"ada"), true, &rate), redis::Value::Int(1), "a repeat finds it");
    } else {
        assert_eq!(held, id.as_bytes(), "a cluster's push is a script: the marker names it");
    }
    assert!(buffer.push(8, &json!({"n": 2}), Some(b"ada")).unwrap().is_duplicate());
    assert!(buffer.push(8, &json!({"n": 3}), Some(b"ada")).unwrap().is_duplicate());
    let found = buffer.range(8, 0.0, 4e9, 10).unwrap();
    assert_eq!(found.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [id.as_str()], "range files first");
    let (named, ttl) = get_with_ttl(&cfg, &marker);
    assert_eq!(named.unwrap(), id.as_bytes(), "filed: the marker names it");
    assert!((1..=cfg.dedupe_ttl as i64).contains(&ttl), "{ttl}");
    let rows = drain(&buffer);
    assert_eq!(
        rows.iter().map(|r| (r.id.as_str(), r.stored.data().clone())).collect::<Vec<_>>(),
        [(id.as_str(), json!({"n": 1}))]
    );
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.pending, counter(&stats, "duplicates"), counter(&stats, "pushed")), (0, 2, 1));
    assert!(buffer.push(8, &json!({"n": 4}), Some(b"ada")).unwrap().is_duplicate(), "still a duplicate once flushed");
}

/// The dedupe TTL starts when the registration is filed: a held registration waits however long the flush does.
fn a_held_registration_outlives_a_dedupe_ttl_shorter_than_its_wait(mut cfg: Config) {
    cfg.max_pending = 0;
    cfg.dedupe_ttl = 1;
    let buffer = Buffer::new(&cfg);
    let id = id_of(buffer.push(9, &json!({"n": 1}), Some(b"bob")).unwrap());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(drain(&buffer).iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [id]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!buffer.push(9, &json!({"n": 2}), Some(b"bob")).unwrap().is_duplicate(), "accepted again after the TTL");
}

/// A push sent again on a new connection runs the script, which buffers it with a plain inbox entry when the first
/// attempt had not arrived; should the first arrive after all, its held entry names the same id: dropped, uncounted.
fn a_first_attempt_arriving_after_its_repeat_is_filed_once(mut cfg: Config) {
    cfg.max_pending = 0;
    let buffer = Buffer::new(&cfg);
    let k = keys_of(&cfg, 10);
    let rate = RateLimit { client: b"192.0.2.10", limit: 5, window: 60 };
    let id = "01JREPEATED0000000000000E";
    assert_eq!(run_push_script(&cfg, 10, id, Some(b"eve"), true, &rate), redis::Value::Int(1));
    let mut late = String::new();
    reg_buffer::core::keys::push_inbox_member(&mut late, 10, id, 1_700_000_000_000, Some(b"eve"));
    redis::cmd("RPUSH").arg(k.held()).arg(late).query::<()>(&mut *raw_connection(&cfg)).unwrap();
    assert_eq!(drain(&buffer).iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [id]);
    let stats = buffer.stats().unwrap();
    assert_eq!(
        (stats.pending, counter(&stats, "pushed"), counter(&stats, "lost"), counter(&stats, "duplicates")),
        (0, 1, 0, 0)
    );
}

/// A held registration whose event's data key holds another type cannot move: it waits in its list, and every
/// other event is filed and flushed; once the key is fixed it is flushed too, once.
fn a_held_registration_that_cannot_move_blocks_no_other_event(mut cfg: Config) {
    cfg.max_pending = 0;
    let buffer = Buffer::new(&cfg);
    let k = keys_of(&cfg, 12);
    let mut c = raw_connection(&cfg);
    let other = id_of(buffer.push(13, &json!({"n": 0}), None).unwrap());
    redis::cmd("SET").arg(k.data(12)).arg("not a hash").query::<()>(&mut *c).unwrap();
    match buffer.push(12, &json!({"n": 1}), Some(b"lee")) {
        Ok(outcome) => {
            let held = id_of(outcome);
            assert_eq!(drain(&buffer).iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [other.as_str()]);
            assert_eq!(buffer.stats().unwrap().pending, 1, "it waits");
            redis::cmd("DEL").arg(k.data(12)).query::<()>(&mut *c).unwrap();
            assert_eq!(drain(&buffer).iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [held]);
        }
        // A script push (a cluster) writes the data itself, and fails.
        Err(_) => {
            redis::cmd("DEL").arg(k.data(12)).query::<()>(&mut *c).unwrap();
            assert_eq!(drain(&buffer).iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [other.as_str()]);
        }
    }
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.pending, counter(&stats, "lost")), (0, 0));
}

/// A held registration whose marker vanished (evicted) is counted lost, not as a duplicate; a duplicate's entry is
/// removed by the push that answered it, so a storm of duplicates leaves nothing to weigh on the cap.
fn a_vanished_held_registration_is_lost_and_duplicates_leave_nothing(mut cfg: Config) {
    cfg.max_pending = 0;
    let buffer = Buffer::new(&cfg);
    let k = keys_of(&cfg, 14);
    let mut c = raw_connection(&cfg);
    id_of(buffer.push(14, &json!({"n": 1}), Some(b"max")).unwrap());
    for n in 0..20 {
        assert!(buffer.push(14, &json!({"n": n}), Some(b"max")).unwrap().is_duplicate());
    }
    let unfiled: i64 = redis::cmd("LLEN").arg(k.held()).query(&mut *c).unwrap();
    assert_eq!(unfiled, if cfg.topology == Topology::Single { 1 } else { 0 });
    if cfg.topology == Topology::Single {
        redis::cmd("DEL").arg(k.unique_marker(14, b"max")).query::<()>(&mut *c).unwrap();
        assert!(drain(&buffer).is_empty());
        let stats = buffer.stats().unwrap();
        assert_eq!(
            (stats.pending, counter(&stats, "pushed"), counter(&stats, "lost"), counter(&stats, "duplicates")),
            (0, 1, 1, 20)
        );
    }
}

/// A transaction push whose RPUSH fails inside EXEC (its list's key holds another type) wrote its data or its marker:
/// it is removed and the push fails, so the key is free and nothing unnamed stays behind.
fn a_transaction_push_whose_inbox_entry_is_refused_leaves_nothing(mut cfg: Config) {
    cfg.max_pending = 0;
    let buffer = Buffer::new(&cfg);
    let k = keys_of(&cfg, 11);
    let mut c = raw_connection(&cfg);
    for list in [k.inbox(), k.held()] {
        redis::cmd("SET").arg(list).arg("not a list").query::<()>(&mut *c).unwrap();
    }
    let failed = buffer.push(11, &json!({"n": 1}), Some(b"kim")).unwrap_err();
    assert!(failed.message.contains("WRONGTYPE"), "{}", failed.message);
    if cfg.topology == Topology::Single {
        assert!(buffer.push(11, &json!({"n": 2}), None).is_err());
        let marker: Option<String> = redis::cmd("GET").arg(k.unique_marker(11, b"kim")).query(&mut *c).unwrap();
        assert_eq!(marker, None, "the marker was given back");
        let data: i64 = redis::cmd("HLEN").arg(k.data(11)).query(&mut *c).unwrap();
        assert_eq!(data, 0, "the data was removed");
    }
    redis::cmd("DEL").arg(k.inbox()).arg(k.held()).query::<()>(&mut *c).unwrap();
    if cfg.topology == Topology::Single {
        let id = id_of(buffer.push(11, &json!({"n": 3}), Some(b"kim")).unwrap());
        assert_eq!(drain(&buffer).iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [id]);
    }
}

/// Regression (red team, second pass): a plain push whose HSET was refused inside EXEC (the data key holds another
/// type) while its RPUSH ran was answered false, as a duplicate; it is an error, and its inbox entry is taken back.
fn a_plain_push_whose_data_write_is_refused_is_an_error_not_a_duplicate(mut cfg: Config) {
    cfg.max_pending = 0;
    let buffer = Buffer::new(&cfg);
    let k = keys_of(&cfg, 15);
    let mut c = raw_connection(&cfg);
    redis::cmd("SET").arg(k.data(15)).arg("not a hash").query::<()>(&mut *c).unwrap();
    let err = buffer.push(15, &json!({"n": 1}), None).unwrap_err();
    assert!(err.message.contains("WRONGTYPE"), "{}", err.message);
    assert!(err.registration_id.is_some());
    let unfiled: i64 = redis::cmd("LLEN").arg(k.inbox()).query(&mut *c).unwrap();
    assert_eq!(unfiled, 0, "no entry left naming it");
    redis::cmd("DEL").arg(k.data(15)).query::<()>(&mut *c).unwrap();
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.pending, counter(&stats, "lost"), counter(&stats, "duplicates")), (0, 0, 0));
}

/// Regression (red team, second pass): with the stats hash of another type, filing trimmed its lists and then failed
/// on the counters: the held registrations were in no list and their markers blocked their keys for good. Now the
/// step is refused before it trims, and once the key is fixed everything is flushed once.
fn a_key_filing_cannot_write_stops_the_step_before_it_trims(mut cfg: Config) {
    cfg.max_pending = 0;
    let buffer = Buffer::new(&cfg);
    let k = keys_of(&cfg, 16);
    let mut c = raw_connection(&cfg);
    let ids: Vec<String> =
        (0..3u8).map(|n| id_of(buffer.push(16, &json!({"n": n}), Some(&[b'a' + n])).unwrap())).collect();
    redis::cmd("SET").arg(k.stats()).arg("not a hash").query::<()>(&mut *c).unwrap();
    assert!(buffer.claim(10, 60).is_err());
    redis::cmd("DEL").arg(k.stats()).query::<()>(&mut *c).unwrap();
    assert_eq!(drain(&buffer).into_iter().map(|r| r.id).collect::<Vec<_>>(), ids);
}

/// Filing takes the heads of both lists (2,000 each a step): a held registration pushed after 3,000 plain ones is
/// handed out after them, not with the first step.
fn filing_many_steps_keeps_push_order_across_the_inbox_and_the_held_list(mut cfg: Config) {
    cfg.max_pending = 0;
    let buffer = Buffer::new(&cfg);
    let mut pushed = Vec::new();
    for n in 0..3000 {
        pushed.push(id_of(buffer.push(17, &json!({"n": n}), None).unwrap()));
    }
    for n in 0..10u8 {
        pushed.push(id_of(buffer.push(17, &json!({"u": n}), Some(&[b'k', n])).unwrap()));
    }
    let mut handed = Vec::new();
    loop {
        let batch = buffer.claim(1000, 60).unwrap();
        if batch.id.is_empty() {
            break;
        }
        buffer.ack(&batch.id).unwrap();
        handed.extend(batch.registrations.into_iter().map(|r| r.id));
    }
    assert_eq!(handed, pushed);
}

/// A push whose pooled connection Redis had closed (a restart, an idle timeout) is sent again on a new one: the first
/// attempt never reached Redis, so the script's answer is the push's — here the cap's refusal, with its id.
fn a_push_sent_again_after_its_connection_was_closed_gets_the_scripts_answer(mut cfg: Config) {
    if cfg.topology != Topology::Single {
        return;
    }
    cfg.max_pending = 1;
    let buffer = Buffer::new(&cfg);
    id_of(buffer.push(18, &json!({"n": 1}), None).unwrap());
    let mut c = raw_connection(&cfg);
    redis::cmd("CLIENT").arg("KILL").arg("SKIPME").arg("yes").query::<()>(&mut *c).unwrap();
    let err = buffer.push(18, &json!({"n": 2}), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Capacity, "{}", err.message);
    assert!(err.registration_id.is_some());
}

fn the_epoch_stays_while_the_data_stays_and_changes_when_it_is_lost(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let first = buffer.stats().unwrap().epoch;
    assert!(!first.is_empty());
    buffer.push(3, &json!({}), None).unwrap();
    drain(&buffer);
    assert_eq!(buffer.stats().unwrap().epoch, first, "pushes and flushes keep it");
    // What a restart without persistence does to one shard's keys.
    let mut con = raw_connection(&cfg);
    redis::cmd("DEL").arg(keys_of(&cfg, 3).epoch()).query::<()>(&mut *con).unwrap();
    let second = buffer.stats().unwrap().epoch;
    assert_ne!(second, first, "a shard that lost its data changes the epoch");
    assert_eq!(buffer.stats().unwrap().epoch, second);
}

/// Two events whose keys live in the same shard (any two on a single server).
fn two_events_of_one_shard(cfg: &Config) -> (i64, i64) {
    let first = 1;
    let second = (2..).find(|&e| keys_of(cfg, e) == keys_of(cfg, first)).unwrap();
    (first, second)
}

fn oldest_age(buffer: &Buffer) -> f64 {
    buffer.stats().unwrap().oldest_pending_age.expect("registrations are pending")
}

fn the_oldest_pending_age_follows_claims_redeliveries_and_drains(cfg: Config) {
    let buffer = Buffer::new(&cfg);
    let (a, b) = two_events_of_one_shard(&cfg);
    let started = std::time::Instant::now();
    let r1 = id_of(buffer.push(a, &json!({"r": 1}), None).unwrap());
    let r1b = id_of(buffer.push(a, &json!({"r": 2}), None).unwrap());
    std::thread::sleep(Duration::from_millis(400));
    buffer.push(a, &json!({"r": 3}), None).unwrap();
    let r3 = id_of(buffer.push(b, &json!({"r": 4}), None).unwrap());
    assert!(oldest_age(&buffer) >= 0.39, "the first push is the oldest");

    // a served twice (its share, then what is left of the limit), b drained: a's entry in the index is now behind
    // its new head, and stats must not report the claimed registrations' age.
    let first = buffer.claim(3, 1).unwrap();
    let mut taken: Vec<String> = first.registrations.iter().map(|r| r.id.clone()).collect();
    taken.sort();
    let mut expected = vec![r1.clone(), r1b.clone(), r3];
    expected.sort();
    assert_eq!(taken, expected);
    let age = oldest_age(&buffer);
    assert!(age < 0.3, "only the third push is pending, pushed just now, yet the oldest age is {age}");
    assert_eq!(buffer.stats().unwrap().events, 1);

    // The lease runs out: the batch comes back, and a claim of one leaves a registration of the first push pending.
    std::thread::sleep(Duration::from_millis(1100));
    let second = buffer.claim(1, 60).unwrap();
    assert_eq!(second.registrations.len(), 1);
    let age = oldest_age(&buffer);
    let first_push_age = started.elapsed().as_secs_f64();
    assert!(
        age >= 1.45 && age <= first_push_age + 0.05,
        "a redelivered registration of the first push is pending: {age} (first push {first_push_age} s ago)"
    );

    buffer.ack(&second.id).unwrap();
    drain(&buffer);
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.pending, stats.events, stats.oldest_pending_age), (0, 0, None));
}

fn the_oldest_pending_age_is_right_after_a_claim_served_many_events(cfg: Config) {
    // More events in one shard than one stats call corrects: the claim leaves every served event's entry behind.
    let buffer = Buffer::new(&cfg);
    let events: Vec<i64> = (1..).filter(|&e| keys_of(&cfg, e) == keys_of(&cfg, 1)).take(300).collect();
    for &e in &events {
        buffer.push(e, &json!({"first": true}), None).unwrap();
    }
    std::thread::sleep(Duration::from_millis(400));
    for &e in &events {
        buffer.push(e, &json!({"first": false}), None).unwrap();
    }
    // Its fair share of one registration from each event: every first push.
    let batch = buffer.claim(300, 60).unwrap();
    assert_eq!(batch.registrations.len(), 300);
    assert!(batch.registrations.iter().all(|r| r.stored.data() == &json!({"first": true})));
    let stats = buffer.stats().unwrap();
    assert_eq!((stats.pending, stats.events), (300, 300));
    let age = stats.oldest_pending_age.unwrap();
    assert!(age < 0.35, "the first pushes are in flight; the oldest pending is a second push, yet the age is {age}");
    drain(&buffer);
    assert_eq!(buffer.stats().unwrap().oldest_pending_age, None);
}

fn an_id_whose_data_vanished_is_counted_lost_and_the_rest_is_delivered(cfg: Config) {
    // A whole event's run comes back empty (as after an eviction under another maxmemory policy) beside another's.
    let buffer = Buffer::new(&cfg);
    let (a, b) = two_events_of_one_shard(&cfg);
    let gone: Vec<String> = (0..2).map(|i| id_of(buffer.push(a, &json!({"i": i}), None).unwrap())).collect();
    let kept = id_of(buffer.push(b, &json!({"kept": true}), None).unwrap());
    let mut con = raw_connection(&cfg);
    redis::cmd("HDEL").arg(keys_of(&cfg, a).data(a)).arg(&gone).query::<()>(&mut *con).unwrap();
    let batch = buffer.claim(10, 60).unwrap();
    assert_eq!(batch.registrations.iter().map(|r| (r.event_id, r.id.clone())).collect::<Vec<_>>(), vec![(b, kept)]);
    assert_eq!(buffer.ack(&batch.id).unwrap(), 1);
    let stats = buffer.stats().unwrap();
    assert_eq!(stats.counters.iter().find(|(k, _)| k == "lost").unwrap().1, 2);
    assert_eq!((stats.pending, stats.in_flight, stats.events, stats.oldest_pending_age), (0, 0, 0, None));
}
