//! The one table from the library's settings to this command line's flags, and errors
//! rendered with it: the library says `lr`, the command line `--lr`.

use nabla::Setting;

/// The flag that gives `setting`.
pub fn flag(setting: Setting) -> String {
    match setting {
        Setting::LearningRate => "--lr".into(),
        Setting::Scaling => "--no-scaling".into(),
        Setting::TargetScaling => "--no-target-scaling".into(),
        Setting::Shuffle => "--no-shuffle".into(),
        other => format!("--{}", other.name().replace('_', "-")),
    }
}

/// An error and its causes on one line (as anyhow's `{:#}`), the library's settings named
/// by their flags.
pub fn message(err: &anyhow::Error) -> String {
    err.chain()
        .map(|cause| match cause.downcast_ref::<nabla::Error>() {
            Some(e) => e.render(&flag),
            None => cause.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// A library message (which may mention settings) with flags for the settings.
pub fn text(message: &str) -> String {
    nabla::setting::render(message, &flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_a_flag_of_its_own() {
        let flags: std::collections::HashSet<String> =
            Setting::ALL.iter().map(|s| flag(*s)).collect();
        assert_eq!(flags.len(), Setting::ALL.len());
        assert_eq!(flag(Setting::BatchSize), "--batch-size");
    }
}
