//! Generates the gRPC code from `proto/snowdrift/v1/snowdrift.proto` at the repository root.
//!
//! The `.proto` file is compiled by `protox`, a protobuf compiler written in Rust, so building
//! needs no `protoc` on the machine; `tonic-prost-build` then turns the descriptors into prost
//! messages, a tonic client and a tonic server trait.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let proto = root.join("snowdrift/v1/snowdrift.proto");
    println!("cargo:rerun-if-changed={}", proto.display());

    let descriptors = protox::compile([&proto], [&root])?;
    tonic_prost_build::configure()
        // The client crate connects through its own `tonic::transport::Channel`; the generic
        // client needs no transport feature here, which keeps this crate's dependencies small.
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
