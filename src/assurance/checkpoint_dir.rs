//! Checkpoints that leave the database: every signed note is also written,
//! append-only, to a folder the database's writer cannot reach
//! (`--checkpoint-dir`), one file per checkpoint named `<tree size>.txt`.
//!
//! A file is written to a temporary name, flushed, renamed into place and
//! the folder flushed, so a crash leaves either the whole note or none.
//! A file is never overwritten: a note for a size already in the folder must
//! be the same bytes (Ed25519 signatures are deterministic, so the same log
//! signed by the same key gives the same note), and a different one is
//! refused, as it means the log's history at that size changed.
//!
//! `advice-log verify --trusted-checkpoint` reads such a folder (or a single
//! note) back with [`read_notes`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::AssuranceError;

/// A folder that receives every signed checkpoint note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointDir {
    path: PathBuf,
}

/// A signed note read from a file, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteFile {
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub note: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AssuranceError + '_ {
    move |error| AssuranceError::Io {
        path: path.display().to_string(),
        error,
    }
}

impl CheckpointDir {
    /// The folder at `path`, created (with its parents) if missing.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, AssuranceError> {
        let path = path.into();
        fs::create_dir_all(&path).map_err(io(&path))?;
        Ok(CheckpointDir { path })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the note of a tree of `tree_size` events goes.
    pub fn file(&self, tree_size: u64) -> PathBuf {
        self.path.join(format!("{tree_size}.txt"))
    }

    /// Refuses if the folder already holds a different note for `tree_size`.
    pub fn check(&self, tree_size: u64, note: &str) -> Result<(), AssuranceError> {
        let file = self.file(tree_size);
        match fs::read_to_string(&file) {
            Ok(kept) if kept == note => Ok(()),
            Ok(_) => Err(AssuranceError::CheckpointDiffers {
                path: file.display().to_string(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io(&file)(error)),
        }
    }

    /// Writes the note of a tree of `tree_size` events, durably, unless the
    /// folder holds it already. Answers whether it wrote a file.
    pub fn write(&self, tree_size: u64, note: &str) -> Result<bool, AssuranceError> {
        let file = self.file(tree_size);
        if file.exists() {
            self.check(tree_size, note)?;
            return Ok(false);
        }
        let temporary = self.path.join(format!(
            ".{tree_size}.txt.{}.{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let written = (|| {
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temporary)?;
            out.write_all(note.as_bytes())?;
            out.sync_all()
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&temporary);
            return Err(io(&temporary)(error));
        }
        // Another writer may have put the same size in place meanwhile (a
        // second server on the same database): keep theirs if it says the
        // same, refuse if not.
        if file.exists() {
            let _ = fs::remove_file(&temporary);
            self.check(tree_size, note)?;
            return Ok(false);
        }
        fs::rename(&temporary, &file).map_err(io(&file))?;
        sync_dir(&self.path)?;
        Ok(true)
    }
}

/// Flushes a folder's entries (the rename) to disk.
fn sync_dir(path: &Path) -> Result<(), AssuranceError> {
    #[cfg(unix)]
    {
        fs::File::open(path)
            .and_then(|dir| dir.sync_all())
            .map_err(io(path))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The notes at `path`: the file itself, or every `*.txt` file of a folder
/// (temporary files, whose names start with a dot, are skipped), smallest
/// tree size first when the names are sizes.
pub fn read_notes(path: &Path) -> Result<Vec<NoteFile>, AssuranceError> {
    let metadata = fs::metadata(path).map_err(io(path))?;
    if !metadata.is_dir() {
        let note = fs::read_to_string(path).map_err(io(path))?;
        return Ok(vec![NoteFile {
            path: path.to_path_buf(),
            note,
        }]);
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(path).map_err(io(path))? {
        let file = entry.map_err(io(path))?.path();
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') || !name.ends_with(".txt") || !file.is_file() {
            continue;
        }
        files.push(file);
    }
    let size = |file: &PathBuf| {
        file.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u64>().ok())
    };
    files.sort_by(|a, b| size(a).cmp(&size(b)).then_with(|| a.cmp(b)));
    files
        .into_iter()
        .map(|file| {
            let note = fs::read_to_string(&file).map_err(io(&file))?;
            Ok(NoteFile { path: file, note })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_written_once_and_never_replaced() {
        let out = tempfile::tempdir().expect("dir");
        let dir = CheckpointDir::open(out.path().join("a/b")).expect("open");
        assert!(dir.write(10, "ten\n").expect("write"));
        assert!(!dir.write(10, "ten\n").expect("the same note again"));
        assert!(matches!(
            dir.write(10, "another ten\n"),
            Err(AssuranceError::CheckpointDiffers { .. })
        ));
        assert_eq!(
            fs::read_to_string(dir.file(10)).expect("read"),
            "ten\n",
            "the first note stays"
        );
        assert!(dir.write(9, "nine\n").expect("write"));
        assert!(dir.write(100, "hundred\n").expect("write"));
        fs::write(dir.path().join(".7.txt.tmp"), "half").expect("write");
        let notes = read_notes(dir.path()).expect("read");
        let names: Vec<String> = notes.iter().map(|n| n.note.clone()).collect();
        assert_eq!(names, ["nine\n", "ten\n", "hundred\n"]);
        assert_eq!(
            read_notes(&dir.file(9)).expect("one file")[0].note,
            "nine\n"
        );
        assert!(read_notes(&out.path().join("missing")).is_err());
    }
}
