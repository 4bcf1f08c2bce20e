//! The service runs on every preset as on the default: `serve --layout NAME` issues IDs of that
//! layout, and `/v1/decode` reads them back. `js53` IDs stay below 2^53, so JavaScript numbers
//! hold them exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{get, ServerBuilder};
use snowdrift::Preset;

#[test]
fn every_preset_serves_ids_of_its_layout_that_decode_back() {
    for preset in Preset::ALL {
        let server = ServerBuilder::new()
            .args(["--layout", preset.name()])
            .start();
        let (status, _, body) = get(&server.url("/v1/ids?count=500"));
        assert_eq!(status, 200, "{preset}: {body}");
        let ids: Vec<u64> = serde_json::from_str::<serde_json::Value>(&body).unwrap()["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids.len(), 500, "{preset}");
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{preset}: not increasing"
        );
        let width = preset.layout().total_bits();
        assert!(
            ids.iter().all(|&id| width == 64 || id >> width == 0),
            "{preset}: an ID wider than {width} bits"
        );
        if preset == Preset::Js53 {
            assert!(ids.iter().all(|&id| id < 1 << 53 && id as f64 as u64 == id));
        }
        let last = ids[ids.len() - 1];
        let (status, _, decoded) = get(&server.url(&format!("/v1/decode/{last}")));
        assert_eq!(status, 200, "{preset}: {decoded}");
        let decoded: serde_json::Value = serde_json::from_str(&decoded).unwrap();
        assert_eq!(decoded["id"], last.to_string(), "{preset}");
        let (_, _, info) = get(&server.url("/v1/info"));
        let info: serde_json::Value = serde_json::from_str(&info).unwrap();
        assert_eq!(info["layout"]["name"], preset.name());
    }
}
