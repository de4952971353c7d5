//! Training well (issue 4): regularisation, schedules, early stopping, every optimizer end
//! to end, config files and presets, parity with scikit-learn, and the MNIST presets.

use std::ops::ControlFlow;
use std::path::PathBuf;

use nabla::train::split_validation;
use nabla::{
    Activation, Architecture, Cost, Dataset, Gradients, Init, Matrix, Network, Pass, TrainConfig,
};

use crate::util::{
    assert_error, classification_csv, json_of, nabla, read_st, regression_csv, s, stderr_of,
    stdout_of, temp, write_file,
};

fn examples(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/examples")
        .join(name)
}

fn blobs(n: usize) -> Dataset<f64> {
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    for i in 0..n {
        let c = i % 3;
        let center = [[1.0, 0.0], [-1.0, 0.5], [0.0, -1.0]][c];
        rows.push(vec![center[0] + 1.2 * next(), center[1] + 1.2 * next()]);
        labels.push(c);
    }
    Dataset::classification(Matrix::from_rows(&rows).unwrap(), labels, 3).unwrap()
}

#[test]
fn l2_regularisation_is_network2_s_weight_decay_factor() {
    // One full-batch SGD step: w ← (1 − ηλ/n) w − η ∂C₀/∂w, biases without decay.
    let data = blobs(30);
    let arch = Architecture::new(
        &[2, 4, 3],
        Activation::Tanh,
        Activation::Softmax,
        Cost::CrossEntropy,
    )
    .unwrap();
    let start: Network<f64> = Network::new(arch, Init::Xavier, 5).unwrap();
    let (eta, lambda, n) = (0.3, 2.0, 30.0);
    let mut pass = Pass::new(start.sizes(), 30);
    let mut grads = Gradients::zeros(start.sizes());
    start
        .backprop(&data.x, &data.y, &mut pass, &mut grads)
        .unwrap();
    let mut net = start.clone();
    let config = TrainConfig {
        epochs: 1,
        batch_size: 30,
        learning_rate: eta,
        l2: lambda,
        shuffle: false,
        ..Default::default()
    };
    nabla::train(
        &mut net,
        &data,
        None,
        &config,
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    for l in 1..=2 {
        for (i, (&w, &w0)) in net
            .w(l)
            .as_slice()
            .iter()
            .zip(start.w(l).as_slice())
            .enumerate()
        {
            let want = (1.0 - eta * lambda / n) * w0 - eta * grads.nabla_w[l].as_slice()[i];
            assert!((w - want).abs() < 1e-14, "w: {w} vs {want}");
        }
        for (j, (&b, &b0)) in net.b(l).iter().zip(start.b(l)).enumerate() {
            assert!((b - (b0 - eta * grads.nabla_b[l][j])).abs() < 1e-14);
        }
    }
}

#[test]
fn the_regularisation_term_is_reported_apart_from_the_cost() {
    let data = blobs(60);
    let arch = Architecture::new(
        &[2, 4, 3],
        Activation::Tanh,
        Activation::Softmax,
        Cost::CrossEntropy,
    )
    .unwrap();
    let mut net: Network<f64> = Network::new(arch, Init::Xavier, 5).unwrap();
    let config = TrainConfig {
        epochs: 2,
        batch_size: 10,
        learning_rate: 0.1,
        l2: 3.0,
        l1: 0.5,
        ..Default::default()
    };
    let training = nabla::train(
        &mut net,
        &data,
        None,
        &config,
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    let (mut squares, mut absolutes) = (0.0, 0.0);
    for l in 1..=2 {
        for w in net.w(l).as_slice() {
            squares += w * w;
            absolutes += w.abs();
        }
    }
    let want = 3.0 / 120.0 * squares + 0.5 / 60.0 * absolutes;
    let got = training.history.last().unwrap().regularization;
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    assert!(
        (training.history[1].train_cost.unwrap() - nabla::evaluate(&net, &data).unwrap().cost)
            .abs()
            < 1e-12
    );
}

#[test]
fn early_stopping_restores_the_weights_of_the_best_validation_epoch() {
    let data = blobs(300);
    let arch = Architecture::new(
        &[2, 16, 3],
        Activation::Tanh,
        Activation::Softmax,
        Cost::CrossEntropy,
    )
    .unwrap();
    let mut net: Network<f64> = Network::new(arch, Init::Xavier, 2).unwrap();
    // A large learning rate makes the validation cost jump around, so the best epoch is
    // rarely the last one.
    let config = TrainConfig {
        epochs: 40,
        batch_size: 5,
        learning_rate: 1.5,
        validation: 0.2,
        patience: Some(4),
        seed: 9,
        ..Default::default()
    };
    let training = nabla::train(
        &mut net,
        &data,
        None,
        &config,
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    let best = training
        .best_epoch
        .expect("early stopping reports its best epoch");
    let costs: Vec<f64> = training
        .history
        .iter()
        .map(|r| r.validation.as_ref().unwrap().cost)
        .collect();
    let min = costs.iter().cloned().fold(f64::INFINITY, f64::min);
    assert_eq!(
        costs[best - 1],
        min,
        "the best epoch has the lowest validation cost"
    );
    // The network now holds that epoch's weights: its validation cost is the logged minimum.
    let (_, validation) = split_validation(&data, 0.2, 9).unwrap();
    assert_eq!(training.validation_size, validation.len());
    assert_eq!(nabla::evaluate(&net, &validation).unwrap().cost, min);
    if training.stopped_early {
        assert_eq!(
            training.history.len(),
            best + 4,
            "stops `patience` epochs after the best"
        );
    }
}

#[test]
fn the_validation_split_keeps_each_class_s_share() {
    let data = blobs(300); // 100 per class
    let (train, validation) = split_validation(&data, 0.1, 1).unwrap();
    assert_eq!((train.len(), validation.len()), (270, 30));
    for c in 0..3 {
        assert_eq!(
            validation
                .labels
                .as_ref()
                .unwrap()
                .iter()
                .filter(|&&l| l == c)
                .count(),
            10
        );
    }
}

#[test]
fn every_optimizer_learns_the_moons_from_the_command_line() {
    let (train, test) = (examples("moons-train.csv"), examples("moons-test.csv"));
    for optimizer in [
        "sgd", "momentum", "rmsprop", "adam", "adamw", "rprop", "lbfgs",
    ] {
        let epochs = if matches!(optimizer, "rprop" | "lbfgs") {
            "300"
        } else {
            "60"
        };
        let out = nabla()
            .args([
                "train",
                "--data",
                s(&train),
                "--test",
                s(&test),
                "--task",
                "classification",
                "--hidden",
                "16",
            ])
            .args([
                "--activation",
                "tanh",
                "--optimizer",
                optimizer,
                "--epochs",
                epochs,
                "--json",
            ])
            .assert()
            .success();
        let json = json_of(&out);
        let accuracy = json["test_accuracy"].as_f64().unwrap();
        assert!(accuracy >= 0.95, "{optimizer}: test accuracy {accuracy}");
    }
}

#[test]
fn a_schedule_sets_the_learning_rate_of_each_epoch() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 60, 1);
    let out = nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--task",
            "classification",
            "--epochs",
            "5",
            "--lr",
            "0.4",
        ])
        .args([
            "--schedule",
            "step",
            "--step-size",
            "2",
            "--gamma",
            "0.5",
            "--json",
        ])
        .assert()
        .success();
    let rates: Vec<f64> = json_of(&out)["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["learning_rate"].as_f64().unwrap())
        .collect();
    assert_eq!(rates, vec![0.4, 0.4, 0.2, 0.2, 0.1]);
}

#[test]
fn early_stopping_from_the_command_line_reports_the_restored_epoch() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 200, 3);
    let out = nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--task",
            "classification",
            "--epochs",
            "60",
            "--lr",
            "2.0",
        ])
        .args([
            "--validation",
            "0.25",
            "--patience",
            "3",
            "--dropout",
            "0.2",
            "--json",
        ])
        .assert()
        .success();
    let json = json_of(&out);
    let best = json["best_epoch"].as_u64().unwrap() as usize;
    let history = json["history"].as_array().unwrap();
    let costs: Vec<f64> = history
        .iter()
        .map(|r| r["validation"]["cost"].as_f64().unwrap())
        .collect();
    assert_eq!(
        costs[best - 1],
        costs.iter().cloned().fold(f64::INFINITY, f64::min)
    );
    assert_eq!(json["validation_cost"].as_f64().unwrap(), costs[best - 1]);
}

#[test]
fn a_config_file_gives_the_same_model_as_the_same_flags() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 80, 4);
    let (a, b) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    let config = write_file(&dir, "run.toml", "task = \"classification\"\nhidden = [6, 4]\nactivation = \"tanh\"\noptimizer = \"adam\"\nepochs = 4\nbatch-size = 8\nno-shuffle = true\nl2 = 0.5\n");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--config",
            s(&config),
            "--quiet",
            "--out",
            s(&a),
        ])
        .assert()
        .success();
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--task",
            "classification",
            "--hidden",
            "6,4",
            "--activation",
            "tanh",
            "--optimizer",
            "adam",
        ])
        .args([
            "--epochs",
            "4",
            "--batch-size",
            "8",
            "--no-shuffle",
            "--l2",
            "0.5",
            "--quiet",
            "--out",
            s(&b),
        ])
        .assert()
        .success();
    let (bytes_a, bytes_b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The stored training record names the config file in one run only; the tensors agree.
    let (ta, tb) = (crate::util::read_st(&a), crate::util::read_st(&b));
    assert_eq!(ta.tensors, tb.tensors);
    assert!(bytes_a.len() > 100 && bytes_b.len() > 100);
}

#[test]
fn flags_override_the_config_file_which_overrides_the_preset() {
    let dir = temp();
    let config = write_file(
        &dir,
        "run.toml",
        "preset = \"nielsen-ch1\"\nepochs = 2\nlr = 1.0\n",
    );
    let out = nabla()
        .args(["train", "--config", s(&config), "--lr", "0.5", "--json"])
        .assert()
        .success();
    let json = json_of(&out);
    assert_eq!(
        json["epochs"].as_u64(),
        Some(2),
        "the file's epochs win over the preset's 30"
    );
    assert_eq!(
        json["history"][0]["learning_rate"].as_f64(),
        Some(0.5),
        "the flag wins over the file"
    );
    assert_eq!(
        json["layers"],
        serde_json::json!([784, 30, 10]),
        "the preset's layers"
    );
}

#[test]
fn a_config_file_with_an_unknown_key_names_the_file_and_line() {
    let dir = temp();
    let config = write_file(&dir, "run.toml", "epochs = 2\nlearning_rate = 0.1\n");
    assert_error(
        nabla().args(["train", "--config", s(&config)]),
        &["run.toml:2", "unknown key 'learning_rate'"],
    );
    let broken = write_file(&dir, "broken.toml", "epochs = \n");
    assert_error(
        nabla().args(["train", "--config", s(&broken)]),
        &["broken.toml:1"],
    );
}

#[test]
fn options_that_do_not_fit_together_are_errors_naming_the_flag() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 30, 1);
    let out = dir.path().join("m.safetensors");
    let base = [
        "train",
        "--data",
        s(&data),
        "--task",
        "classification",
        "--out",
        s(&out),
    ];
    assert_error(
        nabla().args(base).args(["--patience", "3"]),
        &["--patience", "--validation"],
    );
    assert_error(
        nabla().args(base).args(["--beta1", "0.8"]),
        &["--beta1", "sgd"],
    );
    assert_error(
        nabla()
            .args(base)
            .args(["--optimizer", "adam", "--momentum", "0.5"]),
        &["--momentum", "adam"],
    );
    assert!(!out.exists());
}

fn sklearn_reference() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(examples("sklearn-reference.json")).unwrap())
        .unwrap()
}

#[test]
fn adam_matches_scikit_learn_s_mlp_classifier_on_a_generated_tabular_problem() {
    // Reference: MLPClassifier(hidden_layer_sizes=(64,)) on the same split, from
    // scripts/make_tabular.py (scikit-learn 1.9.1).
    let reference = sklearn_reference()["classification_test_accuracy"]
        .as_f64()
        .unwrap();
    let out = nabla()
        .args([
            "train",
            "--data",
            s(&examples("tabular-classification-train.csv")),
        ])
        .args([
            "--test",
            s(&examples("tabular-classification-test.csv")),
            "--optimizer",
            "adam",
        ])
        .args(["--hidden", "64", "--activation", "relu", "--json"])
        .assert()
        .success();
    let accuracy = json_of(&out)["test_accuracy"].as_f64().unwrap();
    assert!(
        accuracy >= reference,
        "nabla {accuracy} vs scikit-learn {reference}"
    );
}

#[test]
fn adam_comes_within_a_hundredth_of_scikit_learn_s_r2_on_a_generated_regression() {
    let reference = sklearn_reference()["regression_test_r2"].as_f64().unwrap();
    let dir = temp();
    let model = dir.path().join("r.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&examples("tabular-regression-train.csv")),
            "--task",
            "regression",
        ])
        .args([
            "--optimizer",
            "adam",
            "--hidden",
            "64",
            "--activation",
            "relu",
            "--epochs",
            "100",
            "--batch-size",
            "32",
        ])
        .args(["--quiet", "--out", s(&model)])
        .assert()
        .success();
    let out = nabla()
        .args([
            "eval",
            "--model",
            s(&model),
            "--data",
            s(&examples("tabular-regression-test.csv")),
            "--json",
        ])
        .assert()
        .success();
    let r2 = json_of(&out)["r2"].as_f64().unwrap();
    assert!(
        r2 >= reference - 0.01,
        "nabla R² {r2} vs scikit-learn {reference}"
    );
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "MNIST runs in release mode: cargo test --release"
)]
fn the_nielsen_presets_reach_94_and_96_percent_on_the_embedded_mnist_subset() {
    for (preset, floor) in [("nielsen-ch1", 0.94), ("nielsen-ch3", 0.96)] {
        let out = nabla()
            .args(["train", "--preset", preset, "--json"])
            .assert()
            .success();
        let accuracy = json_of(&out)["test_accuracy"].as_f64().unwrap();
        assert!(accuracy >= floor, "{preset}: {accuracy} < {floor}");
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "MNIST runs in release mode: cargo test --release"
)]
fn the_best_mnist_preset_reaches_97_5_percent() {
    let out = nabla()
        .args(["train", "--preset", "mnist-best", "--json"])
        .assert()
        .success();
    let accuracy = json_of(&out)["test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.975, "mnist-best: {accuracy}");
}

#[test]
fn train_writes_its_curves_and_a_json_line_per_epoch() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 60, 2);
    let (svg, png_path, log) = (
        dir.path().join("c.svg"),
        dir.path().join("c.png"),
        dir.path().join("m.jsonl"),
    );
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--test",
            s(&data),
            "--task",
            "classification",
            "--epochs",
            "4",
            "--quiet",
        ])
        .args(["--plot", s(&svg), "--log", s(&log)])
        .assert()
        .success();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["epoch"].as_u64(), Some(4));
    assert!(lines[0]["test"]["accuracy"].as_f64().is_some());
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    roxmltree::Document::parse(&svg_text).expect("the SVG is XML");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--task",
            "classification",
            "--epochs",
            "2",
            "--quiet",
            "--plot",
            s(&png_path),
        ])
        .assert()
        .success();
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let reader = decoder.read_info().unwrap();
    assert!(reader.info().width > 100 && reader.info().height > 100);
}

#[test]
fn a_plot_or_log_that_cannot_be_written_is_refused_before_training() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 30, 1);
    let out = dir.path().join("m.safetensors");
    let base = [
        "train",
        "--data",
        s(&data),
        "--task",
        "classification",
        "--out",
        s(&out),
    ];
    let missing = dir.path().join("no/such/c.svg");
    assert_error(
        nabla().args(base).args(["--plot", s(&missing)]),
        &["--plot", "does not exist"],
    );
    let wrong = dir.path().join("c.jpg");
    assert_error(
        nabla().args(base).args(["--plot", s(&wrong)]),
        &["--plot", ".svg or .png"],
    );
    let log = dir.path().join("no/such/m.jsonl");
    assert_error(
        nabla().args(base).args(["--log", s(&log)]),
        &["--log", "does not exist"],
    );
    assert!(!out.exists() && !wrong.exists());
}

/// After early stopping the model that is saved is the restored epoch's, so the final test
/// metrics (JSON and text) must be that model's, as `nabla eval` of the saved file finds
/// them, not the last epoch's.
#[test]
fn after_early_stopping_the_final_test_metrics_are_those_of_the_saved_model() {
    let dir = temp();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/examples");
    let (train, test) = (
        examples.join("moons-train.csv"),
        examples.join("moons-test.csv"),
    );
    let model = dir.path().join("es.safetensors");
    let args = [
        "train",
        "--data",
        s(&train),
        "--test",
        s(&test),
        "--epochs",
        "50",
        "--validation",
        "0.2",
        "--patience",
        "2",
        "--out",
        s(&model),
    ];
    let json = json_of(&nabla().args(args).arg("--json").assert().success());
    let (best, ran) = (
        json["best_epoch"].as_u64().unwrap() as usize,
        json["history"].as_array().unwrap().len(),
    );
    assert!(
        best < ran,
        "this run restores an earlier epoch ({best} of {ran})"
    );
    let last_test = &json["history"][ran - 1]["test"];
    let eval = json_of(
        &nabla()
            .args(["eval", "--model", s(&model), "--data", s(&test), "--json"])
            .assert()
            .success(),
    );
    assert_eq!(json["test_accuracy"], eval["accuracy"], "eval: {eval}");
    assert_eq!(json["test_macro_f1"], eval["macro_f1"], "eval: {eval}");
    assert_eq!(json["test_cost"], eval["cost"], "eval: {eval}");
    assert_ne!(
        json["test_cost"], last_test["cost"],
        "the last epoch's test cost differs from the restored one's"
    );
    // The text report says the same.
    let text = nabla().args(args).assert().success();
    let stdout = stdout_of(&text);
    let accuracy = eval["accuracy"].as_f64().unwrap() * 100.0;
    assert!(
        stdout.contains(&format!("test accuracy {accuracy:.2}% (restored weights)")),
        "{stdout}"
    );
}

/// A regression run ends with the test set's RMSE, MAE and R² (what `eval` reports).
#[test]
fn a_regression_run_ends_with_rmse_mae_and_r2_on_the_test_set() {
    let dir = temp();
    let train = regression_csv(&dir, "train.csv", 80, 1);
    let test = regression_csv(&dir, "test.csv", 40, 2);
    let out = nabla()
        .args([
            "train",
            "--data",
            s(&train),
            "--test",
            s(&test),
            "--epochs",
            "3",
        ])
        .assert()
        .success();
    let stdout = stdout_of(&out);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("test RMSE ") && last.contains(" MAE ") && last.contains(" R² "),
        "{stdout}"
    );
}

/// Flags > config file > preset for list settings too: a `--hidden` on the command line
/// replaces the config file's (clap alone would append the two lists), and `--hidden` or
/// `--layers` replaces a preset's layer sizes instead of conflicting with them.
#[test]
fn command_line_layer_sizes_replace_those_of_the_config_file_and_the_preset() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 40, 6);
    let config = write_file(&dir, "run.toml", "hidden = [64, 32]\nepochs = 1\n");
    let layers = |args: &[&str]| -> serde_json::Value {
        json_of(&nabla().args(args).arg("--json").assert().success())["layers"].clone()
    };
    let run = ["train", "--data", s(&data), "--config", s(&config)];
    assert_eq!(layers(&run), serde_json::json!([3, 64, 32, 3]));
    assert_eq!(
        layers(&[&run[..], &["--hidden", "16"]].concat()),
        serde_json::json!([3, 16, 3])
    );
    for extra in [["--layers", "784,20,10"], ["--hidden", "20"]].iter() {
        for preset in ["nielsen-ch1", "nielsen-ch3"] {
            let args = [
                &["train", "--preset", preset, "--epochs", "1"][..],
                &extra[..],
            ]
            .concat();
            assert_eq!(layers(&args), serde_json::json!([784, 20, 10]), "{args:?}");
        }
    }
    // The config file's sizes replace the preset's in turn.
    let config = write_file(
        &dir,
        "p.toml",
        "preset = \"nielsen-ch1\"\nhidden = [40]\nepochs = 1\n",
    );
    assert_eq!(
        layers(&["train", "--config", s(&config)]),
        serde_json::json!([784, 40, 10])
    );
}

/// The run's header says what the run does: full batch for L-BFGS and Rprop, no hidden
/// layer when there is none, and a learning rate of 1e30 as `1e30`, not 31 digits; a model
/// trained `--from` another records where it came from.
#[test]
fn the_header_and_the_training_record_say_what_the_run_did() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 40, 9);
    let header = |extra: &[&str]| -> String {
        let out = nabla()
            .args(["train", "--data", s(&data), "--epochs", "1"])
            .args(extra)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stderr)
            .lines()
            .find(|l| l.starts_with("nabla: training"))
            .unwrap_or_default()
            .to_string()
    };
    assert!(header(&["--optimizer", "lbfgs"]).contains(", full batch,"));
    assert!(header(&["--batch-size", "7"]).contains(", mini-batch 7,"));
    assert!(header(&["--layers", "3,3"]).contains("(no hidden layer,"));
    assert!(header(&["--lr", "1e-30"]).contains("eta 1e-30,"));
    let first = dir.path().join("first.safetensors");
    let second = dir.path().join("second.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--out",
            s(&first),
        ])
        .assert()
        .success();
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--from",
            s(&first),
        ])
        .args(["--out", s(&second)])
        .assert()
        .success();
    let record = read_st(&second).metadata["training"].clone();
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["from"], serde_json::json!(s(&first)), "{record}");
}

/// `--from` keeps the model's own optimizer, learning rate and mini-batch size unless the
/// command line gives them, and says so.
#[test]
fn continuing_a_model_keeps_its_optimizer_learning_rate_and_batch_size() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 60, 12);
    let first = dir.path().join("first.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--optimizer",
            "adam",
        ])
        .args(["--batch-size", "16", "--out", s(&first)])
        .assert()
        .success();
    let config_of = |path: &std::path::Path| -> serde_json::Value {
        let record = read_st(path).metadata["training"].clone();
        serde_json::from_str::<serde_json::Value>(&record).unwrap()["config"].clone()
    };
    let kept = dir.path().join("kept.safetensors");
    let out = nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--from",
            s(&first),
        ])
        .args(["--out", s(&kept)])
        .assert()
        .success();
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("continuing with the model's own --optimizer adam"),
        "{stderr}"
    );
    let (a, b) = (config_of(&first), config_of(&kept));
    assert_eq!(b["optimizer"], a["optimizer"]);
    assert_eq!(b["learning_rate"], a["learning_rate"]);
    assert_eq!(b["batch_size"], serde_json::json!(16));
    // Flags still win.
    let changed = dir.path().join("changed.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--from",
            s(&first),
        ])
        .args(["--optimizer", "sgd", "--lr", "0.2", "--out", s(&changed)])
        .assert()
        .success();
    let c = config_of(&changed);
    assert_eq!(c["optimizer"]["kind"], serde_json::json!("sgd"), "{c}");
    assert_eq!(c["learning_rate"], serde_json::json!(0.2));
}

/// `--optimizer nesterov` trains with Nesterov's form (it was plain momentum when
/// `--nesterov` was not given too), and `--from` names it and its settings.
#[test]
fn nesterov_is_kept_and_named_with_its_settings() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 60, 14);
    let config_of = |path: &std::path::Path| -> serde_json::Value {
        let record = read_st(path).metadata["training"].clone();
        serde_json::from_str::<serde_json::Value>(&record).unwrap()["config"].clone()
    };
    let first = dir.path().join("first.safetensors");
    nabla()
        .args(["train", "--data", s(&data), "--epochs", "1"])
        .args(["--optimizer", "nesterov", "--out", s(&first)])
        .assert()
        .success();
    let stored = config_of(&first);
    assert_eq!(
        stored["optimizer"]["nesterov"],
        serde_json::json!(true),
        "{stored}"
    );
    let second = dir.path().join("second.safetensors");
    nabla()
        .args(["train", "--data", s(&data), "--epochs", "1"])
        .args([
            "--optimizer",
            "momentum",
            "--momentum",
            "0.5",
            "--out",
            s(&second),
        ])
        .assert()
        .success();
    for (model, note) in [
        (&first, "own --optimizer nesterov,"),
        (&second, "own --optimizer momentum --momentum 0.5,"),
    ] {
        let out = nabla()
            .args([
                "train",
                "--data",
                s(&data),
                "--epochs",
                "1",
                "--from",
                s(model),
            ])
            .args(["--out", s(&dir.path().join("next.safetensors"))])
            .assert()
            .success();
        let stderr = stderr_of(&out);
        assert!(stderr.contains(note), "{stderr}");
    }
}

/// With momentum μ the default η is the plain default times (1 − μ): the same effective
/// step, so a default momentum run on CSV data learns instead of diverging.
#[test]
fn the_default_learning_rate_with_momentum_is_scaled_by_one_minus_mu() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 60, 13);
    for (momentum, eta) in [
        (["--optimizer", "momentum"], "eta 0.05,"),
        (["--momentum", "0.5"], "eta 0.25,"),
    ] {
        let out = nabla()
            .args(["train", "--data", s(&data), "--epochs", "2"])
            .args(momentum)
            .assert()
            .success();
        let stderr = stderr_of(&out);
        assert!(stderr.contains(eta), "{stderr}");
    }
}

/// Paths in a config file are relative to the file's folder, wherever nabla runs from.
#[test]
fn paths_in_a_config_file_are_relative_to_its_folder() {
    let dir = temp();
    let sub = dir.path().join("runs");
    std::fs::create_dir(&sub).unwrap();
    classification_csv(&dir, "runs/d.csv", 40, 14);
    let config = write_file(
        &dir,
        "runs/run.toml",
        "data = \"d.csv\"\nout = \"m.safetensors\"\nepochs = 1\n",
    );
    nabla()
        .current_dir(std::env::temp_dir())
        .args(["train", "--config", s(&config)])
        .assert()
        .success();
    assert!(sub.join("m.safetensors").exists());
}
