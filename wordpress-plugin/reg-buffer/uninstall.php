<?php
/**
 * Removes the plugin's tables, options and schedules on every site. Redis is left alone: registrations still
 * buffered there are not deleted by an uninstall (flush them first with `wp reg-buffer flush --until-empty`).
 *
 * @package RegBuffer
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

require_once __DIR__ . '/includes/class-reg-buffer-autoloader.php';
Reg_Buffer_Autoloader::register();

$reg_buffer_uninstall_site = static function () {
	Reg_Buffer_Flusher::unschedule();
	Reg_Buffer_Store::uninstall();
	Reg_Buffer_Status::uninstall();
	Reg_Buffer_Intake::uninstall(); // The fast intake's config file and options.
	Reg_Buffer_Seats::uninstall(); // Capacities, owed promotions, stale marks.
	// Last: the steps above may read the settings, which would make the prefix again.
	delete_option( Reg_Buffer_Flusher::LEGACY_PREFIX_OPTION );
	delete_option( Reg_Buffer_Settings::KEY_PREFIX_OPTION );
};

if ( is_multisite() ) {
	$reg_buffer_site_ids = get_sites(
		array(
			'fields' => 'ids',
			'number' => 0,
		)
	);
	foreach ( $reg_buffer_site_ids as $reg_buffer_site_id ) {
		switch_to_blog( (int) $reg_buffer_site_id );
		$reg_buffer_uninstall_site();
		restore_current_blog();
	}
	delete_site_option( Reg_Buffer_Settings::KEY_PREFIX_OPTION );
} else {
	$reg_buffer_uninstall_site();
}
