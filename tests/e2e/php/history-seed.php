<?php
// Writes three hours of minutely history (option reg_buffer_history) ending two minutes ago: a registration burst
// with a short Redis outage, shaped so its counters end where the live ones are now (the page's own live sample
// follows on without a jump). Real samples come one a minute, too slowly for a test; this lets the browser test
// see the charts drawn from a day-like history. Prints how many samples it wrote.
//   php history-seed.php
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );

$stats     = Reg_Buffer_Bridge::stats();
$fallbacks = Reg_Buffer_Status::fallbacks();
$now       = time();
$minutes   = 180;
$samples   = array();
$pushed    = (int) $stats['pushed'];
$acked     = (int) $stats['acked'];
$falls     = $fallbacks;
// Walk back from two minutes ago: per-minute rates of a burst 90..60 minutes ago, quiet otherwise.
for ( $m = 2; $m <= $minutes; $m++ ) {
	$t       = $now - $m * 60;
	$burst   = $m >= 60 && $m <= 90;
	$outage  = $m >= 70 && $m <= 72;
	$in      = $burst ? 40 + ( $m % 7 ) * 6 : ( $m % 5 );
	$out     = $burst ? 30 + ( $m % 3 ) * 4 : ( $m % 5 );
	$pending = $burst ? ( 91 - $m ) * 9 : 0;
	$samples[] = $outage
		? array( $t, null, null, null, null, null, null, $falls )
		: array( $t, $pending, 0, 0, $pending > 0 ? 45 : null, $pushed, $acked, $falls );
	$pushed = max( 0, $pushed - $in );
	$acked  = max( 0, $acked - $out );
	$falls  = max( 0, $falls - ( $outage ? 25 : 0 ) );
}
update_option( Reg_Buffer_History::OPTION, array_reverse( $samples ), false );
echo count( $samples ), "\n";
e2e_exit( 0 );
