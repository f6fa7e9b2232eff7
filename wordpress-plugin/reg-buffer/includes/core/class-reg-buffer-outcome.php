<?php
/**
 * Owns the result of taking one registration: buffered, stored directly, or duplicate; for an event with a
 * capacity also its seat (registered or waitlisted) and the places left.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * What reg_buffer_register() did with a registration; failures are WP_Error instead.
 */
final class Reg_Buffer_Outcome {

	const BUFFERED  = 'buffered';  // In Redis; the flush will store it.
	const STORED    = 'stored';    // Written straight to MySQL (fallback).
	const DUPLICATE = 'duplicate'; // Its unique key was already taken for this event; nothing was kept.

	/** @var string one of the constants. */
	public readonly string $status;

	/** @var string|null the registration id (null for a duplicate). */
	public readonly ?string $registration_id;

	/** @var string|null why it was stored directly, e.g. 'extension_not_loaded', 'connection'. */
	public readonly ?string $fallback_reason;

	/** @var string|null for an event with a capacity: registered | waitlisted (null: unlimited, or a duplicate). */
	public readonly ?string $seat;

	/** @var int|null for an event with a capacity: places left after this registration. */
	public readonly ?int $remaining;

	public function __construct( string $status, ?string $registration_id = null, ?string $fallback_reason = null, ?string $seat = null, ?int $remaining = null ) {
		$this->status          = $status;
		$this->registration_id = $registration_id;
		$this->fallback_reason = $fallback_reason;
		$this->seat            = $seat;
		$this->remaining       = $remaining;
	}

	/**
	 * Whether the registration was accepted (buffered or stored).
	 */
	public function is_accepted(): bool {
		return self::DUPLICATE !== $this->status;
	}

	/**
	 * A plain array for REST responses and logs; `seat` and `remaining` only for an event with a capacity.
	 */
	public function to_array(): array {
		$answer = array(
			'status'          => $this->status,
			'id'              => $this->registration_id,
			'fallback_reason' => $this->fallback_reason,
		);
		if ( null !== $this->seat || null !== $this->remaining ) {
			$answer['seat']      = $this->seat;
			$answer['remaining'] = $this->remaining;
		}
		return $answer;
	}
}
