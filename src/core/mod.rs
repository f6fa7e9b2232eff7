//! The pure-Rust core: no PHP types. Settings, key layout, codec, ids, connections and the buffer operations.
pub mod buffer;
pub mod codec;
pub mod config;
pub mod error;
pub mod id;
pub mod keys;
pub mod metrics;
pub mod packed;
pub mod pool;
pub mod process;
