//! `snowdrift decode`: an ID taken apart, as aligned text or JSON.
//!
//! The ID may be written in any of the encodings (decimal, base32, base62, hex); the layout
//! must be the one it was made with, because the same bits mean different things in another.

use super::{write_stdout, Failure};
use crate::cli::DecodeArgs;

/// Runs `snowdrift decode`.
pub fn run(args: &DecodeArgs) -> Result<(), Failure> {
    let layout = args.layout.layout();
    let decoded = crate::describe::parse_id(&args.id, &layout)
        .map_err(|err| Failure::Usage(format!("{} (layout {})", err.message, args.layout)))?;
    let text = if args.json {
        serde_json::to_string_pretty(&decoded)
            .map_err(|err| Failure::Runtime(format!("cannot write JSON: {err}")))?
    } else {
        format!(
            "id          {}\n\
             time        {} (unix ms {})\n\
             datacenter  {}\n\
             machine     {}\n\
             sequence    {}\n\
             tick        {}\n\
             layout      {} ({})\n\
             base32      {}\n\
             base62      {}\n\
             hex         {}",
            decoded.id,
            decoded.time,
            decoded.unix_ms,
            decoded.datacenter,
            decoded.machine,
            decoded.sequence,
            decoded.tick,
            args.layout,
            layout,
            decoded.base32,
            decoded.base62,
            decoded.hex,
        )
    };
    write_stdout(|out| writeln!(out, "{text}"))
}
