//! Reading a spreadsheet in a child process, so that a file that makes calamine abort (an
//! allocation failure is an abort, not an error), loop or eat memory costs one file, never the
//! run. The parent re-invokes the dangan binary as `dangan __read-sheet PATH FORMAT [MEMORY]`;
//! the child lowers its own address-space limit, reads the file with [`super::read_workbook`]
//! and prints it on stdout as a stream of [`Event`]s, one JSON line each (a sheet, then its
//! rows, one line a row; the problems; the error). The parent reads the lines as they come and
//! hands each event on, so it never holds the child's answer whole; it kills the child after a
//! time limit and turns any abnormal end into an error event. The child dies with its parent
//! ([`die_with_parent`]).
//!
//! Asked for cells (a last argument `cells:ROWSxCOLUMNS`, [`read_cells_isolated`]), the child
//! prints [`CellEvent`]s instead: the same limits, the same handling of an abnormal end.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::model::Format;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::cells::{CellEvent, Window};
use super::{DeclaredRow, MediaRow, RowProblem, Sheet, SignInRow, Workbook, read_workbook};

/// The hidden subcommand.
pub const CHILD_ARG: &str = "__read-sheet";

const CRASHED: &str = "读取表格的子进程异常退出（可能是恶意或损坏的表格）";

/// Limits of the child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildLimits {
    /// Address-space limit (RLIMIT_AS) the child sets on itself.
    pub memory_bytes: u64,
    /// Wall-clock time after which the parent kills the child.
    pub timeout: Duration,
    /// Largest JSON answer accepted.
    pub max_output_bytes: u64,
}

impl Default for ChildLimits {
    fn default() -> Self {
        ChildLimits {
            memory_bytes: 1024 * 1024 * 1024,
            timeout: Duration::from_secs(60),
            max_output_bytes: 512 * 1024 * 1024,
        }
    }
}

/// Reads `path` in a child process (`exe` is the dangan binary) with the default limits.
pub fn read_workbook_isolated(path: &Path, format: Format, exe: &Path) -> Workbook {
    read_workbook_isolated_with(path, format, exe, &ChildLimits::default())
}

/// [`read_workbook_isolated`] with explicit limits: the events collected into a workbook.
pub fn read_workbook_isolated_with(
    path: &Path,
    format: Format,
    exe: &Path,
    limits: &ChildLimits,
) -> Workbook {
    let mut wb = Workbook::default();
    read_isolated(path, format, exe, limits, &mut |e| e.apply(&mut wb));
    wb
}

/// What the child says, one JSON line each, in this order: each sheet ([`Event::Sheet`], its
/// row vectors empty) followed by its rows, then the row problems, then the error if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Sheet(Sheet),
    SignIn(SignInRow),
    Media(MediaRow),
    Declared(DeclaredRow),
    Problem(RowProblem),
    Error(String),
}

impl Event {
    /// The events of a workbook read in this process, in the child's order.
    pub fn of(wb: Workbook) -> impl Iterator<Item = Event> {
        let Workbook {
            sheets,
            problems,
            error,
            ..
        } = wb;
        sheets
            .into_iter()
            .flat_map(|mut s| {
                let sign_in = std::mem::take(&mut s.sign_in);
                let media = std::mem::take(&mut s.media);
                let declared = std::mem::take(&mut s.declared);
                std::iter::once(Event::Sheet(s))
                    .chain(sign_in.into_iter().map(Event::SignIn))
                    .chain(media.into_iter().map(Event::Media))
                    .chain(declared.into_iter().map(Event::Declared))
            })
            .chain(problems.into_iter().map(Event::Problem))
            .chain(error.map(Event::Error))
    }

    /// Adds the event to `wb` (rows go to its last sheet).
    pub fn apply(self, wb: &mut Workbook) {
        match self {
            Event::Sheet(s) => wb.sheets.push(s),
            Event::SignIn(r) => {
                if let Some(s) = wb.sheets.last_mut() {
                    s.sign_in.push(r);
                }
            }
            Event::Media(r) => {
                if let Some(s) = wb.sheets.last_mut() {
                    s.media.push(r);
                }
            }
            Event::Declared(r) => {
                if let Some(s) = wb.sheets.last_mut() {
                    s.declared.push(r);
                }
            }
            Event::Problem(p) => wb.problems.push(p),
            Event::Error(e) => wb.error = Some(e),
        }
    }
}

/// Largest line (one event) accepted from the child.
const MAX_LINE_BYTES: u64 = 16 << 20;

/// Reads `path` in a child process, handing each [`Event`] to `sink` as its line arrives; any
/// abnormal end is a last [`Event::Error`]. The parent holds one line at a time (and a few
/// hundred parsed events in a channel).
pub fn read_isolated(
    path: &Path,
    format: Format,
    exe: &Path,
    limits: &ChildLimits,
    sink: &mut dyn FnMut(Event),
) {
    if let Err(reason) = run_child(path, format, exe, limits, None, sink) {
        sink(Event::Error(reason));
    }
}

/// [`read_isolated`] asking the child for the cells of `window` ([`super::cells`]) instead of
/// typed rows: the same limits, the same handling of an abnormal end.
pub(crate) fn read_cells_isolated(
    path: &Path,
    format: Format,
    exe: &Path,
    limits: &ChildLimits,
    window: Window,
    sink: &mut dyn FnMut(CellEvent),
) {
    if let Err(reason) = run_child(path, format, exe, limits, Some(window), sink) {
        sink(CellEvent::Error(reason));
    }
}

/// Runs the child (asked for cells when `window` is set) and hands each line it prints to
/// `sink` as an `E`.
fn run_child<E: DeserializeOwned + Send + 'static>(
    path: &Path,
    format: Format,
    exe: &Path,
    limits: &ChildLimits,
    window: Option<Window>,
    sink: &mut dyn FnMut(E),
) -> Result<(), String> {
    let mut command = Command::new(exe);
    command
        .arg(CHILD_ARG)
        .arg(path)
        .arg(format.as_str())
        .arg(limits.memory_bytes.to_string())
        .args(window.map(Window::arg))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    die_with_parent(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("无法启动读取表格的子进程（{}）：{e}", exe.display()))?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("无法连接读取表格的子进程".to_string());
    };
    let max_out = limits.max_output_bytes;
    // Lines parsed on a thread, handed over through a bounded channel: a slow consumer slows
    // the child, never grows the parent.
    let (tx, rx) = mpsc::sync_channel::<Result<E, String>>(256);
    let out_thread = thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        let mut total: u64 = 0;
        loop {
            line.clear();
            let n = match (&mut reader)
                .take(MAX_LINE_BYTES + 1)
                .read_until(b'\n', &mut line)
            {
                Ok(n) => n,
                Err(_) => {
                    let _ = tx.send(Err(format!("{CRASHED}：无法读取子进程的输出")));
                    break;
                }
            };
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > max_out || n as u64 > MAX_LINE_BYTES {
                let _ = tx.send(Err(format!("{CRASHED}：输出过大")));
                break;
            }
            if line.last() != Some(&b'\n') {
                // Cut off mid-line: the child died while writing.
                break;
            }
            let parsed = serde_json::from_slice::<E>(&line)
                .map_err(|e| format!("{CRASHED}：输出无法解析（{e}）"));
            let bad = parsed.is_err();
            if tx.send(parsed).is_err() || bad {
                break;
            }
        }
        // Drain the rest so the child never blocks on a full pipe.
        let _ = io::copy(&mut reader, &mut io::sink());
    });
    let err_thread = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.by_ref().take(4096).read_to_end(&mut buf);
        let _ = io::copy(&mut stderr, &mut io::sink());
        String::from_utf8_lossy(&buf).into_owned()
    });

    let start = Instant::now();
    let mut timed_out = false;
    let mut failure: Option<String> = None;
    loop {
        let left = limits.timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            timed_out = true;
            break;
        }
        match rx.recv_timeout(left) {
            Ok(Ok(event)) => {
                if failure.is_none() {
                    sink(event);
                }
            }
            Ok(Err(why)) => {
                failure.get_or_insert(why);
                let _ = child.kill();
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // The output is closed (or the time is up): the child ends now or is ended.
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => {
                let _ = child.kill();
                break child.wait().ok();
            }
        }
        if timed_out || start.elapsed() >= limits.timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait().ok();
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    drop(rx);
    let _ = out_thread.join();
    let err = err_thread.join().unwrap_or_default();

    if timed_out {
        let secs = limits.timeout.as_secs_f64();
        let shown = if secs.fract() == 0.0 {
            format!("{secs:.0}")
        } else {
            format!("{secs:.2}")
        };
        return Err(format!("{CRASHED}：超过 {shown} 秒仍未读完，已终止"));
    }
    if let Some(why) = failure {
        return Err(why);
    }
    let Some(status) = status else {
        return Err(format!("{CRASHED}：无法得知子进程的结果"));
    };
    if !status.success() {
        return Err(format!(
            "{CRASHED}：{}{}",
            describe(status),
            stderr_hint(&err)
        ));
    }
    Ok(())
}

/// The child is killed when its parent dies (`PR_SET_PDEATHSIG`), even by SIGKILL: a reader
/// of a slow sheet never outlives the run that started it. Set between fork and exec; a parent
/// already gone by then is noticed and the child exits at once.
pub(crate) fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let what = match sig {
                libc::SIGABRT => "中止，多半是内存超限",
                libc::SIGKILL => "被强制结束",
                libc::SIGSEGV | libc::SIGBUS => "内存访问错误",
                libc::SIGXCPU => "CPU 时间超限",
                _ => "被信号结束",
            };
            return format!("{what}（信号 {sig}）");
        }
    }
    match status.code() {
        Some(code) => format!("退出码 {code}"),
        None => "未知原因".to_string(),
    }
}

/// The first line the child wrote on stderr ("memory allocation of … failed"), for the
/// technician reading the report.
fn stderr_hint(err: &str) -> String {
    match err.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) => format!("；{}", line.chars().take(200).collect::<String>()),
        None => String::new(),
    }
}

/// The child side. Call first in `main`: when this process was started as
/// `dangan __read-sheet PATH FORMAT [MEMORY [cells:ROWSxCOLUMNS]]`, it reads the file, prints
/// the workbook (or, asked for cells, the cells: `cells.rs`) as JSON on stdout and
/// returns `Some(exit code)`; otherwise `None` and `main` goes on.
pub fn child_hook() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(std::ffi::OsStr::new(CHILD_ARG)) {
        return None;
    }
    let path: Option<OsString> = args.next();
    let format = args.next().and_then(|f| f.into_string().ok());
    let memory = args
        .next()
        .and_then(|m| m.into_string().ok())
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(ChildLimits::default().memory_bytes);
    let window = match args.next() {
        None => None,
        Some(arg) => match arg.to_str().and_then(Window::parse) {
            Some(window) => Some(window),
            None => {
                eprintln!("unknown mode: {}", arg.to_string_lossy());
                return Some(2);
            }
        },
    };
    let (Some(path), Some(format)) = (path, format) else {
        eprintln!("usage: dangan {CHILD_ARG} PATH FORMAT [MEMORY_BYTES [cells:ROWSxCOLUMNS]]");
        return Some(2);
    };
    let Some(format) = parse_format(&format) else {
        eprintln!("unknown format: {format}");
        return Some(2);
    };
    limit_self(memory, 300);
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("DANGAN_TEST_SHEET_CHILD_SLEEP_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        // Tests only: a slow sheet, to kill the parent while its child reads.
        thread::sleep(Duration::from_millis(ms));
    }
    let out: Lines = std::rc::Rc::new(std::cell::RefCell::new((
        io::BufWriter::new(io::stdout().lock()),
        Ok(()),
    )));
    if let Some(window) = window {
        super::cells::stream_cells(
            Path::new(&path),
            format,
            &super::Limits::default(),
            window,
            Box::new(json_lines::<CellEvent>(&out)),
        );
        return Some(flushed(&out));
    }
    let emit = json_lines::<Event>(&out);
    let wb = if format == Format::Docx {
        // A docx's tables are filtered after they are read: sent whole.
        read_workbook(Path::new(&path), format)
    } else {
        // Rows go out as they are made: the builders send them ([`super::build`]), and what
        // they return is only the shells of what was sent.
        let emit = emit.clone();
        let wb =
            super::build::stream_rows(Box::new(emit), || read_workbook(Path::new(&path), format));
        Workbook {
            error: wb.error,
            ..Workbook::default()
        }
    };
    let mut emit = emit;
    Event::of(wb).for_each(&mut emit);
    Some(flushed(&out))
}

/// The child's stdout, and the first error writing to it.
type Lines =
    std::rc::Rc<std::cell::RefCell<(io::BufWriter<io::StdoutLock<'static>>, io::Result<()>)>>;

/// Writes each event given to it as one JSON line on `out` (nothing more after an error).
fn json_lines<E: Serialize + 'static>(out: &Lines) -> impl FnMut(E) + Clone + 'static {
    let out = out.clone();
    move |event: E| {
        let mut guard = out.borrow_mut();
        let (w, state) = &mut *guard;
        if state.is_ok() {
            *state = serde_json::to_writer(&mut *w, &event)
                .map_err(io::Error::from)
                .and_then(|()| w.write_all(b"\n"));
        }
    }
}

/// The child's exit code: 0 when every line was written and flushed.
fn flushed(out: &Lines) -> i32 {
    let mut guard = out.borrow_mut();
    let (w, state) = &mut *guard;
    match std::mem::replace(state, Ok(())).and_then(|()| w.flush()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

fn parse_format(s: &str) -> Option<Format> {
    Some(match s {
        "xlsx" => Format::Xlsx,
        "xlsm" => Format::Xlsm,
        "xlsb" => Format::Xlsb,
        "xls" => Format::Xls,
        "ods" => Format::Ods,
        "csv" => Format::Csv,
        "html_table" => Format::HtmlTable,
        "xml_spreadsheet" => Format::XmlSpreadsheet,
        "docx" => Format::Docx,
        _ => return None,
    })
}

/// Address space capped, no core dumps (an aborting 1 GiB child must not write one), and a
/// CPU-time backstop of `cpu_seconds` in case the parent is gone. Called by every child reader
/// (this one, and the PDF reader) first thing.
pub(crate) fn limit_self(memory: u64, cpu_seconds: u64) {
    #[cfg(unix)]
    {
        let set = |resource, value: u64| {
            let lim = libc::rlimit {
                rlim_cur: value as libc::rlim_t,
                rlim_max: value as libc::rlim_t,
            };
            // SAFETY: setrlimit only reads the struct passed by pointer; failure is harmless
            // (the parent's time limit still applies).
            unsafe { libc::setrlimit(resource, &lim) };
        };
        set(libc::RLIMIT_CORE, 0);
        set(libc::RLIMIT_AS, memory);
        set(libc::RLIMIT_CPU, cpu_seconds);
    }
    #[cfg(not(unix))]
    let _ = (memory, cpu_seconds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_argv() {
        for f in [
            Format::Xlsx,
            Format::Xlsm,
            Format::Xlsb,
            Format::Xls,
            Format::Ods,
            Format::Csv,
            Format::HtmlTable,
            Format::XmlSpreadsheet,
        ] {
            assert_eq!(parse_format(f.as_str()), Some(f));
        }
        assert_eq!(parse_format("pdf"), None);
    }

    #[test]
    fn a_missing_binary_is_an_error_not_a_panic() {
        let wb = read_workbook_isolated(
            Path::new("/nonexistent.xlsx"),
            Format::Xlsx,
            Path::new("/nonexistent/dangan"),
        );
        assert!(wb.error.is_some_and(|e| e.contains("无法启动")));
    }
}
