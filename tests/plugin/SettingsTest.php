<?php
// Reg_Buffer_Settings: wp-config constants over defaults, the reg_buffer_settings filter, the install's own key
// prefix, and the ini values the extension is given (Reg_Buffer_Bridge applies them).
declare(strict_types=1);

namespace RegBuffer\Tests\Plugin;

final class SettingsTest extends SiteTestCase
{
    public function test_the_config_constants_reach_the_extension_as_its_ini_settings(): void
    {
        $ini = \Reg_Buffer_Settings::ini_values();

        self::assertSame(REG_BUFFER_REDIS_URL, $ini['reg_buffer.redis_url']);
        self::assertSame('0', $ini['reg_buffer.retry_interval_ms']);
        self::assertSame('500', $ini['reg_buffer.connect_timeout_ms']);
        self::assertSame(REG_BUFFER_KEY_PREFIX, $ini['reg_buffer.key_prefix']);
        self::assertArrayNotHasKey('reg_buffer.max_pending', $ini, 'an unset constant leaves the extension its own default');

        \Reg_Buffer_Bridge::stats(); // Any call applies them.
        self::assertSame(REG_BUFFER_REDIS_URL, ini_get('reg_buffer.redis_url'));
        self::assertSame(REG_BUFFER_KEY_PREFIX, ini_get('reg_buffer.key_prefix'));
        self::assertSame(REG_BUFFER_REDIS_URL, \Reg_Buffer_Bridge::redis_url());
    }

    public function test_defaults_apply_where_no_constant_is_set_and_the_filter_has_the_last_word(): void
    {
        self::assertSame(500, \Reg_Buffer_Settings::get('batch_size'));
        self::assertSame(40, \Reg_Buffer_Settings::get('flush_time_budget'));
        self::assertFalse(\Reg_Buffer_Settings::get('disabled'));
        self::assertSame(65536, \Reg_Buffer_Settings::get('max_payload_bytes'));
        self::assertNull(\Reg_Buffer_Settings::get('no_such_setting'));
        self::assertTrue(\Reg_Buffer_Bridge::is_available());

        $this->withSettings(['disabled' => true, 'batch_size' => 7]);
        self::assertTrue(\Reg_Buffer_Settings::get('disabled'));
        self::assertSame(7, \Reg_Buffer_Settings::get('batch_size'));
        self::assertFalse(\Reg_Buffer_Bridge::is_available(), 'REG_BUFFER_DISABLED stops new pushes');
        self::assertTrue(\Reg_Buffer_Bridge::is_loaded(), 'but not the extension: the flush still drains');
    }

    public function test_constants_are_read_as_the_type_of_their_default_and_the_batch_size_is_bounded(): void
    {
        $read = 'return array_map(static fn ($n) => Reg_Buffer_Settings::get($n), ["batch_size" => "batch_size", "disabled" => "disabled", "rest_rate_limit" => "rest_rate_limit", "flush_memory_budget" => "flush_memory_budget"]) + ["available" => Reg_Buffer_Bridge::is_available()];';

        $huge = self::inFreshRequest($read, ['REG_BUFFER_BATCH_SIZE' => '999999', 'REG_BUFFER_DISABLED' => 1, 'REG_BUFFER_REST_RATE_LIMIT' => '30', 'REG_BUFFER_FLUSH_MEMORY_BUDGET' => 12345]);
        self::assertSame(['batch_size' => 10000, 'disabled' => true, 'rest_rate_limit' => 30, 'flush_memory_budget' => 12345, 'available' => false], $huge);

        $zero = self::inFreshRequest($read, ['REG_BUFFER_BATCH_SIZE' => 0]);
        self::assertSame(1, $zero['batch_size']);
        self::assertFalse($zero['disabled']);
        self::assertTrue($zero['available']);
        // No budget set: 60% of memory_limit, 256 MB when memory is unlimited.
        $budget_under = static fn (string $limit) => self::inFreshRequest('ini_set("memory_limit", ' . var_export($limit, true) . '); Reg_Buffer_Settings::reset(); return Reg_Buffer_Settings::get("flush_memory_budget");');
        self::assertSame(62914560, $budget_under('100M'));
        self::assertSame(256 * 1024 * 1024, $budget_under('-1'));
    }

    public function test_an_install_without_a_configured_prefix_makes_its_own_once_and_keeps_it(): void
    {
        self::assertTrue(\Reg_Buffer_Settings::key_prefix_is_configured(), 'this site sets REG_BUFFER_KEY_PREFIX');
        delete_option(\Reg_Buffer_Settings::KEY_PREFIX_OPTION);

        $made = \Reg_Buffer_Settings::install_key_prefix();

        self::assertMatchesRegularExpression('/^regbuf:[0-9a-f]{8}:$/D', $made);
        self::assertSame($made, get_option(\Reg_Buffer_Settings::KEY_PREFIX_OPTION));
        self::assertSame($made, \Reg_Buffer_Settings::install_key_prefix(), 'made once');
        self::assertSame($made, self::inFreshRequest('return Reg_Buffer_Settings::install_key_prefix();'), 'and kept for the next request');

        update_option(\Reg_Buffer_Settings::KEY_PREFIX_OPTION, 'junk');
        $remade = \Reg_Buffer_Settings::install_key_prefix();
        self::assertMatchesRegularExpression('/^regbuf:[0-9a-f]{8}:$/D', $remade, 'junk under the option is replaced');
        self::assertNotSame($made, $remade);
    }

    public function test_on_a_single_site_the_site_prefix_is_the_key_prefix(): void
    {
        self::assertFalse(is_multisite());
        self::assertSame(REG_BUFFER_KEY_PREFIX, \Reg_Buffer_Settings::site_key_prefix());
        self::assertSame('regbuf:', \Reg_Buffer_Settings::with_site_suffix(\Reg_Buffer_Settings::LEGACY_KEY_PREFIX));
    }
}
