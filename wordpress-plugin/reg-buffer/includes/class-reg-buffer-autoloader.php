<?php
/**
 * Loads a class from its concern's folder the first time it is used, so a request loads only the parts it touches
 * (the fast intake, the admin page, the history charts and WP-CLI stay unloaded on a normal page).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The class map: class name => file under includes/.
 */
final class Reg_Buffer_Autoloader {

	const CLASSES = array(
		'Reg_Buffer_Plugin'             => 'core/class-reg-buffer-plugin.php',
		'Reg_Buffer_Settings'           => 'core/class-reg-buffer-settings.php',
		'Reg_Buffer_Bridge'             => 'core/class-reg-buffer-bridge.php',
		'Reg_Buffer_Registration_Rules' => 'core/class-reg-buffer-registration-rules.php',
		'Reg_Buffer_Registration'       => 'core/class-reg-buffer-registration.php',
		'Reg_Buffer_Outcome'            => 'core/class-reg-buffer-outcome.php',
		'Reg_Buffer_Registrar'          => 'core/class-reg-buffer-registrar.php',
		'Reg_Buffer_Store'              => 'core/class-reg-buffer-store.php',
		'Reg_Buffer_Seats'              => 'core/class-reg-buffer-seats.php',
		'Reg_Buffer_Flush_Lock'         => 'core/class-reg-buffer-flush-lock.php',
		'Reg_Buffer_Flusher'            => 'core/class-reg-buffer-flusher.php',
		'Reg_Buffer_Inserter'           => 'core/class-reg-buffer-inserter.php',
		'Reg_Buffer_Overlap_Inserter'   => 'core/class-reg-buffer-overlap-inserter.php',
		'Reg_Buffer_Events'             => 'core/class-reg-buffer-events.php',
		'Reg_Buffer_Source_Hooks'       => 'core/class-reg-buffer-source-hooks.php',
		'Reg_Buffer_Client_Address'     => 'core/class-reg-buffer-client-address.php',
		'Reg_Buffer_Seats_Shortcode'    => 'core/class-reg-buffer-seats-shortcode.php',
		'Reg_Buffer_Quarantine'         => 'recovery/class-reg-buffer-quarantine.php',
		'Reg_Buffer_Set_Aside'          => 'recovery/class-reg-buffer-set-aside.php',
		'Reg_Buffer_Operator_Action'    => 'recovery/class-reg-buffer-operator-action.php',
		'Reg_Buffer_Admin'              => 'admin/class-reg-buffer-admin.php',
		'Reg_Buffer_History'            => 'admin/class-reg-buffer-history.php',
		'Reg_Buffer_CLI'                => 'cli/class-reg-buffer-cli.php',
		'Reg_Buffer_Recovery_CLI'       => 'cli/class-reg-buffer-recovery-cli.php',
		'Reg_Buffer_Quarantine_CLI'     => 'cli/class-reg-buffer-quarantine-cli.php',
		'Reg_Buffer_Set_Aside_CLI'      => 'cli/class-reg-buffer-set-aside-cli.php',
		'Reg_Buffer_Seats_CLI'          => 'cli/class-reg-buffer-seats-cli.php',
		'Reg_Buffer_Intake'             => 'intake/class-reg-buffer-intake.php',
		'Reg_Buffer_Intake_Config'      => 'intake/class-reg-buffer-intake-config.php',
		'Reg_Buffer_Form_Token'         => 'intake/class-reg-buffer-form-token.php',
		'Reg_Buffer_REST_Controller'    => 'rest/class-reg-buffer-rest-controller.php',
		'Reg_Buffer_Rate_Limit'         => 'rest/class-reg-buffer-rate-limit.php',
		'Reg_Buffer_Status'             => 'health/class-reg-buffer-status.php',
		'Reg_Buffer_Redis_Watch'        => 'health/class-reg-buffer-redis-watch.php',
		'Reg_Buffer_Site_Health'        => 'health/class-reg-buffer-site-health.php',
	);

	/**
	 * Registers the loader once.
	 */
	public static function register(): void {
		spl_autoload_register( array( self::class, 'load' ) );
	}

	/**
	 * Loads one of the plugin's classes; any other name is left to the next loader.
	 *
	 * @param string $class_name the class PHP looks for.
	 */
	public static function load( string $class_name ): void {
		if ( isset( self::CLASSES[ $class_name ] ) ) {
			require_once __DIR__ . '/' . self::CLASSES[ $class_name ];
		}
	}
}
