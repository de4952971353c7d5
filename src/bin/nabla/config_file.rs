//! `nabla train --config run.toml`: a TOML file whose keys are the settings of a
//! [`TrainSpec`] (spelt as the flags, with dashes or underscores: `lr`, `batch-size`,
//! `hidden = [64, 32]`, `no-shuffle = true`, `preset = "nielsen-ch1"`), plus the outputs
//! `out`, `plot` and `log`. Flags on the command line override it; it overrides its preset.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use nabla::{Setting, TrainSpec};

/// What a config file gives.
#[derive(Debug, Default)]
pub struct ConfigFile {
    /// The run's settings.
    pub spec: TrainSpec,
    /// Where to write the model, the plot and the log.
    pub out: Option<PathBuf>,
    pub plot: Option<PathBuf>,
    pub log: Option<PathBuf>,
}

/// Keys whose values are files: relative to the config file's folder, as in Cargo.toml.
const PATH_KEYS: [&str; 6] = ["data", "test", "from", "out", "plot", "log"];
/// Keys whose values are lists (a single value or "a,b" text is a list of one or more).
const LIST_KEYS: [&str; 6] = [
    "layers",
    "hidden",
    "target",
    "ignore",
    "na_values",
    "categorical",
];

/// Reads a config file.
pub fn read(path: &Path) -> anyhow::Result<ConfigFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --config file {}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start].lines().count().max(1))
            .unwrap_or(1);
        anyhow::anyhow!("{}:{line}: {}", path.display(), e.message())
    })?;
    let line_of = |key: &str| {
        text.lines()
            .position(|l| l.trim_start().starts_with(key))
            .map_or(1, |i| i + 1)
    };
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut file = ConfigFile::default();
    let mut keys = Vec::new();
    for (key, value) in &table {
        let at = format!("{}:{}", path.display(), line_of(key));
        let mut name = key.replace('-', "_");
        let mut value = value.clone();
        if let (true, toml::Value::String(p)) = (PATH_KEYS.contains(&name.as_str()), &value) {
            value = toml::Value::String(folder.join(p).display().to_string());
        }
        let as_path = |v: &toml::Value| v.as_str().map(PathBuf::from);
        match name.as_str() {
            "out" => file.out = as_path(&value),
            "plot" => file.plot = as_path(&value),
            "log" => file.log = as_path(&value),
            _ => {}
        }
        if matches!(name.as_str(), "out" | "plot" | "log") {
            if !value.is_str() {
                bail!("{at}: key '{key}': expected a file name");
            }
            continue;
        }
        if let ("no_shuffle" | "no_scaling" | "no_target_scaling", toml::Value::Boolean(b)) =
            (name.as_str(), &value)
        {
            name = name["no_".len()..].to_string();
            value = toml::Value::Boolean(!b);
        }
        if LIST_KEYS.contains(&name.as_str()) {
            value = as_list(value, matches!(name.as_str(), "layers" | "hidden"));
        }
        if name == "config" || Setting::from_name(&name).is_none() {
            bail!("{at}: unknown key '{key}' (keys are the flags of `nabla train`, e.g. lr, hidden, batch-size)");
        }
        let mut one = toml::Table::new();
        one.insert(name.clone(), value);
        let spec: TrainSpec = one.try_into().map_err(|e: toml::de::Error| {
            let message = crate::flags::text(e.message().trim());
            if message.starts_with("unknown field") {
                anyhow::anyhow!("{at}: unknown key '{key}' (keys are the flags of `nabla train`, e.g. lr, hidden, batch-size)")
            } else {
                anyhow::anyhow!("{at}: key '{key}': {message}")
            }
        })?;
        file.spec = file.spec.overlaid(&spec);
        keys.push((name, key.clone(), at));
    }
    // Each setting's range, reported with the line it came from.
    if let Err(nabla::Error::InvalidConfig { setting, message }) = file.spec.check() {
        let (key, at) = keys
            .iter()
            .find(|(name, ..)| *name == setting.name())
            .map(|(_, key, at)| (key.clone(), at.clone()))
            .unwrap_or_else(|| (setting.name().to_string(), path.display().to_string()));
        bail!("{at}: key '{key}': {}", crate::flags::text(&message));
    }
    Ok(file)
}

/// A list setting as a TOML array: `64` and `"64,32"` are lists too.
fn as_list(value: toml::Value, sizes: bool) -> toml::Value {
    let item = |text: &str| match text.trim().parse::<i64>() {
        Ok(n) if sizes => toml::Value::Integer(n),
        _ => toml::Value::String(text.trim().to_string()),
    };
    match value {
        toml::Value::Array(_) => value,
        toml::Value::String(text) => toml::Value::Array(text.split(',').map(item).collect()),
        other => toml::Value::Array(vec![other]),
    }
}
