//! Arguments as PHP itself reads them: the engine's own weak-mode coercion ("5" for an int, with its deprecations)
//! unless the caller declared strict_types, and PHP's own TypeError and ArgumentCountError messages.
use ext_php_rs::ffi::{zend_long, zend_string, zval};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};
use ext_php_rs::zend::{ce, ExecuteData};

use crate::core::error::{Error, ErrorKind};

/// Declares engine functions PHP marks ZEND_FASTCALL as PHP does (Zend/zend_portability.h): GCC's `fastcall` on
/// 32-bit x86, where it differs from the C convention (a wrong one corrupts the stack), plain C elsewhere.
macro_rules! zend_fastcall {
    ($($declaration:tt)*) => {
        #[cfg(target_arch = "x86")]
        extern "fastcall" { $($declaration)* }
        #[cfg(not(target_arch = "x86"))]
        extern "C" { $($declaration)* }
    };
}
pub(crate) use zend_fastcall;

// PHP built with MSVC declares them __vectorcall, which stable Rust cannot call: refuse to build rather than guess.
#[cfg(target_env = "msvc")]
compile_error!("PHP built with MSVC declares ZEND_FASTCALL functions __vectorcall, which stable Rust cannot declare");

zend_fastcall! {
    fn zend_parse_arg_long_slow(arg: *mut zval, dest: *mut zend_long, arg_num: u32) -> bool;
    fn zend_parse_arg_double_slow(arg: *mut zval, dest: *mut f64, arg_num: u32) -> bool;
    fn zend_parse_arg_str_slow(arg: *mut zval, dest: *mut *mut zend_string, arg_num: u32) -> bool;
}

/// A failed argument: thrown as ArgumentCountError or TypeError by the caller.
pub struct ArgError {
    pub count: bool,
    pub message: String,
}

impl From<ArgError> for Error {
    fn from(e: ArgError) -> Error {
        Error::new(if e.count { ErrorKind::Server } else { ErrorKind::Type }, e.message)
    }
}

impl ArgError {
    pub fn throw(self) {
        let class = if self.count { ce::argument_count_error() } else { ce::type_error() };
        ext_php_rs::exception::PhpException::new(self.message, 0, class).throw();
    }
}

pub struct Args<'a> {
    function: &'static str,
    params: &'static [&'static str],
    values: Vec<Option<&'a mut Zval>>,
}

impl<'a> Args<'a> {
    /// The call's arguments, after checking their count against `params` (the first `required` are required).
    pub fn new(
        ex: &'a mut ExecuteData,
        function: &'static str,
        params: &'static [&'static str],
        required: usize,
    ) -> Result<Self, ArgError> {
        let n = unsafe { ex.This.u2.num_args } as usize;
        if n < required || n > params.len() {
            let (bound, limit) = if n < required {
                (if required == params.len() { "exactly" } else { "at least" }, required)
            } else {
                (if required == params.len() { "exactly" } else { "at most" }, params.len())
            };
            let plural = if limit == 1 { "" } else { "s" };
            return Err(ArgError {
                count: true,
                message: format!("{function}() expects {bound} {limit} argument{plural}, {n} given"),
            });
        }
        let values = (0..n).map(|i| unsafe { ex.zend_call_arg(i) }).collect();
        Ok(Args { function, params, values })
    }

    fn type_error(&self, i: usize, expected: &str, given: String) -> ArgError {
        ArgError {
            count: false,
            message: format!(
                "{}(): Argument #{} (${}) must be of type {expected}, {} given",
                self.function,
                i + 1,
                self.params[i],
                given
            ),
        }
    }

    fn get(&mut self, i: usize) -> Option<&mut Zval> {
        self.values.get_mut(i).and_then(|v| v.as_deref_mut())
    }

    pub fn long(&mut self, i: usize, default: i64) -> Result<i64, ArgError> {
        let Some(zv) = self.get(i) else { return Ok(default) };
        let zv = zv.dereference_mut();
        if let Some(n) = zv.long() {
            return Ok(n);
        }
        let given = type_name(zv);
        let mut n: zend_long = 0;
        // SAFETY: zv is a live argument slot; the engine may convert it in place, as its own ZPP does.
        if unsafe { zend_parse_arg_long_slow(std::ptr::from_mut(zv).cast(), &mut n, i as u32 + 1) } {
            return Ok(n);
        }
        Err(self.type_error(i, "int", given))
    }

    /// An optional int argument: `None` when it is absent or null.
    pub fn nullable_long(&mut self, i: usize) -> Result<Option<i64>, ArgError> {
        match self.get(i) {
            None => Ok(None),
            Some(z) if z.dereference().is_null() => Ok(None),
            Some(_) => self.long(i, 0).map(Some),
        }
    }

    pub fn double(&mut self, i: usize) -> Result<f64, ArgError> {
        let Some(zv) = self.get(i) else { return Ok(0.0) };
        let zv = zv.dereference_mut();
        if let Some(f) = zv.double() {
            return Ok(f);
        }
        if let Some(n) = zv.long() {
            return Ok(n as f64);
        }
        let given = type_name(zv);
        let mut f: f64 = 0.0;
        if unsafe { zend_parse_arg_double_slow(std::ptr::from_mut(zv).cast(), &mut f, i as u32 + 1) } {
            return Ok(f);
        }
        Err(self.type_error(i, "float", given))
    }

    /// A string argument as bytes; `None` for null when `nullable`.
    pub fn bytes(&mut self, i: usize, nullable: bool) -> Result<Option<Vec<u8>>, ArgError> {
        let Some(zv) = self.get(i) else { return Ok(None) };
        let zv = zv.dereference_mut();
        if nullable && zv.is_null() {
            return Ok(None);
        }
        if let Some(s) = zv.zend_str() {
            return Ok(Some(s.as_bytes().to_vec()));
        }
        let given = type_name(zv);
        let mut s: *mut zend_string = std::ptr::null_mut();
        if unsafe { zend_parse_arg_str_slow(std::ptr::from_mut(zv).cast(), &mut s, i as u32 + 1) } && !s.is_null() {
            // SAFETY: the engine returned the (converted) string held by the argument slot.
            let s: &ZendStr = unsafe { &*(s as *const ZendStr) };
            return Ok(Some(s.as_bytes().to_vec()));
        }
        Err(self.type_error(i, if nullable { "?string" } else { "string" }, given))
    }

    /// An optional array argument: `None` when it is absent or null.
    pub fn nullable_array(&mut self, i: usize) -> Result<Option<&ZendHashTable>, ArgError> {
        match self.values.get(i).and_then(|v| v.as_deref()) {
            None => Ok(None),
            Some(z) if z.dereference().is_null() => Ok(None),
            Some(z) => match z.dereference().array() {
                Some(ht) => Ok(Some(ht)),
                None => Err(self.type_error(i, "?array", type_name(z.dereference()))),
            },
        }
    }

    pub fn array(&mut self, i: usize) -> Result<&ZendHashTable, ArgError> {
        let given = self.values.get(i).and_then(|v| v.as_deref()).map(|z| type_name(z.dereference()));
        if given.as_deref() != Some("array") {
            return Err(self.type_error(i, "array", given.unwrap_or_else(|| "null".into())));
        }
        Ok(self.values[i].as_deref().and_then(|z| z.dereference().array()).expect("checked above"))
    }
}

/// PHP's name for a value's type in TypeError messages.
pub fn type_name(zv: &Zval) -> String {
    match zv.get_type() {
        DataType::Null => "null".into(),
        DataType::True | DataType::False | DataType::Bool => "bool".into(),
        DataType::Long => "int".into(),
        DataType::Double => "float".into(),
        DataType::String => "string".into(),
        DataType::Array => "array".into(),
        DataType::Object(_) => zv.object().and_then(|o| o.get_class_name().ok()).unwrap_or_else(|| "object".into()),
        DataType::Resource => "resource".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}
