//! A sheet read as cells by position instead of as rows of a kind: for a table filled in a
//! known layout whose columns the caller finds itself (an institution's 情况统计表, which
//! `rollup` adds up). The same readers, [`Limits`], zip check and child process as every other
//! sheet; only the sheet builder, asked for cells ([`CellsOut`]), keeps the cells of a
//! [`Window`] (the first rows and columns) as written instead of interpreting them, and hands
//! each row on as it is made.
//!
//! Never keeps or reads a sheet past its window; never keeps a non-finite number (it could not
//! cross from the child).

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::build::Cells;
use super::isolate::{self, ChildLimits};
use super::value::Value;
use super::{Limits, RowProblem, read_workbook_with};
use crate::model::Format;

/// The first `rows` rows and `columns` columns of each sheet: all that is read of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub rows: u32,
    pub columns: u32,
}

impl Window {
    /// The child's command-line argument for this window (`cells:ROWSxCOLUMNS`).
    pub(crate) fn arg(self) -> String {
        format!("cells:{}x{}", self.rows, self.columns)
    }

    /// [`Window::arg`] read back.
    pub(crate) fn parse(arg: &str) -> Option<Window> {
        let (rows, columns) = arg.strip_prefix("cells:")?.split_once('x')?;
        Some(Window {
            rows: rows.parse().ok()?,
            columns: columns.parse().ok()?,
        })
    }
}

/// One sheet's cells within the window: `rows[r][c]`, 0-based as the readers count,
/// [`Value::Empty`] where nothing is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CellSheet {
    pub(crate) name: String,
    pub(crate) rows: Vec<Vec<Value>>,
}

/// Everything read of one file as cells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CellBook {
    pub(crate) sheets: Vec<CellSheet>,
    /// Sheets that could not be read to the end of the window (a cap of the [`Limits`], a
    /// sheet broken off), as the row readers word them.
    pub(crate) problems: Vec<RowProblem>,
    /// Set when the file as a whole could not be read (a zip bomb, a password, a crashed
    /// reader); Chinese.
    pub(crate) error: Option<String>,
    window: Window,
}

impl CellBook {
    fn new(window: Window) -> CellBook {
        CellBook {
            sheets: Vec::new(),
            problems: Vec::new(),
            error: None,
            window,
        }
    }
}

/// What the sheet child says when asked for cells, one JSON line each: each sheet's name
/// followed by its rows, the problems, then the error if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CellEvent {
    Sheet(String),
    /// A row (0-based) and its cells (0-based column, value).
    Row(u32, Cells),
    Problem(RowProblem),
    Error(String),
}

impl CellEvent {
    /// Adds the event to `book` (rows go to its last sheet; nothing outside its window).
    pub(crate) fn apply(self, book: &mut CellBook) {
        let window = book.window;
        match self {
            CellEvent::Sheet(name) => book.sheets.push(CellSheet {
                name,
                rows: Vec::new(),
            }),
            CellEvent::Row(row0, cells) => {
                let Some(sheet) = book.sheets.last_mut().filter(|_| row0 < window.rows) else {
                    return;
                };
                let r = row0 as usize;
                if sheet.rows.len() <= r {
                    sheet.rows.resize_with(r + 1, Vec::new);
                }
                let line = &mut sheet.rows[r];
                for (c, v) in cells.into_iter().filter(|(c, _)| *c < window.columns) {
                    let c = c as usize;
                    if line.len() <= c {
                        line.resize(c + 1, Value::Empty);
                    }
                    line[c] = v;
                }
            }
            CellEvent::Problem(p) => book.problems.push(p),
            CellEvent::Error(e) => book.error = Some(e),
        }
    }
}

/// Reads the cells of `window` of every sheet of `path`: in the sheet child of `exe` (the
/// dangan binary) under the default [`ChildLimits`] when it is given, else in this process
/// under the default [`Limits`] (as the import does without a binary to call).
pub(crate) fn read_cells(
    path: &Path,
    format: Format,
    window: Window,
    exe: Option<&Path>,
) -> CellBook {
    let mut book = CellBook::new(window);
    match exe {
        Some(exe) => isolate::read_cells_isolated(
            path,
            format,
            exe,
            &ChildLimits::default(),
            window,
            &mut |e| e.apply(&mut book),
        ),
        None => {
            let shared = Rc::new(RefCell::new(book));
            let sink = {
                let shared = shared.clone();
                move |e: CellEvent| e.apply(&mut shared.borrow_mut())
            };
            stream_cells(path, format, &Limits::default(), window, Box::new(sink));
            book = shared.replace(CellBook::new(window));
        }
    }
    book
}

/// Where a builder asked for cells sends its events.
pub(crate) type Sink = Box<dyn FnMut(CellEvent)>;

thread_local! {
    static WANTED: RefCell<Option<(Window, Sink)>> = const { RefCell::new(None) };
}

fn send(event: CellEvent) {
    WANTED.with(|w| {
        if let Some((_, sink)) = w.borrow_mut().as_mut() {
            sink(event);
        }
    });
}

/// Reads `path` in this process under `limits` with every sheet builder keeping the cells of
/// `window` and sending them to `sink` as they are made, then the file's error, if any. What
/// the sheet child runs when asked for cells.
pub(crate) fn stream_cells(
    path: &Path,
    format: Format,
    limits: &Limits,
    window: Window,
    sink: Sink,
) {
    WANTED.with(|w| *w.borrow_mut() = Some((window, sink)));
    let wb = read_workbook_with(path, format, limits);
    // Anything the readers kept for themselves (the builders sent theirs).
    wb.problems
        .into_iter()
        .for_each(|p| send(CellEvent::Problem(p)));
    if let Some(e) = wb.error {
        send(CellEvent::Error(e));
    }
    WANTED.with(|w| *w.borrow_mut() = None);
}

/// A sheet builder's side when cells are wanted ([`stream_cells`]): the sheet's name goes out
/// before its first row, each row within the window as it comes, the problems at the end.
pub(crate) struct CellsOut {
    window: Window,
    name: String,
    head_sent: bool,
    past_window: bool,
}

impl CellsOut {
    /// `Some` when this thread reads cells ([`stream_cells`]).
    pub(crate) fn wanted(name: &str) -> Option<CellsOut> {
        let window = WANTED.with(|w| w.borrow().as_ref().map(|(window, _)| *window))?;
        Some(CellsOut {
            window,
            name: name.to_string(),
            head_sent: false,
            past_window: false,
        })
    }

    /// False once a row below the window was seen (rows come in increasing order).
    pub(crate) fn wants_more(&self) -> bool {
        !self.past_window
    }

    /// Row `row0` (0-based): its cells within the window, sent on.
    pub(crate) fn push(&mut self, row0: u32, cells: &Cells) {
        if row0 >= self.window.rows {
            self.past_window = true;
            return;
        }
        let kept: Cells = cells
            .iter()
            .filter(|(c, v)| *c < self.window.columns && *v != Value::Empty)
            .map(|(c, v)| match v {
                Value::Number(f) if !f.is_finite() => (*c, Value::Error),
                other => (*c, other.clone()),
            })
            .collect();
        if kept.is_empty() {
            return;
        }
        self.head();
        send(CellEvent::Row(row0, kept));
    }

    /// The sheet is done: its name (when no row was sent) and its problems go out.
    pub(crate) fn finish(mut self, problems: Vec<RowProblem>) {
        self.head();
        problems
            .into_iter()
            .for_each(|p| send(CellEvent::Problem(p)));
    }

    fn head(&mut self) {
        if !self.head_sent {
            self.head_sent = true;
            send(CellEvent::Sheet(std::mem::take(&mut self.name)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Window = Window {
        rows: 3,
        columns: 2,
    };

    fn csv(text: &str) -> CellBook {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("表.csv");
        std::fs::write(&path, text).unwrap();
        read_cells(&path, Format::Csv, WINDOW, None)
    }

    #[test]
    fn cells_are_kept_by_position_within_the_window() {
        let book = csv("机构,教师数,学生数\n,,\n甲校,3,4\n乙校,5,6\n");
        assert_eq!(book.error, None);
        assert_eq!(book.problems, []);
        assert_eq!(book.sheets.len(), 1);
        let s = &book.sheets[0];
        assert_eq!(s.name, "表");
        let text = |t: &str| Value::Text(t.into());
        assert_eq!(
            s.rows,
            [
                vec![text("机构"), text("教师数")],
                vec![],
                vec![text("甲校"), text("3")]
            ]
        );
    }

    #[test]
    fn a_sign_in_sheet_is_cells_too_and_gives_no_rows_of_people() {
        let book = csv("姓名,学号\n张三,1\n");
        assert_eq!(book.sheets[0].rows.len(), 2);
        assert_eq!(book.problems, []);
    }

    #[test]
    fn a_child_that_cannot_start_is_the_file_error() {
        let book = read_cells(
            Path::new("/nonexistent.xlsx"),
            Format::Xlsx,
            WINDOW,
            Some(Path::new("/nonexistent/dangan")),
        );
        assert!(book.error.is_some_and(|e| e.contains("无法启动")));
        assert_eq!(book.sheets, []);
    }

    #[test]
    fn the_window_round_trips_through_argv() {
        assert_eq!(Window::parse(&WINDOW.arg()), Some(WINDOW));
        assert_eq!(Window::parse("cells:3"), None);
        assert_eq!(Window::parse("rows:3x2"), None);
    }

    #[test]
    fn events_outside_the_window_are_dropped() {
        let mut book = CellBook::new(WINDOW);
        CellEvent::Sheet("a".into()).apply(&mut book);
        CellEvent::Row(1, vec![(1, Value::Number(2.0)), (5, Value::Number(9.0))]).apply(&mut book);
        CellEvent::Row(7, vec![(0, Value::Number(1.0))]).apply(&mut book);
        assert_eq!(
            book.sheets[0].rows,
            [vec![], vec![Value::Empty, Value::Number(2.0)]]
        );
    }

    #[test]
    fn a_value_crosses_as_json_and_comes_back_the_same() {
        let date = chrono::NaiveDate::from_ymd_opt(2025, 5, 12).unwrap();
        let row = CellEvent::Row(
            0,
            vec![
                (0, Value::Text("甲".into())),
                (1, Value::Number(0.25)),
                (2, Value::Bool(true)),
                (
                    3,
                    Value::DateTime(date.and_hms_milli_opt(9, 30, 0, 5).unwrap()),
                ),
                (
                    4,
                    Value::Time(chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap()),
                ),
                (5, Value::Error),
            ],
        );
        let line = serde_json::to_string(&row).unwrap();
        assert_eq!(serde_json::from_str::<CellEvent>(&line).unwrap(), row);
    }
}
