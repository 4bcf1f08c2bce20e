//! `COMMAND …`: an empty array. `redis-cli` asks for command documentation when it starts an
//! interactive session, and works without it; describing Snowdrift's commands in Redis's
//! nested format is not worth its weight.

use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// `COMMAND` with any arguments.
#[derive(Debug)]
pub struct CommandInfo;

impl Run for CommandInfo {
    /// Ignores arguments: every subcommand gets the same empty answer.
    fn parse(_args: &mut Args<'_>) -> Result<CommandInfo, ArgError> {
        Ok(CommandInfo)
    }

    /// An empty array.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        ctx.reply().array(0);
        Outcome::Continue
    }
}
