//! reg_buffer: module registration only — the core lives in `core`, the PHP binding in `php`.
#![cfg_attr(windows, feature(abi_vectorcall))]
pub mod core;
mod php;

use ext_php_rs::prelude::*;
use php::startup;

#[php_module]
#[php(startup = startup)]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    php::build_module(module)
}
