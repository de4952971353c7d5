//! Every command end to end on small generated files, with the model files read back by the
//! safetensors crate and the gradients checked against an independent forward pass.

use predicates::prelude::*;
use safetensors::tensor::Dtype;

use crate::util::*;

fn num(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("'{key}' is not a number in {v}"))
}

#[test]
fn init_writes_a_safetensors_file_with_pytorch_names_shapes_and_f32() {
    let dir = temp();
    let out = dir.path().join("m.safetensors");
    nabla()
        .args(["init", "--layers", "4,5,3", "--out", s(&out)])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote").and(predicate::str::contains("43 parameters")));
    let file = read_st(&out);
    let mut names: Vec<&str> = file.tensors.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "layers.0.bias",
            "layers.0.weight",
            "layers.1.bias",
            "layers.1.weight"
        ]
    );
    assert_eq!(file.tensors["layers.0.weight"].shape, [5, 4]);
    assert_eq!(file.tensors["layers.0.bias"].shape, [5]);
    assert_eq!(file.tensors["layers.1.weight"].shape, [3, 5]);
    assert_eq!(file.tensors["layers.1.bias"].shape, [3]);
    assert!(file.tensors.values().all(|t| t.dtype == Dtype::F32));
    assert!(file
        .tensors
        .values()
        .all(|t| t.values.iter().all(|v| v.is_finite())));
    assert_eq!(file.metadata["format"], "nabla/1");
    assert_eq!(file.metadata["layers"], "4,5,3");
    assert_eq!(file.metadata["task"], "classification");
}

#[test]
fn init_with_precision_f64_stores_f64_tensors() {
    let dir = temp();
    let out = dir.path().join("m.safetensors");
    nabla()
        .args([
            "init",
            "--layers",
            "4,5,3",
            "--precision",
            "f64",
            "--out",
            s(&out),
        ])
        .assert()
        .success();
    let file = read_st(&out);
    assert_eq!(file.tensors.len(), 4);
    assert!(file.tensors.values().all(|t| t.dtype == Dtype::F64));
    assert_eq!(file.tensors["layers.1.weight"].shape, [3, 5]);
}

#[test]
fn train_with_json_reports_epochs_costs_accuracy_and_timings_and_learns() {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 60, 1);
    let test = classification_csv(&dir, "test.csv", 30, 2);
    let out = dir.path().join("m.safetensors");
    let assert = nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--test",
            s(&test),
            "--epochs",
            "30",
            "--out",
            s(&out),
            "--json",
        ])
        .assert()
        .success();
    let v = json_of(&assert);
    assert_eq!(v["epochs"], 30);
    assert!(num(&v, "train_cost").is_finite() && num(&v, "train_cost") >= 0.0);
    assert!(num(&v, "test_cost").is_finite() && num(&v, "test_cost") >= 0.0);
    let accuracy = num(&v, "test_accuracy");
    assert!((0.0..=1.0).contains(&accuracy));
    assert!(
        accuracy >= 0.8,
        "a 3-class rule on 60 rows should be learnt: test accuracy {accuracy}"
    );
    assert!(num(&v, "train_seconds") >= 0.0);
    let epochs = v["epoch_seconds"]
        .as_array()
        .expect("epoch_seconds is an array");
    assert_eq!(epochs.len(), 30);
    assert!(epochs.iter().all(|s| s.as_f64().is_some_and(|s| s >= 0.0)));
    assert_eq!(v["task"], "classification");
    assert_eq!(v["layers"], serde_json::json!([3, 30, 3]));
    let file = read_st(&out);
    assert_eq!(file.metadata["classes"], r#"["a","b","c"]"#);
    assert_eq!(file.metadata["features"], r#"["x0","x1","x2"]"#);
    assert_eq!(file.tensors["layers.0.weight"].shape, [30, 3]);
}

#[test]
fn train_without_json_prints_one_line_per_epoch_then_the_test_confusion_matrix() {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 60, 1);
    let test = classification_csv(&dir, "test.csv", 30, 2);
    let assert = nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--test",
            s(&test),
            "--epochs",
            "4",
        ])
        .assert()
        .success();
    let stdout = stdout_of(&assert);
    let lines: Vec<&str> = stdout.lines().collect();
    let epochs: Vec<&&str> = lines.iter().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 4, "{stdout}");
    assert!(
        lines[0].starts_with("epoch 1/4") && lines[0].contains("test accuracy"),
        "{stdout}"
    );
    // After the epochs: macro F1 and the confusion matrix of the test set (3 classes).
    assert!(lines[4].starts_with("test macro F1 "), "{stdout}");
    assert!(lines[5].starts_with("confusion matrix"), "{stdout}");
    assert_eq!(lines.len(), 4 + 2 + 1 + 3, "{stdout}");
}

#[test]
fn train_on_a_regression_csv_reports_test_rmse() {
    let dir = temp();
    let data = regression_csv(&dir, "train.csv", 60, 3);
    let test = regression_csv(&dir, "test.csv", 20, 4);
    let out = dir.path().join("r.safetensors");
    let assert = nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--test",
            s(&test),
            "--epochs",
            "20",
            "--out",
            s(&out),
            "--json",
        ])
        .assert()
        .success();
    let v = json_of(&assert);
    assert_eq!(v["task"], "regression");
    assert_eq!(v["epochs"], 20);
    assert!(num(&v, "test_rmse").is_finite() && num(&v, "test_rmse") >= 0.0);
    assert!(num(&v, "train_rmse").is_finite());
    assert!(num(&v, "test_cost").is_finite());
    assert!(v
        .get("test_accuracy")
        .is_none_or(serde_json::Value::is_null));
    assert_eq!(read_st(&out).metadata["task"], "regression");
}

#[test]
fn eval_prints_cost_accuracy_and_a_confusion_matrix() {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 60, 1);
    let test = classification_csv(&dir, "test.csv", 30, 2);
    let model = train_model(&dir, "m.safetensors", &data, &[]);
    nabla()
        .args(["eval", "--model", s(&model), "--data", s(&test)])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("examples  30")
                .and(predicate::str::contains("cost C"))
                .and(predicate::str::contains("accuracy"))
                .and(predicate::str::contains("confusion matrix")),
        );
    let v = json_of(
        &nabla()
            .args(["eval", "--model", s(&model), "--data", s(&test), "--json"])
            .assert()
            .success(),
    );
    assert_eq!(v["n"], 30);
    assert!(num(&v, "cost").is_finite());
    let accuracy = num(&v, "accuracy");
    assert!((0.0..=1.0).contains(&accuracy));
    assert_eq!(v["classes"], serde_json::json!(["a", "b", "c"]));
    let confusion: Vec<Vec<u64>> =
        serde_json::from_value(v["confusion"].clone()).expect("a confusion matrix");
    assert_eq!(confusion.len(), 3);
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 30);
    let diagonal: u64 = (0..3).map(|i| confusion[i][i]).sum();
    assert_eq!(diagonal as f64 / 30.0, accuracy);
}

#[test]
fn eval_on_a_regression_model_prints_rmse_mae_and_r2() {
    let dir = temp();
    let data = regression_csv(&dir, "train.csv", 60, 3);
    let model = dir.path().join("r.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "5",
            "--json",
            "--out",
            s(&model),
        ])
        .assert()
        .success();
    nabla()
        .args(["eval", "--model", s(&model), "--data", s(&data)])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("RMSE")
                .and(predicate::str::contains("MAE"))
                .and(predicate::str::contains("R^2")),
        );
    let v = json_of(
        &nabla()
            .args(["eval", "--model", s(&model), "--data", s(&data), "--json"])
            .assert()
            .success(),
    );
    assert_eq!(v["n"], 60);
    assert_eq!(v["task"], "regression");
    assert!(num(&v, "rmse") >= 0.0 && num(&v, "mae") >= 0.0 && num(&v, "r2").is_finite());
}

#[test]
fn predict_writes_a_header_and_one_row_per_input_row() {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 60, 1);
    let test = classification_csv(&dir, "test.csv", 30, 2);
    let model = train_model(&dir, "m.safetensors", &data, &[]);
    let assert = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&test)])
        .assert()
        .success();
    let stdout = stdout_of(&assert);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "predicted,a,b,c");
    assert_eq!(lines.len(), 31, "{stdout}");
    for line in &lines[1..] {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 4, "{line}");
        assert!(["a", "b", "c"].contains(&cells[0]), "{line}");
        let p: Vec<f64> = cells[1..]
            .iter()
            .map(|c| c.parse().expect("a probability"))
            .collect();
        assert!(
            (p.iter().sum::<f64>() - 1.0).abs() < 1e-5,
            "softmax outputs sum to 1: {line}"
        );
        let best = (0..3).fold(0, |b, j| if p[j] > p[b] { j } else { b });
        assert_eq!(cells[0], ["a", "b", "c"][best], "{line}");
    }

    // --out: the same CSV in a file, nothing on stdout.
    let out = dir.path().join("p.csv");
    nabla()
        .args([
            "predict",
            "--model",
            s(&model),
            "--data",
            s(&test),
            "--out",
            s(&out),
        ])
        .assert()
        .success()
        .stdout("");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), stdout);

    // Inputs without the label column predict just the same.
    let features_only: String = classification_text(30, 2)
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let inputs = write_file(&dir, "inputs.csv", features_only);
    nabla()
        .args(["predict", "--model", s(&model), "--data", s(&inputs)])
        .assert()
        .success()
        .stdout(stdout);
}

#[test]
fn predict_with_a_regression_model_names_the_target_column() {
    let dir = temp();
    let data = regression_csv(&dir, "train.csv", 40, 3);
    let model = dir.path().join("r.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "2",
            "--json",
            "--out",
            s(&model),
        ])
        .assert()
        .success();
    let assert = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&data)])
        .assert()
        .success();
    let stdout = stdout_of(&assert);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "y");
    assert_eq!(lines.len(), 41);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.parse::<f64>().is_ok_and(f64::is_finite)),
        "{stdout}"
    );
}

#[test]
fn grad_json_gives_every_gradient_under_the_model_tensor_names() {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 12, 1);
    let model = train_model(&dir, "m.safetensors", &data, &[]);
    let v = json_of(
        &nabla()
            .args(["grad", "--model", s(&model), "--data", s(&data), "--json"])
            .assert()
            .success(),
    );
    assert_eq!(v["examples"], 12);
    assert_eq!(v["precision"], "f64");
    assert!(num(&v, "cost").is_finite());
    let g = &v["gradients"];
    let shape = |name: &str| -> Vec<usize> {
        let t = &g[name];
        match t
            .as_array()
            .and_then(|rows| rows.first())
            .and_then(|r| r.as_array())
        {
            Some(row) => vec![t.as_array().unwrap().len(), row.len()],
            None => vec![t
                .as_array()
                .unwrap_or_else(|| panic!("{name} missing in {g}"))
                .len()],
        }
    };
    assert_eq!(shape("layers.0.weight"), [5, 3]);
    assert_eq!(shape("layers.0.bias"), [5]);
    assert_eq!(shape("layers.1.weight"), [3, 5]);
    assert_eq!(shape("layers.1.bias"), [3]);
    assert_eq!(g.as_object().unwrap().len(), 4);

    // --out writes the same numbers as safetensors.
    let out = dir.path().join("g.safetensors");
    nabla()
        .args([
            "grad",
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--out",
            s(&out),
        ])
        .assert()
        .success();
    let file = read_st(&out);
    assert_eq!(file.metadata["format"], "nabla-gradients/1");
    let text = stdout_of(
        &nabla()
            .args(["grad", "--model", s(&model), "--data", s(&data), "--json"])
            .assert()
            .success(),
    );
    for name in [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ] {
        assert_eq!(
            file.tensors[name].values,
            exact_numbers(raw(raw(&text, "gradients"), name)),
            "{name}"
        );
        assert_eq!(file.tensors[name].dtype, Dtype::F64);
    }
    assert_eq!(
        file.metadata["cost"].parse::<f64>().unwrap().to_bits(),
        exact(&text, "cost").to_bits()
    );
}

/// The train report's test metrics are those of the saved model: a round trip through the
/// file changes no bit. Numbers are parsed exactly from the JSON text (see `util::raw`).
fn round_trip(precision: &str) {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 60, 1);
    let test = classification_csv(&dir, "test.csv", 30, 2);
    let model = dir.path().join("m.safetensors");
    let trained = stdout_of(
        &nabla()
            .args([
                "train",
                "--data",
                s(&data),
                "--test",
                s(&test),
                "--epochs",
                "5",
                "--json",
                "--precision",
                precision,
                "--out",
                s(&model),
            ])
            .assert()
            .success(),
    );
    let evaluated = stdout_of(
        &nabla()
            .args(["eval", "--model", s(&model), "--data", s(&test), "--json"])
            .assert()
            .success(),
    );
    assert_eq!(
        exact(&trained, "test_cost").to_bits(),
        exact(&evaluated, "cost").to_bits(),
        "train {trained}\neval {evaluated}"
    );
    assert_eq!(
        exact(&trained, "test_accuracy").to_bits(),
        exact(&evaluated, "accuracy").to_bits()
    );
    // And the training set's numbers too.
    let on_train = stdout_of(
        &nabla()
            .args(["eval", "--model", s(&model), "--data", s(&data), "--json"])
            .assert()
            .success(),
    );
    assert_eq!(
        exact(&trained, "train_cost").to_bits(),
        exact(&on_train, "cost").to_bits()
    );
    assert_eq!(
        exact(&trained, "train_accuracy").to_bits(),
        exact(&on_train, "accuracy").to_bits()
    );
}

#[test]
fn train_save_load_eval_round_trip_reproduces_the_test_cost_and_accuracy_exactly() {
    round_trip("f32");
}

#[test]
fn the_round_trip_is_exact_in_f64_too() {
    round_trip("f64");
}

/// C of a [3, h, 2] tanh/softmax/cross-entropy network, computed here from the tensors alone.
fn cost_of(file: &StFile, x: &[[f64; 3]], labels: &[usize]) -> f64 {
    let (w0, b0) = (
        &file.tensors["layers.0.weight"],
        &file.tensors["layers.0.bias"],
    );
    let (w1, b1) = (
        &file.tensors["layers.1.weight"],
        &file.tensors["layers.1.bias"],
    );
    let (hidden, n_in) = (w0.shape[0], w0.shape[1]);
    let n_out = w1.shape[0];
    let mut total = 0.0;
    for (xi, &label) in x.iter().zip(labels) {
        let a1: Vec<f64> = (0..hidden)
            .map(|j| {
                ((0..n_in)
                    .map(|k| w0.values[j * n_in + k] * xi[k])
                    .sum::<f64>()
                    + b0.values[j])
                    .tanh()
            })
            .collect();
        let z2: Vec<f64> = (0..n_out)
            .map(|j| {
                (0..hidden)
                    .map(|k| w1.values[j * hidden + k] * a1[k])
                    .sum::<f64>()
                    + b1.values[j]
            })
            .collect();
        let max = z2.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + z2.iter().map(|z| (z - max).exp()).sum::<f64>().ln();
        total += lse - z2[label]; // -ln softmax(z)_label
    }
    total / x.len() as f64
}

#[test]
fn grad_agrees_with_central_differences_of_an_independent_forward_pass() {
    let dir = temp();
    let model = init_model(
        &dir,
        "m.safetensors",
        &[
            "--layers",
            "3,4,2",
            "--activation",
            "tanh",
            "--output",
            "softmax",
            "--cost",
            "cross-entropy",
            "--precision",
            "f64",
            "--seed",
            "3",
        ],
    );
    let x = [
        [0.5, -1.0, 2.0],
        [1.5, 0.25, -0.75],
        [-2.0, 1.0, 0.0],
        [0.1, 0.2, 0.3],
        [-0.6, -1.4, 1.1],
    ];
    let labels = [0usize, 1, 1, 0, 1];
    let mut text = String::from("f0,f1,f2,label\n");
    for (xi, l) in x.iter().zip(labels) {
        text += &format!("{},{},{},{l}\n", xi[0], xi[1], xi[2]);
    }
    let data = write_file(&dir, "tiny.csv", text);
    let text = stdout_of(
        &nabla()
            .args(["grad", "--model", s(&model), "--data", s(&data), "--json"])
            .assert()
            .success(),
    );
    let file = read_st(&model);
    assert!(file.tensors.values().all(|t| t.dtype == Dtype::F64));
    let grad_cost = exact(&text, "cost");

    // The binary's C is the one computed here.
    let c = cost_of(&file, &x, &labels);
    assert!(
        (grad_cost - c).abs() <= 1e-13 * c.abs(),
        "grad's C {grad_cost} vs {c}"
    );

    let h = 1e-5;
    let mut checked = 0;
    for name in [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ] {
        let backprop = exact_numbers(raw(raw(&text, "gradients"), name));
        assert_eq!(backprop.len(), file.tensors[name].values.len(), "{name}");
        for (i, &g) in backprop.iter().enumerate() {
            let mut plus = file.clone();
            plus.tensors.get_mut(name).unwrap().values[i] += h;
            let mut minus = file.clone();
            minus.tensors.get_mut(name).unwrap().values[i] -= h;
            let numeric = (cost_of(&plus, &x, &labels) - cost_of(&minus, &x, &labels)) / (2.0 * h);
            let scale = g.abs().max(numeric.abs());
            assert!(
                (g - numeric).abs() <= 1e-6 * scale + 1e-10,
                "{name}[{i}]: backprop {g}, central difference {numeric}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * 3 + 4 + 2 * 4 + 2);

    // Through the binary as well, for one weight of each layer: perturbed model files
    // written with the safetensors crate (metadata kept), costs from `nabla eval`.
    let eval_cost = |f: &StFile, tag: &str| -> f64 {
        let path = dir.path().join(format!("{tag}.safetensors"));
        write_st(&path, f);
        exact(
            &stdout_of(
                &nabla()
                    .args(["eval", "--model", s(&path), "--data", s(&data), "--json"])
                    .assert()
                    .success(),
            ),
            "cost",
        )
    };
    let same = eval_cost(&file, "same");
    assert!(
        (same - c).abs() <= 1e-13 * c.abs(),
        "eval's C {same} vs {c}"
    );
    for (name, i) in [("layers.0.weight", 5), ("layers.1.weight", 3)] {
        let mut plus = file.clone();
        plus.tensors.get_mut(name).unwrap().values[i] += h;
        let mut minus = file.clone();
        minus.tensors.get_mut(name).unwrap().values[i] -= h;
        let numeric = (eval_cost(&plus, "plus") - eval_cost(&minus, "minus")) / (2.0 * h);
        let g = exact_numbers(raw(raw(&text, "gradients"), name))[i];
        assert!(
            (g - numeric).abs() <= 1e-6 * g.abs().max(numeric.abs()) + 1e-10,
            "{name}[{i}]: backprop {g}, eval differences {numeric}"
        );
    }
}

#[test]
fn training_twice_with_the_same_seed_gives_identical_weights_and_metadata() {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 60, 1);
    let first = train_model(&dir, "first.safetensors", &data, &["--seed", "7"]);
    let second = train_model(&dir, "second.safetensors", &data, &["--seed", "7"]);
    let (fa, fb) = (read_st(&first), read_st(&second));
    assert_eq!(fa.tensors, fb.tensors, "same seed, same weights");
    assert_eq!(fa.metadata, fb.metadata, "same seed, same metadata");
    // A different seed gives different weights.
    let third = train_model(&dir, "third.safetensors", &data, &["--seed", "8"]);
    assert_ne!(read_st(&third).tensors, fa.tensors);
}

#[test]
fn training_twice_with_the_same_seed_gives_identical_model_bytes() {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 60, 1);
    let first = train_model(&dir, "first.safetensors", &data, &["--seed", "7"]);
    let second = train_model(&dir, "second.safetensors", &data, &["--seed", "7"]);
    assert!(
        std::fs::read(&first).unwrap() == std::fs::read(&second).unwrap(),
        "same seed, but the files' bytes differ"
    );
    // init too.
    let a = init_model(&dir, "a.safetensors", &["--layers", "3,4,2", "--seed", "5"]);
    let b = init_model(&dir, "b.safetensors", &["--layers", "3,4,2", "--seed", "5"]);
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "init: same seed, but the files' bytes differ"
    );
}

#[test]
fn train_from_a_model_continues_training_and_changes_the_weights() {
    let dir = temp();
    let data = classification_csv(&dir, "train.csv", 60, 1);
    let first = train_model(&dir, "first.safetensors", &data, &[]);
    let second = dir.path().join("second.safetensors");
    let v = json_of(
        &nabla()
            .args([
                "train",
                "--from",
                s(&first),
                "--data",
                s(&data),
                "--epochs",
                "1",
                "--json",
                "--out",
                s(&second),
            ])
            .assert()
            .success(),
    );
    assert_eq!(v["epochs"], 1);
    assert_eq!(v["layers"], serde_json::json!([3, 5, 3]));
    let (a, b) = (read_st(&first), read_st(&second));
    assert_eq!(a.metadata["classes"], b.metadata["classes"]);
    assert_eq!(
        a.metadata["scaling"], b.metadata["scaling"],
        "the model's scaling is kept"
    );
    for name in a.tensors.keys() {
        assert_eq!(a.tensors[name].shape, b.tensors[name].shape);
    }
    assert_ne!(
        a.tensors["layers.0.weight"].values,
        b.tensors["layers.0.weight"].values
    );
    // Matching architecture flags are accepted.
    nabla()
        .args([
            "train",
            "--from",
            s(&first),
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--layers",
            "3,5,3",
            "--json",
        ])
        .assert()
        .success();
}

#[test]
fn train_on_a_tiny_idx_pair_reads_the_labels_beside_the_images() {
    let dir = temp();
    let images = vec![
        vec![0, 255, 0, 255],
        vec![255, 0, 255, 0],
        vec![255, 255, 0, 0],
        vec![0, 0, 255, 255],
        vec![10, 20, 30, 40],
    ];
    let labels = [0u8, 1, 2, 3, 9];
    let path = write_idx(&dir, "tiny", 2, 2, &images, &labels);
    assert!(path.ends_with("tiny-images-idx3-ubyte"));
    let out = dir.path().join("idx.safetensors");
    let v = json_of(
        &nabla()
            .args([
                "train",
                "--data",
                s(&path),
                "--layers",
                "4,3,10",
                "--epochs",
                "2",
                "--json",
                "--out",
                s(&out),
            ])
            .assert()
            .success(),
    );
    assert_eq!(v["epochs"], 2);
    assert_eq!(v["layers"], serde_json::json!([4, 3, 10]));
    assert!(num(&v, "train_cost").is_finite());
    let file = read_st(&out);
    assert_eq!(file.tensors["layers.1.weight"].shape, [10, 3]);
    let e = json_of(
        &nabla()
            .args(["eval", "--model", s(&out), "--data", s(&path), "--json"])
            .assert()
            .success(),
    );
    assert_eq!(e["n"], 5);
}

/// `nabla train … --out m | head -1`: the reader goes away after the first epoch's line;
/// training goes on, silently, and the model and the plot are still written.
#[test]
fn a_closed_stdout_does_not_lose_the_trained_model() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 200, 11);
    let (model, plot) = (dir.path().join("m.safetensors"), dir.path().join("p.svg"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args([
            "train",
            "--data",
            s(&data),
            "--test",
            s(&data),
            "--epochs",
            "2000",
        ])
        .args(["--out", s(&model), "--plot", s(&plot)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("epoch"), "{first}");
    // The pipe's reading end is dropped here, as `head -1` exits.
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(model.exists(), "the model is saved");
    assert!(plot.exists(), "the plot is drawn");
}
