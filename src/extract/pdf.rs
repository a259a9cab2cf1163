//! PDF text, read with `lopdf` in a child process of the dangan binary (`dangan __read-pdf
//! PATH`) that caps its own memory, CPU time and page content, so that a hostile PDF (a
//! decompression bomb, a parser that loops or aborts) costs that file's text, never the run.
//! The child prints `{"text": …}` or `{"error": …}` as JSON; the parent kills it after
//! [`TIMEOUT`]. An empty text means no text layer: a scan.
//!
//! Only the first [`MAX_PAGES`] pages are read: the first lines (the date, 总结/方案 in the
//! title) and the report's excerpt are all that is needed of a document.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The hidden subcommand.
pub const CHILD_ARG: &str = "__read-pdf";

/// Pages read from the start of the document.
pub const MAX_PAGES: u32 = 20;
/// Largest file the child opens (lopdf reads the file whole).
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// The child's address-space limit.
const MEMORY_BYTES: u64 = 1 << 30;
/// Decompressed content of one page.
const MAX_PAGE_CONTENT: usize = 32 << 20;
/// Wall-clock time after which the child is killed.
pub const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_OUTPUT: u64 = 8 << 20;

#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    text: Option<String>,
    error: Option<String>,
}

/// The text of the PDF at `path` (empty: no text layer), read in a child process (`exe` is
/// the dangan binary), or why there is none, in Chinese.
pub fn pdf_text(path: &Path, exe: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("无法打开 PDF（{e}），未提取文字"))?;
    if size > MAX_FILE_BYTES {
        return Err(format!("PDF 超过 {} MiB，未提取文字", MAX_FILE_BYTES >> 20));
    }
    let mut command = Command::new(exe);
    command
        .arg(CHILD_ARG)
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    crate::sheet::die_with_parent(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("无法启动读取 PDF 的子进程（{e}），未提取文字"))?;
    let Some(mut stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("无法连接读取 PDF 的子进程，未提取文字".into());
    };
    let reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let r = stdout.by_ref().take(MAX_OUTPUT).read_to_end(&mut buf);
        let _ = io::copy(&mut stdout, &mut io::sink());
        r.map(|_| buf)
    });
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() < TIMEOUT => {}
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    let out = reader.join().ok().and_then(Result::ok);
    let crashed = "读取 PDF 的子进程异常退出（可能是恶意或损坏的 PDF），未提取文字";
    match (status, out) {
        (None, _) => Err(format!(
            "读取 PDF 超过 {} 秒仍未完成，已终止，未提取文字",
            TIMEOUT.as_secs()
        )),
        (Some(s), Some(out)) if s.success() => match serde_json::from_slice::<Answer>(&out) {
            Ok(Answer {
                text: Some(text), ..
            }) => Ok(text),
            Ok(Answer {
                error: Some(why), ..
            }) => Err(why),
            _ => Err(crashed.into()),
        },
        _ => Err(crashed.into()),
    }
}

/// The child side. Call first in `main`: when this process was started as `dangan
/// __read-pdf PATH`, it prints the answer and returns `Some(exit code)`; otherwise `None`.
pub fn child_hook() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(std::ffi::OsStr::new(CHILD_ARG)) {
        return None;
    }
    let Some(path) = args.next() else {
        eprintln!("usage: dangan {CHILD_ARG} PATH");
        return Some(2);
    };
    crate::sheet::limit_self(MEMORY_BYTES, 60);
    let answer = match read(Path::new(&path)) {
        Ok(text) => Answer {
            text: Some(text),
            error: None,
        },
        Err(why) => Answer {
            text: None,
            error: Some(why),
        },
    };
    let mut out = io::stdout().lock();
    match serde_json::to_writer(&mut out, &answer)
        .map_err(io::Error::from)
        .and_then(|()| out.flush())
    {
        Ok(()) => Some(0),
        Err(_) => Some(1),
    }
}

/// The text of the first pages, page after page.
fn read(path: &Path) -> Result<String, String> {
    let doc =
        lopdf::Document::load(path).map_err(|e| format!("PDF 无法读取（{e}），未提取文字"))?;
    if doc.is_encrypted() {
        return Err("PDF 设置了密码（已加密），未提取文字".into());
    }
    let mut text = String::new();
    let (mut read, mut failed) = (0, 0);
    for page in doc.get_pages().into_keys().take(MAX_PAGES as usize) {
        // A page that cannot be read (an odd font, a bomb of a content stream) is skipped.
        match doc.extract_text_with_limit(&[page], MAX_PAGE_CONTENT) {
            Ok(t) => {
                read += 1;
                text.push_str(&t);
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
            Err(_) => failed += 1,
        }
        if text.chars().count() >= super::MAX_TEXT_CHARS {
            break;
        }
    }
    if read == 0 && failed > 0 {
        return Err(
            "PDF 的页面内容无法读取（损坏，或解压后过大、疑似压缩炸弹），未提取文字".into(),
        );
    }
    Ok(tidy(&text))
}

/// Lines trimmed, blank lines dropped, the fragments a PDF cuts a line into joined (`时间：`,
/// `2025`, `年`, `5`… → `时间：2025年5月…`: a fragment after `：` or a digit, or one that starts
/// with a digit, continues its line), and the spaces PDF writers put between CJK characters
/// and digits removed (`2025 年 5 月 4 日` → `2025年5月4日`).
pub fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let joins = lines.last().is_some_and(|prev: &String| {
            prev.ends_with(['：', ':']) || prev.ends_with(|c: char| c.is_ascii_digit())
        }) || line.starts_with(|c: char| c.is_ascii_digit());
        match lines.last_mut() {
            Some(prev) if joins => prev.push_str(line),
            _ => lines.push(line.to_string()),
        }
    }
    let mut out = String::new();
    for line in &lines {
        let chars: Vec<char> = line.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c == ' '
                && i > 0
                && i + 1 < chars.len()
                && (is_cjk(chars[i - 1]) || is_cjk(chars[i + 1]))
            {
                continue;
            }
            out.push(c);
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{3400}'..='\u{9FFF}' | '\u{FF00}'..='\u{FFEF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_between_cjk_and_digits_go() {
        assert_eq!(
            tidy("  时间：2025 年 5 月 4 日 \n\n Hello world 你好\n"),
            "时间：2025年5月4日\nHello world你好"
        );
        assert_eq!(
            tidy("活动方案\n时间：\n2025\n年\n5\n月\n12\n日\n正文。"),
            "活动方案\n时间：2025年5月12日\n正文。"
        );
    }
}
