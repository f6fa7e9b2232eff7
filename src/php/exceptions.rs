//! RegBuffer\Exception and its subclasses (registered by hand, extending \RuntimeException, so they keep file,
//! line and trace and can be constructed from PHP), and the one place that turns a core error into a PHP throw.
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use ext_php_rs::args::ArgInfoTables;
use ext_php_rs::builders::{ClassBuilder, ClassProperty, FunctionBuilder};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::{DataType, MethodFlags, PropertyFlags};
use ext_php_rs::types::Zval;
use ext_php_rs::zend::{ce, run_handler, ClassEntry, ExecuteData};

use crate::core::config::scrub_secrets;
use crate::core::error::{Error, ErrorKind};

struct Class(&'static ClassEntry);
// SAFETY: class entries live for the whole process and are only read after MINIT.
unsafe impl Send for Class {}
unsafe impl Sync for Class {}

static EXCEPTION: OnceLock<Class> = OnceLock::new();
static CONNECTION: OnceLock<Class> = OnceLock::new();
static CAPACITY: OnceLock<Class> = OnceLock::new();
static LIMIT: OnceLock<Class> = OnceLock::new();
static RATE_LIMIT: OnceLock<Class> = OnceLock::new();
static SOLD_OUT: OnceLock<Class> = OnceLock::new();
static SEATS_UNKNOWN: OnceLock<Class> = OnceLock::new();

const REGISTRATION_ID: &str = "registrationId";
const RETRY_AFTER: &str = "retryAfter";

extern "C" {
    /// SPL's \RuntimeException, exported by PHP itself (SPL is always built in and starts before extensions).
    static spl_ce_RuntimeException: *mut ext_php_rs::ffi::zend_class_entry;
}

fn runtime_exception() -> &'static ClassEntry {
    // SAFETY: set by SPL's MINIT, which runs before ours; a class entry lives for the whole process.
    unsafe { (spl_ce_RuntimeException as *const ClassEntry).as_ref() }.unwrap_or_else(ce::exception)
}
fn base_exception() -> &'static ClassEntry {
    EXCEPTION.get().map_or_else(ce::exception, |c| c.0)
}

fn keep(slot: &'static OnceLock<Class>) -> impl Fn(&'static mut ClassEntry) {
    move |ce| {
        let _ = slot.set(Class(ce));
    }
}

pub fn register() -> ext_php_rs::error::Result<()> {
    fn keep_base(ce: &'static mut ClassEntry, _: ArgInfoTables) {
        keep(&EXCEPTION)(ce)
    }
    fn keep_connection(ce: &'static mut ClassEntry, _: ArgInfoTables) {
        keep(&CONNECTION)(ce)
    }
    fn keep_capacity(ce: &'static mut ClassEntry, _: ArgInfoTables) {
        keep(&CAPACITY)(ce)
    }
    fn keep_limit(ce: &'static mut ClassEntry, _: ArgInfoTables) {
        keep(&LIMIT)(ce)
    }
    fn keep_rate_limit(ce: &'static mut ClassEntry, _: ArgInfoTables) {
        keep(&RATE_LIMIT)(ce)
    }
    fn keep_sold_out(ce: &'static mut ClassEntry, _: ArgInfoTables) {
        keep(&SOLD_OUT)(ce)
    }
    fn keep_seats_unknown(ce: &'static mut ClassEntry, _: ArgInfoTables) {
        keep(&SEATS_UNKNOWN)(ce)
    }
    ClassBuilder::new("RegBuffer\\Exception")
        .extends((runtime_exception, "\\RuntimeException"))
        .property(ClassProperty {
            name: REGISTRATION_ID.to_owned(),
            flags: PropertyFlags::Protected,
            default: Some(Box::new(|| {
                let mut z = Zval::new();
                z.set_null();
                Ok(z)
            })),
            docs: &[],
            ty: None,
            nullable: true,
            readonly: false,
            default_stub: Some("null".to_owned()),
        })
        .method(
            FunctionBuilder::new("getRegistrationId", get_registration_id).returns(DataType::String, false, true),
            MethodFlags::Public,
        )
        .registration(keep_base)
        .register()?;
    ClassBuilder::new("RegBuffer\\ConnectionException")
        .extends((base_exception, "\\RegBuffer\\Exception"))
        .registration(keep_connection)
        .register()?;
    ClassBuilder::new("RegBuffer\\CapacityException")
        .extends((base_exception, "\\RegBuffer\\Exception"))
        .registration(keep_capacity)
        .register()?;
    ClassBuilder::new("RegBuffer\\LimitException")
        .extends((base_exception, "\\RegBuffer\\Exception"))
        .registration(keep_limit)
        .register()?;
    ClassBuilder::new("RegBuffer\\RateLimitException")
        .extends((base_exception, "\\RegBuffer\\Exception"))
        .property(ClassProperty {
            name: RETRY_AFTER.to_owned(),
            flags: PropertyFlags::Protected,
            default: Some(Box::new(|| {
                let mut z = Zval::new();
                z.set_long(0);
                Ok(z)
            })),
            docs: &[],
            ty: None,
            nullable: false,
            readonly: false,
            default_stub: Some("0".to_owned()),
        })
        .method(
            FunctionBuilder::new("getRetryAfter", get_retry_after).returns(DataType::Long, false, false),
            MethodFlags::Public,
        )
        .registration(keep_rate_limit)
        .register()?;
    ClassBuilder::new("RegBuffer\\SoldOutException")
        .extends((base_exception, "\\RegBuffer\\Exception"))
        .registration(keep_sold_out)
        .register()?;
    ClassBuilder::new("RegBuffer\\SeatsUnknownException")
        .extends((base_exception, "\\RegBuffer\\Exception"))
        .registration(keep_seats_unknown)
        .register()?;
    Ok(())
}

extern "C" fn get_registration_id(ex: &mut ExecuteData, retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| {
        let id = ex.get_self().and_then(|this| this.get_property::<Option<String>>(REGISTRATION_ID).ok()).flatten();
        match id {
            Some(id) => {
                let _ = retval.set_string(&id, false);
            }
            None => retval.set_null(),
        }
    }));
}

extern "C" fn get_retry_after(ex: &mut ExecuteData, retval: &mut Zval) {
    run_handler(AssertUnwindSafe(|| {
        let seconds = ex.get_self().and_then(|this| this.get_property::<i64>(RETRY_AFTER).ok()).unwrap_or(0);
        retval.set_long(seconds);
    }));
}

extern "C" {
    fn zend_update_property_long(
        scope: *mut ext_php_rs::ffi::zend_class_entry,
        object: *mut ext_php_rs::ffi::zend_object,
        name: *const std::ffi::c_char,
        name_length: usize,
        value: ext_php_rs::ffi::zend_long,
    );
    fn zend_update_property_stringl(
        scope: *mut ext_php_rs::ffi::zend_class_entry,
        object: *mut ext_php_rs::ffi::zend_object,
        name: *const std::ffi::c_char,
        name_length: usize,
        value: *const std::ffi::c_char,
        value_length: usize,
    );
}

/// Writes a (possibly protected) property as code of class `scope` would.
fn set_string_property(scope: &ClassEntry, object: &mut ext_php_rs::types::ZendObject, name: &str, value: &[u8]) {
    // SAFETY: scope and object are live; the engine copies name and value.
    unsafe {
        zend_update_property_stringl(
            std::ptr::from_ref(scope).cast_mut().cast(),
            std::ptr::from_mut(object).cast(),
            name.as_ptr().cast(),
            name.len(),
            value.as_ptr().cast(),
            value.len(),
        );
    }
}

/// Writes a (possibly protected) int property as code of class `scope` would.
fn set_long_property(scope: &ClassEntry, object: &mut ext_php_rs::types::ZendObject, name: &str, value: i64) {
    // SAFETY: scope and object are live; the engine copies the name.
    unsafe {
        zend_update_property_long(
            std::ptr::from_ref(scope).cast_mut().cast(),
            std::ptr::from_mut(object).cast(),
            name.as_ptr().cast(),
            name.len(),
            value,
        );
    }
}

/// Throws the PHP exception for a core error: ValueError, TypeError, or a RegBuffer exception carrying the
/// registration id a failed push tried.
pub fn throw(err: Error) {
    let class = match err.kind {
        ErrorKind::Invalid => ce::value_error(),
        ErrorKind::Type => ce::type_error(),
        ErrorKind::Connection => CONNECTION.get().map_or_else(base_exception, |c| c.0),
        ErrorKind::Capacity => CAPACITY.get().map_or_else(base_exception, |c| c.0),
        ErrorKind::Limit => LIMIT.get().map_or_else(base_exception, |c| c.0),
        ErrorKind::RateLimit => RATE_LIMIT.get().map_or_else(base_exception, |c| c.0),
        ErrorKind::SoldOut => SOLD_OUT.get().map_or_else(base_exception, |c| c.0),
        ErrorKind::SeatsUnknown => SEATS_UNKNOWN.get().map_or_else(base_exception, |c| c.0),
        ErrorKind::Server => base_exception(),
    };
    // Whatever produced the message, no secret of the Redis URL leaves the extension in it.
    let url = crate::php::settings::raw(c"reg_buffer.redis_url").unwrap_or_default();
    let message = scrub_secrets(&err.message, &url).replace('\0', "\\0");
    let mut exception = PhpException::new(message.clone(), 0, class);
    if err.registration_id.is_some() || err.retry_after.is_some() {
        // Build the object first so the id (or the seconds to wait) is on it when PHP sees it.
        let mut object = ext_php_rs::types::ZendObject::new(class);
        set_string_property(ce::exception(), &mut object, "message", message.as_bytes());
        if let Some(id) = &err.registration_id {
            set_string_property(base_exception(), &mut object, REGISTRATION_ID, id.as_bytes());
        }
        if let Some(seconds) = err.retry_after {
            set_long_property(class, &mut object, RETRY_AFTER, i64::try_from(seconds).unwrap_or(i64::MAX));
        }
        if let Ok(zv) = object.into_zval(false) {
            exception.set_object(Some(zv));
        }
    }
    exception.throw();
}
