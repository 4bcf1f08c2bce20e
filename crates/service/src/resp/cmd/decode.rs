//! `DECODE id`: an ID taken apart under the service's layout, as a map (a flat array of
//! field, value pairs in RESP2, like `HGETALL`). The ID may be written in any encoding.

use super::super::errors;
use super::super::parse::{ArgError, Args};
use super::super::reply::Field;
use super::{Context, Outcome, Run};

/// `DECODE id`.
#[derive(Debug)]
pub struct Decode {
    id: String,
}

impl Run for Decode {
    /// Reads the ID's text.
    fn parse(args: &mut Args<'_>) -> Result<Decode, ArgError> {
        let id = args.next_text()?.to_string();
        args.finish()?;
        Ok(Decode { id })
    }

    /// Decodes and writes the parts; an ID that does not parse or fit is `-ERR`.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let decoded = ctx.app.decode(&self.id);
        let mut reply = ctx.reply();
        match decoded {
            Ok(d) => reply.fields(&[
                ("id", Field::Text(&d.id)),
                ("time", Field::Text(&d.time)),
                ("unix_ms", Field::Number(d.unix_ms)),
                ("tick", Field::Number(d.tick)),
                ("datacenter", Field::Number(d.datacenter)),
                ("machine", Field::Number(d.machine)),
                ("sequence", Field::Number(d.sequence)),
                ("base32", Field::Text(&d.base32)),
                ("base62", Field::Text(&d.base62)),
                ("hex", Field::Text(&d.hex)),
            ]),
            Err(err) => errors::service(&mut reply, &err),
        }
        Outcome::Continue
    }
}
