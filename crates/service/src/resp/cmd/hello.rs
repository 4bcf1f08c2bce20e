//! `HELLO [protover [AUTH username password] [SETNAME clientname]]`: the handshake that
//! RESP3 clients (go-redis, Lettuce, redis-py with `protocol=3`) send first.
//!
//! It switches the connection to RESP2 or RESP3 and answers with the server's description, as
//! Redis does. Snowdrift has no users, so `AUTH` is accepted with any credentials, the way a
//! Redis server without a password accepts them.

use super::super::parse::{ArgError, Args};
use super::super::reply::{Field, Reply, Version};
use super::{Context, Outcome, Run};

/// `HELLO`, with what it asked for.
#[derive(Debug)]
pub struct Hello {
    /// The version asked for, if any; `None` keeps the current one.
    version: Option<u64>,
    name: Option<String>,
}

impl Run for Hello {
    /// Reads the version and the options.
    fn parse(args: &mut Args<'_>) -> Result<Hello, ArgError> {
        let version = match args.next_opt() {
            None => None,
            Some(text) => Some(
                std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or_else(|| {
                        ArgError::Invalid(
                            "Protocol version is not an integer or out of range".to_string(),
                        )
                    })?,
            ),
        };
        let mut name = None;
        while let Some(option) = args.next_opt() {
            if option.eq_ignore_ascii_case(b"AUTH") {
                args.next_bytes()?;
                args.next_bytes()?;
            } else if option.eq_ignore_ascii_case(b"SETNAME") {
                name = Some(args.next_text()?.to_string());
            } else {
                return Err(ArgError::Invalid(format!(
                    "syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(option)
                )));
            }
        }
        Ok(Hello { version, name })
    }

    /// Switches the version and writes the description in it.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let version = match self.version {
            None => ctx.session.version,
            Some(2) => Version::Resp2,
            Some(3) => Version::Resp3,
            Some(_) => {
                ctx.reply()
                    .error("NOPROTO", "unsupported protocol version");
                return Outcome::Continue;
            }
        };
        // Switched first: the reply itself is written in the new version.
        ctx.session.version = version;
        if self.name.is_some() {
            ctx.session.name = self.name;
        }
        let session_id = ctx.session.id;
        let proto = match version {
            Version::Resp2 => 2,
            Version::Resp3 => 3,
        };
        let mut reply: Reply<'_> = ctx.reply();
        reply.map(7);
        for (key, value) in [
            ("server", Field::Text("snowdrift")),
            ("version", Field::Text(env!("CARGO_PKG_VERSION"))),
            ("proto", Field::Number(proto)),
            ("id", Field::Number(session_id)),
            ("mode", Field::Text("standalone")),
            ("role", Field::Text("master")),
        ] {
            reply.bulk(key.as_bytes());
            match value {
                Field::Text(text) => reply.bulk(text.as_bytes()),
                Field::Number(n) => reply.integer(n),
            }
        }
        reply.bulk(b"modules");
        reply.array(0);
        Outcome::Continue
    }
}
