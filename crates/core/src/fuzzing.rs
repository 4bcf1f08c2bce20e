//! Entry points for fuzz targets and property tests: raw bytes or text in, every parse,
//! decode and format path of the core exercised, and each round trip checked.
//!
//! Hidden from the docs: not an API for users, but a stable place for `fuzz/` targets (and the
//! proptest suite) to call, so they need no knowledge of how a layout or an ID is built. A
//! panic here is a finding: either a path panicked on its own, or a round trip that must hold
//! did not.

use crate::encoding::Encoding;
use crate::error::Error;
use crate::id::Id;
use crate::layout::{FieldOrder, Layout, LayoutSpec, Preset};

/// Reads a layout spec, a "now" and an ID from `data`, and if the layout validates, decodes
/// the ID under it and writes every time and text form of it.
///
/// Bytes: `[timestamp, datacenter, machine, sequence bits][epoch_ms: 8][unit_ms: 2][now: 8]
/// [id: 8][order: 1]`, little-endian; missing bytes read as zero; an odd order byte is
/// Sonyflake's field order.
pub fn layout_decode_and_format(data: &[u8]) -> Option<String> {
    let mut bytes = [0u8; 31];
    let len = data.len().min(bytes.len());
    bytes[..len].copy_from_slice(&data[..len]);
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let spec = LayoutSpec {
        timestamp_bits: bytes[0],
        datacenter_bits: bytes[1],
        machine_bits: bytes[2],
        sequence_bits: bytes[3],
        epoch_ms: word(4),
        unit_ms: u64::from(u16::from_le_bytes([bytes[12], bytes[13]])),
        field_order: if bytes[30] & 1 == 1 {
            FieldOrder::TimeSequenceNode
        } else {
            FieldOrder::TimeNodeSequence
        },
    };
    let layout = spec.validate_at(word(14)).ok()?;
    Some(decode_and_format(&layout, Id::from_u64(word(22))))
}

/// Decodes `id` under `layout` and writes every form of it; checks that decode and compose
/// are mirror images and that the layout's own times are writable as dates.
pub fn decode_and_format(layout: &Layout, id: Id) -> String {
    let mut out = format!(
        "{layout}; ends {}",
        crate::format_unix_ms(layout.end_unix_ms())
    );
    assert!(
        layout.end_unix_ms() <= crate::MAX_DATE_UNIX_MS,
        "an accepted layout outlasts the calendar: {layout}"
    );
    match layout.decompose(id) {
        Ok(parts) => {
            assert_eq!(layout.compose(parts), Ok(id), "compose mirrors decompose");
            out.push_str(&format!(
                "; {parts:?} at {} ({} ms)",
                parts.rfc3339(layout),
                parts.unix_ms(layout)
            ));
            assert_eq!(id.unix_ms(layout), Ok(parts.unix_ms(layout)));
            assert!(id.time(layout).is_ok());
        }
        Err(err) => {
            assert!(matches!(err, Error::IdOutOfRange { .. }), "{err}");
            out.push_str(&format!("; {err}"));
        }
    }
    for encoding in Encoding::ALL {
        let text = encoding.encode(id);
        assert_eq!(encoding.decode(&text), Ok(id), "{encoding} round trip");
        out.push(' ');
        out.push_str(&text);
    }
    out
}

/// Parses `text` every way the core parses text: as an ID in each encoding and by detection,
/// and as a preset and an encoding name. Every ID it reads must write back and read again.
pub fn parse_text(text: &str) -> usize {
    let mut parsed = 0;
    let mut check = |encoding: Encoding, id: Id| {
        assert_eq!(encoding.decode(&encoding.encode(id)), Ok(id), "{encoding}");
        parsed += 1;
    };
    for encoding in Encoding::ALL {
        match encoding.decode(text) {
            Ok(id) => check(encoding, id),
            Err(err) => assert_eq!(err.code(), "invalid_id", "{err}"),
        }
    }
    if let Ok(id) = Encoding::detect(text) {
        check(Encoding::Decimal, id);
    }
    if let Ok(id) = text.parse::<Id>() {
        check(Encoding::Decimal, id);
    }
    if let Ok(preset) = text.parse::<Preset>() {
        assert_eq!(preset.name().parse::<Preset>().ok(), Some(preset));
        parsed += 1;
    }
    if let Ok(encoding) = text.parse::<Encoding>() {
        assert_eq!(encoding.name().parse::<Encoding>().ok(), Some(encoding));
        parsed += 1;
    }
    parsed
}

/// [`parse_text`] for raw bytes, as a fuzzer hands them: invalid UTF-8 parses nothing.
pub fn parse_bytes(data: &[u8]) -> usize {
    std::str::from_utf8(data).map_or(0, parse_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_spec_in_bytes_is_decoded_and_written() {
        let mut data = vec![41, 5, 5, 12];
        data.extend_from_slice(&crate::DEFAULT_EPOCH_MS.to_le_bytes());
        data.extend_from_slice(&1000u16.to_le_bytes());
        data.extend_from_slice(&1_800_000_000_000u64.to_le_bytes());
        data.extend_from_slice(&(i64::MAX as u64).to_le_bytes());
        let text = layout_decode_and_format(&data).expect("41/5/5/12 with 1 s ticks is valid");
        assert!(text.contains("+71705-04-11T01:12:31.000Z"), "{text}");
        assert_eq!(layout_decode_and_format(&[65, 0, 0, 0]), None);
        assert_eq!(layout_decode_and_format(&[]), None);
    }

    #[test]
    fn text_is_parsed_every_way() {
        assert_eq!(parse_text("twitter"), 1);
        assert!(parse_text("12345") >= 4);
        assert_eq!(parse_bytes(&[0xff, 0xfe]), 0);
    }
}
