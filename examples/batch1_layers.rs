//! Batch-1 latency, layer by layer, for W2's network ([784,256,128,10]): the whole
//! `infer` of one image, and W2's first and second products alone, averaged over 2000
//! images, five rounds. BENCHMARKS.md ("Batch 1") quotes it.
//!
//! ```sh
//! taskset -c 0 cargo run --release --example batch1_layers -- 1
//! taskset -c 0,1 cargo run --release --example batch1_layers -- 2
//! ```

use std::time::Instant;

use nabla::{gemm, Accumulate, Activation, Architecture, Cost, Init, Matrix, Network, Pass};

fn main() -> nabla::Result<()> {
    let threads: usize = std::env::args()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    nabla::parallel::with_threads(threads, || run(threads))
}

fn run(threads: usize) -> nabla::Result<()> {
    let arch = Architecture::new(
        &[784, 256, 128, 10],
        Activation::Relu,
        Activation::Softmax,
        Cost::CrossEntropy,
    )?;
    let net: Network<f32> = Network::new(arch, Init::He, 1)?;
    let images: Vec<Matrix<f32>> = (0..2000)
        .map(|i| {
            let pixels = (0..784).map(|k| ((i * 7 + k * 13) % 255) as f32 / 255.0);
            Matrix::from_vec(1, 784, pixels.collect())
        })
        .collect::<nabla::Result<_>>()?;
    let per_image = |started: Instant| started.elapsed().as_secs_f64() / 2000.0 * 1e6;
    let mut pass = Pass::new(net.sizes(), 1);
    let (mut z1, mut z2, a1) = (
        Matrix::zeros(1, 256),
        Matrix::zeros(1, 128),
        Matrix::zeros(1, 256),
    );
    for round in 1..=5 {
        let started = Instant::now();
        for x in &images {
            net.infer(x, &mut pass)?;
        }
        let whole = per_image(started);
        let started = Instant::now();
        for x in &images {
            gemm(&mut z1, Accumulate::Replace, x, net.w(1).t(), 1.0);
        }
        let first = per_image(started);
        let started = Instant::now();
        for _ in &images {
            gemm(&mut z2, Accumulate::Replace, &a1, net.w(2).t(), 1.0);
        }
        let second = per_image(started);
        println!(
            "{threads} thread(s), round {round}: infer {whole:.2} µs, layer 1 {first:.2} µs, layer 2 {second:.2} µs"
        );
    }
    Ok(())
}
