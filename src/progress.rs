//! Progress for a person: a bar on a terminal, a plain line now and then in cron logs,
//! nothing with `-q`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub enum Progress {
    Bar(ProgressBar),
    Lines { total: u64, done: u64, next: u64 },
    Quiet,
}

impl Progress {
    pub fn new(total: u64, quiet: bool) -> Progress {
        if quiet || total == 0 {
            Progress::Quiet
        } else if !std::io::stderr().is_terminal() && total < 100 {
            // A few files in a cron log need no progress lines: the summary says it all.
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} 个文件 {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                total,
                done: 0,
                next: (total / 10).max(1),
            }
        }
    }

    pub fn inc(&mut self, n: u64) {
        match self {
            Progress::Bar(b) => b.inc(n),
            Progress::Lines { total, done, next } => {
                *done += n;
                if *done >= *next || *done == *total {
                    eprintln!("已处理 {done}/{total} 个文件");
                    *next = *done + (*total / 10).max(1);
                }
            }
            Progress::Quiet => {}
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}
