//! Reads a command's arguments one by one, with the error replies Redis clients expect.
//!
//! Each command's `parse` walks an [`Args`] cursor: `next_*` for what it needs, `finish` to
//! refuse anything extra. The errors are the ones Redis sends for the same mistakes (`wrong
//! number of arguments`, `value is not an integer or out of range`), so client libraries show
//! them the way they show Redis's own.

use std::ops::Range;

/// The arguments after the command's name.
#[derive(Debug)]
pub struct Args<'a> {
    buf: &'a [u8],
    rest: std::slice::Iter<'a, Range<usize>>,
    /// The command's name, lowercase, for error messages.
    command: &'static str,
}

/// Why a command's arguments are refused. The command is not run; the connection goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// Too few or too many arguments.
    #[error("wrong number of arguments for '{0}' command")]
    Arity(&'static str),
    /// An argument that must be a non-negative integer is not.
    #[error("value is not an integer or out of range")]
    NotInteger,
    /// Anything else, in words.
    #[error("{0}")]
    Invalid(String),
}

impl<'a> Args<'a> {
    /// The arguments in `ranges` of `buf`, for the command called `command`.
    pub fn new(buf: &'a [u8], ranges: &'a [Range<usize>], command: &'static str) -> Args<'a> {
        Args {
            buf,
            rest: ranges.iter(),
            command,
        }
    }

    /// The next argument, if any.
    pub fn next_opt(&mut self) -> Option<&'a [u8]> {
        let range = self.rest.next()?;
        self.buf.get(range.clone())
    }

    /// The next argument; missing is an arity error.
    pub fn next_bytes(&mut self) -> Result<&'a [u8], ArgError> {
        self.next_opt().ok_or(ArgError::Arity(self.command))
    }

    /// The next argument as UTF-8 text.
    pub fn next_text(&mut self) -> Result<&'a str, ArgError> {
        let bytes = self.next_bytes()?;
        std::str::from_utf8(bytes)
            .map_err(|_| ArgError::Invalid("argument is not valid UTF-8".to_string()))
    }

    /// The next argument as a non-negative integer.
    pub fn next_u64(&mut self) -> Result<u64, ArgError> {
        let bytes = self.next_bytes()?;
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or(ArgError::NotInteger)
    }

    /// Arguments left.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Refuses arguments left over.
    pub fn finish(&self) -> Result<(), ArgError> {
        if self.rest.len() == 0 {
            Ok(())
        } else {
            Err(ArgError::Arity(self.command))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_the_arguments_and_refuses_leftovers() {
        let buf = b"10 x";
        let ranges = [0..2, 3..4];
        let mut args = Args::new(buf, &ranges, "nextids");
        assert_eq!(args.next_u64(), Ok(10));
        assert_eq!(args.finish(), Err(ArgError::Arity("nextids")));
        assert_eq!(args.next_u64(), Err(ArgError::NotInteger));
        assert_eq!(args.next_bytes(), Err(ArgError::Arity("nextids")));
        assert_eq!(
            ArgError::Arity("nextids").to_string(),
            "wrong number of arguments for 'nextids' command"
        );
    }
}
