# Private services for the bench: redis-server on a free port, a throw-away MariaDB database, nginx + php-fpm.
# Sourced by bench/run.sh; everything lives under $OUT and is stopped by bench_cleanup (trap EXIT).

free_port() {
  php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);'
}

# The pids this bench started, stopped one by one at exit.
BENCH_PIDS=()
BENCH_DB=""
BENCH_CLEANUP=()   # more commands to run at exit (e.g. the WordPress site's teardown)

bench_cleanup() {
  local pid cmd
  for cmd in "${BENCH_CLEANUP[@]}"; do "$cmd" || true; done
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "$BENCH_DB" ]; then mysql -uroot -e "DROP DATABASE IF EXISTS \`$BENCH_DB\`" 2>/dev/null || true; fi
}

# start_redis -> REDIS_PORT. No persistence (the anchors get the same Redis), noeviction like production needs.
start_redis() {
  mkdir -p "$OUT/redis"
  REDIS_PORT=$(free_port)
  [ "$REDIS_PORT" != 6379 ] || REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$OUT/redis" \
    --maxmemory-policy noeviction --logfile "$OUT/redis/redis.log" --daemonize no >/dev/null 2>&1 &
  BENCH_PIDS+=($!)
  for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep PONG >/dev/null && return 0
    sleep 0.1
  done
  echo "redis-server did not start on port $REDIS_PORT (see $OUT/redis/redis.log)" >&2
  return 1
}

# ensure_mariadb + a database of our own -> BENCH_DB (dropped at exit). Root by unix socket.
start_db() {
  if ! mysqladmin -uroot ping >/dev/null 2>&1; then
    echo "MariaDB is not running: starting it"
    service mariadb start >/dev/null 2>&1 || service mysql start >/dev/null 2>&1 || {
      mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
      (mysqld_safe >/dev/null 2>&1 &)
    }
    for _ in $(seq 1 150); do mysqladmin -uroot ping >/dev/null 2>&1 && break; sleep 0.2; done
    mysqladmin -uroot ping >/dev/null 2>&1 || { echo "MariaDB did not start" >&2; return 1; }
  fi
  BENCH_DB="regbuf_bench_$$"
  mysql -uroot -e "CREATE DATABASE \`$BENCH_DB\` CHARACTER SET utf8mb4"
  export ANCHOR_DB_NAME="$BENCH_DB" ANCHOR_DB_HOST=localhost ANCHOR_DB_USER=root ANCHOR_DB_PASS=''
}


# start_web DIR [CHILDREN] -> HTTP_PORT: nginx on 127.0.0.1 in front of a static php-fpm pool, both private to DIR.
# Serves WordPress (/usr/share/wordpress, wp-content from /var/lib/wordpress as Debian's package lays it out) and
# DIR/bare.php as /bench-bare.php.
start_web() {
  local w=$1 children=${2:-8}
  local wp=${STACK_WP_ROOT:-/usr/share/wordpress} content=${STACK_WP_CONTENT:-/var/lib/wordpress/wp-content}
  [ -n "$w" ] || { echo "start_web: no directory" >&2; return 1; }
  mkdir -p "$w/tmp" "$w/log"
  HTTP_PORT=$(free_port)
  cat > "$w/php-fpm.conf" <<EOF
[global]
pid = $w/php-fpm.pid
error_log = $w/log/php-fpm.log
daemonize = no
[bench]
user = root
group = root
listen = $w/php-fpm.sock
pm = static
pm.max_children = $children
pm.max_requests = 0
pm.status_path = /fpm-status
request_terminate_timeout = 30
catch_workers_output = yes
php_admin_value[error_log] = $w/log/php-errors.log
php_admin_flag[log_errors] = on
EOF
  local php_loc="include /etc/nginx/fastcgi_params; fastcgi_pass unix:$w/php-fpm.sock;"
  cat > "$w/nginx.conf" <<EOF
worker_processes 1;
user root;
pid $w/nginx.pid;
error_log $w/log/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $w/tmp/body; fastcgi_temp_path $w/tmp/fcgi; proxy_temp_path $w/tmp/proxy;
  uwsgi_temp_path $w/tmp/uwsgi; scgi_temp_path $w/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$HTTP_PORT;
    root $wp;
    index index.php;
    location / { try_files \$uri \$uri/ /index.php?\$args; }
    location = /bench-bare.php { $php_loc fastcgi_param SCRIPT_FILENAME $w/bare.php; }
    location = /fpm-status { $php_loc fastcgi_param SCRIPT_NAME /fpm-status; fastcgi_param SCRIPT_FILENAME /fpm-status; }
    location ^~ /wp-content/ {
      root $(dirname "$content");
      location ~ \.php\$ { try_files \$uri =404; $php_loc fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name; }
    }
    location ~ \.php\$ { try_files \$uri =404; $php_loc fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name; }
  }
}
EOF
  php-fpm8.2 -R -y "$w/php-fpm.conf" -F >/dev/null 2>>"$w/log/php-fpm-start.log" &
  BENCH_PIDS+=($!)
  nginx -c "$w/nginx.conf" -g 'daemon off;' >/dev/null 2>>"$w/log/nginx-start.log" &
  BENCH_PIDS+=($!)
  for _ in $(seq 1 100); do
    [ -S "$w/php-fpm.sock" ] && (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nginx/php-fpm did not start (see $w/log)" >&2
  return 1
}

# web_drain: waits (at most 60 s) until php-fpm has no request left from the previous cell, so that a cell never
# pays for the queue its predecessor left behind (wrk stops sending; nginx and php-fpm keep working on it).
web_drain() {
  local st active queue
  for _ in $(seq 1 120); do
    st=$(php -r 'echo @file_get_contents($argv[1], false, stream_context_create(["http" => ["timeout" => 2]]));' "http://127.0.0.1:$HTTP_PORT/fpm-status" || true)
    active=$(printf '%s\n' "$st" | awk -F: '/^active processes/{gsub(/ /,"",$2); print $2}')
    queue=$(printf '%s\n' "$st" | awk -F: '/^listen queue:/{gsub(/ /,"",$2); print $2}')
    [ "${active:-9}" -le 1 ] && [ "${queue:-9}" -eq 0 ] && return 0
    sleep 0.5
  done
  echo "  ! php-fpm still busy after 60 s" >&2
}
