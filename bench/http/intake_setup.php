<?php
// Makes the bench site's fast-intake config (the plugin writes it on the first mint) and prints where it is:
// {"config": ".../reg-buffer-intake/<site>.php"}. Run with WordPress loaded (stack_wp_php).
require getenv( 'STACK_WP_LOAD' );
Reg_Buffer_Intake::mint( 7 );
echo json_encode( array( 'config' => Reg_Buffer_Intake::config_file() ) ), "\n";
