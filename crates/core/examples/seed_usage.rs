//! The user's usage example: a system of 3 datacenters × 5 machines, the generator of
//! datacenter 1 machine 2, one ID, and its decoded parts.
//!
//! Run with `cargo run --example seed_usage`.

use snowdrift::{IdSystem, DEFAULT_EPOCH_MS};

fn main() -> Result<(), snowdrift::Error> {
    let system = IdSystem::new(3, 5, DEFAULT_EPOCH_MS)?;
    let generator = system.get_generator(1, 2)?;
    let id = generator.generate_id()?;
    let layout = system.layout();
    let parts = id.parts(&layout)?;

    println!("Generated ID: {id}");
    println!("  layout:     {layout}");
    println!("  time (UTC): {}", parts.rfc3339(&layout));
    println!("  datacenter: {}", parts.datacenter);
    println!("  machine:    {}", parts.machine);
    println!("  sequence:   {}", parts.sequence);
    println!("  base32:     {}", id.to_base32());
    Ok(())
}
