//! The PHP binding: argument parsing, zval conversion, exceptions, settings, phpinfo. No buffer logic lives here.
mod args;
mod convert;
mod engine;
mod exceptions;
mod functions;
mod info;
mod settings;

use ext_php_rs::builders::ModuleBuilder;

pub fn build_module(module: ModuleBuilder) -> ModuleBuilder {
    functions::build_module(
        module.info_function(info::module_info).request_startup_function(functions::declare_union_returns),
    )
}

/// MINIT: settings and exception classes. Nothing connects here: connections are made per process on first use.
pub fn startup(_ty: i32, module_number: i32) -> i32 {
    settings::register(module_number);
    match exceptions::register() {
        Ok(()) => {}
        Err(_) => return 1,
    }
    0
}
