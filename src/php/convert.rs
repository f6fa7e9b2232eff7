//! PHP values <-> the core's registration values. Refuses what cannot come back exactly (objects, resources,
//! INF/NAN, invalid UTF-8, nesting deeper than 64) instead of changing it.
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};
use serde_json::{Map, Value};

use crate::core::buffer::BufferedRegistration;
use crate::core::codec::{self, php_integer_key};
use crate::core::error::{Error, Result};

/// A PHP array as a registration value.
pub fn registration(ht: &ZendHashTable) -> Result<Value> {
    array(ht, 1).map_err(|e| Error { message: format!("registration{}", e.message), ..e })
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
            std::str::from_utf8(bytes)
                .map_err(|_| Error::invalid(" has a key that is not valid UTF-8"))?
                .to_owned()
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
        DataType::Double => {
            codec::float(zv.double().unwrap_or_default()).map_err(|e| Error { message: format!(": {}", e.message), ..e })?
        }
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
        DataType::Object(_) => return Err(Error::wrong_type(" is an object; only scalars, null and arrays can be buffered")),
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

/// A buffered registration as the row flush and range return.
pub fn row(reg: &BufferedRegistration) -> Result<Zval> {
    let data = reg.stored.data();
    let mut ht = ZendHashTable::with_capacity(6);
    let mut field = |name: &str, zv: Zval| {
        let _ = ht.insert(name, zv);
    };
    let mut id = Zval::new();
    set_bytes(&mut id, reg.id.as_bytes());
    field("id", id);
    let mut event = Zval::new();
    event.set_long(reg.event_id);
    field("event_id", event);
    let mut at = Zval::new();
    at.set_double(reg.stored.registered_at_micros as f64 / 1e6);
    field("registered_at", at);
    let mut key = Zval::new();
    match &reg.stored.unique_key {
        Some(k) => set_bytes(&mut key, k),
        None => key.set_null(),
    }
    field("unique_key", key);
    field("data", to_zval(data));
    let mut json = Zval::new();
    set_bytes(&mut json, reg.stored.json.as_bytes());
    field("json", json);
    let mut zv = Zval::new();
    zv.set_hashtable(ht);
    Ok(zv)
}
