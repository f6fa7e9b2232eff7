<?php
// Side experiment (not run by run.sh): Redis time per EVALSHA for push-script shapes, to size what a lighter
// push.lua would save. Shapes mimic src/core/lua/push.lua as of 2026-11-25; keys are synthetic.
// usage: php lua_cost.php REDIS_PORT   (a private redis-server: it FLUSHALLs)
$port = (int)$argv[1]; $r = new Redis(); $r->connect('127.0.0.1', $port);
$entry = str_repeat('x', 180);
$scripts = [
 'full push.lua shape (9 cmds)' => "if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 1 end
local h = redis.call('SET', KEYS[7], ARGV[1], 'NX', 'GET', 'EX', 2592000) if h then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) redis.call('ZADD', KEYS[4], 'NX', ARGV[3], ARGV[4]) redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[4])
redis.call('HINCRBY', KEYS[6], 'buffered', 1) redis.call('HINCRBY', KEYS[6], 'pushed', 1) return 1",
 'no time index, ready/oldest only when queue was empty, 1 counter' => "
local h = redis.call('SET', KEYS[7], ARGV[1], 'NX', 'GET', 'EX', 2592000) if h then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) local n = redis.call('RPUSH', KEYS[1], ARGV[1])
if n == 1 then redis.call('ZADD', KEYS[4], 'NX', ARGV[3], ARGV[4]) redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[4]) end
redis.call('HINCRBY', KEYS[6], 'buffered', 1) return 1",
 'HSET+RPUSH only' => "redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) redis.call('RPUSH', KEYS[1], ARGV[1]) return 1",
];
foreach ($scripts as $name => $lua) {
  $r->flushAll(); $r->rawCommand('CONFIG', 'RESETSTAT'); $sha = $r->script('load', $lua);
  for ($i = 0; $i < 20000; $i++) {
    $e = $i % 10; $id = sprintf('01J%023d', $i);
    $r->evalSha($sha, ["q:$e", "d:$e", "t:$e", 'ready', 'oldest', 'stats', "u:$e:$i", $id, $entry, (string)(1700000000000 + $i), (string)$e], 7);
  }
  $st = $r->info('commandstats')['cmdstat_evalsha'];
  preg_match('/usec_per_call=([\d.]+)/', $st, $m); printf("%-70s %6.2f us/call in Redis\n", $name, $m[1]);
}
$r->flushAll(); $r->rawCommand('CONFIG', 'RESETSTAT'); for ($i = 0; $i < 20000; $i++) $r->lPush('l:' . ($i % 10), $entry);
preg_match('/usec_per_call=([\d.]+)/', $r->info('commandstats')['cmdstat_lpush'], $m); printf("%-70s %6.2f us/call in Redis\n", 'LPUSH', $m[1]);
