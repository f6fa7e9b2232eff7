<?php
// Mints COUNT one-use form tokens for event EVENT the way the plugin does (Reg_Buffer_Form_Token::mint with the
// site's secret, read from the intake config the plugin wrote), one a line, into OUT_FILE — without WordPress, so
// that every wrk cell gets fresh tokens cheaply. usage: php tokens.php CONFIG_FILE TOKEN_CLASS_FILE EVENT COUNT OUT_FILE
define( 'REG_BUFFER_INTAKE', true );
[ , $config_file, $class_file, $event, $count, $out ] = $argv;
require $class_file;
require dirname( $class_file ) . '/class-reg-buffer-intake-config.php';
$cfg = Reg_Buffer_Intake_Config::read( $config_file ); // JSON after __halt_compiler(), not include-able (issue 13).
$f = fopen( $out, 'w' );
$expires = time() + 3600;
for ( $i = 0; $i < (int) $count; $i++ ) fwrite( $f, Reg_Buffer_Form_Token::mint( $cfg['secret'], $cfg['site'], (int) $event, $expires, 1 ) . "\n" );
fclose( $f );
