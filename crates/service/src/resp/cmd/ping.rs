//! `PING [message]`: `+PONG`, or the message back as a bulk string (as Redis does).

use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// `PING [message]`.
#[derive(Debug)]
pub struct Ping {
    message: Option<Vec<u8>>,
}

impl Run for Ping {
    /// Reads the optional message.
    fn parse(args: &mut Args<'_>) -> Result<Ping, ArgError> {
        let message = args.next_opt().map(<[u8]>::to_vec);
        args.finish()?;
        Ok(Ping { message })
    }

    /// Answers.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let mut reply = ctx.reply();
        match self.message {
            None => reply.simple("PONG"),
            Some(message) => reply.bulk(&message),
        }
        Outcome::Continue
    }
}
