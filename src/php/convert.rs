//! PHP values <-> the core's registration values. Refuses what cannot come back exactly (objects, resources,
//! INF/NAN, invalid UTF-8, nesting deeper than 64) instead of changing it.
use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ArrayKey, ZendHashTable, ZendStr, Zval};
use serde_json::{Map, Value};

use crate::core::buffer::BufferedRegistration;
use crate::core::codec::{self, php_integer_key};
use crate::core::config::MAX_DEPTH;
use crate::core::error::{Error, Result};

/// A PHP array as a registration value.
pub fn registration(ht: &ZendHashTable) -> Result<Value> {
    array(ht, 1).map_err(|e| Error { message: format!("registration{}", e.message), ..e })
}

/// The registration as the JSON text `codec::to_json(&registration(ht)?)` gives, written straight from the PHP array
/// into `out`, without building the value in between (what that saves: bench/NOTES.md, "Measurements that shaped
/// the code"). Returns false, with `out` unusable, for an array holding anything but strings, ints,
/// floats, bools, null and arrays, or a string key PHP would have made an int: the caller then takes the value
/// path, which also words any refusal.
pub fn registration_json(ht: &ZendHashTable, out: &mut Vec<u8>) -> bool {
    out.clear();
    // An engine whose array layout entries() was not tested on: the value path, through the engine's calls.
    if !super::engine::TESTED_ARRAY_LAYOUT {
        return false;
    }
    write_array(ht, 1, out)
}

fn write_array(ht: &ZendHashTable, depth: usize, out: &mut Vec<u8>) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let start = out.len();
    // As a list first (keys 0, 1, … in order); at the first other key, again from the start as a map.
    if let Some(done) = write_entries(ht, depth, out, true) {
        return done;
    }
    out.truncate(start);
    write_entries(ht, depth, out, false).unwrap_or(false)
}

/// None: written as a list, a key was not the list's next position.
fn write_entries(ht: &ZendHashTable, depth: usize, out: &mut Vec<u8>, list: bool) -> Option<bool> {
    out.push(if list { b'[' } else { b'{' });
    for (position, (key, value)) in entries(ht).enumerate() {
        if position > 0 {
            out.push(b',');
        }
        if list {
            if key != Key::Index(position as i64) {
                return None;
            }
        } else {
            match key {
                Key::Index(i) => {
                    out.push(b'"');
                    out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
                    out.push(b'"');
                }
                Key::Name(name) => {
                    let Ok(text) = std::str::from_utf8(name.as_bytes()) else { return Some(false) };
                    if php_integer_key(text).is_some() || serde_json::to_writer(&mut *out, text).is_err() {
                        return Some(false);
                    }
                }
            }
            out.push(b':');
        }
        if !write_value(value, depth, out) {
            return Some(false);
        }
    }
    out.push(if list { b']' } else { b'}' });
    Some(true)
}

#[derive(PartialEq)]
enum Key<'a> {
    Index(i64),
    Name(&'a ZendStr),
}

/// A PHP 8.2 array's elements in order, read from its storage (a packed array keeps bare values, a hash keeps
/// buckets) instead of through four engine calls and a key copy per element.
fn entries(ht: &ZendHashTable) -> impl Iterator<Item = (Key<'_>, &Zval)> {
    const HASH_FLAG_PACKED: u32 = 1 << 2;
    // SAFETY: the engine's layout of an array (Zend/zend_types.h, PHP >= 8.2): slots 0..nNumUsed of arPacked
    // (packed) or arData (hash) are initialised, deleted ones are IS_UNDEF; the array is not changed while the
    // borrow lasts.
    let packed = unsafe { ht.u.flags } & HASH_FLAG_PACKED != 0;
    (0..ht.nNumUsed as usize).filter_map(move |i| unsafe {
        if packed {
            let value: &Zval = &*ht.__bindgen_anon_1.arPacked.add(i);
            (value.get_type() != DataType::Undef).then_some((Key::Index(i as i64), value))
        } else {
            let bucket = &*ht.__bindgen_anon_1.arData.add(i);
            if bucket.val.get_type() == DataType::Undef {
                return None;
            }
            let key = match bucket.key.as_ref() {
                Some(name) => Key::Name(name),
                None => Key::Index(bucket.h as i64),
            };
            Some((key, &bucket.val))
        }
    })
}

fn write_value(zv: &Zval, depth: usize, out: &mut Vec<u8>) -> bool {
    let zv = zv.dereference();
    match zv.get_type() {
        DataType::Null => out.extend_from_slice(b"null"),
        DataType::True => out.extend_from_slice(b"true"),
        DataType::False => out.extend_from_slice(b"false"),
        DataType::Long => out.extend_from_slice(itoa::Buffer::new().format(zv.long().unwrap_or_default()).as_bytes()),
        DataType::Double => {
            let f = zv.double().unwrap_or_default();
            // serde_json writes a finite f64 the way it writes the Number codec::float makes of it.
            if !f.is_finite() || serde_json::to_writer(&mut *out, &f).is_err() {
                return false;
            }
        }
        DataType::String => {
            let Some(text) = zv.zend_str().and_then(|s| std::str::from_utf8(s.as_bytes()).ok()) else { return false };
            if serde_json::to_writer(&mut *out, text).is_err() {
                return false;
            }
        }
        DataType::Array => match zv.array() {
            Some(ht) => return write_array(ht, depth + 1, out),
            None => return false,
        },
        _ => return false,
    }
    true
}

/// Errors name the offending element by its path: each level prepends its key as the error travels up, so the
/// path is only built when something is refused.
fn at(key: &str, e: Error) -> Error {
    let sep = if e.message.starts_with('[') || e.message.starts_with(' ') { "" } else { " " };
    Error { message: format!("[{key}]{sep}{}", e.message), ..e }
}

fn array(ht: &ZendHashTable, depth: usize) -> Result<Value> {
    codec::check_depth(depth).map_err(|e| Error { message: format!(" {}", e.message), ..e })?;
    let mut iter = ht.iter();
    let mut list: Vec<Value> = Vec::with_capacity(ht.len());
    let mut map: Option<Map<String, Value>> = None;
    let mut position: i64 = 0;
    while let Some((key, value)) = iter.next_zval() {
        let key_text = if let Some(i) = key.long() {
            if map.is_none() && i == position {
                position += 1;
                list.push(scalar_or_array(value, depth).map_err(|e| at(&i.to_string(), e))?);
                continue;
            }
            i.to_string()
        } else {
            let bytes = key.zend_str().map(ZendStr::as_bytes).unwrap_or_default();
            std::str::from_utf8(bytes).map_err(|_| Error::invalid(" has a key that is not valid UTF-8"))?.to_owned()
        };
        let map = map.get_or_insert_with(|| {
            // Keys seen so far were 0..n in order: they become the first entries of the map.
            list.drain(..).enumerate().map(|(i, v)| (i.to_string(), v)).collect()
        });
        let converted = scalar_or_array(value, depth).map_err(|e| at(&key_text, e))?;
        map.insert(key_text, converted);
    }
    Ok(match map {
        Some(m) => Value::Object(m),
        None => Value::Array(list),
    })
}

fn scalar_or_array(zv: &Zval, depth: usize) -> Result<Value> {
    let zv = zv.dereference();
    Ok(match zv.get_type() {
        DataType::Null => Value::Null,
        DataType::True => Value::Bool(true),
        DataType::False => Value::Bool(false),
        DataType::Long => Value::from(zv.long().unwrap_or_default()),
        DataType::Double => codec::float(zv.double().unwrap_or_default())
            .map_err(|e| Error { message: format!(": {}", e.message), ..e })?,
        DataType::String => {
            let bytes = zv.zend_str().map(ZendStr::as_bytes).unwrap_or_default();
            Value::String(
                std::str::from_utf8(bytes)
                    .map_err(|_| Error::invalid(" is not valid UTF-8; encode binary data (base64) first"))?
                    .to_owned(),
            )
        }
        DataType::Array => match zv.array() {
            Some(ht) => array(ht, depth + 1)?,
            None => Value::Array(Vec::new()),
        },
        DataType::Object(_) => {
            return Err(Error::wrong_type(" is an object; only scalars, null and arrays can be buffered"))
        }
        DataType::Resource => return Err(Error::wrong_type(" is a resource; it cannot be buffered")),
        other => return Err(Error::wrong_type(format!(" has type {other:?}, which cannot be buffered"))),
    })
}

/// A registration value as a PHP value; map keys that PHP would make ints become ints again.
pub fn to_zval(value: &Value) -> Zval {
    let mut zv = Zval::new();
    match value {
        Value::Null => zv.set_null(),
        Value::Bool(b) => zv.set_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => zv.set_long(i),
            None => zv.set_double(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => set_bytes(&mut zv, s.as_bytes()),
        Value::Array(items) => {
            let mut ht = ZendHashTable::with_capacity(items.len() as u32);
            for item in items {
                let _ = ht.push(to_zval(item));
            }
            zv.set_hashtable(ht);
        }
        Value::Object(fields) => {
            let mut ht = ZendHashTable::with_capacity(fields.len() as u32);
            for (k, v) in fields {
                let _ = match php_integer_key(k) {
                    Some(i) => ht.insert_at_index(i, to_zval(v)),
                    None => ht.insert(k.as_str(), to_zval(v)),
                };
            }
            zv.set_hashtable(ht);
        }
    }
    zv
}

pub fn set_bytes(zv: &mut Zval, bytes: &[u8]) {
    zv.set_zend_string(ZendStr::new(bytes, false));
}

/// The field names of a row, made once per call and shared by every row (each row's array holds a reference):
/// a flush of 1,000 rows then allocates and hashes 6 key strings instead of 6,000.
pub struct RowKeys {
    id: ZBox<ZendStr>,
    event_id: ZBox<ZendStr>,
    registered_at: ZBox<ZendStr>,
    unique_key: ZBox<ZendStr>,
    data: ZBox<ZendStr>,
    json: ZBox<ZendStr>,
    status: ZBox<ZendStr>,
}

impl RowKeys {
    pub fn new() -> Self {
        let key = |name: &str| ZendStr::new(name, false);
        RowKeys {
            id: key("id"),
            event_id: key("event_id"),
            registered_at: key("registered_at"),
            unique_key: key("unique_key"),
            data: key("data"),
            json: key("json"),
            status: key("status"),
        }
    }
}

/// A buffered registration as the row flush and range return. Without `with_data` the row has no `data` key: the
/// registration is only the stored JSON text, and no PHP array is built for it (the plugin stores the JSON).
pub fn row(reg: &BufferedRegistration, keys: &RowKeys, with_data: bool) -> Result<Zval> {
    let mut ht = ZendHashTable::with_capacity(if with_data { 7 } else { 6 });
    let mut field = |name: &ZendStr, zv: Zval| {
        let _ = ht.insert(ArrayKey::ZendString(name), zv);
    };
    let mut id = Zval::new();
    set_bytes(&mut id, reg.id.as_bytes());
    field(&keys.id, id);
    let mut event = Zval::new();
    event.set_long(reg.event_id);
    field(&keys.event_id, event);
    let mut at = Zval::new();
    at.set_double(reg.stored.registered_at_micros as f64 / 1e6);
    field(&keys.registered_at, at);
    let mut key = Zval::new();
    match &reg.stored.unique_key {
        Some(k) => set_bytes(&mut key, k),
        None => key.set_null(),
    }
    field(&keys.unique_key, key);
    if with_data {
        field(&keys.data, to_zval(reg.stored.data()));
    }
    let mut json = Zval::new();
    set_bytes(&mut json, reg.stored.json.as_bytes());
    field(&keys.json, json);
    // Its place: 'waitlisted' when booked past its event's capacity, else 'registered'.
    let mut status = Zval::new();
    set_bytes(&mut status, if reg.stored.waitlisted { b"waitlisted" } else { b"registered" });
    field(&keys.status, status);
    let mut zv = Zval::new();
    zv.set_hashtable(ht);
    Ok(zv)
}
