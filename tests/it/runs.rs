//! Runs that go well and runs that do not (#14): regression on standardised targets,
//! warnings when training fails, resuming and checkpoints, what a run says.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use nabla::spec::prepare;
use nabla::{Setting, TrainSpec};

use crate::util::*;

fn examples(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/examples")
        .join(name)
}

/// `nabla train … --json` as a JSON object.
fn train_json(args: &[&str]) -> serde_json::Value {
    json_of(
        &nabla()
            .arg("train")
            .args(args)
            .arg("--json")
            .assert()
            .success(),
    )
}

// ---- 1. target scaling ----

/// On sklearn's diabetes data (442 patients, 10 raw features, a target from 25 to 346),
/// the default settings beat the mean predictor on held-out patients for every seed, with
/// sigmoid and with ReLU hidden layers.
#[test]
fn regression_defaults_beat_the_mean_on_diabetes_for_every_seed() {
    let (train, test) = (
        examples("diabetes-train.csv"),
        examples("diabetes-test.csv"),
    );
    for activation in ["sigmoid", "relu"] {
        for seed in 1..=5 {
            let seed = seed.to_string();
            let v = train_json(&[
                "--data",
                s(&train),
                "--test",
                s(&test),
                "--seed",
                &seed,
                "--activation",
                activation,
            ]);
            let r2 = v["test_r2"].as_f64().unwrap();
            assert!(r2 > 0.0, "{activation}, seed {seed}: test R² {r2}");
            assert_eq!(v["warnings"], serde_json::json!([]), "{activation} {seed}");
        }
    }
}

fn two_targets_csv(dir: &tempfile::TempDir, name: &str, rows: usize, seed: u64) -> PathBuf {
    let mut rng = Lcg::new(seed);
    let mut text = String::from("x0,x1,small,large\n");
    for _ in 0..rows {
        let (a, b) = (rng.next(), rng.next());
        text += &format!(
            "{a:.4},{b:.4},{:.6},{:.6}\n",
            0.01 * (a - b),
            1000.0 + 500.0 * (a + 0.5 * b)
        );
    }
    write_file(dir, name, text)
}

/// Targets are standardised on the training set, stored in the model, and undone by
/// `predict`, `eval` and `explain`; the metrics come per target as well as pooled.
#[test]
fn target_scaling_is_stored_undone_everywhere_and_reported_per_target() {
    let dir = temp();
    let train = two_targets_csv(&dir, "train.csv", 200, 1);
    let test = two_targets_csv(&dir, "test.csv", 60, 2);
    let model = dir.path().join("m.safetensors");
    let v = train_json(&[
        "--data",
        s(&train),
        "--test",
        s(&test),
        "--target",
        "small,large",
        "--epochs",
        "60",
        "--out",
        s(&model),
    ]);
    let per_target = v["test_rmse_per_target"].as_array().unwrap();
    assert_eq!(per_target.len(), 2, "{v}");
    assert_eq!(v["test_r2_per_target"].as_array().unwrap().len(), 2);
    assert_eq!(v["targets"], serde_json::json!(["small", "large"]));
    let (small, large) = (
        per_target[0].as_f64().unwrap(),
        per_target[1].as_f64().unwrap(),
    );
    assert!(
        small < 0.01 && large < 100.0,
        "RMSEs in the targets' units: {v}"
    );
    for r2 in v["test_r2_per_target"].as_array().unwrap() {
        assert!(r2.as_f64().unwrap() > 0.8, "{v}");
    }
    let stored = read_st(&model);
    let scaling: serde_json::Value =
        serde_json::from_str(&stored.metadata["target_scaling"]).unwrap();
    assert_eq!(scaling["offset"].as_array().unwrap().len(), 2);
    let mean_large = scaling["offset"][1].as_f64().unwrap();
    assert!((mean_large - 1000.0).abs() < 150.0, "{scaling}");

    // predict: the targets' own units.
    let out = stdout_of(
        &nabla()
            .args(["predict", "--model", s(&model), "--data", s(&test)])
            .assert()
            .success(),
    );
    let large: Vec<f64> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let mean = large.iter().sum::<f64>() / large.len() as f64;
    assert!((mean - 1000.0).abs() < 200.0, "predictions {mean}: {out}");

    // eval: the same metrics as the run's end.
    let eval = json_of(
        &nabla()
            .args(["eval", "--model", s(&model), "--data", s(&test), "--json"])
            .assert()
            .success(),
    );
    let (a, b) = (
        eval["rmse"].as_f64().unwrap(),
        v["test_rmse"].as_f64().unwrap(),
    );
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
    assert_eq!(eval["rmse_per_target"].as_array().unwrap().len(), 2);

    // explain says what a^[L] stands for.
    let text = stdout_of(
        &nabla()
            .args(["explain", "--model", s(&model), "--data", s(&test)])
            .assert()
            .success(),
    );
    assert!(text.contains("standardised units"), "{text}");
    assert!(text.contains("y_2 = a_2^[L] * "), "{text}");

    // --no-target-scaling: nothing stored.
    let plain = dir.path().join("plain.safetensors");
    let v = train_json(&[
        "--data",
        s(&train),
        "--target",
        "small,large",
        "--epochs",
        "2",
        "--no-target-scaling",
        "--out",
        s(&plain),
    ]);
    assert_eq!(v["spec"]["target_scaling"], serde_json::json!(false));
    assert!(!read_st(&plain).metadata.contains_key("target_scaling"));
}

/// The library: `Model::predict` takes raw features and gives the targets' units, the
/// same numbers `predict` prints.
#[test]
fn the_library_predicts_in_the_targets_units() {
    let dir = temp();
    let train = two_targets_csv(&dir, "train.csv", 100, 3);
    let spec = TrainSpec {
        data: Some(train.clone()),
        target: Some(vec!["small".into(), "large".into()]),
        epochs: Some(20),
        ..TrainSpec::default()
    };
    let mut prepared = prepare::<f64>(&spec).unwrap();
    prepared.train(|_| ControlFlow::Continue(())).unwrap();
    let model = &prepared.model;
    assert!(model.target_scaling.is_some());
    let x = nabla::Matrix::from_rows(&[vec![0.5, -0.5], vec![0.1, 0.2]]).unwrap();
    let y = model.predict(&x).unwrap();
    // large = 1000 + 500 (x0 + x1/2): 1125 and 1100.
    assert!((y[(0, 1)] - 1125.0).abs() < 60.0, "{y:?}");
    assert!((y[(1, 1)] - 1100.0).abs() < 60.0, "{y:?}");
    let mut a = model
        .network
        .predict(&{
            let mut x = x.clone();
            model.scaling.as_ref().unwrap().apply(&mut x).unwrap();
            x
        })
        .unwrap();
    model.unscale_outputs(&mut a).unwrap();
    assert_eq!(a, y);
}

// ---- 2. warnings ----

/// `--lr 1e9` stops at once with a warning naming --lr, exit code 0, the model saved with
/// its initial (finite) weights.
#[test]
fn a_diverging_run_warns_once_stops_early_and_saves_its_last_good_weights() {
    let dir = temp();
    let model = dir.path().join("m.safetensors");
    let out = nabla()
        .args(["train", "--lr", "1e9", "--epochs", "3", "--out", s(&model)])
        .assert()
        .success();
    let stderr = stderr_of(&out);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("nabla: warning: training diverged in epoch 1")
            && warnings[0].contains("lower --lr (1e9 given)"),
        "{stderr}"
    );
    assert!(model.exists());
    let v = train_json(&["--lr", "1e9", "--epochs", "3"]);
    assert_eq!(v["stopped_early"], true);
    assert_eq!(v["warnings"][0]["kind"], "diverged");
    assert!(v["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("--lr"));
}

/// The message names the default when η was not given, and settings by mention.
#[test]
fn a_divergence_names_the_default_learning_rate_when_none_was_given() {
    let w = nabla::Warning::diverged(2, "the cost became NaN", 3.0, false);
    let text = nabla::setting::render(&w.message, &|s: Setting| format!("--{}", s.name()));
    assert!(
        text.contains("the learning rate (default 3) is too large here")
            && text.contains("--lr 0.3")
            && text.contains("the weights of epoch 1"),
        "{text}"
    );
}

/// A run that learns nothing says so: the cost flat and one class for every image.
#[test]
fn a_run_that_learns_nothing_says_so() {
    let v = train_json(&["--lr", "100", "--epochs", "3"]);
    let kinds: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["cost-flat", "single-class"], "{}", v["warnings"]);
}

/// Wide and deep networks on the embedded MNIST learn with the defaults (the default
/// [784, 30, 10] run keeps Nielsen's settings, see `learning.rs`).
#[test]
fn wide_sigmoid_and_relu_networks_learn_on_mnist_by_default() {
    for (args, at_least) in [
        (&["--hidden", "512,512", "--epochs", "3"][..], 0.6),
        (
            &[
                "--hidden",
                "256,256",
                "--activation",
                "relu",
                "--epochs",
                "2",
            ][..],
            0.85,
        ),
        (&["--hidden", "30,30,30,30", "--epochs", "3"][..], 0.3),
    ] {
        let v = train_json(args);
        let accuracy = v["test_accuracy"].as_f64().unwrap();
        assert!(accuracy > at_least, "{args:?}: {accuracy}");
        assert_eq!(v["warnings"], serde_json::json!([]), "{args:?}");
    }
}

// ---- 6. resume and checkpoints ----

fn tensors(path: &Path) -> Vec<(String, Vec<f64>)> {
    let mut all: Vec<(String, Vec<f64>)> = read_st(path)
        .tensors
        .into_iter()
        .map(|(name, t)| (name, t.values))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// 10 epochs in one run, and 5 then 5 more with `--from`, give the same bits: weights and
/// optimizer state, for every optimizer, with a schedule, with dropout.
#[test]
fn five_plus_five_epochs_continued_are_ten_epochs_bit_for_bit() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 50, 4);
    let cases: Vec<Vec<&str>> = vec![
        vec!["--optimizer", "sgd"],
        vec!["--optimizer", "momentum"],
        vec!["--optimizer", "nesterov"],
        vec!["--optimizer", "rmsprop"],
        vec!["--optimizer", "adam"],
        vec!["--optimizer", "adamw"],
        vec!["--optimizer", "rprop"],
        vec!["--optimizer", "lbfgs"],
        vec![
            "--optimizer",
            "momentum",
            "--schedule",
            "step",
            "--step-size",
            "3",
        ],
        vec![
            "--optimizer",
            "adam",
            "--schedule",
            "plateau",
            "--lr",
            "0.05",
        ],
        vec!["--optimizer", "sgd", "--dropout", "0.2", "--seed", "9"],
    ];
    for (i, case) in cases.iter().enumerate() {
        let run = |epochs: &str, from: Option<&Path>, out: &Path| {
            let mut cmd = nabla();
            cmd.args(["train", "--data", s(&data), "--epochs", epochs, "--quiet"])
                .args(case)
                .args(["--out", s(out)]);
            match from {
                Some(from) => cmd.args(["--from", s(from)]),
                None => cmd.args(["--hidden", "6"]),
            };
            cmd.assert().success();
        };
        let whole = dir.path().join(format!("whole{i}.safetensors"));
        let half = dir.path().join(format!("half{i}.safetensors"));
        let resumed = dir.path().join(format!("resumed{i}.safetensors"));
        run("10", None, &whole);
        run("5", None, &half);
        run("5", Some(&half), &resumed);
        let (a, b) = (tensors(&whole), tensors(&resumed));
        let names: Vec<&String> = a.iter().map(|t| &t.0).collect();
        assert!(
            case[1] == "sgd" || names.iter().any(|n| n.starts_with("optimizer.")),
            "{case:?}: {names:?}"
        );
        assert_eq!(a, b, "{case:?}");
        let resume: serde_json::Value =
            serde_json::from_str(&read_st(&resumed).metadata["resume"]).unwrap();
        assert_eq!(resume["run"]["epochs"], 10, "{case:?}");
    }
}

/// The library: `train_from` with the optimizer's state carried by hand.
#[test]
fn train_from_continues_a_run_in_the_library() {
    use nabla::{Activation, Architecture, Cost, Init, Network, RunState, TrainConfig};
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 40, 5);
    let prepared = prepare::<f64>(&TrainSpec {
        data: Some(data),
        ..TrainSpec::default()
    })
    .unwrap();
    let train = &prepared.train;
    let arch = Architecture::new(
        &[3, 4, 3],
        Activation::Sigmoid,
        Activation::Softmax,
        Cost::CrossEntropy,
    )
    .unwrap();
    let config = |epochs| TrainConfig {
        epochs,
        learning_rate: 0.01,
        optimizer: "adam".parse().unwrap(),
        ..TrainConfig::default()
    };
    let go = |_: nabla::TrainEvent<'_>| ControlFlow::Continue(());
    let mut whole: Network<f64> = Network::new(arch.clone(), Init::Xavier, 2).unwrap();
    nabla::train(&mut whole, train, None, &config(6), go).unwrap();

    let mut net: Network<f64> = Network::new(arch, Init::Xavier, 2).unwrap();
    let mut optimizer = config(3).optimizer.build::<f64>();
    let mut state = RunState::default();
    nabla::train_from(
        &mut net,
        optimizer.as_mut(),
        train,
        None,
        &config(3),
        &mut state,
        go,
    )
    .unwrap();
    let saved = optimizer.state();
    let mut optimizer = config(3).optimizer.build::<f64>();
    optimizer.set_state(saved);
    let t = nabla::train_from(
        &mut net,
        optimizer.as_mut(),
        train,
        None,
        &config(3),
        &mut state,
        go,
    )
    .unwrap();
    assert_eq!(t.history[0].epoch, 4);
    assert_eq!(state.epochs, 6);
    assert_eq!(net, whole);
}

/// `--checkpoint-every` needs `--out`; a checkpoint is a model that `--from` continues.
#[test]
fn checkpoints_are_models_written_every_n_epochs() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 40, 6);
    assert_error(
        nabla().args(["train", "--data", s(&data), "--checkpoint-every", "2"]),
        &["--checkpoint-every", "--out"],
    );
    // Through the library: stop after epoch 3 of 4; the file holds epoch 2's checkpoint.
    let path = dir.path().join("ck.safetensors");
    let mut prepared = prepare::<f32>(&TrainSpec {
        data: Some(data.clone()),
        epochs: Some(4),
        checkpoint_every: Some(2),
        optimizer: Some("momentum".parse().unwrap()),
        ..TrainSpec::default()
    })
    .unwrap();
    prepared.checkpoint = Some(path.clone());
    prepared
        .train(|event| match event {
            nabla::TrainEvent::Epoch(r) if r.epoch == 3 => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        })
        .unwrap();
    let resume: serde_json::Value =
        serde_json::from_str(&read_st(&path).metadata["resume"]).unwrap();
    assert_eq!(resume["run"]["epochs"], 2);
    assert!(read_st(&path).tensors.contains_key("optimizer.velocity.0"));
    let v = train_json(&["--data", s(&data), "--from", s(&path), "--epochs", "2"]);
    assert_eq!(v["history"][0]["epoch"], 3);
    // With early stopping, the best weights.
    let best = dir.path().join("best.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "6",
            "--validation",
            "0.3",
        ])
        .args([
            "--patience",
            "2",
            "--checkpoint-every",
            "1",
            "--quiet",
            "--out",
            s(&best),
        ])
        .assert()
        .success();
    assert!(best.exists());
}

// ---- 8. what a run says ----

#[test]
fn a_run_without_out_says_the_model_was_not_saved() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 30, 7);
    let out = nabla()
        .args(["train", "--data", s(&data), "--epochs", "1"])
        .assert()
        .success();
    let stderr = stderr_of(&out);
    assert_eq!(
        stderr.matches("the model was not saved").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn quiet_prints_nothing_but_errors_and_warnings() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 30, 8);
    let out = nabla()
        .args(["train", "--data", s(&data), "--epochs", "2", "--quiet"])
        .assert()
        .success();
    assert_eq!(stdout_of(&out), "");
    assert_eq!(stderr_of(&out), "");
    let out = nabla()
        .args(["train", "--lr", "1e9", "--epochs", "2", "--quiet"])
        .assert()
        .success();
    assert_eq!(stdout_of(&out), "");
    assert!(stderr_of(&out).starts_with("nabla: warning: training diverged"));
}

/// An existing read-only `--out` is refused before training, as `cp` refuses it, and
/// left as it was.
#[cfg(unix)]
#[test]
fn a_read_only_out_file_is_refused_before_training() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 30, 9);
    let out = write_file(&dir, "locked.safetensors", "old");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o444)).unwrap();
    let line = assert_error(
        nabla().args(["train", "--data", s(&data), "--out", s(&out)]),
        &["cannot write", "locked.safetensors: permission denied"],
    );
    assert!(!line.contains("epoch"), "{line}");
    assert_eq!(std::fs::read(&out).unwrap(), b"old");
}
