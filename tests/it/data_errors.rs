//! Data files as a new user writes them: blank lines, CRLF, quotes, other separators, values
//! beyond f32, odd IDX files, duplicate targets, integer labels in several spellings; and
//! what `noise` writes and reads. Errors are one line naming the file, line and column.

use std::path::PathBuf;

use crate::util::*;

// ---- line numbers (#5) ----

#[test]
fn a_bad_value_after_blank_lines_names_its_physical_line() {
    let dir = temp();
    let data = write_file(&dir, "blankbad.csv", "a,b,label\n1,2,cat\n\n\n2,x,dog\n");
    train_fails(&dir, &data, &[], &["blankbad.csv:5:", "column 'b'", "'x'"]);
}

#[test]
fn a_bad_value_after_blank_crlf_lines_names_its_physical_line() {
    let dir = temp();
    let data = write_file(
        &dir,
        "blank4.csv",
        "a,b,label\r\n1,2,cat\r\n\r\n2,x,dog\r\n",
    );
    train_fails(&dir, &data, &[], &["blank4.csv:4:", "column 'b'"]);
}

#[test]
fn a_short_row_after_blank_lines_names_its_physical_line() {
    let dir = temp();
    let data = write_file(
        &dir,
        "blank3.csv",
        "a,b,label\n1,2,cat\n2,3,dog\n\n\n\n3,4\n",
    );
    train_fails(&dir, &data, &[], &["blank3.csv:7:", "2 fields"]);
}

#[test]
fn a_line_after_a_multi_line_quoted_field_is_counted_physically() {
    let dir = temp();
    let data = write_file(
        &dir,
        "mlq-after.csv",
        "a,b,label\n1,2,\"big\ncat\"\n2,x,dog\n",
    );
    train_fails(&dir, &data, &[], &["mlq-after.csv:4:", "column 'b'"]);
}

// ---- quotes and separators (#8e, #12) ----

#[test]
fn a_multi_line_quoted_value_in_an_error_stays_on_one_line() {
    let dir = temp();
    let data = write_file(&dir, "mlq.csv", "a,b,label\n1,2,cat\n\"2\n3\",1,dog\n");
    // assert_error checks that stderr is exactly one line.
    train_fails(&dir, &data, &[], &["mlq.csv:3:", "column 'a'", r"'2\n3'"]);
}

#[test]
fn an_unterminated_quote_names_the_file_and_the_line_it_opens_on() {
    let dir = temp();
    let data = write_file(&dir, "quote.csv", "a,b,label\n1,2,cat\n2,3,\"dog\n");
    train_fails(&dir, &data, &[], &["quote.csv:3:", "never closed"]);
}

/// A header without commas but with `;` or tabs: the delimiter is detected and said (issue
/// 14; before, a hint to change the file).
#[test]
fn a_semicolon_or_tab_separated_file_is_read_with_a_note() {
    let dir = temp();
    for (name, text, said) in [
        ("semi.csv", "a;b;label\n1;2;cat\n2;3;dog\n", "';'"),
        ("tabs.csv", "a\tb\tlabel\n1\t2\tcat\n2\t3\tdog\n", r"'\t'"),
    ] {
        let data = write_file(&dir, name, text);
        let out = nabla()
            .args(["train", "--data", s(&data), "--epochs", "1", "--json"])
            .assert()
            .success();
        let stderr = stderr_of(&out);
        let notes: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("nabla: warning:"))
            .collect();
        assert!(
            notes.is_empty(),
            "--json: no notes (warnings only): {stderr}"
        );
        assert_eq!(json_of(&out)["layers"][0], 2, "{name}");
        let out = nabla()
            .args(["train", "--data", s(&data), "--epochs", "1"])
            .assert()
            .success();
        assert!(
            stderr_of(&out).contains(&format!("separated by {said}")),
            "{}",
            stderr_of(&out)
        );
    }
    let data = write_file(&dir, "pipes.csv", "a|b|label\n1|2|cat\n2|3|dog\n");
    train_fails(
        &dir,
        &data,
        &[],
        &["pipes.csv:1:", "seems to use '|'", "--delimiter"],
    );
}

#[test]
fn quoted_fields_with_commas_and_doubled_quotes_still_read() {
    let dir = temp();
    let data = write_file(
        &dir,
        "quoted.csv",
        "a,b,label\n1,2,\"big, \"\"red\"\" cat\"\n2,3,dog\n3,1,\"big, \"\"red\"\" cat\"\n",
    );
    let model = dir.path().join("quoted.safetensors");
    nabla()
        .args(["train", "--data", s(&data), "--epochs", "1", "--quiet"])
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let classes = &read_st(&model).metadata["classes"];
    assert_eq!(classes, r#"["big, \"red\" cat","dog"]"#);
}

// ---- duplicate targets (#7) ----

#[test]
fn a_target_named_twice_is_an_error_naming_the_flag_and_the_column() {
    let dir = temp();
    let data = write_file(
        &dir,
        "multireg.csv",
        "a,b,y1,y2\n1,2,0.5,1.5\n2,3,0.7,1.1\n3,1,0.2,0.3\n4,4,0.9,2.0\n",
    );
    train_fails(
        &dir,
        &data,
        &["--target", "y1,y1"],
        &["--target", "'y1' given twice"],
    );
}

// ---- values beyond f32 (#8a) ----

fn big39(dir: &tempfile::TempDir) -> PathBuf {
    write_file(
        dir,
        "big39.csv",
        "a,b,label\n1,1e39,cat\n2,2,dog\n3,1,cat\n",
    )
}

#[test]
fn a_value_beyond_f32_without_scaling_names_the_file_line_and_column() {
    let dir = temp();
    let data = big39(&dir);
    train_fails(
        &dir,
        &data,
        &["--no-scaling"],
        &["big39.csv:2:", "column 'b'", "'1e39'", "f32"],
    );
}

#[test]
fn a_value_beyond_f32_with_scaling_is_the_same_error() {
    let dir = temp();
    let data = big39(&dir);
    train_fails(&dir, &data, &[], &["big39.csv:2:", "column 'b'", "'1e39'"]);
}

#[test]
fn a_feature_whose_variance_would_overflow_is_an_error_naming_the_column() {
    let dir = temp();
    let data = write_file(
        &dir,
        "huge.csv",
        "a,b,label\n1,1e300,cat\n2,-1e300,dog\n3,0,cat\n",
    );
    train_fails(&dir, &data, &[], &["huge.csv:2:", "column 'b'"]);
}

#[test]
fn a_value_beyond_f32_in_eval_data_names_the_file_line_and_column() {
    let dir = temp();
    let model = train_model(
        &dir,
        "m.safetensors",
        &classification_csv(&dir, "g.csv", 30, 2),
        &[],
    );
    let data = write_file(&dir, "e.csv", "x0,x1,x2,label\n0,0,0,a\n0,-3e38,4e38,b\n");
    assert_error(
        nabla().args(["eval", "--model", s(&model), "--data", s(&data)]),
        &["e.csv:3:", "column 'x2'", "'4e38'"],
    );
}

// ---- IDX files (#6, #8b, #8c, #8d) ----

/// Six 2×2 images with labels 0, 1, 2, 0, 1, 2 (classes "0".."9" once trained).
fn tiny_idx(dir: &tempfile::TempDir, prefix: &str, labels: &[u8]) -> PathBuf {
    let images: Vec<Vec<u8>> = (0..labels.len())
        .map(|i| vec![(40 * i) as u8, 255, (30 * i) as u8, 0])
        .collect();
    write_idx(dir, prefix, 2, 2, &images, labels)
}

fn idx_model(dir: &tempfile::TempDir) -> PathBuf {
    let train = tiny_idx(dir, "train", &[0, 1, 2, 0, 1, 2]);
    train_model(dir, "idx.safetensors", &train, &[])
}

#[test]
fn predict_reads_an_idx_images_file_without_its_labels_file() {
    let dir = temp();
    let model = idx_model(&dir);
    let images = tiny_idx(&dir, "new", &[0, 1, 2]);
    std::fs::remove_file(dir.path().join("new-labels-idx1-ubyte")).unwrap();
    let out = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&images)])
        .assert()
        .success();
    let text = stdout_of(&out);
    assert_eq!(
        text.lines().count(),
        1 + 3,
        "a header and one row per image: {text}"
    );
    assert!(text.starts_with("predicted,0,1,2,"), "{text}");
    // eval still needs the labels.
    assert_error(
        nabla().args(["eval", "--model", s(&model), "--data", s(&images)]),
        &["new-labels-idx1-ubyte", "cannot access"],
    );
}

#[test]
fn an_idx_file_with_a_zero_dimension_names_the_file_not_layers() {
    let dir = temp();
    let mut bytes = Vec::new();
    for word in [0x0000_0803u32, 3, 0, 28] {
        bytes.extend(word.to_be_bytes());
    }
    let images = write_file(&dir, "zero-images-idx3-ubyte", bytes);
    let mut labels = Vec::new();
    for word in [0x0000_0801u32, 3] {
        labels.extend(word.to_be_bytes());
    }
    labels.extend([0, 1, 2]);
    write_file(&dir, "zero-labels-idx1-ubyte", labels);
    let line = train_fails(&dir, &images, &[], &["zero-images-idx3-ubyte", "0×28"]);
    assert!(!line.contains("--layers"), "{line}");
}

#[test]
fn an_idx_label_the_model_does_not_know_names_the_labels_file_and_a_1_based_image() {
    let dir = temp();
    let model = idx_model(&dir);
    let images = tiny_idx(&dir, "badlab", &[0, 1, 12, 2]);
    assert_error(
        nabla().args(["eval", "--model", s(&model), "--data", s(&images)]),
        &["badlab-labels-idx1-ubyte", "label 12 of image 3", "0, 1, 2"],
    );
}

#[test]
fn an_idx_label_for_a_model_with_named_classes_lists_the_names() {
    let dir = temp();
    let data = write_file(
        &dir,
        "animals.csv",
        "p0,p1,p2,p3,animal\n0,1,0,1,cat\n1,0,1,0,dog\n1,1,0,0,bird\n0,0,1,1,cat\n",
    );
    let model = train_model(&dir, "animals.safetensors", &data, &[]);
    let images = tiny_idx(&dir, "digits", &[0, 1]);
    assert_error(
        nabla().args(["eval", "--model", s(&model), "--data", s(&images)]),
        &["digits-labels-idx1-ubyte", "image 1", "(bird, cat, dog)"],
    );
}

// ---- macro F1 (#9) ----

#[test]
fn macro_f1_averages_over_the_classes_present_as_scikit_learn() {
    let dir = temp();
    let model = train_model(
        &dir,
        "m.safetensors",
        &classification_csv(&dir, "g.csv", 60, 1),
        &[],
    );
    // One row, whatever the model predicts for it: the one class present (or two, when the
    // prediction is wrong) are all that count.
    let data = write_file(&dir, "one.csv", "x0,x1,x2,label\n3,0,0,a\n");
    let out = nabla()
        .args(["eval", "--model", s(&model), "--data", s(&data), "--json"])
        .assert()
        .success();
    let json = json_of(&out);
    let accuracy = json["accuracy"].as_f64().unwrap();
    let f1 = json["macro_f1"].as_f64().unwrap();
    // sklearn: correct -> f1_score(['a'], ['a'], average='macro') = 1; wrong -> 0.
    assert_eq!(f1, accuracy, "{json}");
}

// ---- integer labels (#10) ----

#[test]
fn integer_labels_written_differently_are_one_class_named_by_the_integer() {
    let dir = temp();
    let data = write_file(
        &dir,
        "ints.csv",
        "a,b,label\n1,2,1\n2,3,01\n3,1,1.0\n4,4,2\n5,0,2\n",
    );
    let model = dir.path().join("ints.safetensors");
    nabla()
        .args(["train", "--data", s(&data), "--epochs", "1", "--quiet"])
        .args(["--task", "classification", "--out"])
        .arg(&model)
        .assert()
        .success();
    assert_eq!(read_st(&model).metadata["classes"], r#"["1","2"]"#);
}

// ---- noise files (#13, #14) ----

#[test]
fn noise_image_must_be_named_png_and_writes_nothing_otherwise() {
    let dir = temp();
    let svg = dir.path().join("x.svg");
    assert_error(
        nabla().args(["noise", "--dims", "2", "--image", s(&svg)]),
        &["--image", "x.svg", ".png"],
    );
    assert!(!svg.exists());
}

#[test]
fn noise_dataset_must_be_named_csv_and_writes_nothing_otherwise() {
    let dir = temp();
    let png = dir.path().join("d.png");
    assert_error(
        nabla().args(["noise", "--dims", "2", "--dataset", s(&png)]),
        &["--dataset", "d.png", ".csv"],
    );
    assert!(!png.exists());
}

#[test]
fn noise_points_are_printed_short_and_exact() {
    let dir = temp();
    let points = write_file(&dir, "p.csv", "a,b\n1e300,0.25\n-7,1e-9\n");
    let out = nabla()
        .args(["noise", "--dims", "2", "--points", s(&points)])
        .assert()
        .success();
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].starts_with("1e300,0.25,"), "{text}");
    assert!(lines[2].starts_with("-7,1e-9,"), "{text}");
    assert!(text.len() < 120, "no 301-digit numbers: {text}");
}

// ---- rows that hold nothing but an empty value; spaces inside quotes ----

/// In a one-column file a line of spaces or a quoted empty field is a row with an empty
/// value (as Python's csv reads it), never a line to skip: `predict` would otherwise return
/// fewer rows than it was given, out of step with them.
#[test]
fn an_empty_value_in_a_one_column_file_is_an_error_not_a_skipped_row() {
    let dir = temp();
    let model = init_model(&dir, "m.safetensors", &["--layers", "1,3,2"]);
    for (name, text) in [
        ("quoted.csv", "x\n1\n\"\"\n2\n"),
        ("spaces.csv", "x\n1\n   \n2\n"),
    ] {
        let data = write_file(&dir, name, text);
        assert_error(
            nabla().args(["predict", "--model", s(&model), "--data", s(&data)]),
            &[&format!("{name}:3:"), "column 'x'", "not a number"],
        );
    }
    // In a file of several columns a line of spaces is still a blank line.
    let data = write_file(&dir, "two.csv", "x,y\n1,2\n   \n3,4\n");
    let model = init_model(&dir, "m2.safetensors", &["--layers", "2,3,2"]);
    let out = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&data)])
        .assert()
        .success();
    let stdout = stdout_of(&out);
    assert_eq!(stdout.lines().count(), 3, "a header and two rows: {stdout}");
}

/// A row without a label is left out with a note, never made a class of its own (issue 14;
/// before, an error).
#[test]
fn an_empty_class_label_is_left_out_with_a_note() {
    let dir = temp();
    for (name, text) in [
        ("labels.csv", "a,label\n1,cat\n2,\"\"\n3,dog\n4,cat\n"),
        ("labels2.csv", "a,label\n1,cat\n2,\n3,dog\n4,NA\n"),
    ] {
        let data = write_file(&dir, name, text);
        let model = dir.path().join("m.safetensors");
        let out = nabla()
            .args([
                "train",
                "--data",
                s(&data),
                "--epochs",
                "1",
                "--out",
                s(&model),
            ])
            .assert()
            .success();
        let err = stderr_of(&out);
        assert!(err.contains("without a value in label"), "{err}");
        assert_eq!(read_st(&model).metadata["classes"], r#"["cat","dog"]"#);
    }
}

/// Spaces inside quotes are part of the value (as in Python's csv); those around the
/// quotes, and around unquoted values, are not. Quoted numbers with spaces still read.
#[test]
fn spaces_inside_quotes_are_kept_and_those_around_dropped() {
    let dir = temp();
    let data = write_file(
        &dir,
        "spaces.csv",
        "x,label\n\" 1.5 \",\" a \"\n2, \"a\" \n3,\" a \"\n4,b\n",
    );
    let json = json_of(
        &nabla()
            .args(["train", "--data", s(&data), "--epochs", "1", "--json"])
            .assert()
            .success(),
    );
    let model = dir.path().join("spaces.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--out",
            s(&model),
        ])
        .assert()
        .success();
    let classes = read_st(&model).metadata["classes"].clone();
    assert_eq!(classes, r#"[" a ","a","b"]"#, "{json}");
}

/// Without `--task`: whole numbers written as `0.0`/`1.0` are class labels; a column of
/// whole numbers with more than 50 distinct values (a price) is a regression target.
#[test]
fn the_task_is_inferred_from_whole_numbers_and_how_many_there_are() {
    let dir = temp();
    let task_of = |text: String, name: &str| -> String {
        let data = write_file(&dir, name, text);
        let json = json_of(
            &nabla()
                .args(["train", "--data", s(&data), "--epochs", "1", "--json"])
                .assert()
                .success(),
        );
        json["task"].as_str().unwrap_or_default().to_string()
    };
    let mut floats = String::from("x,label\n");
    let mut prices = String::from("x,price\n");
    for i in 0..120 {
        floats += &format!("{},{}.0\n", i as f64 / 120.0, i % 2);
        prices += &format!("{},{}\n", i as f64 / 120.0, 100 + 3 * i);
    }
    assert_eq!(task_of(floats, "floats.csv"), "classification");
    assert_eq!(task_of(prices, "prices.csv"), "regression");
}

/// `--ignore` leaves an ID and a free-text column out of the features; `eval` and
/// `predict` then read the model's features by name and pass over those columns.
#[test]
fn ignored_columns_are_left_out_of_training_and_prediction() {
    let dir = temp();
    let mut text = String::from("id,x0,note,x1,label\n");
    for i in 0..40 {
        let (x0, x1) = ((i % 7) as f64 / 7.0, (i % 5) as f64 / 5.0);
        let label = if x0 > x1 { "a" } else { "b" };
        text += &format!("row{i},{x0},\"free text, {i}\",{x1},{label}\n");
    }
    let data = write_file(&dir, "ids.csv", &text);
    let model = dir.path().join("ids.safetensors");
    let json = json_of(
        &nabla()
            .args(["train", "--data", s(&data), "--epochs", "1", "--json"])
            .args(["--ignore", "id,note", "--out", s(&model)])
            .assert()
            .success(),
    );
    assert_eq!(json["layers"][0], serde_json::json!(2), "{json}");
    assert_eq!(read_st(&model).metadata["features"], r#"["x0","x1"]"#);
    let out = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&data)])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout)
            .lines()
            .count(),
        41
    );
    nabla()
        .args(["eval", "--model", s(&model), "--data", s(&data)])
        .assert()
        .success();
    // Without --ignore the text column is an error naming it; a target cannot be ignored.
    train_fails(
        &dir,
        &data,
        &[],
        // Issue 14: every ID-like or free-text column at once, with the --ignore to give.
        &[
            "ids.csv:2:",
            "'id' (40 distinct values)",
            "'note'",
            "--ignore id,note",
        ],
    );
    train_fails(
        &dir,
        &data,
        &["--ignore", "id,note,label"],
        &["--ignore", "'label'", "target"],
    );
    train_fails(
        &dir,
        &data,
        &["--ignore", "id,id,note"],
        &["--ignore", "'id'", "twice"],
    );
    train_fails(&dir, &data, &["--ignore", "nope"], &["nope"]);
}

/// A class named `predicted` does not give predict's output two columns of that name.
#[test]
fn a_class_named_predicted_keeps_the_prediction_header_unique() {
    let dir = temp();
    let data = write_file(
        &dir,
        "p.csv",
        "x,label\n0,predicted\n1,other\n0.1,predicted\n0.9,other\n",
    );
    let model = dir.path().join("p.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--epochs",
            "1",
            "--out",
            s(&model),
        ])
        .assert()
        .success();
    let out = nabla()
        .args(["predict", "--model", s(&model), "--data", s(&data)])
        .assert()
        .success();
    let stdout = stdout_of(&out);
    assert_eq!(
        stdout.lines().next(),
        Some("predicted_,other,predicted"),
        "{stdout}"
    );
}

/// Lines of spaces before the header are blank lines too; an empty regression target is a
/// missing number, not a sign that the column holds class labels.
#[test]
fn blank_lines_before_the_header_and_empty_regression_targets() {
    let dir = temp();
    let data = write_file(&dir, "lead.csv", "   \n\nx,y\n1,0.5\n2,1.5\n3,2.5\n");
    nabla()
        .args(["train", "--data", s(&data), "--epochs", "1"])
        .assert()
        .success();
    let data = write_file(&dir, "gap.csv", "x,y\n1,2.5\n2,\n3,4.5\n4,5.5\n");
    let out = nabla()
        .args(["train", "--data", s(&data), "--epochs", "1", "--json"])
        .assert()
        .success();
    assert_eq!(json_of(&out)["task"], "regression");
    let out = nabla()
        .args(["train", "--data", s(&data), "--epochs", "1"])
        .assert()
        .success();
    assert!(stderr_of(&out).contains("left out 1 row without a value in y"));
}
