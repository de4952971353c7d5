//! `nabla train --config run.toml` and `--preset NAME`: both are turned into ordinary
//! flags, inserted right after `train`, so that every setting has one parser (clap's), one
//! set of checks, and one precedence rule: flags > config file > preset (clap keeps the last
//! occurrence of a flag).

use std::ffi::OsString;
use std::path::Path;

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser};

use crate::cli::Cli;

/// The flags of each preset. mnist-best is the most accurate MNIST configuration we found
/// that trains in under a minute on 2 cores (README, "Training well").
///
/// nielsen-ch3 is network2.py's run with Nielsen's weight decay: his λ = 5.0 was for
/// n = 50,000 training images, and what reaches the weights is the factor `1 − ηλ/n` per
/// step, so on our 8,000 images the same decay is λ = 5.0 · 8000/50000 = 0.8.
pub fn preset(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "nielsen-ch1" => Some(&[
            "--layers",
            "784,30,10",
            "--activation",
            "sigmoid",
            "--output",
            "sigmoid",
            "--cost",
            "quadratic",
            "--init",
            "nielsen",
            "--optimizer",
            "sgd",
            "--lr",
            "3.0",
            "--batch-size",
            "10",
            "--epochs",
            "30",
        ]),
        "nielsen-ch3" => Some(&[
            "--layers",
            "784,100,10",
            "--activation",
            "sigmoid",
            "--output",
            "sigmoid",
            "--cost",
            "cross-entropy",
            "--init",
            "nielsen",
            "--optimizer",
            "sgd",
            "--lr",
            "0.5",
            "--l2",
            "0.8",
            "--batch-size",
            "10",
            "--epochs",
            "30",
        ]),
        "mnist-best" => Some(&[
            "--layers",
            "784,800,10",
            "--activation",
            "relu",
            "--output",
            "softmax",
            "--cost",
            "cross-entropy",
            "--init",
            "he",
            "--optimizer",
            "momentum",
            "--momentum",
            "0.9",
            "--lr",
            "0.1",
            "--batch-size",
            "64",
            "--epochs",
            "60",
            "--schedule",
            "cosine",
            "--dropout",
            "0.5",
            "--l2",
            "2",
            "--augment-shift",
            "2",
        ]),
        _ => None,
    }
}

/// Expands `--preset` and `--config` of a `train` command line into flags.
pub fn expand(argv: Vec<OsString>) -> anyhow::Result<Vec<OsString>> {
    let strings: Vec<Option<&str>> = argv.iter().map(|a| a.to_str()).collect();
    let Some(train_at) = strings.iter().position(|a| *a == Some("train")) else {
        return Ok(argv);
    };
    let value_of = |flag: &str| -> Option<String> {
        let mut found = None;
        for (i, a) in strings.iter().enumerate().skip(train_at + 1) {
            match a {
                Some(a) if *a == flag => {
                    found = strings.get(i + 1).copied().flatten().map(str::to_string)
                }
                Some(a) if a.starts_with(&format!("{flag}=")) => {
                    found = Some(a[flag.len() + 1..].to_string())
                }
                _ => {}
            }
        }
        found
    };
    let mut config_preset = None;
    let config_tokens = match value_of("--config") {
        Some(path) => {
            let (tokens, p) = read_config(Path::new(&path))?;
            config_preset = p;
            tokens
        }
        None => Vec::new(),
    };
    let preset_tokens: Vec<String> = match value_of("--preset").or(config_preset) {
        Some(name) => match preset(&name) {
            // A preset's flags as `--flag=value` tokens, like the config file's.
            Some(flags) => flags
                .chunks(2)
                .map(|pair| format!("{}={}", pair[0], pair[1]))
                .collect(),
            None => bail!(
                "invalid --preset: unknown preset '{name}' (expected nielsen-ch1, nielsen-ch3 or mnist-best)"
            ),
        },
        None => Vec::new(),
    };
    // Flags > config file > preset: a setting given at a higher level removes it from the
    // lower ones (clap would keep the last value of a plain flag, but add up the values of a
    // list flag such as --hidden, and reject --hidden next to a preset's --layers).
    let user_settings: Vec<&str> = strings[train_at + 1..]
        .iter()
        .flatten()
        .filter_map(|token| setting_of(token))
        .collect();
    let config_settings: Vec<&str> = config_tokens.iter().filter_map(|t| setting_of(t)).collect();
    let keep = |token: &String, above: &[&[&str]]| {
        setting_of(token).is_none_or(|setting| !above.iter().any(|level| level.contains(&setting)))
    };
    let mut out = argv[..=train_at].to_vec();
    let preset_kept = preset_tokens
        .iter()
        .filter(|t| keep(t, &[&user_settings, &config_settings]));
    let config_kept = config_tokens.iter().filter(|t| keep(t, &[&user_settings]));
    out.extend(preset_kept.chain(config_kept).map(OsString::from));
    out.extend(argv[train_at + 1..].iter().cloned());
    Ok(out)
}

/// The setting a `--flag` or `--flag=value` token sets: its flag name, with `--layers` and
/// `--hidden` one setting (both give the layer sizes); `None` for anything else.
fn setting_of(token: &str) -> Option<&str> {
    let name = token.strip_prefix("--")?.split('=').next()?;
    Some(if name == "hidden" { "layers" } else { name })
}

/// The keys whose values are files: resolved from the config file's folder.
const PATH_KEYS: [&str; 6] = ["data", "test", "out", "plot", "log", "from"];

/// The flags a TOML file stands for, and the preset it names (if any).
fn read_config(path: &Path) -> anyhow::Result<(Vec<String>, Option<String>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --config file {}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start].lines().count().max(1))
            .unwrap_or(1);
        anyhow::anyhow!("{}:{line}: {}", path.display(), e.message())
    })?;
    let known: Vec<String> = Cli::command()
        .find_subcommand("train")
        .expect("train is a subcommand")
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    let mut tokens = Vec::new();
    let mut preset = None;
    for (key, value) in &table {
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(key.as_str()))
            .map_or(1, |i| i + 1);
        let flag = key.replace('_', "-");
        if flag == "preset" {
            preset = value.as_str().map(str::to_string);
            continue;
        }
        if flag == "config" || !known.contains(&flag) {
            bail!("{}:{line}: unknown key '{key}' (keys are the flags of `nabla train`, e.g. lr, hidden, batch-size)", path.display());
        }
        let text_of = |v: &toml::Value| -> anyhow::Result<String> {
            Ok(match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                _ => bail!(
                    "{}:{line}: key '{key}': expected a string, number or list",
                    path.display()
                ),
            })
        };
        let token = match value {
            // A relative path in the file is relative to the file's folder, as in Cargo.toml.
            toml::Value::String(text) if PATH_KEYS.contains(&flag.as_str()) => {
                let relative = Path::new(text);
                match path.parent() {
                    Some(folder) if relative.is_relative() => {
                        format!("--{flag}={}", folder.join(relative).display())
                    }
                    _ => format!("--{flag}={text}"),
                }
            }
            toml::Value::Boolean(true) => format!("--{flag}"),
            toml::Value::Boolean(false) => continue,
            toml::Value::Array(items) => {
                let parts: Vec<String> =
                    items.iter().map(text_of).collect::<anyhow::Result<_>>()?;
                format!("--{flag}={}", parts.join(","))
            }
            other => format!("--{flag}={}", text_of(other)?),
        };
        // Each value through clap's parser for its flag now, so that a bad one is reported
        // with the file and line it came from.
        if let Err(e) = Cli::try_parse_from(["nabla", "train", token.as_str()]) {
            use clap::error::ErrorKind::*;
            if matches!(
                e.kind(),
                InvalidValue | ValueValidation | WrongNumberOfValues | TooManyValues | TooFewValues
            ) {
                let message = crate::one_line(&e.render().to_string());
                let message = message.strip_prefix("error: ").unwrap_or(&message);
                bail!("{}:{line}: key '{key}': {message}", path.display());
            }
        }
        tokens.push(token);
    }
    Ok((tokens, preset))
}
