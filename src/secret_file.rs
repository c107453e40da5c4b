//! Key files: written once, readable by their owner only.

use std::io::Write;
use std::path::Path;

/// Creates a new file at `path` holding `text`, readable and writable by
/// its owner only, and syncs it to disk. A file already there is an error
/// (`AlreadyExists`): a key is never overwritten.
pub fn create(path: &Path, text: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text)?;
    file.sync_all()
}
