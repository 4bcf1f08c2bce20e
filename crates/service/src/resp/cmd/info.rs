//! `INFO [section…]`: the node's state as Redis-style text, `# Section` headers and
//! `key:value` lines, so tools that read Redis's `INFO` read ours.
//!
//! The content is the same document as HTTP `GET /v1/info`, flattened: its top-level values
//! form `# Server`, and each nested object (layout, clock, coordination) its own section with
//! keys joined by `_`. New fields there appear here without a change.

use serde_json::Value;

use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// `INFO`, with the sections asked for (none: all).
#[derive(Debug)]
pub struct Info {
    sections: Vec<String>,
}

impl Run for Info {
    /// Reads the section names.
    fn parse(args: &mut Args<'_>) -> Result<Info, ArgError> {
        let mut sections = Vec::new();
        while args.remaining() > 0 {
            sections.push(args.next_text()?.to_ascii_lowercase());
        }
        Ok(Info { sections })
    }

    /// Writes the text as one bulk string.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let document = serde_json::to_value(ctx.app.info()).unwrap_or(Value::Null);
        ctx.reply()
            .bulk(render(&document, &self.sections).as_bytes());
        Outcome::Continue
    }
}

/// Whether `name` was asked for.
fn wanted(sections: &[String], name: &str) -> bool {
    sections.is_empty()
        || sections
            .iter()
            .any(|s| s == name || s == "all" || s == "everything" || s == "default")
}

/// The `INFO` text of `document`.
fn render(document: &Value, sections: &[String]) -> String {
    let mut text = String::new();
    let Value::Object(top) = document else {
        return text;
    };
    if wanted(sections, "server") {
        text.push_str("# Server\r\n");
        for (key, value) in top.iter().filter(|(_, v)| !v.is_object()) {
            line(&mut text, key, value);
        }
    }
    for (name, value) in top.iter().filter(|(_, v)| v.is_object()) {
        if !wanted(sections, name) {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        let mut title = name.clone();
        if let Some(first) = title.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        text.push_str(&format!("# {title}\r\n"));
        flatten(&mut text, "", value);
    }
    text
}

/// Writes `value`'s scalar leaves as `prefix_key:value` lines.
fn flatten(text: &mut String, prefix: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}_{key}")
                };
                flatten(text, &key, inner);
            }
        }
        other => line(text, prefix, other),
    }
}

fn line(text: &mut String, key: &str, value: &Value) {
    let value = match value {
        Value::Null => String::new(),
        Value::Bool(b) => u8::from(*b).to_string(),
        Value::String(s) => s.replace(['\r', '\n'], " "),
        other => other.to_string(),
    };
    text.push_str(&format!("{key}:{value}\r\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sections_and_flattens_nested_values() {
        let document = serde_json::json!({
            "version": "0.1.0",
            "ready": true,
            "clock": {"tick": 5, "ceiling_tick": null},
            "coordination": {"lease": {"id": 7}, "last_error": "a\nb"},
        });
        let all = render(&document, &[]);
        assert!(all.starts_with("# Server\r\n"), "{all}");
        assert!(
            all.contains("ready:1\r\n") && all.contains("version:0.1.0\r\n"),
            "{all}"
        );
        assert!(
            all.contains("# Clock\r\n") && all.contains("ceiling_tick:\r\n"),
            "{all}"
        );
        assert!(all.contains("tick:5\r\n"), "{all}");
        assert!(all.contains("lease_id:7\r\n"), "{all}");
        assert!(all.contains("last_error:a b\r\n"), "{all}");
        let clock = render(&document, &["clock".to_string()]);
        assert!(
            clock.starts_with("# Clock\r\n") && !clock.contains("Server"),
            "{clock}"
        );
    }
}
