//! `HELLO [protover [AUTH username password] [SETNAME clientname]]`: the handshake that
//! RESP3 clients (go-redis, Lettuce, redis-py with `protocol=3`) send first.
//!
//! It switches the connection to RESP2 or RESP3 and answers with the server's description, as
//! Redis does. `AUTH user password` authenticates the connection as the `AUTH` command does
//! (see [`super::auth`]): with a token file the user is `default` and the password a token;
//! without one, the `default` user is accepted with any password, as by a Redis server
//! without a password. A `HELLO` that refuses its credentials answers `-WRONGPASS` and
//! changes nothing; a `HELLO` without `AUTH` from a client that has not authenticated is
//! answered `-NOAUTH`, in Redis's words.

use super::super::parse::{ArgError, Args};
use super::super::reply::{Field, Reply, Version};
use super::auth::{refuse, verdict, Verdict};
use super::{Context, Outcome, Run};
use crate::auth::{Presented, Refusal};

/// `HELLO`, with what it asked for.
#[derive(Debug)]
pub struct Hello {
    /// The version asked for, if any; `None` keeps the current one.
    version: Option<u64>,
    name: Option<String>,
    /// `AUTH user password`, if given.
    credentials: Option<(Vec<u8>, Presented)>,
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
        let mut credentials = None;
        while let Some(option) = args.next_opt() {
            if option.eq_ignore_ascii_case(b"AUTH") {
                let user = args.next_bytes()?.to_vec();
                credentials = Some((user, Presented(args.next_bytes()?.to_vec())));
            } else if option.eq_ignore_ascii_case(b"SETNAME") {
                name = Some(args.next_text()?.to_string());
            } else {
                return Err(ArgError::Invalid(format!(
                    "syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(option)
                )));
            }
        }
        Ok(Hello {
            version,
            name,
            credentials,
        })
    }

    /// Authenticates if asked, switches the version and writes the description in it.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        match &self.credentials {
            Some((user, token)) => {
                let verdict = verdict(&ctx.session.auth, Some(user), token);
                if verdict != Verdict::Accepted {
                    refuse(&mut ctx.reply(), verdict);
                    return Outcome::Continue;
                }
                ctx.session.authenticated = true;
            }
            None if !ctx.session.authenticated => {
                ctx.session.auth.record("resp", Refusal::Missing);
                ctx.reply().error(
                    "NOAUTH",
                    "HELLO must be called with the client already authenticated, otherwise \
                     the HELLO <proto> AUTH <user> <pass> option can be used to authenticate \
                     the client and select the RESP protocol version at the same time",
                );
                return Outcome::Continue;
            }
            None => {}
        }
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
