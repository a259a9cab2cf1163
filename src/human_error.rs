//! Chinese for what the system says: an `io::Error`'s kind as a reason a person can act on,
//! and an error chain rendered once (each cause said once, the system's English replaced by
//! its Chinese reason). Never decides anything: it only words what went wrong.

use std::io;

/// Why a file or folder could not be used, in Chinese, by the error's kind.
pub fn io_reason(e: &io::Error) -> String {
    use io::ErrorKind as K;
    // dangan's own reasons (`收件箱 x 不是文件夹`) are already said in Chinese.
    if let Some(inner) = e.get_ref() {
        let text = inner.to_string();
        if !text.is_ascii() {
            return text;
        }
    }
    let text = match e.kind() {
        K::NotFound => "不存在（请检查路径是否写对）",
        K::PermissionDenied => "没有权限（请检查它的所有者和读写权限，或用有权限的用户运行）",
        K::AlreadyExists => "已经存在",
        K::IsADirectory => "这是一个文件夹，不是文件",
        K::NotADirectory => "路径中有一部分是文件，不是文件夹",
        K::DirectoryNotEmpty => "文件夹不是空的",
        K::ReadOnlyFilesystem => "所在的磁盘或共享是只读的",
        K::StorageFull => "磁盘已满（请清理出空间后再运行）",
        K::QuotaExceeded => "超出了磁盘配额",
        K::FileTooLarge => "文件太大",
        K::ResourceBusy | K::ExecutableFileBusy => "正被其他程序占用",
        K::CrossesDevices => "不能跨磁盘移动",
        K::InvalidFilename => "文件名不合法",
        K::InvalidData => "内容不是 UTF-8 编码的文字（请用 UTF-8 保存）",
        K::UnexpectedEof => "文件不完整（提前结束）",
        K::TimedOut => "超时",
        K::Interrupted => "被中断",
        K::OutOfMemory => "内存不足",
        K::WriteZero => "写不进去（磁盘可能已满）",
        K::BrokenPipe => "输出已被关闭",
        K::Unsupported => "系统不支持这个操作",
        K::NetworkDown | K::NetworkUnreachable | K::HostUnreachable | K::ConnectionReset => {
            "网络或共享连接中断"
        }
        _ => return format!("系统报告的错误：{e}"),
    };
    text.to_string()
}

/// The error and its causes, each said once, on one line (a config error's own lines below
/// it), with the system's English messages replaced by their Chinese reasons; ends in `\n`.
pub fn render(e: &anyhow::Error) -> String {
    let mut messages: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    for cause in e.chain() {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            let english = io.to_string();
            let chinese = io_reason(io);
            for m in &mut messages {
                *m = m.replace(&english, &chinese);
            }
        }
    }
    let mut said: Vec<String> = Vec::new();
    for m in messages {
        let m = m.trim_end().to_string();
        // A library's English words under a message that already said it in Chinese.
        let english_detail = !said.is_empty() && m.is_ascii();
        if m.is_empty() || english_detail || said.iter().any(|s| s.contains(&m)) {
            continue;
        }
        said.push(m);
    }
    // A message of several lines (a config error shows the line and a caret) goes last, so
    // that what follows it stays on the first line.
    let (one_line, multi): (Vec<String>, Vec<String>) =
        said.into_iter().partition(|m| !m.contains('\n'));
    let mut out = one_line.join("：");
    for m in multi {
        if !out.is_empty() {
            out.push('：');
        }
        out.push_str(&m);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("无法读取收件箱 {path}：{source}")]
    struct WalkError {
        path: String,
        source: io::Error,
    }

    #[test]
    fn a_missing_folder_is_said_once_in_chinese() {
        let source = std::fs::read_dir("/nonexistent-dangan-test").unwrap_err();
        let err = anyhow::Error::new(WalkError {
            path: "x".into(),
            source,
        })
        .context("导入失败");
        let text = render(&err);
        assert_eq!(text.matches("不存在").count(), 1, "{text}");
        assert!(!text.contains("os error"), "{text}");
        assert!(
            text.starts_with("导入失败：无法读取收件箱 x：不存在"),
            "{text}"
        );
    }

    #[test]
    fn io_kinds_are_chinese() {
        for kind in [
            io::ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied,
            io::ErrorKind::ReadOnlyFilesystem,
            io::ErrorKind::StorageFull,
            io::ErrorKind::InvalidData,
        ] {
            let r = io_reason(&io::Error::from(kind));
            assert!(!r.is_ascii(), "{kind:?}: {r}");
        }
    }
}
