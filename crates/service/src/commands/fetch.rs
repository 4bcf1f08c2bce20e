//! `snowdrift fetch`: IDs from running nodes, through the client library, one per line.
//!
//! This is the client crate's failover and transports at the command line: people and scripts
//! get IDs from a cluster without writing a client. It asks in batches, with no prefetch
//! buffer, since it knows exactly how many IDs it wants. `--tls-ca` (and `--tls-cert`,
//! `--tls-key` for mutual TLS) reach TLS endpoints; `--auth-token-file` sends a token.

use std::io;
use std::path::Path;

use snowdrift_client::{Client, ClientConfig, Error, TlsIdentity, Token};

use super::{write_stdout, Failure};
use crate::cli::FetchArgs;

/// Runs `snowdrift fetch`.
pub fn run(args: &FetchArgs) -> Result<(), Failure> {
    let mut config =
        ClientConfig::new(&args.endpoints).map_err(|err| Failure::Usage(err.to_string()))?;
    config.buffer_capacity = 0;
    config.low_water = 0;
    config.retry_budget = args.timeout;
    secure(&mut config, args)?;
    let count = usize::try_from(args.count)
        .map_err(|_| Failure::Usage(format!("count {} is too large", args.count)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    let ids = runtime.block_on(async {
        let client = Client::new(config)?;
        client.fetch(count).await
    });
    let ids = ids.map_err(|err| match err {
        Error::Config(_) => Failure::Usage(err.to_string()),
        other => Failure::Runtime(other.to_string()),
    })?;
    write_stdout(|out| {
        for id in &ids {
            writeln!(out, "{id}")?;
        }
        Ok::<(), io::Error>(())
    })
}

/// Adds the CA, client certificate and token of the flags to `config`. A message names the
/// file, never its contents.
fn secure(config: &mut ClientConfig, args: &FetchArgs) -> Result<(), Failure> {
    if let Some(ca) = &args.tls_ca {
        config.tls_ca_pem = Some(read("--tls-ca", ca)?);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls_identity = Some(TlsIdentity {
            cert_pem: read("--tls-cert", cert)?,
            key_pem: read("--tls-key", key)?,
        });
    }
    if let Some(file) = &args.auth_token_file {
        let bytes = read("--auth-token-file", file)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Failure::Usage(format!(
                "--auth-token-file {}: is not UTF-8 text",
                file.display()
            ))
        })?;
        let token = Token::from_file_text(text).map_err(|err| {
            Failure::Usage(format!("--auth-token-file {}: {err}", file.display()))
        })?;
        config.token = Some(token);
    }
    Ok(())
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|err| Failure::Usage(format!("{flag} {}: cannot read: {err}", path.display())))
}
