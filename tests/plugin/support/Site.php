<?php
// The plugin tests' throw-away WordPress site: its database and user, its config file, the plugin's link.
declare(strict_types=1);

namespace RegBuffer\Tests\Plugin;

final class Site
{
    public function __construct(
        public readonly string $host,
        public readonly string $database,
        public readonly string $password,
        public readonly string $plugin,
        private readonly string $wpContent,
        private readonly string $wpEtc,
    ) {
    }

    public function configFile(): string
    {
        return "{$this->wpEtc}/config-{$this->host}.php";
    }

    public function pluginBasename(): string
    {
        return "{$this->plugin}/reg-buffer.php";
    }

    /**
     * The database (and a password user: the same as the e2e's sites), the config with $constants, the plugin
     * linked under its own name, WordPress installed (tests/lib/wp-install.php) and the plugin activated ($activator).
     *
     * @param array<string, string|int|bool> $constants more define()s for the config (REG_BUFFER_*).
     */
    public function create(string $wpRoot, string $activator, string $pluginSource, array $constants): void
    {
        $this->root(sprintf(
            "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'; GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'localhost'",
            $this->database,
            $this->database,
            $this->password,
            $this->database,
            $this->database,
        ));
        $defines = [
            'DB_NAME' => $this->database,
            'DB_USER' => $this->database,
            'DB_PASSWORD' => $this->password,
            'DB_HOST' => 'localhost',
            'DB_CHARSET' => 'utf8mb4',
            'DISABLE_WP_CRON' => true, // The tests run the flush themselves.
            'WP_ENVIRONMENT_TYPE' => 'local',
            'AUTOMATIC_UPDATER_DISABLED' => true,
            'WP_HTTP_BLOCK_EXTERNAL' => true,
        ];
        foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $salt) {
            $defines[$salt] = bin2hex(random_bytes(16));
        }
        $php = "<?php\n// Written by tests/plugin/bootstrap.php; removed when the suite ends.\n";
        foreach ([...$defines, ...$constants] as $name => $value) {
            $php .= sprintf("define( %s, %s );\n", var_export($name, true), var_export($value, true));
        }
        if (file_put_contents($this->configFile(), $php) === false) {
            throw new \RuntimeException('cannot write ' . $this->configFile());
        }
        $link = "{$this->wpContent}/plugins/{$this->plugin}";
        if (!symlink($pluginSource, $link)) {
            throw new \RuntimeException("cannot link the plugin at $link");
        }
        // Each in its own process, with tests/lib's loader (as tests/lib/stack.sh's stack_wp_install does): WordPress
        // cannot be installed and then loaded normally in one.
        $lib = dirname(__DIR__, 2) . '/lib';
        $this->wpPhp($wpRoot, ['STACK_WP_INSTALLING' => '1'], "$lib/wp-install.php", "http://{$this->host}");
        $this->wpPhp($wpRoot, [], $activator, $this->pluginBasename());
    }

    /** Runs a PHP script with WordPress loaded for this site by tests/lib/wp-load-cli.php; fails loudly. */
    private function wpPhp(string $wpRoot, array $env, string $script, string ...$args): void
    {
        $env += ['STACK_WP_HOST' => $this->host, 'STACK_WP_LOAD' => dirname(__DIR__, 2) . '/lib/wp-load-cli.php', 'STACK_WP_ROOT' => $wpRoot];
        $command = '';
        foreach ($env as $name => $value) {
            $command .= $name . '=' . escapeshellarg($value) . ' ';
        }
        $command .= implode(' ', array_map('escapeshellarg', [PHP_BINARY, $script, ...$args])) . ' 2>&1';
        $out = [];
        exec($command, $out, $status);
        if ($status !== 0) {
            throw new \RuntimeException(basename($script) . " failed for {$this->host}:\n" . implode("\n", $out));
        }
    }

    public function removePlugin(): void
    {
        $link = "{$this->wpContent}/plugins/{$this->plugin}";
        if (is_link($link)) {
            unlink($link);
        }
    }

    /** Everything create() made, and the fast intake's config file should a test have written one. */
    public function remove(): void
    {
        $this->removePlugin();
        try {
            $site = $this->root(sprintf("SELECT option_value FROM `%s`.wp_options WHERE option_name = 'reg_buffer_intake_site'", $this->database));
            if (is_string($site) && preg_match('/^[0-9a-f]{16}$/D', $site)) {
                @unlink("{$this->wpContent}/reg-buffer-intake/$site.php");
            }
        } catch (\Throwable) {
            // No database or no such table: nothing was written.
        }
        if (is_file($this->configFile())) {
            unlink($this->configFile());
        }
        $this->root(sprintf("DROP DATABASE IF EXISTS `%s`; DROP USER IF EXISTS '%s'@'localhost'", $this->database, $this->database));
    }

    /** Runs SQL as MariaDB's root over its socket (unix_socket authentication); returns the last result's first value. */
    private function root(string $sql): mixed
    {
        $db = new \mysqli('localhost', 'root', '');
        $value = null;
        $db->multi_query($sql);
        do {
            $result = $db->store_result();
            if ($result instanceof \mysqli_result) {
                $value = $result->fetch_row()[0] ?? null;
                $result->free();
            }
        } while ($db->more_results() && $db->next_result());
        if ($db->errno) {
            throw new \RuntimeException("MariaDB: {$db->error}");
        }
        $db->close();
        return $value;
    }
}
