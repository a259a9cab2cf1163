//! One run at a time: an exclusive lock on `archive/.lock`, released when the process ends
//! (however it ends). A second run is told who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};

use crate::archive_dir::ArchiveDir;

pub struct RunLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("另一个 dangan 正在使用存档 {archive}（{holder}）。请等它结束后再运行。")]
    Busy { archive: String, holder: String },
    #[error("无法创建锁文件 {path}：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl RunLock {
    /// Takes the lock; `offset` is the configured local time the holder's start is written in.
    pub fn acquire(
        archive: &ArchiveDir,
        command: &str,
        offset: chrono::FixedOffset,
    ) -> Result<RunLock, LockError> {
        let path = archive.lock_path();
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(archive.root()).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Busy {
                    archive: archive.root().display().to_string(),
                    holder: if holder.is_empty() {
                        "持有者未知".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        let text = format!(
            "进程 {} 在 {} 上运行 dangan {}，开始于 {}",
            std::process::id(),
            if host.is_empty() { "本机" } else { &host },
            command,
            crate::clock::show(crate::clock::system_now(), offset)
        );
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = file.write_all(text.as_bytes());
        let _ = file.flush();
        Ok(RunLock { _file: file })
    }
}
