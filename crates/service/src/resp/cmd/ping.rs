//! `PING [message]`: `+PONG`, or the message back as a bulk string (as Redis does).

use super::super::parse::{ArgError, Args};
use super::super::reply::Reply;

/// `PING [message]`.
#[derive(Debug)]
pub struct Ping {
    message: Option<Vec<u8>>,
}

impl Ping {
    /// Reads the optional message.
    pub fn parse(args: &mut Args<'_>) -> Result<Ping, ArgError> {
        let message = args.next_opt().map(<[u8]>::to_vec);
        args.finish()?;
        Ok(Ping { message })
    }

    /// Answers.
    pub fn apply(self, reply: &mut Reply<'_>) {
        match self.message {
            None => reply.simple("PONG"),
            Some(message) => reply.bulk(&message),
        }
    }
}
