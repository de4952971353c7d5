//! Files are written whole or not at all: into a temporary file in the same folder, then
//! renamed over the target, so a crash never leaves a half-written model or output.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically (temporary file + rename).
///
/// # Errors
/// [`Error::Io`] naming `path` when the folder is missing or not writable.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io = |e: std::io::Error| Error::io(path, without_temporary_name(e));
    // A read-only file stays as it is (the rename below would replace it all the same).
    if std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly()) {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "permission denied",
        )));
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    // A temporary file is created readable by its owner only; give the result the usual
    // permissions of a new file (or keep those of the file it replaces).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0o644);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// tempfile's errors end in ` at path "<folder>/.tmpXXXXXX"`, a name the user never gave;
/// the error names the user's path instead (`Error::io`), so that part is dropped.
fn without_temporary_name(e: std::io::Error) -> std::io::Error {
    let text = e.to_string();
    match text.find(" at path \"") {
        Some(at) => std::io::Error::new(e.kind(), text[..at].to_string()),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// /proc takes no new files, even from root: the error names the path given, never
    /// the temporary file's.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_that_fails_names_the_path_given_not_the_temporary_file() {
        let target = Path::new("/proc/nabla-atomic-test.csv");
        let message = format!("{}", write(target, b"x").unwrap_err());
        assert!(message.contains("/proc/nabla-atomic-test.csv"), "{message}");
        assert!(!message.contains(".tmp"), "{message}");
    }
}
