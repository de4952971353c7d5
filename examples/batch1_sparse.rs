//! Batch 1 through a `Predictor` (zero inputs skipped) against `Network::infer` (every
//! weight read), for W2's network ([784,256,128,10]) on the 2000 embedded MNIST test
//! images; then the predictor's time against the share of nonzero inputs, on a
//! [784,256,10] network (the first `nnz` pixels set, the rest 0), where the sparse route
//! gives way to the dense loops above 75% nonzero (55% at 2 threads). Best of 10 rounds.
//! BENCHMARKS.md ("Batch 1") quotes it.
//!
//! ```sh
//! taskset -c 0 cargo run --release --example batch1_sparse -- 1
//! taskset -c 0,1 cargo run --release --example batch1_sparse -- 2
//! ```

use std::time::Instant;

use nabla::data::idx::embedded_mnist;
use nabla::{Activation, Architecture, Cost, Init, Matrix, Network, Pass, Predictor};

/// Microseconds per call of `f` over `count` calls, the best of 10 rounds.
fn best_of_rounds(
    count: usize,
    mut f: impl FnMut(usize) -> nabla::Result<()>,
) -> nabla::Result<f64> {
    let mut best = f64::MAX;
    for _ in 0..10 {
        let started = Instant::now();
        for i in 0..count {
            f(i)?;
        }
        best = best.min(started.elapsed().as_secs_f64() / count as f64 * 1e6);
    }
    Ok(best)
}

fn main() -> nabla::Result<()> {
    let threads: usize = std::env::args()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    nabla::parallel::with_threads(threads, || run(threads))
}

fn run(threads: usize) -> nabla::Result<()> {
    let (_, test) = embedded_mnist::<f32>()?;
    let network = |sizes: &[usize]| -> nabla::Result<Network<f32>> {
        let arch = Architecture::new(
            sizes,
            Activation::Relu,
            Activation::Softmax,
            Cost::CrossEntropy,
        )?;
        Network::new(arch, Init::He, 1)
    };

    let w2 = network(&[784, 256, 128, 10])?;
    let nonzero = test.x.as_slice().iter().filter(|v| **v != 0.0).count();
    let started = Instant::now();
    let mut predictor = Predictor::new(&w2);
    let prepare = started.elapsed().as_secs_f64() * 1e6;
    let sparse = best_of_rounds(test.len(), |i| predictor.predict(test.x.row(i)).map(|_| ()))?;
    let mut pass = Pass::new(w2.sizes(), 1);
    let mut x = Matrix::zeros(1, 784);
    let dense = best_of_rounds(test.len(), |i| {
        x.as_mut_slice().copy_from_slice(test.x.row(i));
        w2.infer(&x, &mut pass).map(|_| ())
    })?;
    println!(
        "{threads} thread(s), [784,256,128,10], MNIST test images ({:.1}% of pixels nonzero): \
         predictor {sparse:.2} µs, infer {dense:.2} µs per image ({:.1}x); predictor made in {prepare:.0} µs",
        100.0 * nonzero as f64 / test.x.as_slice().len() as f64,
        dense / sparse
    );

    let wide = network(&[784, 256, 10])?;
    let mut predictor = Predictor::new(&wide);
    for nnz in [1, 16, 64, 150, 300, 400, 500, 588, 589, 784] {
        let x: Vec<f32> = (0..784).map(|p| if p < nnz { 0.5 } else { 0.0 }).collect();
        let time = best_of_rounds(2000, |_| predictor.predict(&x).map(|_| ()))?;
        println!("{threads} thread(s), [784,256,10], {nnz:>3} of 784 inputs nonzero: {time:.2} µs");
    }
    Ok(())
}
