//! `ECHO message`: the message back, as a bulk string. Some clients use it as a health check.

use super::super::parse::{ArgError, Args};
use super::super::reply::Reply;

/// `ECHO message`.
#[derive(Debug)]
pub struct Echo {
    message: Vec<u8>,
}

impl Echo {
    /// Reads the message.
    pub fn parse(args: &mut Args<'_>) -> Result<Echo, ArgError> {
        let message = args.next_bytes()?.to_vec();
        args.finish()?;
        Ok(Echo { message })
    }

    /// Answers.
    pub fn apply(self, reply: &mut Reply<'_>) {
        reply.bulk(&self.message);
    }
}
