//! The reply side of RESP: appends replies to a connection's output buffer.
//!
//! Replies are written straight into bytes rather than built as a tree of frames first: a
//! `NEXTIDS 4096` answer is one array header and 4096 integers, and writing them in place keeps
//! it to one buffer and no allocation per ID. The protocol version matters only for maps and
//! nulls; a connection speaks RESP2 until `HELLO 3` switches it to RESP3.

/// The RESP version a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// RESP2, every client's default.
    Resp2,
    /// RESP3, after `HELLO 3`: maps and a real null.
    Resp3,
}

/// A connection's pending output.
#[derive(Debug)]
pub struct Reply<'a> {
    out: &'a mut Vec<u8>,
    version: Version,
}

impl<'a> Reply<'a> {
    /// Writes into `out` for a connection speaking `version`.
    pub fn new(out: &'a mut Vec<u8>, version: Version) -> Reply<'a> {
        Reply { out, version }
    }

    /// `+text`: a short status such as `OK` or `PONG`. `text` must not contain CR or LF.
    pub fn simple(&mut self, text: &str) {
        self.out.push(b'+');
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// `-PREFIX message`: an error. Line breaks in `message` become spaces, since an error
    /// reply is one line.
    pub fn error(&mut self, prefix: &str, message: &str) {
        self.out.push(b'-');
        self.out.extend_from_slice(prefix.as_bytes());
        self.out.push(b' ');
        self.out.extend(
            message
                .bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        self.out.extend_from_slice(b"\r\n");
    }

    /// `:n`: an integer.
    pub fn integer(&mut self, value: u64) {
        self.out.push(b':');
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// `$len\r\nbytes`: a bulk string.
    pub fn bulk(&mut self, bytes: &[u8]) {
        self.header(b'$', bytes.len());
        self.out.extend_from_slice(bytes);
        self.out.extend_from_slice(b"\r\n");
    }

    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.version {
            Version::Resp2 => self.out.extend_from_slice(b"$-1\r\n"),
            Version::Resp3 => self.out.extend_from_slice(b"_\r\n"),
        }
    }

    /// The header of an array of `len` elements; the caller writes the elements.
    pub fn array(&mut self, len: usize) {
        self.header(b'*', len);
    }

    /// The header of a map of `len` pairs: `%len` in RESP3, a flat array of `2 × len` in RESP2
    /// (as Redis answers `HGETALL`). The caller writes key, value, key, value…
    pub fn map(&mut self, len: usize) {
        match self.version {
            Version::Resp2 => self.header(b'*', len * 2),
            Version::Resp3 => self.header(b'%', len),
        }
    }

    /// A map whose keys are bulk strings and whose values are text or numbers.
    pub fn fields(&mut self, fields: &[(&str, Field<'_>)]) {
        self.map(fields.len());
        for (key, value) in fields {
            self.bulk(key.as_bytes());
            match value {
                Field::Text(text) => self.bulk(text.as_bytes()),
                Field::Number(n) => self.integer(*n),
            }
        }
    }

    fn header(&mut self, kind: u8, len: usize) {
        self.out.push(kind);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }
}

/// A value in [`Reply::fields`].
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    /// Sent as a bulk string.
    Text(&'a str),
    /// Sent as an integer.
    Number(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(version: Version, write: impl FnOnce(&mut Reply<'_>)) -> String {
        let mut out = Vec::new();
        write(&mut Reply::new(&mut out, version));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_every_kind_of_reply() {
        let text = written(Version::Resp2, |r| {
            r.simple("PONG");
            r.error("ERR", "two\r\nlines");
            r.integer(42);
            r.bulk(b"hi");
            r.null();
            r.array(2);
        });
        assert_eq!(
            text,
            "+PONG\r\n-ERR two  lines\r\n:42\r\n$2\r\nhi\r\n$-1\r\n*2\r\n"
        );
    }

    #[test]
    fn maps_depend_on_the_version() {
        let fields = [
            ("proto", Field::Number(3)),
            ("server", Field::Text("snowdrift")),
        ];
        assert_eq!(
            written(Version::Resp2, |r| r.fields(&fields)),
            "*4\r\n$5\r\nproto\r\n:3\r\n$6\r\nserver\r\n$9\r\nsnowdrift\r\n"
        );
        assert!(written(Version::Resp3, |r| r.fields(&fields)).starts_with("%2\r\n"));
        assert_eq!(written(Version::Resp3, |r| r.null()), "_\r\n");
    }
}
