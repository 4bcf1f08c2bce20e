//! `ECHO message`: the message back, as a bulk string. Some clients use it as a health check.

use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// `ECHO message`.
#[derive(Debug)]
pub struct Echo {
    message: Vec<u8>,
}

impl Run for Echo {
    /// Reads the message.
    fn parse(args: &mut Args<'_>) -> Result<Echo, ArgError> {
        let message = args.next_bytes()?.to_vec();
        args.finish()?;
        Ok(Echo { message })
    }

    /// Answers.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let mut reply = ctx.reply();
        reply.bulk(&self.message);
        Outcome::Continue
    }
}
