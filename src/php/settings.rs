//! php.ini settings: registered at startup, read per call through the engine (no map of every setting), parsed
//! only when a raw value changed.
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, CStr};
use std::rc::Rc;

use ext_php_rs::ffi::{zend_hash_str_find, zend_ini_entry, HashTable};
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::ExecutorGlobals;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs};

use crate::core::config::{Config, SETTINGS};
use crate::core::error::Result;

const fn entry(i: usize) -> IniEntryDef {
    let mut def = IniEntryDef::new(SETTINGS[i].0, SETTINGS[i].1, IniEntryPermission::All);
    def.on_modify = Some(accept_change);
    def
}

/// Accepts every value: settings are read and checked where they are used. Without an on_modify handler PHP
/// refuses to ini_restore() an entry.
unsafe extern "C" fn accept_change(
    _entry: *mut ext_php_rs::ffi::zend_ini_entry,
    _new_value: *mut ext_php_rs::ffi::zend_string,
    _mh_arg1: *mut std::ffi::c_void,
    _mh_arg2: *mut std::ffi::c_void,
    _mh_arg3: *mut std::ffi::c_void,
    _stage: c_int,
) -> c_int {
    0
}

static INI: IniEntryDefs<13> = IniEntryDefs::new([
    entry(0),
    entry(1),
    entry(2),
    entry(3),
    entry(4),
    entry(5),
    entry(6),
    entry(7),
    entry(8),
    entry(9),
    entry(10),
    entry(11),
    IniEntryDef::end(),
]);

extern "C" {
    fn zend_ini_string_ex(name: *const c_char, name_length: usize, orig: c_int, exists: *mut bool) -> *mut c_char;
}

pub fn register(module_number: i32) {
    IniEntryDef::register(INI.as_slice(), module_number);
}

/// The current value of a setting as PHP sees it (after ini_set()), borrowed from the engine.
fn current(name: &CStr) -> Option<&'static [u8]> {
    let mut exists = false;
    // SAFETY: name is NUL-terminated; the engine returns a pointer into its own ini storage or null. The bytes
    // are only read before the next ini_set(), within this call.
    let value = unsafe { zend_ini_string_ex(name.as_ptr(), name.count_bytes(), 0, &mut exists) };
    if value.is_null() || !exists {
        return None;
    }
    Some(unsafe { CStr::from_ptr(value) }.to_bytes())
}

/// The current value of a setting, owned (for phpinfo()).
pub fn raw(name: &CStr) -> Option<String> {
    current(name).map(|v| String::from_utf8_lossy(v).into_owned())
}

const COUNT: usize = SETTINGS.len();
type Entries = [*const zend_ini_entry; COUNT];

/// The settings' raw values as last read, and the Config made from them.
type Cached = (Vec<Option<Vec<u8>>>, Rc<Config>);

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
    /// The engine's entries of our settings, by their table: found by name once, then read by pointer, not looked up
    /// by name on every call.
    static ENTRIES: Cell<Option<(*const HashTable, Entries)>> = const { Cell::new(None) };
}

/// Our settings' entries in the engine's table of settings (each thread's own under ZTS), or None if one is
/// missing there.
fn entries() -> Option<Entries> {
    let table: *const HashTable = ExecutorGlobals::get().ini_directives;
    if let Some((known, entries)) = ENTRIES.with(Cell::get) {
        if known == table {
            return Some(entries);
        }
    }
    if table.is_null() {
        return None;
    }
    let mut entries = [std::ptr::null(); COUNT];
    for (entry, (name, _)) in entries.iter_mut().zip(SETTINGS.iter()) {
        // SAFETY: the table is the engine's live table of settings; a found slot holds a zend_ini_entry pointer
        // (zend_hash_str_find_ptr), which stays valid until the module's entries are unregistered at shutdown.
        let slot = unsafe { zend_hash_str_find(table, name.as_ptr(), name.count_bytes()) };
        if slot.is_null() {
            return None;
        }
        *entry = unsafe { (*slot).value.ptr } as *const zend_ini_entry;
    }
    ENTRIES.with(|e| e.set(Some((table, entries))));
    Some(entries)
}

/// An entry's current value, as `current()` reads it through zend_ini_string_ex.
fn entry_value(entry: *const zend_ini_entry) -> Option<&'static [u8]> {
    // SAFETY: entry comes from entries(); its value is null or a live zend_string until the next ini_set().
    unsafe {
        let value = (*entry).value;
        if value.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*value).val.as_ptr()).to_bytes())
    }
}

/// The settings in force now. The hot path compares the raw values with the last ones, without allocating, and
/// parses only after a change.
pub fn config() -> Result<Rc<Config>> {
    let entries = entries();
    let hit = CACHE.with(|c| {
        let cache = c.borrow();
        let (raw_values, cfg) = cache.as_ref()?;
        let same = match entries {
            Some(entries) => entries.iter().zip(raw_values).all(|(&entry, old)| entry_value(entry) == old.as_deref()),
            None => SETTINGS.iter().zip(raw_values).all(|((name, _), old)| current(name) == old.as_deref()),
        };
        same.then(|| cfg.clone())
    });
    if let Some(cfg) = hit {
        return Ok(cfg);
    }
    let raw_values: Vec<Option<Vec<u8>>> = SETTINGS.iter().map(|(name, _)| current(name).map(<[u8]>::to_vec)).collect();
    let cfg = Rc::new(Config::from_lookup(|name| {
        let i = SETTINGS.iter().position(|(n, _)| n.to_str().ok() == Some(name))?;
        raw_values[i].as_deref().map(|v| String::from_utf8_lossy(v).into_owned())
    })?);
    CACHE.with(|c| *c.borrow_mut() = Some((raw_values, cfg.clone())));
    Ok(cfg)
}
