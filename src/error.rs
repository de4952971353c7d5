//! The one error type of the library: every fallible public function returns [`Result`].

use std::path::PathBuf;

use crate::setting::Setting;

/// Everything that can go wrong when building, training, loading or saving a network.
///
/// Messages are lowercase, name the file, line, column or field at fault, and do not repeat
/// their `#[source]` (print with `{:#}` through `anyhow` to get the whole chain on one line).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Occurs when a file cannot be opened, read or written.
    #[error("cannot access {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// Occurs when a CSV file is malformed: ragged rows, non-numeric features, a missing column.
    #[error("{}:{line}: {}{}", path.display(), column.as_ref().map(|c| format!("column '{c}': ")).unwrap_or_default(), crate::setting::render(message, &|s| s.name().to_string()))]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: usize,
        /// The column name, when one column is at fault.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Occurs when an IDX (MNIST) file is malformed.
    #[error("{}: {message}", path.display())]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Occurs when a matrix or data set does not have the shape the network needs.
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        /// What was being checked, e.g. "input x".
        what: String,
        /// The shape that was needed.
        expected: String,
        /// The shape that was given.
        got: String,
    },
    /// Occurs when an input or a parameter is NaN or infinite.
    #[error("{what}: non-finite value {value} at row {row}, column {column}")]
    NonFinite {
        /// What holds the value, e.g. "input x" or "`W^[2]`".
        what: String,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
        /// The offending value, as text.
        value: String,
    },
    /// Occurs when there are no examples to work on.
    #[error("{what} is empty")]
    Empty {
        /// What is empty, e.g. "training data".
        what: String,
    },
    /// Occurs when a setting is out of range or settings contradict each other.
    ///
    /// Displayed with the settings' [`TrainSpec`](crate::TrainSpec) names; a front end shows
    /// its own names with [`Error::render`].
    #[error("invalid {setting}: {}", crate::setting::render(message, &|s| s.name().to_string()))]
    InvalidConfig {
        /// The setting at fault.
        setting: Setting,
        /// What is wrong with it; other settings appear in it as [`Setting::mention`]s.
        message: String,
    },
    /// Occurs when a model file is truncated, foreign or inconsistent.
    #[error("{}: not a valid nabla model file: {message}", path.display())]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Occurs when a plot or diagram cannot be drawn or encoded.
    #[error("cannot draw {what}: {message}")]
    Plot {
        /// What was being drawn, e.g. "the training curves".
        what: String,
        /// What went wrong.
        message: String,
    },
    /// Occurs when noise is asked for with invalid settings or points.
    #[cfg(feature = "noise")]
    #[error(transparent)]
    Noise(#[from] crate::noise::NoiseError),
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidConfig`] for `setting`.
    pub fn config(setting: Setting, message: impl Into<String>) -> Self {
        Error::InvalidConfig {
            setting,
            message: message.into(),
        }
    }

    /// The message, with every setting named by `name_of` (a front end's names for them:
    /// `--lr` on the command line, `learning_rate_init` in Python). Other errors display
    /// as they are.
    pub fn render(&self, name_of: &dyn Fn(Setting) -> String) -> String {
        match self {
            Error::InvalidConfig { setting, message } => format!(
                "invalid {}: {}",
                name_of(*setting),
                crate::setting::render(message, name_of)
            ),
            Error::Csv {
                path,
                line,
                column,
                message,
            } => format!(
                "{}:{line}: {}{}",
                path.display(),
                column
                    .as_ref()
                    .map(|c| format!("column '{c}': "))
                    .unwrap_or_default(),
                crate::setting::render(message, name_of)
            ),
            other => other.to_string(),
        }
    }

    /// The setting at fault, for [`Error::InvalidConfig`].
    pub fn setting(&self) -> Option<Setting> {
        match self {
            Error::InvalidConfig { setting, .. } => Some(*setting),
            _ => None,
        }
    }

    /// An [`Error::Shape`] for `what`.
    pub fn shape(what: impl Into<String>, expected: impl ToString, got: impl ToString) -> Self {
        Error::Shape {
            what: what.into(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
