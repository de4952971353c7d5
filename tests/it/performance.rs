//! The steady state allocates nothing (a counting allocator), `nabla bench` reports every
//! workload, and threads change no bits of training. Timings are never asserted here:
//! they belong to BENCHMARKS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use nabla::{
    Activation, Architecture, Cost, Gradients, Init, Matrix, Momentum, Network, Optimizer, Pass,
    Predictor, Sgd,
};

use crate::util::{nabla, s, temp};

/// The system allocator, counting the allocations of threads that ask for it.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local Cell with a const initialiser, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    COUNT.with(Cell::get)
}

fn batch(m: usize, n_in: usize, n_out: usize) -> (Matrix<f32>, Matrix<f32>) {
    let x = Matrix::from_vec(
        m,
        n_in,
        (0..m * n_in).map(|i| (i % 17) as f32 / 17.0).collect(),
    )
    .unwrap();
    let mut y = Matrix::zeros(m, n_out);
    for i in 0..m {
        y[(i, i % n_out)] = 1.0;
    }
    (x, y)
}

#[test]
fn training_steps_allocate_nothing_once_the_buffers_exist() {
    for (sizes, hidden, output, cost, m) in [
        (
            &[784, 30, 10][..],
            Activation::Sigmoid,
            Activation::Sigmoid,
            Cost::Quadratic,
            10,
        ),
        (
            &[784, 256, 128, 10][..],
            Activation::Relu,
            Activation::Softmax,
            Cost::CrossEntropy,
            64,
        ),
    ] {
        let arch = Architecture::new(sizes, hidden, output, cost).unwrap();
        let mut net: Network<f32> = Network::new(arch, Init::He, 1).unwrap();
        let (x, y) = batch(m, sizes[0], *sizes.last().unwrap());
        let mut pass = Pass::new(sizes, m);
        let mut grads = Gradients::zeros(sizes);
        let mut momentum = Momentum::new(0.9f32, false);
        // The first step creates the optimizer's state.
        net.backprop(&x, &y, &mut pass, &mut grads).unwrap();
        momentum.step(&mut net, &grads, 0.01);
        // At 1 thread, then at 2, where the large products, BP4 and the optimizer's update
        // are cut into blocks for the workers (their first use starts the threads).
        for threads in [1, 2] {
            let count = nabla::parallel::with_threads(threads, || {
                net.backprop(&x, &y, &mut pass, &mut grads).unwrap();
                momentum.step(&mut net, &grads, 0.01);
                allocations(|| {
                    for _ in 0..5 {
                        net.backprop(&x, &y, &mut pass, &mut grads).unwrap();
                        momentum.step(&mut net, &grads, 0.01);
                        Sgd.step(&mut net, &grads, 0.01);
                        net.forward(&x, &mut pass).unwrap();
                    }
                })
            });
            assert_eq!(
                count, 0,
                "{sizes:?}: {count} allocations in 5 steady-state steps at {threads} threads"
            );
        }
    }
}

/// A `Predictor` answers one example after another without allocating.
#[test]
fn batch_one_predictions_allocate_nothing() {
    let sizes = [784, 256, 128, 10];
    let arch = Architecture::new(
        &sizes,
        Activation::Relu,
        Activation::Softmax,
        Cost::CrossEntropy,
    )
    .unwrap();
    let net: Network<f32> = Network::new(arch, Init::He, 1).unwrap();
    let (x, _) = batch(20, 784, 10);
    let mut predictor = Predictor::new(&net);
    predictor.predict(x.row(0)).unwrap();
    let count = allocations(|| {
        for i in 0..20 {
            predictor.predict(x.row(i)).unwrap();
        }
    });
    assert_eq!(count, 0, "{count} allocations in 20 predictions");
}

#[test]
#[cfg(feature = "bench")]
fn bench_json_reports_the_workloads_asked_for() {
    let out = nabla()
        .args(["bench", "--workloads", "W1,W4", "--epochs", "1", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{v}");
    assert_eq!(results[0]["workload"], "W1");
    assert!(results[0]["epoch_s_median"].as_f64().unwrap() > 0.0);
    assert!(results[0]["test_accuracy"].as_f64().unwrap() > 0.5);
    // Timed as the peers are: whether the timed epochs ran with the machine to themselves
    // (else more epochs ran, up to 12), at least warm-up + 1 epochs.
    assert!(results[0]["timed_epochs_clean"].is_boolean(), "{v}");
    assert!(results[0]["epochs_run"].as_u64().unwrap() >= 2, "{v}");
    assert_eq!(results[1]["workload"], "W4");
    assert!(results[1]["batch_full_s_median"].as_f64().unwrap() > 0.0);
    assert!(results[1]["batch1_latency_us_median"].as_f64().unwrap() > 0.0);
    assert!(
        results[1]["batch1_infer_latency_us_median"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(results[1]["batch1_clean"].is_boolean(), "{v}");
    nabla()
        .args(["bench", "--workloads", "W9"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("W9"));
    nabla()
        .args(["bench", "--quiet-wait", "-1"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--quiet-wait"));
}

/// The trained model file, byte for byte, at 1, 2 and 3 threads: products cut into blocks
/// by rows or columns (BP4 by rows of ∂C/∂W) and the optimizer's update cut by rows of W
/// must give every parameter the same bits.
#[test]
fn training_gives_the_same_bits_at_one_two_and_three_threads() {
    let dir = temp();
    let run = |threads: &str, name: &str, layers: &str, optimizer: &[&str]| {
        let out = dir.path().join(format!("{name}-{threads}.safetensors"));
        let mut args = vec![
            "train",
            "--layers",
            layers,
            "--activation",
            "relu",
            "--output",
            "softmax",
            "--cost",
            "cross-entropy",
            "--lr",
            "0.05",
            "--batch-size",
            "64",
            "--epochs",
            "1",
            "--out",
            s(&out),
        ];
        args.extend_from_slice(optimizer);
        nabla()
            .env("NABLA_THREADS", threads)
            .args(&args)
            .assert()
            .success();
        std::fs::read(&out).unwrap()
    };
    for (name, layers, optimizer) in [
        ("sgd", "784,1024,10", &["--optimizer", "sgd"][..]),
        (
            "momentum",
            "784,256,128,10",
            &["--optimizer", "momentum", "--momentum", "0.9"][..],
        ),
        ("adam", "784,300,10", &["--optimizer", "adam"][..]),
    ] {
        let one = run("1", name, layers, optimizer);
        assert!(one.len() > 100_000, "{name}: a model file");
        for threads in ["2", "3"] {
            assert!(
                one == run(threads, name, layers, optimizer),
                "{name}: {threads} threads changed the trained parameters"
            );
        }
    }
}
