//! One Redis command packed (RESP) into a buffer each thread reuses: the push builds its EVALSHA there, keys and
//! arguments written in place, instead of a String per key and a Vec per argument on every call.
use std::cell::RefCell;

pub struct Packed {
    bytes: Vec<u8>,
    /// Where a key is assembled before it is written with its length.
    scratch: String,
    /// Where a binary argument is assembled before it is written with its length.
    scratch_bytes: Vec<u8>,
}

thread_local! {
    static PACKED: RefCell<Packed> = const { RefCell::new(Packed { bytes: Vec::new(), scratch: String::new(), scratch_bytes: Vec::new() }) };
}

/// Runs `f` with this thread's buffer, emptied; a nested call (none today) gets a buffer of its own.
pub fn with_packed<T>(f: impl FnOnce(&mut Packed) -> T) -> T {
    PACKED.with(|p| match p.try_borrow_mut() {
        Ok(mut packed) => f(&mut packed),
        Err(_) => f(&mut Packed { bytes: Vec::new(), scratch: String::new(), scratch_bytes: Vec::new() }),
    })
}

impl Packed {
    /// Starts a command of `args` arguments (the command's name counts as one).
    pub fn begin(&mut self, args: usize) -> &mut Self {
        self.bytes.clear();
        self.bytes.push(b'*');
        self.number(args);
        self
    }

    /// Starts one more command of `args` arguments after those already packed (a transaction sent in one write).
    pub fn then(&mut self, args: usize) -> &mut Self {
        self.bytes.push(b'*');
        self.number(args);
        self
    }

    fn number(&mut self, n: usize) {
        put_int(&mut self.bytes, n);
        self.bytes.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, len: usize) {
        // `$<len>\r\n` assembled on the stack and appended in one copy.
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(len).as_bytes();
        let mut line = [0u8; 24];
        line[0] = b'$';
        line[1..1 + digits.len()].copy_from_slice(digits);
        line[1 + digits.len()..3 + digits.len()].copy_from_slice(b"\r\n");
        self.bytes.extend_from_slice(&line[..3 + digits.len()]);
    }

    pub fn arg(&mut self, arg: &[u8]) -> &mut Self {
        self.arg_parts(&[arg])
    }

    /// One argument made of `parts` one after the other.
    pub fn arg_parts(&mut self, parts: &[&[u8]]) -> &mut Self {
        let len = parts.iter().map(|p| p.len()).sum();
        self.bytes.reserve(len + 26);
        self.header(len);
        for p in parts {
            self.bytes.extend_from_slice(p);
        }
        self.bytes.push(b'\r');
        self.bytes.push(b'\n');
        self
    }

    pub fn arg_int(&mut self, n: impl itoa::Integer) -> &mut Self {
        self.arg(itoa::Buffer::new().format(n).as_bytes())
    }

    /// One argument that `build` writes as text (a key from `Keys::push_key`).
    pub fn arg_text(&mut self, build: impl FnOnce(&mut String)) -> &mut Self {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        build(&mut text);
        self.arg(text.as_bytes());
        self.scratch = text;
        self
    }

    /// One argument that `build` writes as bytes (a stored entry).
    pub fn arg_bytes(&mut self, build: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        let mut bytes = std::mem::take(&mut self.scratch_bytes);
        bytes.clear();
        build(&mut bytes);
        self.arg(&bytes);
        self.scratch_bytes = bytes;
        self
    }

    /// The command as sent.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The arguments back, for a connection that must see them one by one (the cluster client routes by them).
    pub fn args(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = self
            .bytes
            .get(self.bytes.iter().position(|&b| b == b'\n').map_or(self.bytes.len(), |i| i + 1)..)
            .unwrap_or_default();
        std::iter::from_fn(move || {
            // `$<len>\r\n<bytes>\r\n`, as written above.
            let eol = rest.iter().position(|&b| b == b'\r')?;
            let len: usize = std::str::from_utf8(rest.get(1..eol)?).ok()?.parse().ok()?;
            let arg = rest.get(eol + 2..eol + 2 + len)?;
            rest = rest.get(eol + 4 + len..).unwrap_or_default();
            Some(arg)
        })
    }
}

fn put_int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_a_command_as_redis_rs_does() {
        let mut p = Packed { bytes: Vec::new(), scratch: String::new(), scratch_bytes: Vec::new() };
        p.begin(5)
            .arg(b"EVALSHA")
            .arg_int(-42)
            .arg_text(|s| s.push_str("k:{1}"))
            .arg_parts(&[b"a\r\n", b"", b"b"])
            .arg(b"");
        let expected = redis::cmd("EVALSHA").arg(-42).arg("k:{1}").arg(&b"a\r\nb"[..]).arg("").get_packed_command();
        assert_eq!(p.bytes(), &expected[..]);
        let args: Vec<&[u8]> = p.args().collect();
        assert_eq!(args, [&b"EVALSHA"[..], b"-42", b"k:{1}", b"a\r\nb", b""]);
        for n in [0, 9, 10, -1, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            put_int(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
