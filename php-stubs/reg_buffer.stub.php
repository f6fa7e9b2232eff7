<?php
/**
 * reg_buffer — buffer event registrations in Redis, flush them to MySQL in batches, losing none.
 *
 * IDE stub for the `reg_buffer` PHP extension (a Rust extension; load it with `extension=reg_buffer.so`).
 * This file is the documented contract; tests/php/StubTest.php compares it with the loaded extension's reflection.
 *
 * Settings (php.ini, or ini_set() at run time; all PHP_INI_ALL, shown in phpinfo()):
 *
 * - reg_buffer.redis_url          string  "redis://127.0.0.1:6379"
 *       Where Redis is: redis://[user:password@]host[:port][/db], rediss:// (TLS, verified against the system trust
 *       store, which honours SSL_CERT_FILE, or against reg_buffer.tls_ca_file), redis+unix:///path/to.sock[?db=N],
 *       or a Redis Cluster: redis+cluster://[user:password@]host1:port1,host2:port2,... (rediss+cluster:// for
 *       TLS; any of its nodes as seeds; database 0 only; the key prefix may not contain { or }).
 *       The password never appears in exceptions or phpinfo().
 * - reg_buffer.key_prefix         string  "regbuf:"
 *       Prefix of every key the extension writes, so two sites can share one Redis ("" means no prefix).
 * - reg_buffer.connect_timeout_ms int     1000
 *       How long to wait for a TCP/unix connection before ConnectionException.
 * - reg_buffer.timeout_ms         int     1000
 *       How long to wait for any reply before ConnectionException (the connection is then discarded).
 * - reg_buffer.max_pending        int     200000
 *       Cap on buffered registrations (pending + in flight); 0 = no cap. At the cap push throws CapacityException.
 *       Exact for a push with a limit or seats and on a cluster; any other push on one server (a transaction
 *       that cannot refuse) goes by this process's last figure, so concurrent processes may pass the cap by one
 *       registration each.
 *       About 124 MB of Redis at the default for typical registrations (~620 bytes each with its unique-key
 *       marker). On a Redis Cluster each shard holds up to the cap (one event can use all of it), so a master
 *       serving k of the 16 shards holds at most k × max_pending.
 * - reg_buffer.max_payload_bytes  int     65536
 *       Largest encoded registration accepted; a larger one is refused with ValueError.
 * - reg_buffer.dedupe_ttl         int     2592000
 *       Seconds a unique key is remembered (30 days; at most ten years), also after its registration was flushed:
 *       counted from the push, or from the filing when the key's marker held the registration (a push on one server
 *       without a limit or seats holds it there until a claim, stats or range files it). Only a digest of the key is
 *       kept, never the key (for example an e-mail address) itself.
 * - reg_buffer.retry_interval_ms  int     1000
 *       After a connection failure, calls to the same server fail at once for this long (circuit breaker).
 * - reg_buffer.durability         string  "local"
 *       When a push counts as done: "local" (the master has it), or "replica:N[:timeout_ms]" (N replicas have it,
 *       by WAIT; timeout 1000 ms by default). If fewer confirm in time, push throws ConnectionException carrying its
 *       registration id (the write is on the master: store it elsewhere under that id), and pushes to that shard
 *       throw at once for retry_interval_ms. An ack waits for the replicas too but counts as done either way: a
 *       batch whose ack a failover lost comes back after its lease, under the same ids.
 * - reg_buffer.tls_ca_file        string  ""
 *       PEM file of the CA that signed the server's certificate, trusted instead of the system store (rediss://).
 * - reg_buffer.tls_cert_file      string  ""
 *       PEM client certificate for servers that ask for one (tls-auth-clients); needs reg_buffer.tls_key_file.
 * - reg_buffer.tls_key_file       string  ""
 *       PEM private key of reg_buffer.tls_cert_file.
 */

namespace {

/**
 * Buffers one registration of event $event_id; one network round trip.
 *
 * The registration may hold strings (valid UTF-8), ints, finite floats, bools, null and nested arrays (lists and
 * maps) up to 64 levels deep; reg_buffer_flush() gives it back exactly as given (types, key order, bytes).
 *
 * @param int         $event_id     the event (> 0)
 * @param array       $registration the registration's fields
 * @param string|null $unique_key   e.g. the attendee's e-mail: a second push with the same key for the same event
 *                                  returns false and buffers nothing, for reg_buffer.dedupe_ttl seconds
 * @param array|null  $use_limit    ['token' => string, 'uses' => int, 'expires_at' => int]: the token (a signed
 *                                  form's nonce) may carry at most `uses` registrations of this event, counted in
 *                                  the same round trip (only registrations actually buffered count) and kept until
 *                                  expires_at (Unix seconds); past it (Redis's clock) the token counts as used up
 * @param array|null  $rate_limit   ['client' => string, 'limit' => int, 'window' => int]: the client (1 to 256
 *                                  bytes, e.g. an IP address or a /64; only a digest of it is stored) may push at
 *                                  most `limit` times per fixed window of `window` seconds (1 to 86400, aligned on
 *                                  Redis's clock), counted in the same round trip whatever the answer (buffered,
 *                                  duplicate, refused); a push repeated on a new connection is not counted again.
 *                                  On a Redis Cluster the count is per client per shard (the event's).
 * @return string|false the registration id (26 characters, unique, ordered by time), or false for a duplicate
 * @throws \ValueError                  event id <= 0, INF/NAN, too deep, over max_payload_bytes, invalid UTF-8,
 *                                      an empty unique key, one over 1024 bytes or one that is not valid UTF-8,
 *                                      a malformed $use_limit or $rate_limit
 * @throws \TypeError                   objects, resources or closures inside the registration
 * @throws \RegBuffer\ConnectionException Redis unreachable, timed out or the connection broke; getRegistrationId()
 *                                      tells the id that was tried (the write may or may not have happened)
 * @throws \RegBuffer\CapacityException   the buffer holds reg_buffer.max_pending registrations, or Redis is at its
 *                                      maxmemory (with noeviction); flush and ack still run then, to drain it
 * @throws \RegBuffer\LimitException      the $use_limit token already carried its `uses` registrations, or its
 *                                      expires_at is past; checked before the unique key, so it never tells
 *                                      whether a key is registered
 * @throws \RegBuffer\RateLimitException  the $rate_limit client made its `limit` pushes in this window; nothing
 *                                      was written; getRetryAfter() tells the seconds until the window ends
 */
function reg_buffer_push(int $event_id, array $registration, ?string $unique_key = null, ?array $use_limit = null, ?array $rate_limit = null): string|false {}

/**
 * Books one registration of an event that has $seats['capacity'] seats: takes a seat (or, past the capacity, a
 * waitlist place when $seats['waitlist']) and buffers the registration in the same round trip as reg_buffer_push(),
 * after the same checks (rate limit, use limit, unique key, buffer cap). Exactly `capacity` registrations ever hold a
 * seat, across processes and servers; the count outlives flushes (it is not what Redis buffers but what it booked).
 *
 * The capacity is the caller's (its store owns it; pass it on every booking: a change applies to the next one). The
 * count of taken seats is Redis's and is trusted only on the server run it was written under: after Redis restarted,
 * failed over or lost the key, and before an event's first booking, the booking throws SeatsUnknownException and the
 * caller counts its store (with reg_buffer_seats_buffered()) and calls reg_buffer_seats_seed().
 * While anyone waits, a newcomer queues behind them (a freed or added seat is the first waiter's).
 *
 * @param array $seats ['capacity' => int (0 … 2^40), 'waitlist' => bool (default false)]
 * @return array{id: ?string, status: string, remaining: ?int, waiting: ?int} `status` "registered" (a seat),
 *         "waitlisted" (stored with that status: flush rows say so) or "duplicate" (id null, nothing booked);
 *         `remaining` seats and `waiting` registrations after this booking (null for a duplicate whose event has no
 *         known count)
 * @throws \RegBuffer\SoldOutException      every seat is taken and the event has no waitlist; nothing was written
 * @throws \RegBuffer\SeatsUnknownException Redis has no count of the event's seats it trusts; nothing was written
 * @throws \ValueError                       a malformed $seats, or what reg_buffer_push() refuses
 * @throws \RegBuffer\ConnectionException|\RegBuffer\CapacityException|\RegBuffer\LimitException|\RegBuffer\RateLimitException
 *         as reg_buffer_push()
 */
function reg_buffer_book(int $event_id, array $registration, array $seats, ?string $unique_key = null, ?array $use_limit = null, ?array $rate_limit = null): array {}

/**
 * Takes a seat (or a waitlist place) like reg_buffer_book() without buffering anything: for a registration the
 * caller writes to its store itself (the buffer is full, buffering is switched off). Give it back with
 * reg_buffer_seat_release() if that write fails.
 *
 * @param array $seats as reg_buffer_book()
 * @return array{status: string, remaining: int, waiting: int} status "registered" or "waitlisted"
 * @throws \RegBuffer\SoldOutException|\RegBuffer\SeatsUnknownException|\RegBuffer\ConnectionException
 */
function reg_buffer_seat_take(int $event_id, array $seats): array {}

/**
 * Gives back the place of a registration the site cancelled (or whose write failed after reg_buffer_seat_take()).
 *
 * @param bool     $waitlisted whether that registration was waitlisted
 * @param int|null $capacity   the event's capacity now: an event holding more seats than it (the capacity was
 *                             lowered) frees the seat instead of passing it to a waiter
 * @return string "freed" (a seat is free again), "promote" (the seat passed to the first waiter: promote your oldest
 *                waitlisted registration), "unlisted" (a waiter left) or "unknown" (no trusted count: nothing
 *                changed; the next seed counts the store)
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_seat_release(int $event_id, bool $waitlisted = false, ?int $capacity = null): string {}

/**
 * Gives seats added to an event (its capacity raised) to its waiters first.
 *
 * @return int|null how many waiters now hold a seat (promote that many of your oldest waitlisted registrations), or
 *                  null when Redis has no trusted count
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_seats_promote(int $event_id, int $capacity): ?int {}

/**
 * The event's count of seats: `known` false when Redis has none it trusts (then taken and waiting are 0).
 *
 * @return array{known: bool, taken: int, waiting: int}
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_seats(int $event_id): array {}

/**
 * The ids of the event's registrations still in Redis (pending or in flight), by place: what a seed counts beside
 * the store's rows — by id, since one may be in both (stored by a flusher that has not acknowledged it yet).
 *
 * @return array{registered: list<string>, waitlisted: list<string>}
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_seats_buffered(int $event_id): array {}

/**
 * Sets the event's count from the caller's store, only while Redis has no trusted one: if another process seeded it
 * first (and bookings may have followed), that count stands.
 *
 * @return bool true when set, false when a trusted count was already there
 * @throws \ValueError                     a negative count
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_seats_seed(int $event_id, int $taken, int $waiting): bool {}

/**
 * Forgets the event's count (after the caller wrote registrations Redis did not count): bookings throw
 * SeatsUnknownException until the next reg_buffer_seats_seed().
 *
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_seats_forget(int $event_id): void {}

/**
 * Claims up to $limit buffered registrations for $lease_seconds (one round trip).
 *
 * Returns ['batch' => string, 'rows' => list<array{id: string, event_id: int, registered_at: float,
 * unique_key: ?string, data: array, json: string, status: string}>]; `json` is `data` as the JSON text that was
 * stored; `status` is "waitlisted" for a registration reg_buffer_book() put on its event's waitlist, else
 * "registered".
 * With $with_data = false the rows have no `data` key: no PHP array is built for any registration, which is the
 * cheaper call for a flusher that stores `json` as it is (decode it with json_decode($row['json'], true) where
 * the fields are needed; that gives the same array as `data`).
 * `rows` is [] (and `batch` '') when nothing is pending. No registration is handed to two flushers while its lease
 * runs; a batch not acknowledged before its lease ends is handed out again by a later flush (at-least-once).
 * Events are served round robin, so a busy event cannot keep a quiet one waiting.
 *
 * @param int  $limit         at most this many registrations (1..10000)
 * @param int  $lease_seconds how long the batch is this caller's before a later flush may hand it out again
 * @param bool $with_data     false: rows without `data` (id, event_id, registered_at, unique_key, json)
 * @throws \ValueError $limit or $lease_seconds <= 0, $limit > 10000, $lease_seconds over one year
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_flush(int $limit = 500, int $lease_seconds = 300, bool $with_data = true): array {}

/**
 * Tells that a batch is stored: its registrations leave Redis for good.
 *
 * @param string $batch the `batch` of a reg_buffer_flush() result ('' is accepted and acknowledges nothing)
 * @return int how many registrations it removed (0 for a batch already acknowledged, unknown, or whose lease ran
 *             out and was handed out again)
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_ack(string $batch): int {}

/**
 * Buffer statistics: pending, in_flight, buffered, events (events with pending data), oldest_pending_age
 * (seconds, or null), quarantined, maxmemory_policy (null where CONFIG GET is refused; anything but "noeviction"
 * can evict buffered registrations), and the lifetime counters pushed, duplicates, claimed, acked, redelivered,
 * retried (quarantined entries buffered again) and lost (ids whose stored data had vanished, e.g. evicted under a
 * policy other than noeviction), whose names `counters` lists; last_ack_age
 * (seconds since any flusher last acknowledged a batch, or null); `epoch`, a string naming the buffered data that
 * changes exactly when Redis lost it (restarted without persistence, FLUSHALL): remember it to tell whether
 * registrations may be gone; the server's `run_id` (changes at every restart) and `uptime` (seconds), and its
 * `persistence`: "aof-always", "aof-everysec", "aof-no", "rdb" or "none" (on a cluster the weakest node's), each
 * null where INFO or CONFIG GET is refused; `degraded`, the shards (`shard` null: the whole server) that cannot take
 * registrations as the settings ask right now and why (list<array{shard: ?int, why: string}>: unreachable, held off
 * by this process's circuit breaker, or short of the replicas durability=replica:N needs), `shards_degraded` of
 * `shards` (16 on a cluster, 1 on one server); `partial`, true when some cluster shard could not be read (the figures
 * are then the others', and `epoch` is ''); and `process`, this PHP process's own counters:
 * pushed, duplicates, claimed, acked, connection_failures, fast_failures (calls refused by the circuit breaker).
 *
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_stats(): array {}

/**
 * Counts one request of $client against a limit of $limit per fixed window of $window seconds, with the same
 * counter and code as reg_buffer_push()'s $rate_limit (a caller's own rate limit, e.g. a REST route's, kept in the
 * extension's Redis keys). Every call counts, allowed or not; only a digest of $client is stored. On a Redis
 * Cluster the counter lives in one shard, picked by the client's digest.
 *
 * @param string $client e.g. an IP address or a /64 (1 to 256 bytes, valid UTF-8)
 * @param int    $limit  how many requests a window allows (>= 1)
 * @param int    $window the window in seconds (1 to 86400), aligned on Redis's clock
 * @return array{allowed: bool, count: int, limit: int, remaining: int, reset: int, retry_after: int} `count`
 *         includes this call; `reset` is the Unix second the window ends, `retry_after` the seconds until then
 * @throws \ValueError                    an empty, too long or invalid UTF-8 client, $limit < 1, $window out of range
 * @throws \RegBuffer\ConnectionException Redis unreachable or timed out
 */
function reg_buffer_rate_hit(string $client, int $limit, int $window = 60): array {}

/**
 * The quarantine: registrations a flush could not decode (their stored bytes were damaged) and legacy elements the
 * import could not read, set aside with the reason; nothing else ever blocks on them.
 *
 * @param int $limit at most this many entries (1 … 100000), ordered by event id, then registration id
 * @return list<array{entry: string, event_id: int, id: string, reason: string, stored: string,
 *         kind: string, registered_at: ?float, unique_key: ?string, json: ?string, problem: ?string}>
 *         `entry` names it for retry and purge (`<event id>:<registration id>`); `stored` holds the bytes as they
 *         were stored; `kind` is "stored" (a registration's stored format), "legacy" (an element of the seed
 *         snippet's lists) or "unreadable"; what can still be read: `registered_at` (Unix seconds), and the
 *         registration whole or not at all — `json` (its data as JSON text) with its `unique_key` — or else
 *         `problem`, why it cannot be recovered
 * @throws \RegBuffer\ConnectionException Redis unreachable or timed out
 */
function reg_buffer_quarantined(int $limit = 200): array {}

/**
 * Buffers a quarantined registration again, as the caller recovered it from the entry's stored bytes, under its own
 * id (registered_at: the id's millisecond), and removes the entry — in one step, so it is never both buffered and
 * quarantined. Its own id: if the registration was already stored (a flusher stored it and died before its ack; the
 * caller wrote it elsewhere after a failed push), storing by id keeps one. An entry whose id reg_buffer did not make
 * gets a new one.
 *
 * @param string      $entry        the entry's name from reg_buffer_quarantined()
 * @param array       $registration the recovered fields
 * @param string|null $unique_key   the recovered unique key
 * @return string|null the registration id it is buffered under, or null when another registration holds the unique key (a
 *                     duplicate: the entry stays; purge it)
 * @throws \ValueError                  no such entry (already retried or purged), or a registration push refuses
 * @throws \RegBuffer\ConnectionException Redis unreachable or timed out (retry: the entry is still there, or it was
 *                                      buffered and is gone)
 */
function reg_buffer_retry_quarantined(string $entry, array $registration, ?string $unique_key = null): ?string {}

/**
 * Deletes a quarantined entry for good.
 *
 * @param string $entry the entry's name from reg_buffer_quarantined()
 * @return bool false when there is no such entry (already retried or purged)
 * @throws \RegBuffer\ConnectionException Redis unreachable or timed out
 */
function reg_buffer_purge_quarantined(string $entry): bool {}

/**
 * The still-buffered (pending or in flight) registrations of one event pushed between $from and $to (Unix seconds,
 * inclusive, to the microsecond), oldest first (within one millisecond, in id order), at most $limit; same row shape
 * as reg_buffer_flush(). Files the inbox first, as reg_buffer_stats() does (a registration whose unique key's marker
 * holds it is moved into its event's data), so it writes.
 *
 * @throws \ValueError $event_id <= 0, $limit <= 0, or a NAN bound
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_range(int $event_id, float $from, float $to, int $limit = 1000): array {}

/**
 * Moves registrations buffered by the legacy PHP snippet (lists "event_reg_buffer:<event_id>" of JSON
 * {"timestamp": …, "registration_details": {…}}) into reg_buffer, keeping their timestamps. Uses SCAN, never KEYS;
 * each element moves atomically, so an interrupted import loses and doubles nothing. Elements that cannot be
 * decoded are moved to the quarantine (counted in reg_buffer_stats()['quarantined'], not in the return value).
 *
 * @return int how many registrations it moved into the buffer
 * @throws \RegBuffer\ConnectionException
 */
function reg_buffer_import_legacy(string $pattern = 'event_reg_buffer:*'): int {}

}

namespace RegBuffer {

/** Base of every reg_buffer exception. */
class Exception extends \RuntimeException
{
    /** The registration id a failed push tried, or null when the call was not a push. */
    public function getRegistrationId(): ?string {}
}

/** Redis unreachable, timed out, or the connection was lost (for a push: the outcome is unknown). */
class ConnectionException extends Exception {}

/** The buffer holds reg_buffer.max_pending registrations. */
class CapacityException extends Exception {}

/** A use limit the caller set (reg_buffer_push()'s $use_limit) is used up; nothing was written. */
class LimitException extends Exception {}

/** Every seat of the event is taken and it has no waitlist (reg_buffer_book()); nothing was written. */
class SoldOutException extends Exception {}

/**
 * Redis has no count of the event's seats it trusts (its first booking, or Redis restarted, failed over or lost the
 * key): nothing was written; count the store, reg_buffer_seats_seed(), and book again.
 */
class SeatsUnknownException extends Exception {}

/** A client's rate limit (reg_buffer_push()'s $rate_limit) is reached for this window; nothing was written. */
class RateLimitException extends Exception
{
    /** Seconds until the client's window ends (by Redis's clock): when a push may be tried again. */
    public function getRetryAfter(): int {}
}

}
