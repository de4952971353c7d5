//! nabla's products against faer's on the same product sets, alternating in one process so
//! that both see the same phases of a noisy host (best round kept), and two probes of the
//! machine's limits: the FMA peak of one core and its read bandwidth from L2. Reproduces
//! BENCHMARKS.md's "GEMM" and "Batch 1" numbers:
//!
//! `taskset -c 0 cargo bench --bench gemm_ab`

use std::hint::black_box;
use std::time::Instant;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use nabla::{gemm, Accumulate, Matrix};

fn filled(rows: usize, cols: usize, seed: u32) -> Matrix<f32> {
    let data = (0..rows * cols)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0
        })
        .collect();
    Matrix::from_vec(rows, cols, data).expect("sizes match")
}

fn view(m: &Matrix<f32>, transposed: bool) -> MatRef<'_, f32> {
    let v = MatRef::from_row_major_slice(m.as_slice(), m.rows(), m.cols());
    if transposed {
        v.transpose()
    } else {
        v
    }
}

/// One product C (m × n) = A Bᵀ-or-B of a layer (batch m, n_in, n_out), as FF, BP4 or BP2.
struct Product {
    a: Matrix<f32>,
    a_t: bool,
    b: Matrix<f32>,
    b_t: bool,
    c: Matrix<f32>,
}

impl Product {
    fn new(kind: &str, m: usize, n_in: usize, n_out: usize) -> Product {
        let (x, w, e) = (
            filled(m, n_in, 1),
            filled(n_out, n_in, 2),
            filled(m, n_out, 3),
        );
        match kind {
            "ff" => Product {
                a: x,
                a_t: false,
                b: w,
                b_t: true,
                c: Matrix::zeros(m, n_out),
            },
            "bp4" => Product {
                a: e,
                a_t: true,
                b: x,
                b_t: false,
                c: Matrix::zeros(n_out, n_in),
            },
            _ => Product {
                a: e,
                a_t: false,
                b: w,
                b_t: false,
                c: Matrix::zeros(m, n_in),
            },
        }
    }
    fn flops(&self) -> f64 {
        let k = if self.a_t {
            self.a.rows()
        } else {
            self.a.cols()
        };
        2.0 * (self.c.rows() * self.c.cols() * k) as f64
    }
    fn nabla(&mut self) {
        let a = if self.a_t { self.a.t() } else { self.a.view() };
        let b = if self.b_t { self.b.t() } else { self.b.view() };
        gemm(&mut self.c, Accumulate::Replace, a, b, 1.0);
    }
    fn faer(&mut self) {
        let (rows, cols) = self.c.shape();
        let dst = MatMut::from_row_major_slice_mut(self.c.as_mut_slice(), rows, cols);
        matmul(
            dst,
            Accum::Replace,
            view(&self.a, self.a_t),
            view(&self.b, self.b_t),
            1.0,
            Par::Seq,
        );
    }
}

/// Best round of `rounds`, each `reps` passes over the set, nabla and faer alternately.
fn compare(name: &str, set: &[(&str, usize, usize, usize)], rounds: usize, reps: usize) {
    let mut products: Vec<Product> = set
        .iter()
        .map(|&(kind, m, n_in, n_out)| Product::new(kind, m, n_in, n_out))
        .collect();
    let flops: f64 = products.iter().map(Product::flops).sum::<f64>() * reps as f64;
    let (mut nabla_best, mut faer_best) = (f64::MAX, f64::MAX);
    for _ in 0..rounds {
        let t = Instant::now();
        (0..reps).for_each(|_| products.iter_mut().for_each(Product::nabla));
        nabla_best = nabla_best.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        (0..reps).for_each(|_| products.iter_mut().for_each(Product::faer));
        faer_best = faer_best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{name:<44} nabla {:7.1} GFLOP/s ({:9.2} µs)   faer {:7.1} GFLOP/s ({:9.2} µs)",
        flops / nabla_best / 1e9,
        nabla_best / reps as f64 * 1e6,
        flops / faer_best / 1e9,
        faer_best / reps as f64 * 1e6,
    );
}

#[cfg(target_arch = "x86_64")]
mod probes {
    use std::arch::x86_64::*;
    use std::time::Instant;

    /// 12 independent chains of 512-bit FMAs (2 ports × 4 cycles of latency need 8): the
    /// core's f32 peak, in GFLOP/s.
    #[target_feature(enable = "avx512f")]
    unsafe fn fma_chains(steps: usize) -> f32 {
        let mut acc = [_mm512_set1_ps(1.0); 12];
        let (x, y) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..steps {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, x, y);
            }
        }
        acc.iter().fold(0.0, |s, a| s + _mm512_reduce_add_ps(*a))
    }

    /// Sums an array of `bytes` with 512-bit loads, `passes` times: read bandwidth.
    #[target_feature(enable = "avx512f")]
    unsafe fn read(v: &[f32], passes: usize) -> f32 {
        let mut acc = [_mm512_setzero_ps(); 8];
        for _ in 0..passes {
            for chunk in v.chunks_exact(128) {
                for (j, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_add_ps(*a, _mm512_loadu_ps(chunk.as_ptr().add(16 * j)));
                }
            }
        }
        acc.iter().fold(0.0, |s, a| s + _mm512_reduce_add_ps(*a))
    }

    pub fn run() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return println!("(no AVX-512: probes skipped)");
        }
        let steps = 20_000_000;
        let best = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(unsafe { fma_chains(steps) });
                (steps * 12 * 32) as f64 / t.elapsed().as_secs_f64() / 1e9
            })
            .fold(0.0, f64::max);
        println!("FMA peak, one thread: {best:.1} GFLOP/s");
        for kib in [940usize, 8000] {
            let v = vec![1.0f32; kib * 256];
            let passes = 2_000_000 / kib;
            unsafe { read(&v, 10) };
            let t = Instant::now();
            std::hint::black_box(unsafe { read(&v, passes) });
            let s = t.elapsed().as_secs_f64();
            println!(
                "read {kib} KiB: {:.1} GB/s, {:.2} µs per pass",
                (kib * 1024 * passes) as f64 / s / 1e9,
                s / passes as f64 * 1e6
            );
        }
    }
}

fn main() {
    // One thread, as faer's side runs (`Par::Seq`).
    nabla::parallel::with_threads(1, ab);
}

fn ab() {
    #[cfg(target_arch = "x86_64")]
    probes::run();
    let w3 = [
        ("ff", 256, 784, 1024),
        ("ff", 256, 1024, 1024),
        ("bp4", 256, 784, 1024),
        ("bp4", 256, 1024, 1024),
        ("bp2", 256, 1024, 1024),
    ];
    let w2 = [
        ("ff", 64, 784, 256),
        ("ff", 64, 256, 128),
        ("bp4", 64, 784, 256),
        ("bp4", 64, 256, 128),
        ("bp2", 64, 256, 128),
    ];
    let w3_output = [
        ("ff", 256, 1024, 10),
        ("bp4", 256, 1024, 10),
        ("bp2", 256, 1024, 10),
    ];
    let w4 = [("ff", 2000, 784, 256), ("ff", 2000, 256, 128)];
    let w4_one = [("ff", 1, 784, 256), ("ff", 1, 256, 128), ("ff", 1, 128, 10)];
    compare("W3's five big products", &w3, 15, 3);
    compare("W2's five products", &w2, 60, 20);
    compare("W3's output layer (faer in nabla too)", &w3_output, 60, 20);
    compare("W4's FF 1-2 at batch 2000", &w4, 15, 3);
    compare("W4's three products at batch 1", &w4_one, 40, 200);
    black_box(());
}
