//! `QUIT`: `+OK`, then the server closes the connection once the reply is sent.

use super::super::parse::{ArgError, Args};
use super::super::reply::Reply;
use super::Outcome;

/// `QUIT`.
#[derive(Debug)]
pub struct Quit;

impl Quit {
    /// Ignores arguments, as Redis does.
    pub fn parse(_args: &mut Args<'_>) -> Result<Quit, ArgError> {
        Ok(Quit)
    }

    /// Answers and asks the connection to close.
    pub fn apply(self, reply: &mut Reply<'_>) -> Outcome {
        reply.simple("OK");
        Outcome::Close
    }
}
