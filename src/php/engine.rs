//! Which PHP engines the binding's direct reads of engine internals were tested on, decided at compile time from
//! the API number of the PHP headers it is built against. On any other engine the binding takes the engine's calls.
use ext_php_rs::ffi::ZEND_MODULE_API_NO;

/// PHP 8.2 (20220829) and PHP 8.4 (20240924): convert::entries reads a packed array's values (arPacked) and a hash's
/// buckets (arData) directly; the PHPUnit round-trip suite proves it on both (./build.sh test runs 8.2 on the host
/// and 8.4 in tests/compat/trixie.sh). Add an engine here only after that suite passed on it.
pub const TESTED_ARRAY_LAYOUT: bool = matches!(ZEND_MODULE_API_NO, 20220829 | 20240924);
