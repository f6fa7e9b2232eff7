#!/usr/bin/env bash
# A/B tool, run by hand (bench/README.md):
# two builds of the extension side by side on bench/push.php's single-process
# cells, interleaved in rounds with phpredis pconnect LPUSH alone (run at the start and the end of each round; the
# ratio is to their mean), then Redis time per push by INFO commandstats: EVALSHA + MULTI + EXEC (a script's time
# includes the commands it runs, EXEC's the commands it queued; those are counted again under their own names).
# Loads each .so from a private ini dir, so the installed extension is never touched.
#   bench/ab/push.sh OLD.so NEW.so REDIS_PORT [ROUNDS=7] [N=20000]   (a private redis-server: it FLUSHALLs)
set -euo pipefail
old=$1; new=$2; port=$3; rounds=${4:-7}; n=${5:-20000}
here=$(cd "$(dirname "$0")/.." && pwd); tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for v in old new; do
  mkdir "$tmp/$v"; cp /etc/php/8.2/cli/conf.d/*.ini "$tmp/$v/"; rm -f "$tmp/$v/"*reg_buffer*
  echo "extension=$(realpath "${!v}")" > "$tmp/$v/99-reg_buffer.ini"
done
out=$tmp/rows.jsonl
for r in $(seq "$rounds"); do
  for cell in "pconnect old a" "regbuf old" "regbuf new" "regbuf_unique old" "regbuf_unique new" "pconnect old b"; do
    set -- $cell
    BENCH_TAGS="{\"round\":$r,\"so\":\"$2${3:-}\"}" PHP_INI_SCAN_DIR=$tmp/$2 php "$here/push.php" "$1" "$n" "$port" 1 10 "ab$r$2" >> "$out"
  done
done
cat > "$tmp/loop.php" <<'PHP'
<?php
[$n, $port, $unique] = [(int)$argv[1], (int)$argv[2], (int)$argv[3]];
ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
$reg = ['email' => 'someone@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7'];
for ($i = 0; $i < $n; $i++) reg_buffer_push($i % 10 + 1, $reg, $unique ? "p$i@example.com" : null);
PHP
for r in $(seq 5); do for u in 0 1; do for v in old new; do
  redis-cli -p "$port" flushall >/dev/null; redis-cli -p "$port" config resetstat >/dev/null
  PHP_INI_SCAN_DIR=$tmp/$v php "$tmp/loop.php" 5000 "$port" "$u"
  echo "{\"redis\":1,\"so\":\"$v\",\"unique\":$u,\"redis_us\":$(redis-cli -p "$port" info commandstats | tr -d '\r' | awk -F'[:,=]' '/^cmdstat_(evalsha|multi|exec):/ {t += $5} END {print t / 5000}')}" >> "$out"
done; done; done
python3 - "$out" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cells = [r for r in rows if 'mode' in r]; rounds = sorted({r['round'] for r in cells})
def cell(r, mode, so): return next(x for x in cells if x['round'] == r and x['mode'] == mode and x['so'] == so)
floor = {r: (cell(r, 'pconnect', 'olda')['rate'] + cell(r, 'pconnect', 'oldb')['rate']) / 2 for r in rounds}
print(f"LPUSH alone: {st.median(floor.values()):.0f} reg/s, PHP CPU {st.median(cell(r, 'pconnect', 'olda')['client_cpu_us'] for r in rounds):.1f} us, Redis CPU {st.median(cell(r, 'pconnect', 'olda')['redis_cpu_us'] for r in rounds):.1f} us (medians)")
for mode in ['regbuf', 'regbuf_unique']:
    for so in ['old', 'new']:
        xs = [cell(r, mode, so) for r in rounds]; ratios = [x['rate'] / floor[x['round']] for x in xs]
        ev = [x['redis_us'] for x in rows if x.get('redis') and x['so'] == so and x['unique'] == (mode == 'regbuf_unique')]
        print(f"{mode:14} {so}: x LPUSH alone {st.median(ratios):.3f} (rounds {' '.join(f'{v:.2f}' for v in ratios)}), "
              f"{st.median(x['rate'] for x in xs):.0f} reg/s, PHP CPU {st.median(x['client_cpu_us'] for x in xs):.1f} us, "
              f"Redis CPU {st.median(x['redis_cpu_us'] for x in xs):.1f} us, p50 {st.median(x['p50_us'] for x in xs):.1f} us, "
              f"{st.median(ev):.2f} us of Redis commands")
PY
