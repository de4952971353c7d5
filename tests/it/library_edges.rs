//! The library as a Rust user calls it, at its edges: values and states its functions are
//! handed that the command line never produces. Each must be an error (or a documented
//! panic), never a silent wrong number or a hang.

use nabla::grad_check::worst_disagreement;
use nabla::noise::{NoiseError, Simplex};
use nabla::optimizer::{Adam, Lbfgs, Momentum, Optimizer, Rprop, Sgd};
use nabla::schedule::Schedule;
use nabla::train::split_validation;
use nabla::Setting;
use nabla::{
    evaluate, Activation, Architecture, Cost, Dataset, EpochReport, Error, Gradients, Init, Matrix,
    Model, Network, OptimizerKind, Pass, Task, TrainConfig,
};

fn net(sizes: &[usize], seed: u64) -> Network<f64> {
    let arch = Architecture::new(
        sizes,
        Activation::Tanh,
        Activation::Softmax,
        Cost::CrossEntropy,
    )
    .unwrap();
    Network::new(arch, Init::Xavier, seed).unwrap()
}

fn batch(rows: usize, cols: usize, classes: usize) -> (Matrix<f64>, Vec<usize>) {
    let x = (0..rows * cols)
        .map(|i| ((i * 37) % 17) as f64 / 17.0 - 0.5)
        .collect();
    let labels = (0..rows).map(|i| i % classes).collect();
    (Matrix::from_vec(rows, cols, x).unwrap(), labels)
}

/// Gradients shaped for another network of the same depth are reshaped, not multiplied
/// into a product of the wrong shape.
#[test]
fn backprop_reshapes_gradients_made_for_another_network() {
    let network = net(&[3, 4, 2], 1);
    let (x, labels) = batch(5, 3, 2);
    let data = Dataset::classification(x, labels, 2).unwrap();
    let mut grads = Gradients::zeros(&[1, 2, 2]);
    let mut pass = Pass::new(&[1, 2, 2], 1);
    network
        .backprop(&data.x, &data.y, &mut pass, &mut grads)
        .unwrap();
    assert!(grads.fits(network.sizes()));
    let mut fresh = Gradients::zeros(network.sizes());
    network
        .backprop(
            &data.x,
            &data.y,
            &mut Pass::new(network.sizes(), 5),
            &mut fresh,
        )
        .unwrap();
    assert_eq!(grads, fresh);
}

/// A data set whose public labels no longer match its rows or classes is an error.
#[test]
fn evaluate_and_train_check_labels_changed_after_construction() {
    let network = net(&[3, 4, 2], 2);
    let (x, labels) = batch(6, 3, 2);
    let good = Dataset::classification(x, labels, 2).unwrap();
    let mut short = good.clone();
    short.labels = Some(vec![0, 1]);
    let mut beyond = good.clone();
    beyond.labels = Some(vec![0, 1, 2, 0, 1, 0]);
    for bad in [short, beyond] {
        assert!(matches!(evaluate(&network, &bad), Err(Error::Shape { .. })));
        let mut copy = network.clone();
        let config = TrainConfig {
            epochs: 1,
            ..Default::default()
        };
        assert!(nabla::train(&mut copy, &bad, None, &config, |_| {
            std::ops::ControlFlow::Continue(())
        })
        .is_err());
    }
    assert!(evaluate(&network, &good).is_ok());
}

#[test]
fn split_validation_rejects_fractions_outside_zero_to_one() {
    let (x, labels) = batch(10, 3, 2);
    let data = Dataset::classification(x, labels, 2).unwrap();
    for fraction in [0.0, 1.0, 1.5, f64::INFINITY, f64::NAN, -0.1] {
        assert!(
            matches!(
                split_validation(&data, fraction, 1),
                Err(Error::InvalidConfig { .. })
            ),
            "{fraction}"
        );
    }
    assert!(split_validation(&data, 0.3, 1).is_ok());
}

#[test]
fn shapes_that_overflow_are_errors() {
    assert!(Matrix::<f32>::from_vec(1 << 63, 2, Vec::new()).is_err());
    let x = Matrix::<f32>::zeros(2, 1);
    assert!(Dataset::classification(x, vec![0, 1], usize::MAX / 2).is_err());
    let sizes = [usize::MAX, 2];
    assert!(Architecture::new(
        &sizes,
        Activation::Relu,
        Activation::Softmax,
        Cost::CrossEntropy
    )
    .is_err());
    let simplex = Simplex::new(2, 1).unwrap();
    assert!(matches!(
        simplex.image_slice(1 << 32, 4.0, &[], None),
        Err(NoiseError::ImageTooLarge { .. })
    ));
    // Noise errors convert into the library's error, so `?` works.
    let converted: Error = NoiseError::ZeroDims.into();
    assert!(converted.to_string().contains("dimension"));
}

/// A diverging run's costs (1e308, ±inf) still give a picture, and in finite time.
#[test]
fn training_curves_of_a_diverging_run_are_drawn() {
    let report = |epoch: usize, cost: f64| EpochReport {
        epoch,
        learning_rate: 0.1,
        train_cost: Some(cost),
        regularization: 0.0,
        validation: None,
        test: None,
        seconds: 0.0,
    };
    for costs in [
        vec![1.5e308],
        vec![-1e308, 1e308],
        vec![1.0, f64::INFINITY, f64::NAN],
    ] {
        let history: Vec<EpochReport> = costs
            .iter()
            .enumerate()
            .map(|(i, &c)| report(i + 1, c))
            .collect();
        let svg = nabla::plot::training_curves_svg(&history, Task::Classification).unwrap();
        assert!(svg.contains("<svg"));
    }
}

/// NaN passes through the activations and the gradient check, instead of turning into a
/// plausible number.
#[test]
fn nan_is_never_turned_into_a_number() {
    for g in [
        Activation::Sigmoid,
        Activation::Relu,
        Activation::Tanh,
        Activation::LeakyRelu,
    ] {
        assert!(g.g(f64::NAN).is_nan(), "{g}");
        let mut a = Matrix::<f32>::zeros(1, 3);
        g.apply(
            &Matrix::from_rows(&[vec![f32::NAN, 1.0, -1.0]]).unwrap(),
            &mut a,
        );
        assert!(a[(0, 0)].is_nan(), "{g}: {a:?}");
    }
    // f64's sigmoid is not cut off at the f32 limit.
    let s = Activation::Sigmoid.g(-90.0f64);
    assert!((s / (-90.0f64).exp() - 1.0).abs() < 1e-12, "{s}");
    let mut a = Gradients::<f64>::zeros(&[2, 2]);
    let b = Gradients::<f64>::zeros(&[2, 2]);
    a.nabla_w[1][(1, 0)] = f64::NAN;
    assert!(worst_disagreement(&a, &b, 1e-8).0.is_nan());
}

/// An optimizer moved to a network of other sizes starts afresh: Adam then gives the bits
/// of a new Adam, and Rprop moves every parameter; gradients of other sizes are a panic,
/// not a partial update.
#[test]
fn optimizers_start_afresh_on_a_network_of_other_sizes() {
    let (x, labels) = batch(8, 3, 2);
    let data = Dataset::classification(x, labels, 2).unwrap();
    let grads_of = |network: &Network<f64>| {
        let mut grads = Gradients::zeros(network.sizes());
        let mut pass = Pass::new(network.sizes(), 8);
        network
            .backprop(&data.x, &data.y, &mut pass, &mut grads)
            .unwrap();
        grads
    };
    let first = net(&[3, 5, 2], 3);
    let second = net(&[3, 4, 2], 4);
    let mut used = Adam::new(0.9, 0.999, 1e-8, 0.0);
    let mut moved = first.clone();
    for _ in 0..3 {
        let grads = grads_of(&moved);
        used.step(&mut moved, &grads, 0.01);
    }
    let (mut a, mut b) = (second.clone(), second.clone());
    used.step(&mut a, &grads_of(&second), 0.01);
    Adam::new(0.9, 0.999, 1e-8, 0.0).step(&mut b, &grads_of(&second), 0.01);
    assert_eq!(a, b);

    let mut momentum = Momentum::new(0.9, false);
    let mut moved = first.clone();
    momentum.step(&mut moved, &grads_of(&first), 0.1);
    // W^[1] of [3, 4, 2] and of [2, 6, 2] both have 12 entries: the velocity must not carry over.
    let other = net(&[2, 6, 2], 7);
    let (other_x, other_labels) = batch(8, 2, 2);
    let other_data = Dataset::classification(other_x, other_labels, 2).unwrap();
    let mut other_grads = Gradients::zeros(other.sizes());
    other
        .backprop(
            &other_data.x,
            &other_data.y,
            &mut Pass::new(other.sizes(), 8),
            &mut other_grads,
        )
        .unwrap();
    let (mut g, mut h) = (other.clone(), other.clone());
    momentum.step(&mut g, &other_grads, 0.1);
    Momentum::new(0.9, false).step(&mut h, &other_grads, 0.1);
    assert_eq!(g, h, "momentum starts afresh");

    let mut rprop = Rprop::new();
    let mut moved = first.clone();
    rprop.step(&mut moved, &grads_of(&first), 0.01);
    let mut c = second.clone();
    rprop.step(&mut c, &grads_of(&second), 0.01);
    for l in 1..=c.last() {
        let changed = c
            .w(l)
            .as_slice()
            .iter()
            .zip(second.w(l).as_slice())
            .all(|(a, b)| a != b);
        assert!(changed, "every weight of layer {l} moved");
    }

    let mut lbfgs = Lbfgs::new(0);
    let mut d = second.clone();
    for _ in 0..3 {
        let grads = grads_of(&d);
        lbfgs.step(&mut d, &grads, 1.0);
    }
    let mut e = first.clone();
    lbfgs.step(&mut e, &grads_of(&first), 1.0);

    let wrong = Gradients::zeros(&[3, 2]);
    let mut f = second.clone();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Sgd.step(&mut f, &wrong, 0.1)
    }));
    assert!(panicked.is_err(), "gradients of another network");
}

#[test]
fn optimizer_and_schedule_settings_out_of_range_are_errors_naming_the_setting() {
    let flag_of = |config: TrainConfig| match config.validate() {
        Err(e @ Error::InvalidConfig { .. }) => {
            assert!(!e.to_string().contains("--"), "{e}");
            e.setting().unwrap()
        }
        other => panic!("{other:?}"),
    };
    let adam = |beta1, beta2, eps| TrainConfig {
        optimizer: OptimizerKind::Adam { beta1, beta2, eps },
        ..Default::default()
    };
    assert_eq!(flag_of(adam(1.0, 0.999, 1e-8)), Setting::Beta1);
    assert_eq!(flag_of(adam(0.9, 2.0, 1e-8)), Setting::Beta2);
    assert_eq!(flag_of(adam(0.9, 0.999, 0.0)), Setting::Eps);
    assert_eq!(
        flag_of(TrainConfig {
            optimizer: OptimizerKind::AdamW {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: f64::NAN
            },
            ..Default::default()
        }),
        Setting::WeightDecay
    );
    assert_eq!(
        flag_of(TrainConfig {
            optimizer: OptimizerKind::RmsProp {
                alpha: 2.0,
                eps: 1e-8
            },
            ..Default::default()
        }),
        Setting::Alpha
    );
    assert_eq!(
        flag_of(TrainConfig {
            learning_rate: 0.5,
            schedule: Schedule::Cosine {
                warmup: 0,
                eta_min: 1.0
            },
            ..Default::default()
        }),
        Setting::EtaMin
    );
    assert_eq!(
        flag_of(TrainConfig {
            schedule: Schedule::Plateau {
                factor: 0.5,
                patience: 2,
                tol: f64::NAN
            },
            ..Default::default()
        }),
        Setting::Schedule
    );
}

#[test]
fn cross_entropy_targets_outside_zero_to_one_are_an_error() {
    let arch = Architecture::new(
        &[2, 3, 1],
        Activation::Relu,
        Activation::Sigmoid,
        Cost::CrossEntropy,
    )
    .unwrap();
    let network: Network<f64> = Network::new(arch, Init::He, 5).unwrap();
    let x = Matrix::from_rows(&[vec![0.1, 0.2], vec![0.3, 0.4]]).unwrap();
    let y = Matrix::from_rows(&[vec![1.0], vec![5.0]]).unwrap();
    let mut grads = Gradients::zeros(network.sizes());
    let result = network.backprop(&x, &y, &mut Pass::new(network.sizes(), 2), &mut grads);
    assert!(matches!(result, Err(Error::Shape { .. })), "{result:?}");
}

/// A model that could not be read back (an infinite weight, say) is not written.
#[test]
fn a_model_that_would_not_load_is_not_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mut network = net(&[3, 4, 2], 6);
    network.w_mut(1)[(0, 0)] = f64::INFINITY;
    let model = Model::new(network, Task::Classification);
    assert!(model.save(&path).is_err());
    assert!(!path.exists());
}
