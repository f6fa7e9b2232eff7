//! phpinfo(): version, connection state of this process, and every setting (the Redis password masked).
use std::ffi::CString;

use ext_php_rs::ffi::{
    php_info_print_table_end, php_info_print_table_header, php_info_print_table_row, php_info_print_table_start,
};
use ext_php_rs::zend::ModuleEntry;

use crate::core::config::{redact_url, scrub_secrets, SETTINGS};
use crate::core::pool::{connection_state, ConnectionState};
use crate::php::settings;

fn row(name: &str, value: &str) {
    let name = CString::new(name.replace('\0', "")).unwrap_or_default();
    let value = CString::new(value.replace('\0', "")).unwrap_or_default();
    unsafe { php_info_print_table_row(2, name.as_ptr(), value.as_ptr()) };
}

pub extern "C" fn module_info(_module: *mut ModuleEntry) {
    let _ = std::panic::catch_unwind(|| {
        unsafe {
            php_info_print_table_start();
            php_info_print_table_header(2, c"reg_buffer support".as_ptr(), c"enabled".as_ptr());
        }
        row("Version", env!("CARGO_PKG_VERSION"));
        let state = match settings::config() {
            Ok(cfg) => match connection_state(&cfg) {
                ConnectionState::NotConnected => "not connected (connects on first use)".to_owned(),
                ConnectionState::Connected => format!("connected to {}", cfg.redacted_url()),
                ConnectionState::BackingOff(ms) => format!("Redis unreachable; retrying in {ms} ms"),
            },
            Err(e) => format!(
                "settings invalid: {}",
                scrub_secrets(&e.message, &settings::raw(c"reg_buffer.redis_url").unwrap_or_default())
            ),
        };
        row("Connection (this process)", &state);
        for (name, value) in crate::core::metrics::snapshot().named() {
            row(&format!("This process: {}", name.replace('_', " ")), &value.to_string());
        }
        for (name, _) in SETTINGS.iter() {
            let key = name.to_str().unwrap_or_default();
            let value = settings::raw(name).unwrap_or_default();
            let shown = if key == "reg_buffer.redis_url" { redact_url(&value) } else { value };
            row(key, &shown);
        }
        unsafe { php_info_print_table_end() };
    });
}
