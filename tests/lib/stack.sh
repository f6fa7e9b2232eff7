# Reusable pieces of a private test stack: Redis, MariaDB database, WordPress site, nginx + php-fpm.
#
# Source it from bash (`. tests/lib/stack.sh`); every function prints what it does on stderr and fails loudly.
# Nothing here touches the system services' state except starting MariaDB when it is down: Redis, nginx and
# php-fpm are private instances on free ports with their own files under a directory you pass in.
#
#   stack_free_port                         -> prints a free TCP port on 127.0.0.1
#   stack_redis_start DIR                   -> private redis-server in DIR (noeviction; append-only file, so a
#                                              stop/restart keeps buffered data; extra server options can be
#                                              given in STACK_REDIS_ARGS, e.g. "--appendonly no");
#                                              sets STACK_REDIS_PORT, STACK_REDIS_URL (redis://127.0.0.1:PORT)
#   stack_redis_stop DIR                    -> stops it (SHUTDOWN, which syncs the AOF; waits for the pid to go)
#   stack_redis_restart DIR                 -> starts it again on the same port (after stack_redis_stop)
#   stack_redis_cli ARGS...                 -> redis-cli against the private instance
#   stack_mariadb_ensure                    -> starts MariaDB if it is not answering, waits for the socket
#   stack_db_create DB USER PASSWORD        -> throw-away database + a password user (php-fpm runs as www-data
#                                              and cannot use root's socket authentication)
#   stack_db_drop DB USER                   -> drops both
#   stack_sql DB SQL                        -> runs SQL as root, tab-separated output without headers
#   stack_wp_config HOST DB USER PASSWORD [EXTRA_PHP]
#                                           -> writes /etc/wordpress/config-HOST.php (Debian's wordpress package
#                                              picks the config by the request's host); EXTRA_PHP is appended
#                                              (e.g. define( 'REG_BUFFER_REDIS_URL', '...' );)
#   stack_wp_install HOST URL               -> installs WordPress headlessly (wp_install) into that database,
#                                              pretty permalinks on, admin user "admin"
#   stack_wp_make_network HOST DB USER PASSWORD [EXTRA_PHP]
#                                           -> turns that installed site into a subdirectory multisite network
#                                              (rewrites its config with the MULTISITE constants; same EXTRA_PHP)
#   stack_wp_php HOST FILE [ARGS...]        -> runs a PHP CLI script with WordPress loaded for HOST: the script
#                                              starts with `require getenv('STACK_WP_LOAD');` (set to a loader that
#                                              sets $_SERVER['HTTP_HOST'] and requires wp-load.php); on a
#                                              subdirectory network, STACK_WP_PATH=/site/ picks the site
#   stack_wp_remove_config HOST             -> deletes /etc/wordpress/config-HOST.php
#   stack_plugin_install SRC NAME           -> copies SRC to wp-content/plugins/NAME (pick a NAME of your own so
#                                              two stacks on one machine don't remove each other's copy)
#   stack_plugin_remove NAME                -> removes that copy
#   stack_web_start DIR [WORKERS]           -> private php-fpm (pool user www-data) + nginx serving WordPress on
#                                              127.0.0.1; sets STACK_WEB_PORT; send the site's Host header
#   stack_web_stop DIR                      -> stops both
#
# Conventions: DIR is yours (mktemp -d); call the *_stop/*_drop/*_remove functions from an EXIT trap.

STACK_WP_ROOT=${STACK_WP_ROOT:-/usr/share/wordpress}
STACK_WP_CONTENT=${STACK_WP_CONTENT:-/var/lib/wordpress/wp-content}
STACK_WP_ETC=${STACK_WP_ETC:-/etc/wordpress}
STACK_PHP_FPM=${STACK_PHP_FPM:-$(command -v php-fpm8.2 || echo /usr/sbin/php-fpm8.2)}
STACK_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

stack_log() { printf '[stack] %s\n' "$*" >&2; }

# Waits up to $1 tenths of a second for the command in the remaining arguments to succeed.
stack_wait_for() {
  local tenths=$1; shift
  local i
  for ((i = 0; i < tenths; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

stack_free_port() {
  # The kernel picks the port; the tiny race until our server binds it is acceptable for tests.
  php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1), "\n";'
}

# ---------------------------------------------------------------------------------------------------- Redis

stack_redis_start() {
  local dir=$1
  mkdir -p "$dir/redis"
  # A restart reuses the port, so clients configured with the URL find the server again.
  [ -f "$dir/redis/port" ] || stack_free_port > "$dir/redis/port"
  STACK_REDIS_PORT=$(cat "$dir/redis/port")
  # noeviction: an evicting policy could drop buffered registrations (Matomo QueuedTracking #28).
  # shellcheck disable=SC2086 # STACK_REDIS_ARGS is a list of options on purpose.
  redis-server --bind 127.0.0.1 --port "$STACK_REDIS_PORT" --dir "$dir/redis" \
    --save '' --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --daemonize yes --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" ${STACK_REDIS_ARGS:-}
  # PONG, not just an answer: while it loads its AOF, Redis answers every command with a LOADING error.
  stack_wait_for 300 bash -c "[ \"\$(redis-cli -h 127.0.0.1 -p $STACK_REDIS_PORT ping 2>/dev/null)\" = PONG ]" \
    || { stack_log "redis did not start on $STACK_REDIS_PORT"; cat "$dir/redis/redis.log" >&2; return 1; }
  STACK_REDIS_URL="redis://127.0.0.1:$STACK_REDIS_PORT"
  export STACK_REDIS_PORT STACK_REDIS_URL
  stack_log "redis-server up at $STACK_REDIS_URL (pid $(cat "$dir/redis/redis.pid"))"
}

stack_redis_restart() { stack_redis_start "$1"; }

# A Redis Cluster of 3 masters with one replica each (cluster mode of the tests): six redis-servers under
# $dir/cluster/<port>, joined by redis-cli --cluster create. Sets STACK_REDIS_URL to redis+cluster://… and
# STACK_REDIS_PORT to the first node's port (any node answers redis-cli -c).
stack_redis_cluster_start() {
  local dir=$1 port ports=() nodes=()
  for _ in 1 2 3 4 5 6; do
    port=$(stack_free_port)
    mkdir -p "$dir/cluster/$port"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/cluster/$port" --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 --save '' --appendonly yes --appendfsync everysec \
      --maxmemory-policy noeviction --daemonize yes --pidfile "$dir/cluster/$port/redis.pid" \
      --logfile "$dir/cluster/$port/redis.log"
    ports+=("$port"); nodes+=("127.0.0.1:$port")
  done
  for port in "${ports[@]}"; do
    stack_wait_for 300 bash -c "[ \"\$(redis-cli -p $port ping 2>/dev/null)\" = PONG ]" || { stack_log "cluster node $port did not start"; return 1; }
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes > "$dir/cluster/create.log" 2>&1 \
    || { cat "$dir/cluster/create.log" >&2; return 1; }
  for port in "${ports[@]}"; do
    stack_wait_for 600 bash -c "redis-cli -p $port cluster info | grep cluster_state:ok >/dev/null" \
      || { stack_log "cluster node $port never saw cluster_state:ok"; return 1; }
  done
  STACK_REDIS_PORT=${ports[0]}
  STACK_REDIS_URL="redis+cluster://$(IFS=,; echo "${nodes[*]:0:3}")"
  export STACK_REDIS_PORT STACK_REDIS_URL
  stack_log "Redis Cluster up at $STACK_REDIS_URL (3 masters, 3 replicas)"
}

stack_redis_cluster_stop() {
  local dir=$1 pidfile
  for pidfile in "$dir"/cluster/*/redis.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

stack_redis_cli() { redis-cli -h 127.0.0.1 -p "$STACK_REDIS_PORT" "$@"; }

stack_redis_stop() {
  local dir=$1 pid
  [ -f "$dir/redis/redis.pid" ] || return 0
  pid=$(cat "$dir/redis/redis.pid")
  redis-cli -h 127.0.0.1 -p "$(cat "$dir/redis/port")" shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  stack_wait_for 100 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/redis/redis.pid"
  stack_log "redis-server stopped (pid $pid)"
}

# -------------------------------------------------------------------------------------------------- MariaDB

stack_mariadb_ensure() {
  if mysqladmin -uroot ping >/dev/null 2>&1; then return 0; fi
  stack_log "MariaDB is not answering: starting it"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  # By hand as root, mariadbd refuses to run without --user.
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  stack_wait_for 300 mysqladmin -uroot ping || { stack_log "MariaDB did not come up"; return 1; }
}

stack_sql() { mysql -uroot -N -B "$1" -e "$2"; }

stack_db_create() {
  local db=$1 user=$2 pass=$3
  mysql -uroot -e "DROP DATABASE IF EXISTS \`$db\`; CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DROP USER IF EXISTS '$user'@'localhost'; CREATE USER '$user'@'localhost' IDENTIFIED BY '$pass';
    GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'localhost';"
  stack_log "database $db created for user $user"
}

stack_db_drop() {
  local db=$1 user=$2 site
  # A site with the plugin wrote its fast-intake config (named by the site's id, kept in its options) outside
  # the database: it goes with the database.
  site=$(mysql -uroot -N -B -e "SELECT option_value FROM \`$db\`.wp_options WHERE option_name = 'reg_buffer_intake_site'" 2>/dev/null || true)
  if [[ "$site" =~ ^[0-9a-f]{16}$ ]]; then rm -f "$STACK_WP_CONTENT/reg-buffer-intake/$site.php"; fi
  mysql -uroot -e "DROP DATABASE IF EXISTS \`$db\`; DROP USER IF EXISTS '$user'@'localhost';" || true
  stack_log "database $db dropped"
}

# ------------------------------------------------------------------------------------------------ WordPress

stack_wp_config() {
  local host=$1 db=$2 user=$3 pass=$4 extra=${5:-}
  local file="$STACK_WP_ETC/config-$host.php"
  mkdir -p "$STACK_WP_ETC"
  {
    echo "<?php"
    echo "define( 'DB_NAME', '$db' );"
    echo "define( 'DB_USER', '$user' );"
    echo "define( 'DB_PASSWORD', '$pass' );"
    echo "define( 'DB_HOST', 'localhost' );"
    echo "define( 'DB_CHARSET', 'utf8mb4' );"
    # Salts only need to be random per throw-away site.
    for k in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
      echo "define( '$k', '$(head -c 24 /dev/urandom | base64 | tr -d '/+=')' );"
    done
    # Tests trigger cron themselves; a spawned wp-cron request would race them.
    echo "define( 'DISABLE_WP_CRON', true );"
    echo "define( 'WP_ENVIRONMENT_TYPE', 'local' );"
    echo "define( 'AUTOMATIC_UPDATER_DISABLED', true );"
    echo "define( 'WP_HTTP_BLOCK_EXTERNAL', true );"
    printf '%s\n' "$extra"
  } > "$file"
  chmod 0644 "$file"
  stack_log "wrote $file"
}

stack_wp_remove_config() { rm -f "$STACK_WP_ETC/config-$1.php"; }

# The loader every CLI script requires: Debian's wp-config.php picks the config from HTTP_HOST.
stack_wp_loader() {
  local loader="$STACK_LIB_DIR/wp-load-cli.php"
  echo "$loader"
}

stack_wp_php() {
  local host=$1; shift
  STACK_WP_HOST=$host STACK_WP_LOAD=$(stack_wp_loader) STACK_WP_ROOT=$STACK_WP_ROOT ${STACK_PHP:-php} "$@"
}

stack_wp_install() {
  local host=$1 url=$2
  stack_wp_php "$host" "$STACK_LIB_DIR/wp-install.php" "$url"
  stack_log "WordPress installed for $host at $url"
}

stack_wp_make_network() {
  local host=$1 db=$2 user=$3 pass=$4 extra=${5:-}
  stack_wp_php "$host" "$STACK_LIB_DIR/wp-network.php"
  stack_wp_config "$host" "$db" "$user" "$pass" "define( 'MULTISITE', true );
define( 'SUBDOMAIN_INSTALL', false );
define( 'DOMAIN_CURRENT_SITE', '$host' );
define( 'PATH_CURRENT_SITE', '/' );
define( 'SITE_ID_CURRENT_SITE', 1 );
define( 'BLOG_ID_CURRENT_SITE', 1 );
$extra"
  stack_log "WordPress for $host is now a multisite network"
}

stack_plugin_install() {
  local src=$1 name=$2
  [ -n "$name" ] || { stack_log "stack_plugin_install: no name"; return 1; }
  # A copy, not a symlink: php-fpm runs as www-data, which may not be allowed into the checkout's directory.
  rm -rf "${STACK_WP_CONTENT:?}/plugins/$name"
  cp -r "$src" "$STACK_WP_CONTENT/plugins/$name"
  chmod -R a+rX "$STACK_WP_CONTENT/plugins/$name"
  stack_log "plugin $name copied from $src"
}

stack_plugin_remove() {
  [ -n "${1:-}" ] || return 0
  rm -rf "${STACK_WP_CONTENT:?}/plugins/$1"
}

# ------------------------------------------------------------------------------------------ nginx + php-fpm

stack_web_start() {
  local dir=$1 workers=${2:-4}
  mkdir -p "$dir/web/tmp"
  chown -R www-data:www-data "$dir/web/tmp"
  # www-data must reach the socket inside our (possibly 0700) temp directory.
  chmod o+x "$dir" "$dir/web"
  STACK_WEB_PORT=$(stack_free_port)
  cat > "$dir/web/php-fpm.conf" <<EOF
[global]
pid = $dir/web/php-fpm.pid
error_log = $dir/web/php-fpm.log
daemonize = yes

[stack]
user = www-data
group = www-data
listen = $dir/web/php-fpm.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
pm = static
pm.max_children = $workers
catch_workers_output = yes
; php_value, not php_admin_value: WP_DEBUG_LOG must win, so that a site's requests through php-fpm (WP-Cron
; spawned by a request, the admin page) log where its CLI processes do.
php_value[error_log] = $dir/web/php-error.log
php_admin_flag[log_errors] = on
EOF
  touch "$dir/web/php-error.log" && chown www-data "$dir/web/php-error.log"
  cat > "$dir/web/nginx.conf" <<EOF
worker_processes 2;
user www-data;
pid $dir/web/nginx.pid;
error_log $dir/web/nginx-error.log;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path $dir/web/tmp/body;
  fastcgi_temp_path $dir/web/tmp/fastcgi;
  proxy_temp_path $dir/web/tmp/proxy;
  uwsgi_temp_path $dir/web/tmp/uwsgi;
  scgi_temp_path $dir/web/tmp/scgi;
  server {
    listen 127.0.0.1:$STACK_WEB_PORT;
    root $STACK_WP_ROOT;
    index index.php;
    location / { try_files \$uri \$uri/ /index.php?\$args; }
    location ~ \.php\$ {
      try_files \$uri =404;
      include /etc/nginx/fastcgi.conf;
      fastcgi_pass unix:$dir/web/php-fpm.sock;
    }
  }
}
EOF
  "$STACK_PHP_FPM" -y "$dir/web/php-fpm.conf" -p "$dir/web" \
    || { stack_log "php-fpm failed"; cat "$dir/web/php-fpm.log" >&2; return 1; }
  stack_wait_for 100 test -S "$dir/web/php-fpm.sock" || { stack_log "php-fpm socket missing"; return 1; }
  nginx -c "$dir/web/nginx.conf" -p "$dir/web" -g 'daemon on;' 2>>"$dir/web/nginx-error.log" \
    || { stack_log "nginx failed"; cat "$dir/web/nginx-error.log" >&2; return 1; }
  stack_wait_for 100 bash -c "exec 3<>/dev/tcp/127.0.0.1/$STACK_WEB_PORT" \
    || { stack_log "nginx is not listening on $STACK_WEB_PORT"; return 1; }
  export STACK_WEB_PORT
  stack_log "nginx + php-fpm up on 127.0.0.1:$STACK_WEB_PORT"
}

stack_web_stop() {
  local dir=$1 pid f
  for f in nginx php-fpm; do
    [ -f "$dir/web/$f.pid" ] || continue
    pid=$(cat "$dir/web/$f.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    stack_wait_for 100 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/web/$f.pid"
  done
  stack_log "nginx + php-fpm stopped"
}
