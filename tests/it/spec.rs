//! The training spec: one set of settings given as flags, as a TOML file and as a
//! `TrainSpec` built in Rust resolves to the same spec and trains to the same bits; errors
//! name settings in the library and flags on the command line.

use nabla::spec::{prepare, Precision};
use nabla::{Setting, TrainSpec};

use crate::util::*;

/// Settings that touch every part of the spec: data, architecture, optimizer and its own
/// settings, schedule, regularisation, validation, seed, precision.
const FLAGS: &[&str] = &[
    "--hidden",
    "6,4",
    "--activation",
    "tanh",
    "--optimizer",
    "adam",
    "--beta1",
    "0.8",
    "--schedule",
    "step",
    "--step-size",
    "2",
    "--epochs",
    "4",
    "--batch-size",
    "8",
    "--no-shuffle",
    "--l2",
    "0.5",
    "--validation",
    "0.2",
    "--seed",
    "7",
    "--precision",
    "f64",
];

const TOML: &str = "hidden = [6, 4]\nactivation = \"tanh\"\noptimizer = \"adam\"\nbeta1 = 0.8\n\
schedule = \"step\"\nstep_size = 2\nepochs = 4\nbatch-size = 8\nno-shuffle = true\nl2 = 0.5\n\
validation = 0.2\nseed = 7\nprecision = \"f64\"\n";

fn rust_spec(data: &std::path::Path) -> TrainSpec {
    TrainSpec {
        data: Some(data.to_path_buf()),
        hidden: Some(vec![6, 4]),
        activation: Some("tanh".parse().unwrap()),
        optimizer: Some("adam".parse().unwrap()),
        beta1: Some(0.8),
        schedule: Some("step".parse().unwrap()),
        step_size: Some(2),
        epochs: Some(4),
        batch_size: Some(8),
        shuffle: Some(false),
        l2: Some(0.5),
        validation: Some(0.2),
        seed: Some(7),
        precision: Some(Precision::F64),
        ..TrainSpec::default()
    }
}

#[test]
fn flags_a_toml_file_and_a_rust_spec_resolve_alike_and_train_to_the_same_bits() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 60, 3);
    let by_flags = dir.path().join("flags.safetensors");
    let out = nabla()
        .args(["train", "--data", s(&data), "--json", "--out", s(&by_flags)])
        .args(FLAGS)
        .assert()
        .success();
    let flags_summary: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();

    let config = write_file(&dir, "run.toml", TOML);
    let by_file = dir.path().join("file.safetensors");
    let out = nabla()
        .args(["train", "--data", s(&data), "--config", s(&config)])
        .args(["--json", "--out", s(&by_file)])
        .assert()
        .success();
    let file_summary: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();

    let mut prepared = prepare::<f64>(&rust_spec(&data)).unwrap();
    let summary = prepared
        .train(|_| std::ops::ControlFlow::Continue(()))
        .unwrap();
    let rust_bytes = prepared.model.to_bytes().unwrap();

    // The same resolved spec (thread counts aside, which change no bits)…
    let mut rust_spec_json = serde_json::to_value(&summary.spec).unwrap();
    rust_spec_json.as_object_mut().unwrap().remove("threads");
    for summary in [&flags_summary, &file_summary] {
        let mut spec = summary["spec"].clone();
        spec.as_object_mut().unwrap().remove("threads");
        assert_eq!(spec, rust_spec_json);
    }
    assert_eq!(
        rust_spec_json["lr"],
        serde_json::json!(0.001),
        "adam's own η"
    );
    assert_eq!(rust_spec_json["beta1"], serde_json::json!(0.8));
    assert_eq!(rust_spec_json["layers"], serde_json::json!([3, 6, 4, 3]));
    // …and the same bytes: weights, metadata and the training record.
    let flags_bytes = std::fs::read(&by_flags).unwrap();
    assert!(
        flags_bytes == std::fs::read(&by_file).unwrap(),
        "flags vs TOML"
    );
    assert!(flags_bytes == rust_bytes, "flags vs Rust");
}

#[test]
fn library_errors_name_settings_and_the_command_line_names_flags() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 30, 1);
    let cases: Vec<(TrainSpec, Setting)> = vec![
        (
            TrainSpec {
                optimizer: Some("sgd".parse().unwrap()),
                beta1: Some(0.5),
                ..rust_spec(&data)
            },
            Setting::Beta1,
        ),
        (
            TrainSpec {
                patience: Some(2),
                validation: None,
                ..rust_spec(&data)
            },
            Setting::Patience,
        ),
        (
            TrainSpec {
                hidden: None,
                layers: Some(vec![4, 5, 9]),
                ..rust_spec(&data)
            },
            Setting::Layers,
        ),
        (
            TrainSpec {
                dropout: Some(2.0),
                ..rust_spec(&data)
            },
            Setting::Dropout,
        ),
    ];
    for (spec, setting) in cases {
        let err = prepare::<f64>(&spec).unwrap_err();
        assert_eq!(err.setting(), Some(setting), "{err}");
        let text = err.to_string();
        assert!(
            !text.contains("--"),
            "a library message names a flag: {text}"
        );
        assert!(
            text.starts_with(&format!("invalid {}", setting.name())),
            "{text}"
        );
        // A front end renders it with its own names.
        let rendered = err.render(&|s| format!("<{}>", s.name()));
        assert!(rendered.starts_with(&format!("invalid <{}>", setting.name())));
    }
    // One through the binary: the early-stopping rule mentions --validation by its flag.
    assert_error(
        nabla().args(["train", "--data", s(&data), "--patience", "2"]),
        &["invalid --patience", "add --validation"],
    );
}
