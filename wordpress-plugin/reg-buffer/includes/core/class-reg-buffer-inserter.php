<?php
/**
 * Owns how the flusher stores a claimed batch: the plain path, Reg_Buffer_Store::insert() while the flusher waits.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Stores a batch's rows in one transaction through $wpdb. Reg_Buffer_Overlap_Inserter does the same with the
 * INSERT in flight while the flusher talks to Redis; the flusher sees only this interface.
 */
class Reg_Buffer_Inserter {

	/**
	 * Asked right before the batch commits (the flush lock's still_held()); false rolls it back.
	 *
	 * @var callable|null
	 */
	protected $may_commit;

	/**
	 * An inserter for one flush run.
	 *
	 * @param callable|null $may_commit asked right before each batch commits.
	 */
	public function __construct( ?callable $may_commit = null ) {
		$this->may_commit = $may_commit;
	}

	/**
	 * What insert() can send for $rows as it is, built now without a query (so while another INSERT is in flight);
	 * null when there is nothing to build ahead.
	 *
	 * @param array $rows the rows of a batch whose screen changes nothing.
	 * @return mixed
	 */
	public function prepare( array $rows ) {
		unset( $rows );
		return null;
	}

	/**
	 * Stores $rows once each, atomically: how many were new, or a WP_Error (nothing committed).
	 *
	 * @param array    $rows      the batch's screened rows (Reg_Buffer_Store::insert()).
	 * @param callable $meanwhile Redis work to do while MySQL inserts, with wpdb's connection busy: an inserter
	 *                            that overlaps calls it at most once, after sending the INSERT; this one never.
	 * @param mixed    $prepared  what prepare() gave for these rows, or null.
	 * @return int|WP_Error
	 */
	public function insert( array $rows, callable $meanwhile, $prepared = null ) {
		unset( $meanwhile, $prepared );
		return Reg_Buffer_Store::insert( $rows, $this->may_commit );
	}
}
