//! Benchmark baseline, not shipped: the smallest tonic server there is, to measure gRPC
//! unary `NextId` against.
//!
//! It serves only the standard `grpc.health.v1.Health` service (from tonic-health, answering
//! `SERVING`), on tonic's own listener with `TCP_NODELAY`, on a default multi-thread tokio
//! runtime: what a tonic hello-world costs per call, with no IDs, no metrics and no
//! listener substrate. `bench/grpc.sh` drives it and the node with the same load
//! (`grpc_unary_load`).
//!
//! `cargo run --release -p snowdrift-service --example grpc_hello` prints
//! `listening grpc=127.0.0.1:PORT` and serves until killed.

use std::net::SocketAddr;

use tonic::transport::server::TcpIncoming;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    println!("listening grpc={}", listener.local_addr()?);
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(health)
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}
