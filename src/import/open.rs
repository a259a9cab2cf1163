//! Opens an inbox file as it was walked, and nothing else: the last component is never
//! followed (`O_NOFOLLOW`), a FIFO or device swapped in cannot block the open (`O_NONBLOCK`),
//! and the opened descriptor must be a regular file with the device, inode and size the walk
//! saw. Anything else is a rejection with a reason, tried again next run. Never reads a byte.

use std::fs::{File, Metadata, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};

use crate::walk::WalkEntry;

/// The walked file, open for reading, with its `fstat`.
pub(crate) fn open_walked(entry: &WalkEntry) -> Result<(File, Metadata), String> {
    #[cfg(debug_assertions)]
    test_hook(entry);
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&entry.abs)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                "打开时已变成符号链接（symlink），不跟随，未存档（下次运行再试）".to_string()
            } else {
                format!("无法打开：{e}（下次运行再试）")
            }
        })?;
    let meta = file
        .metadata()
        .map_err(|e| format!("无法读取文件信息：{e}"))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        let what = if ft.is_fifo() {
            "管道（FIFO）"
        } else if ft.is_char_device() || ft.is_block_device() {
            "设备文件"
        } else if ft.is_socket() {
            "套接字"
        } else {
            "非普通文件"
        };
        return Err(format!(
            "打开时已不是普通文件（变成了{what}），未存档（下次运行再试）"
        ));
    }
    if meta.dev() != entry.dev || meta.ino() != entry.inode {
        return Err(
            "打开的文件不是扫描到的那个文件（扫描后被替换），未存档（下次运行再试）".into(),
        );
    }
    if meta.len() != entry.size {
        return Err("扫描后文件大小发生变化（下次运行再试）".into());
    }
    // A regular file never blocks; clear the flag so reads behave as usual.
    // SAFETY: fcntl on a descriptor we own, with flags read from it a moment before.
    unsafe {
        let fd = file.as_raw_fd();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok((file, meta))
}

/// True when the path still names the inode that was read (checked after reading).
pub(crate) fn still_there(entry: &WalkEntry, read: &Metadata) -> Result<(), String> {
    let after = std::fs::symlink_metadata(&entry.abs)
        .map_err(|e| format!("读取后文件消失：{e}（下次运行再试）"))?;
    let same = after.file_type().is_file()
        && after.dev() == read.dev()
        && after.ino() == read.ino()
        && after.len() == read.len()
        && after.mtime() == read.mtime()
        && after.mtime_nsec() == read.mtime_nsec();
    if same {
        Ok(())
    } else {
        Err("读取时文件正在被修改（下次运行再试）".into())
    }
}

/// Debug and test builds only: `DANGAN_TEST_BEFORE_OPEN` is a shell command run with the
/// file's path as `$1` between the walk and the open (the tests swap the file there).
#[cfg(debug_assertions)]
fn test_hook(entry: &WalkEntry) {
    if let Some(script) = std::env::var_os("DANGAN_TEST_BEFORE_OPEN") {
        let _ = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("hook")
            .arg(&entry.abs)
            .status();
    }
}
