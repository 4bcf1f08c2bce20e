//! `CONFIG GET parameter…`: answers the two settings `redis-benchmark` reads before it starts
//! (`save`, `appendonly`: Snowdrift persists no data set, so they are empty and `no`), and
//! nothing for any other parameter, the way Redis answers an unknown one. `CONFIG SET` and the
//! rest are refused: Snowdrift is configured by its own flags.

use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// Settings reported, and their values.
const KNOWN: [(&str, &str); 2] = [("save", ""), ("appendonly", "no")];

/// `CONFIG GET` with the parameters asked for, lowercase.
#[derive(Debug)]
pub struct Config {
    parameters: Vec<String>,
}

impl Run for Config {
    /// Reads `GET` and at least one parameter.
    fn parse(args: &mut Args<'_>) -> Result<Config, ArgError> {
        let sub = args.next_bytes()?;
        if !sub.eq_ignore_ascii_case(b"GET") {
            return Err(ArgError::Invalid(format!(
                "unsupported CONFIG subcommand '{}'; only CONFIG GET is answered",
                String::from_utf8_lossy(&sub[..sub.len().min(64)])
            )));
        }
        let mut parameters = vec![args.next_text()?.to_ascii_lowercase()];
        while args.remaining() > 0 {
            parameters.push(args.next_text()?.to_ascii_lowercase());
        }
        Ok(Config { parameters })
    }

    /// A map of the known parameters that were asked for (`*` asks for all).
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let mut reply = ctx.reply();
        let matched: Vec<(&str, &str)> = KNOWN
            .into_iter()
            .filter(|(key, _)| self.parameters.iter().any(|p| p == key || p == "*"))
            .collect();
        reply.map(matched.len());
        for (key, value) in matched {
            reply.bulk(key.as_bytes());
            reply.bulk(value.as_bytes());
        }
        Outcome::Continue
    }
}
