<?php
// Makes the site's reg_buffer_flush cron event due now and forgets the last flush's summary, so that the next
// GET /wp-cron.php runs it and its summary tells that it ran.
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );

wp_clear_scheduled_hook( Reg_Buffer_Flusher::CRON_HOOK );
e2e_check( true === wp_schedule_event( time() - 1, Reg_Buffer_Flusher::CRON_SCHEDULE, Reg_Buffer_Flusher::CRON_HOOK, array(), true ), 'flush scheduled, due now' );
delete_option( Reg_Buffer_Status::LAST_FLUSH_OPTION );
e2e_done();
