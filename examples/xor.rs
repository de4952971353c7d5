//! The smallest network that learns something: XOR with a [2, 3, 1] sigmoid network.
//!
//! `cargo run --release --example xor [seed] [epochs] [eta]`

use std::ops::ControlFlow;

use nabla::{Activation, Architecture, Cost, Dataset, Init, Matrix, Network, TrainConfig};

fn main() -> nabla::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed = args.first().and_then(|s| s.parse().ok()).unwrap_or(1);
    let epochs = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4000);
    let eta = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4.0);
    let x = Matrix::from_rows(&[
        vec![0.0, 0.0],
        vec![0.0, 1.0],
        vec![1.0, 0.0],
        vec![1.0, 1.0],
    ])?;
    let y = Matrix::from_rows(&[vec![0.0], vec![1.0], vec![1.0], vec![0.0]])?;
    let data = Dataset::new(x, y)?;
    let arch = Architecture::new(
        &[2, 3, 1],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic,
    )?;
    let mut net: Network<f64> = Network::new(arch, Init::Nielsen, seed)?;
    println!("before: {:?}", net.predict(&data.x)?.as_slice());
    let config = TrainConfig {
        epochs,
        batch_size: 4,
        learning_rate: eta,
        seed,
        evaluate_train: false,
        ..Default::default()
    };
    nabla::train(
        &mut net,
        &data,
        None,
        &config,
        |_| ControlFlow::Continue(()),
    )?;
    println!(
        "after {epochs} epochs (eta {eta}, seed {seed}): {:?}",
        net.predict(&data.x)?.as_slice()
    );
    Ok(())
}
