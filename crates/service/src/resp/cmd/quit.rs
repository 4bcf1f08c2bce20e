//! `QUIT`: `+OK`, then the server closes the connection once the reply is sent.

use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// `QUIT`.
#[derive(Debug)]
pub struct Quit;

impl Run for Quit {
    /// Ignores arguments, as Redis does.
    fn parse(_args: &mut Args<'_>) -> Result<Quit, ArgError> {
        Ok(Quit)
    }

    /// Answers and asks the connection to close.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        ctx.reply().simple("OK");
        Outcome::Close
    }
}
