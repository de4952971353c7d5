//! Real tables (issue 14, items 3, 4, 5 and 7): missing values, categories, CSV as other
//! tools write it (a pandas index, other delimiters, gzip, standard input), `predict
//! --keep`, short error lines; through the binary and through the library.

use std::io::Write;
use std::path::Path;

use nabla::data::encoding::{ColumnCode, Impute, UnknownCategory};
use nabla::data::source::{read_for_model_with, ModelReadOptions, TableNote};
use nabla::model_file::Model;
use nabla::spec::Note;
use nabla::TrainSpec;

use crate::util::*;

/// A table with a numeric column `a` (missing in three spellings), a category column
/// `color`, and a label `y` (the colour decides it).
fn colours(rows: usize) -> String {
    let mut text = String::from("a,color,y\n");
    for i in 0..rows {
        let color = ["red", "green", "blue"][i % 3];
        let a = match i {
            4 => "NA".to_string(),
            7 => "".to_string(),
            9 => "?".to_string(),
            _ => format!("{}", i % 5),
        };
        let y = if color == "red" { "hot" } else { "cold" };
        text += &format!("{a},{color},{y}\n");
    }
    text
}

#[test]
fn missing_values_are_an_error_naming_every_column_with_its_count() {
    let dir = temp();
    let data = write_file(
        &dir,
        "gaps.csv",
        "a,b,c,y\n1,2,3,x\nNA,2,,y\n3,null,N/A,x\n4,5,6,y\n",
    );
    let line = train_fails(
        &dir,
        &data,
        &[],
        &[
            "gaps.csv:3:",
            "missing values in 3 columns",
            "'a' (1, first on line 3)",
            "'b' (1, first on line 4)",
            "'c' (2, first on line 3)",
            "--impute mean, median, most-frequent or drop",
        ],
    );
    assert!(
        !line.contains('\u{2}'),
        "settings are rendered as flags: {line}"
    );
}

#[test]
fn imputed_values_are_learned_on_the_training_set_and_used_by_predict() {
    let dir = temp();
    let data = write_file(&dir, "c.csv", colours(30));
    // 27 values of i % 5 (i = 0..30 but 4, 7, 9): six each of 0, 1 and 3, five 2s, four 4s.
    for (how, fill) in [
        ("mean", 50.0 / 27.0),
        ("median", 2.0),
        ("most-frequent", 0.0),
    ] {
        let model = train_model(&dir, "m.safetensors", &data, &["--impute", how]);
        let m = Model::<f32>::load(&model).unwrap();
        let e = m.encoding.expect("an encoding is stored");
        assert_eq!(e.impute, Some(how.parse::<Impute>().unwrap()));
        match &e.columns[0] {
            ColumnCode::Numeric {
                name,
                fill: Some(v),
            } => {
                assert_eq!(name, "a");
                assert!((v - fill).abs() < 1e-12, "{how}: {v}");
            }
            other => panic!("{other:?}"),
        }
        // A new row with a missing value is filled the same way: it predicts.
        let new = write_file(&dir, "new.csv", "a,color\nNA,red\n1,blue\n");
        let out = nabla()
            .args(["predict", "--model", s(&model), "--data", s(&new)])
            .assert()
            .success();
        assert_eq!(stdout_of(&out).lines().count(), 3);
    }
    // --impute drop: the rows with a missing value are left out, with a note.
    let out = nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--impute",
            "drop",
        ])
        .assert()
        .success();
    assert!(stderr_of(&out).contains("left out 3 rows with missing values"));
    assert!(
        stderr_of(&out).contains("c.csv (27 examples)"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_model_without_imputation_names_a_missing_value_at_predict_time() {
    let dir = temp();
    let data = classification_csv(&dir, "d.csv", 30, 1);
    let model = train_model(&dir, "m.safetensors", &data, &[]);
    let new = write_file(&dir, "new.csv", "x0,x1,x2\n1,2,3\n1,NA,3\n");
    assert_error(
        nabla().args(["predict", "--model", s(&model), "--data", s(&new)]),
        &["new.csv:3:", "column 'x1'", "missing value", "--impute"],
    );
}

#[test]
fn other_spellings_of_missing_values_are_chosen_with_na_values() {
    let dir = temp();
    let data = write_file(&dir, "s.csv", "a,y\n1,x\n-999,y\n3,x\n4,y\n5,x\n");
    let out = nabla()
        .args(["train", "--data", s(&data), "--epochs", "1"])
        .args(["--na-values", "-999", "--impute", "mean"])
        .assert()
        .success();
    assert!(stderr_of(&out).contains("filled in missing values (--impute mean): a (1 cells)"));
    // NA is a category name here, not a missing value.
    let mut text = String::from("k,y\n");
    for i in 0..20 {
        text += &format!("{},{}\n", ["NA", "EU"][i % 2], ["a", "b"][i % 2]);
    }
    let data = write_file(&dir, "na.csv", text);
    let model = train_model(&dir, "na.safetensors", &data, &["--na-values", ""]);
    let st = read_st(&model);
    assert_eq!(st.metadata["features"], r#"["k=EU","k=NA"]"#);
}

#[test]
fn text_columns_with_few_values_are_one_hot_encoded_and_stored() {
    let dir = temp();
    let data = write_file(&dir, "c.csv", colours(60));
    let model = dir.path().join("c.safetensors");
    let out = nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "20",
            "--impute",
            "mean",
        ])
        .args(["--out", s(&model)])
        .assert()
        .success();
    assert!(
        stderr_of(&out).contains("one-hot encoded: color (3 categories)"),
        "{}",
        stderr_of(&out)
    );
    let st = read_st(&model);
    assert_eq!(
        st.metadata["features"],
        r#"["a","color=blue","color=green","color=red"]"#
    );
    assert!(st.metadata["encoding"].contains(r#""categories":["blue","green","red"]"#));
    // predict applies the categories; an unseen one is an error naming file, line, column…
    let new = write_file(&dir, "new.csv", "a,color\n1,red\n2,purple\n");
    let line = assert_error(
        nabla().args(["predict", "--model", s(&model), "--data", s(&new)]),
        &[
            "new.csv:3:",
            "column 'color'",
            "category 'purple' was not seen in training (known: blue, green, red)",
            "--unknown-category ignore",
        ],
    );
    assert!(!line.contains('\u{2}'));
    // …or all zeros with --unknown-category ignore.
    let out = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&new)])
        .args(["--unknown-category", "ignore"])
        .assert()
        .success();
    let text = stdout_of(&out);
    assert!(text.lines().nth(1).unwrap().starts_with("hot,"), "{text}");
    // Stored in the model at training time, it is the model's default.
    let ignoring = dir.path().join("i.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--impute",
            "mean",
        ])
        .args(["--unknown-category", "ignore", "--out", s(&ignoring)])
        .assert()
        .success();
    nabla()
        .args(["predict", "--model", s(&ignoring), "--data", s(&new)])
        .assert()
        .success();
}

#[test]
fn categorical_forces_numeric_codes_into_categories() {
    let dir = temp();
    let mut text = String::from("code,x,y\n");
    for i in 0..30 {
        text += &format!("{},{},{}\n", [10, 20, 30][i % 3], i % 7, ["a", "b"][i % 2]);
    }
    let data = write_file(&dir, "codes.csv", text);
    let model = train_model(&dir, "m.safetensors", &data, &["--categorical", "code"]);
    assert_eq!(
        read_st(&model).metadata["features"],
        r#"["code=10","code=20","code=30","x"]"#
    );
    train_fails(
        &dir,
        &data,
        &["--categorical", "y"],
        &["--categorical", "'y'", "--target"],
    );
}

#[test]
fn id_and_free_text_columns_are_reported_all_at_once() {
    let dir = temp();
    let mut text = String::from("id,x,note,comment,y\n");
    for i in 0..30 {
        text += &format!("u{i},{i},words {i},more {i},{}\n", ["a", "b"][i % 2]);
    }
    let data = write_file(&dir, "ids.csv", text);
    train_fails(
        &dir,
        &data,
        &[],
        &[
            "ids.csv:2:",
            "'id' (30 distinct values)",
            "'note'",
            "'comment'",
            "--ignore id,note,comment",
            "--categorical",
        ],
    );
    // Two number columns with words in them: both named.
    let data = write_file(&dir, "words.csv", "a,b,y\n1,2,x\noops,3,y\n4,no,x\n5,6,y\n");
    train_fails(
        &dir,
        &data,
        &[],
        &[
            "words.csv:3:",
            "'a' ('oops' is not a number on line 3)",
            "'b' ('no' is not a number on line 4)",
        ],
    );
}

#[test]
fn a_pandas_index_is_left_out_and_said_once() {
    let dir = temp();
    let mut text = String::from(",x0,x1,label\n");
    for i in 0..30 {
        text += &format!("{i},{},{},{}\n", i % 4, i % 3, ["a", "b"][i % 2]);
    }
    let data = write_file(&dir, "pd.csv", text);
    let out = nabla()
        .args(["train", "--data", s(&data), "--epochs", "1"])
        .assert()
        .success();
    let err = stderr_of(&out);
    assert_eq!(err.matches("an index").count(), 1, "{err}");
    assert!(err.contains("training [2, 30, 2]"), "{err}");
}

#[test]
fn a_delimiter_can_be_given_and_semicolons_with_decimal_commas_read() {
    let dir = temp();
    let data = write_file(&dir, "p.csv", "a|b|y\n1|2|x\n2|3|y\n3|1|x\n");
    let model = train_model(&dir, "m.safetensors", &data, &["--delimiter", "|"]);
    assert_eq!(read_st(&model).metadata["features"], r#"["a","b"]"#);
    let out = nabla()
        .args([
            "predict",
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--delimiter",
            "|",
        ])
        .assert()
        .success();
    assert_eq!(stdout_of(&out).lines().count(), 4);
    assert_usage_error(
        nabla().args(["train", "--data", s(&data), "--delimiter", "ab"]),
        "--delimiter",
    );
}

#[test]
fn gzip_files_and_standard_input_are_read_by_train_predict_and_eval() {
    let dir = temp();
    let text = classification_text(40, 3);
    let gz = dir.path().join("d.csv.gz");
    let mut encoder =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let model = train_model(&dir, "gz.safetensors", &gz, &[]);
    let from_stdin = dir.path().join("stdin.safetensors");
    nabla()
        .args([
            "train", "--data", "-", "--hidden", "5", "--epochs", "3", "--quiet",
        ])
        .args(["--out", s(&from_stdin)])
        .write_stdin(text.clone())
        .assert()
        .success();
    let out = nabla()
        .args(["predict", "--model", s(&model), "--data", "-"])
        .write_stdin(text.clone())
        .assert()
        .success();
    let predictions = stdout_of(&out);
    assert_eq!(predictions.lines().count(), 41);
    let out = nabla()
        .args(["predict", "--model", s(&from_stdin), "--data", s(&gz)])
        .assert()
        .success();
    assert_eq!(
        stdout_of(&out),
        predictions,
        "the same table from gzip and from standard input trains the same model"
    );
    nabla()
        .args(["eval", "--model", s(&model), "--data", s(&gz)])
        .assert()
        .success();
    nabla()
        .args(["eval", "--model", s(&model), "--data", "-"])
        .write_stdin(text)
        .assert()
        .success();
    // Errors name standard input.
    assert_error(
        nabla()
            .args(["train", "--data", "-", "--epochs", "1"])
            .write_stdin("a,b\n1,2\n3\n"),
        &["<stdin>:3:", "1 fields"],
    );
}

#[test]
fn predict_keeps_the_columns_asked_for() {
    let dir = temp();
    let mut text = String::from("id,x0,x1,label\n");
    for i in 0..30 {
        text += &format!("007-{i},{},{},{}\n", i % 4, i % 3, ["a", "b"][i % 2]);
    }
    let data = write_file(&dir, "ids.csv", text);
    let model = train_model(&dir, "m.safetensors", &data, &["--ignore", "id"]);
    let out = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&data)])
        .args(["--keep", "id,x0"])
        .assert()
        .success();
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id,x0,predicted,a,b");
    assert!(lines[1].starts_with("007-0,0,"), "{text}");
    assert_error(
        nabla()
            .args(["predict", "--model", s(&model), "--data", s(&data)])
            .args(["--keep", "nope"]),
        &["ids.csv:1:", "column 'nope'", "no such column"],
    );
}

#[test]
fn error_lines_echo_long_values_short() {
    let dir = temp();
    let long = "9".repeat(100_000) + "x";
    let data = write_file(&dir, "long.csv", format!("a,y\n1,p\n{long},q\n2,p\n"));
    let line = train_fails(&dir, &data, &[], &["long.csv:3:", "column 'a'", "…"]);
    assert!(line.len() < 300, "{} characters", line.len());
}

#[test]
fn the_messy_example_trains_and_predicts_with_the_documented_flags() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("data/examples/messy.csv");
    let new = root.join("data/examples/messy-new.csv");
    let dir = temp();
    // Without flags: the ID and free-text columns, and the missing values, are errors.
    assert_error(
        nabla().args([
            "train",
            "--data",
            s(&data),
            "--target",
            "churned",
            "--epochs",
            "1",
        ]),
        &[
            "messy.csv",
            "'customer_id'",
            "'note'",
            "--ignore customer_id,note",
        ],
    );
    let model = dir.path().join("churn.safetensors");
    let out = nabla()
        .args(["train", "--data", s(&data), "--target", "churned"])
        .args(["--ignore", "customer_id,note", "--impute", "median"])
        .args(["--validation", "0.2", "--out", s(&model)])
        .assert()
        .success();
    let err = stderr_of(&out);
    for said in [
        "an index",
        "one-hot encoded: plan (3 categories), region (4 categories)",
        "filled in missing values (--impute median)",
        "without a value in churned",
    ] {
        assert!(err.contains(said), "{said}: {err}");
    }
    let out = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&new)])
        .args(["--keep", "customer_id", "--unknown-category", "ignore"])
        .assert()
        .success();
    let text = stdout_of(&out);
    assert_eq!(text.lines().next(), Some("customer_id,predicted,no,yes"));
    assert_eq!(text.lines().count(), 7);
    assert_error(
        nabla().args(["predict", "--model", s(&model), "--data", s(&new)]),
        &["messy-new.csv:7:", "column 'region'", "'north-east'"],
    );
}

#[test]
fn the_library_reads_tables_with_the_same_settings_and_notes() {
    let dir = temp();
    let mut text = String::from(",a,color,y\n");
    for (i, row) in colours(30).lines().skip(1).enumerate() {
        text += &format!("{i},{row}\n");
    }
    text += "30,1,red,NA\n";
    let data = write_file(&dir, "lib.csv", text);
    let spec = TrainSpec {
        data: Some(data.clone()),
        impute: Some(Impute::Median),
        unknown_category: Some(UnknownCategory::Ignore),
        epochs: Some(2),
        hidden: Some(vec![4]),
        ..TrainSpec::default()
    };
    let mut loaded = Vec::new();
    let mut prepared = nabla::spec::prepare_with_progress::<f32>(&spec, &mut |done, total| {
        loaded.push((done, total))
    })
    .unwrap();
    assert_eq!(
        loaded.last().map(|p| p.0),
        loaded.last().map(|p| p.1),
        "{loaded:?}"
    );
    let tables: Vec<&TableNote> = prepared
        .notes
        .iter()
        .filter_map(|n| match n {
            Note::Table(t) => Some(t),
            _ => None,
        })
        .collect();
    assert!(tables.contains(&&TableNote::IndexColumn));
    assert!(tables.contains(&&TableNote::MissingLabels {
        columns: vec!["y".into()],
        rows: 1
    }));
    assert!(tables.contains(&&TableNote::Categorical(vec![("color".into(), 3)])));
    assert_eq!(prepared.train.len(), 30);
    prepared
        .train(|_| std::ops::ControlFlow::Continue(()))
        .unwrap();
    let model = &prepared.model;
    assert_eq!(model.network.sizes()[0], 4);
    let new = write_file(&dir, "new.csv", "a,color,id\n,purple,k1\n2,red,k2\n");
    let read = read_for_model_with(
        &new,
        model,
        None,
        false,
        &ModelReadOptions {
            keep: vec!["id".into()],
            ..ModelReadOptions::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(read.kept, vec![vec!["k1".to_string(), "k2".to_string()]]);
    // Row 1: a filled with the median, then scaled; the unseen colour all zeros.
    let raw = {
        let mut x = read.data.x.clone();
        let s = model.scaling.as_ref().unwrap();
        for j in 0..4 {
            x[(0, j)] = x[(0, j)] / s.factor[j] as f32 + s.offset[j] as f32;
        }
        x
    };
    assert!((raw[(0, 0)] - 2.0).abs() < 1e-5, "{:?}", raw.row(0));
    for j in 1..4 {
        assert!(raw[(0, j)].abs() < 1e-5, "{:?}", raw.row(0));
    }
    // The encoding survives a save and a load.
    let path = dir.path().join("lib.safetensors");
    model.save(&path).unwrap();
    assert_eq!(Model::<f32>::load(&path).unwrap().encoding, model.encoding);
}

#[test]
fn a_config_file_takes_the_table_settings() {
    let dir = temp();
    let data = write_file(&dir, "c.csv", colours(30));
    let config = write_file(
        &dir,
        "run.toml",
        "data = \"c.csv\"\nimpute = \"most-frequent\"\nna-values = [\"NA\", \"\", \"?\"]\ncategorical = \"color\"\ndelimiter = \",\"\nepochs = 1\n",
    );
    let out = nabla()
        .args(["train", "--config", s(&config), "--json"])
        .assert()
        .success();
    let json = json_of(&out);
    assert_eq!(json["spec"]["impute"], "most-frequent");
    assert_eq!(json["layers"][0], 4);
    let _ = data;
}

#[test]
fn continuing_a_model_keeps_its_encoding_and_reads_other_delimiters() {
    let dir = temp();
    let data = write_file(&dir, "c.csv", colours(30));
    let model = train_model(&dir, "m.safetensors", &data, &["--impute", "mean"]);
    let semi = write_file(&dir, "c2.csv", colours(30).replace(',', ";"));
    let more = dir.path().join("more.safetensors");
    nabla()
        .args([
            "train",
            "--from",
            s(&model),
            "--data",
            s(&semi),
            "--epochs",
            "1",
        ])
        .args(["--delimiter", ";", "--out", s(&more)])
        .assert()
        .success();
    assert_eq!(
        Model::<f32>::load(&more).unwrap().encoding,
        Model::<f32>::load(&model).unwrap().encoding
    );
    assert_error(
        nabla()
            .args([
                "train",
                "--from",
                s(&model),
                "--data",
                s(&data),
                "--epochs",
                "1",
            ])
            .args(["--impute", "median"]),
        &[
            "invalid --from",
            "--impute does not apply",
            "keeps its encoding",
        ],
    );
}
