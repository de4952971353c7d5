//! Kernel benchmarks for BENCHMARKS.md: the three products of every layer shape of the
//! workloads W1–W3 (FF `Z = A Wᵀ`, BP4 `∂C/∂W = Eᵀ A / m`, BP2 `E W`), the element-wise
//! passes, and one whole training step (FF, BP1–BP4, GD) per workload; `gemm-faer` times
//! faer on the products that nabla runs on its own AVX-512 kernel; `batch1` times W4's
//! network on one MNIST test image at a time, through a `Predictor` (zero inputs skipped)
//! and through `Network::infer`.
//!
//! `cargo bench --bench kernels` (all), `cargo bench --bench kernels -- step` (a group).
//! NABLA_THREADS=2 lets the large products use two threads.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion, Throughput};
use nabla::{
    gemm, Accumulate, Activation, Architecture, Cost, Gradients, Init, Matrix, Momentum, Network,
    Optimizer, Pass, Predictor, Sgd,
};

fn filled(rows: usize, cols: usize, seed: u32) -> Matrix<f32> {
    let data = (0..rows * cols)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0
        })
        .collect();
    Matrix::from_vec(rows, cols, data).expect("sizes match")
}

/// NABLA_THREADS, else 1 (the numbers in BENCHMARKS.md are of one thread unless they say).
fn threads_from_env() -> usize {
    std::env::var("NABLA_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// (batch m, n_in, n_out) of every layer of W1, W2, W3, plus the batch-1 and batch-2000
/// products of W4.
const SHAPES: [(usize, usize, usize); 10] = [
    (10, 784, 30),
    (10, 30, 10),
    (64, 784, 256),
    (64, 256, 128),
    (64, 128, 10),
    (256, 784, 1024),
    (256, 1024, 1024),
    (256, 1024, 10),
    (1, 784, 256),
    (2000, 784, 256),
];

fn products(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    for &(m, n_in, n_out) in &SHAPES {
        let a = filled(m, n_in, 1);
        let w = filled(n_out, n_in, 2);
        let e = filled(m, n_out, 3);
        let flops = 2 * m * n_in * n_out;
        group.throughput(Throughput::Elements(flops as u64));
        let mut z = Matrix::zeros(m, n_out);
        group.bench_function(format!("ff {m}x{n_in}x{n_out}"), |bench| {
            // FF: Z = A Wᵀ
            bench.iter(|| gemm(&mut z, Accumulate::Replace, &a, w.t(), 1.0));
        });
        if m == 1 || m == 2000 {
            continue;
        }
        let mut dw = Matrix::zeros(n_out, n_in);
        group.bench_function(format!("bp4 {m}x{n_in}x{n_out}"), |bench| {
            // BP4: ∂C/∂W = Eᵀ A / m
            bench.iter(|| gemm(&mut dw, Accumulate::Replace, e.t(), &a, 1.0 / m as f32));
        });
        let mut da = Matrix::zeros(m, n_in);
        group.bench_function(format!("bp2 {m}x{n_in}x{n_out}"), |bench| {
            // BP2 (before ⊙ g'): E W
            bench.iter(|| gemm(&mut da, Accumulate::Replace, &e, &w, 1.0));
        });
    }
    group.finish();
}

/// The same FF, BP4 and BP2 products computed by faer directly (its kernels, one thread),
/// for the shapes where nabla uses its own AVX-512 kernel: the comparison in BENCHMARKS.md.
fn products_faer(c: &mut Criterion) {
    use faer::linalg::matmul::matmul;
    use faer::{Accum, MatMut, MatRef, Par};
    let mut group = c.benchmark_group("gemm-faer");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    fn view(m: &Matrix<f32>) -> MatRef<'_, f32> {
        MatRef::from_row_major_slice(m.as_slice(), m.rows(), m.cols())
    }
    for &(m, n_in, n_out) in &SHAPES {
        if m * n_in * n_out < nabla::kernels::AVX512_MIN_MNK && m != 1 {
            continue;
        }
        let (a, w, e) = (
            filled(m, n_in, 1),
            filled(n_out, n_in, 2),
            filled(m, n_out, 3),
        );
        group.throughput(Throughput::Elements((2 * m * n_in * n_out) as u64));
        let mut z = Matrix::zeros(m, n_out);
        group.bench_function(format!("ff {m}x{n_in}x{n_out}"), |bench| {
            bench.iter(|| {
                let dst = MatMut::from_row_major_slice_mut(z.as_mut_slice(), m, n_out);
                matmul(
                    dst,
                    Accum::Replace,
                    view(&a),
                    view(&w).transpose(),
                    1.0,
                    Par::Seq,
                )
            });
        });
        if m == 1 || m == 2000 {
            continue;
        }
        let mut dw = Matrix::zeros(n_out, n_in);
        group.bench_function(format!("bp4 {m}x{n_in}x{n_out}"), |bench| {
            bench.iter(|| {
                let dst = MatMut::from_row_major_slice_mut(dw.as_mut_slice(), n_out, n_in);
                let alpha = 1.0 / m as f32;
                matmul(
                    dst,
                    Accum::Replace,
                    view(&e).transpose(),
                    view(&a),
                    alpha,
                    Par::Seq,
                )
            });
        });
        let mut da = Matrix::zeros(m, n_in);
        group.bench_function(format!("bp2 {m}x{n_in}x{n_out}"), |bench| {
            bench.iter(|| {
                let dst = MatMut::from_row_major_slice_mut(da.as_mut_slice(), m, n_in);
                matmul(dst, Accum::Replace, view(&e), view(&w), 1.0, Par::Seq)
            });
        });
    }
    group.finish();
}

fn elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("elementwise");
    group.measurement_time(Duration::from_secs(1));
    group.warm_up_time(Duration::from_millis(300));
    for (g, m, n) in [
        (Activation::Sigmoid, 10, 30),
        (Activation::Relu, 256, 1024),
        (Activation::Softmax, 256, 10),
    ] {
        let z = filled(m, n, 4);
        let mut a = Matrix::zeros(m, n);
        group.throughput(Throughput::Elements((m * n) as u64));
        group.bench_function(format!("{g} {m}x{n}"), |bench| {
            bench.iter(|| g.apply(black_box(&z), &mut a));
        });
    }
    let x = filled(2000, 784, 5);
    group.throughput(Throughput::Elements(2000 * 784));
    group.bench_function("finite check 2000x784", |bench| {
        bench.iter(|| black_box(&x).find_non_finite());
    });
    group.finish();
}

struct Step {
    name: &'static str,
    sizes: &'static [usize],
    hidden: Activation,
    output: Activation,
    cost: Cost,
    m: usize,
}

const STEPS: [Step; 3] = [
    Step {
        name: "W1 784-30-10 m=10",
        sizes: &[784, 30, 10],
        hidden: Activation::Sigmoid,
        output: Activation::Sigmoid,
        cost: Cost::Quadratic,
        m: 10,
    },
    Step {
        name: "W2 784-256-128-10 m=64",
        sizes: &[784, 256, 128, 10],
        hidden: Activation::Relu,
        output: Activation::Softmax,
        cost: Cost::CrossEntropy,
        m: 64,
    },
    Step {
        name: "W3 784-1024-1024-10 m=256",
        sizes: &[784, 1024, 1024, 10],
        hidden: Activation::Relu,
        output: Activation::Softmax,
        cost: Cost::CrossEntropy,
        m: 256,
    },
];

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_millis(500));
    for s in &STEPS {
        let arch = Architecture::new(s.sizes, s.hidden, s.output, s.cost).expect("valid");
        let mut net: Network<f32> = Network::new(arch, Init::He, 1).expect("valid");
        let x = filled(s.m, s.sizes[0], 6);
        let mut y = Matrix::zeros(s.m, *s.sizes.last().expect("sizes"));
        let n_out = y.cols();
        for i in 0..s.m {
            y[(i, i % n_out)] = 1.0;
        }
        let mut pass = Pass::new(s.sizes, s.m);
        let mut grads = Gradients::zeros(s.sizes);
        let mut sgd = Sgd;
        let mut momentum = Momentum::new(0.9, false);
        group.bench_function(format!("ff+bp {}", s.name), |bench| {
            bench.iter(|| net.backprop(&x, &y, &mut pass, &mut grads).expect("fits"));
        });
        group.bench_function(format!("ff {}", s.name), |bench| {
            bench.iter(|| net.forward(&x, &mut pass).expect("fits"));
        });
        group.bench_function(format!("step {}", s.name), |bench| {
            bench.iter(|| {
                net.backprop(&x, &y, &mut pass, &mut grads).expect("fits");
                if s.name.starts_with("W2") {
                    momentum.step(&mut net, &grads, 1e-4);
                } else {
                    sgd.step(&mut net, &grads, 1e-4);
                }
            });
        });
    }
    group.finish();
}

/// W4's network at batch 1 on the first 256 test images in turn (their pixels are 81%
/// zeros, as in the whole test set).
fn batch1(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch1");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    let (_, test) = nabla::data::idx::embedded_mnist::<f32>().expect("embedded data");
    let arch = Architecture::new(
        &[784, 256, 128, 10],
        Activation::Relu,
        Activation::Softmax,
        Cost::CrossEntropy,
    )
    .expect("valid");
    let net: Network<f32> = Network::new(arch, Init::He, 1).expect("valid");
    let mut predictor = Predictor::new(&net);
    let mut next = 0;
    group.bench_function("predictor W4 (MNIST image)", |bench| {
        bench.iter(|| {
            next = (next + 1) % 256;
            black_box(predictor.predict(test.x.row(next)).expect("fits")[0])
        });
    });
    let mut pass = Pass::new(net.sizes(), 1);
    let mut x = Matrix::zeros(1, 784);
    group.bench_function("infer W4 (MNIST image)", |bench| {
        bench.iter(|| {
            next = (next + 1) % 256;
            x.as_mut_slice().copy_from_slice(test.x.row(next));
            black_box(net.infer(&x, &mut pass).expect("fits")[(0, 0)])
        });
    });
    group.finish();
}

criterion_group!(benches, products, products_faer, elementwise, steps, batch1);

// criterion_main!, with every group at the thread count of NABLA_THREADS.
fn main() {
    nabla::parallel::with_threads(threads_from_env(), || {
        benches();
        Criterion::default().configure_from_args().final_summary();
    });
}
