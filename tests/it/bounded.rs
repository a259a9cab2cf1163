//! Issue 15: nothing small and hostile stops the night. Each case runs the real binary on an
//! inbox made here, with machine-safe sizes (memory caps via `ulimit -v` where it matters).

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Waits for `child` at most `limit`; kills it and panics if it takes longer.
fn wait_bounded(mut child: Child, limit: Duration) -> Run {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap().into();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(mut c: Command) -> Child {
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn files_swapped_between_walk_and_open_are_rejected_and_nothing_outside_is_stored() {
    let env = Env::new();
    let secret_bytes = b"outside the inbox: not for the archive".repeat(10);
    let secret = env.dir.path().join("secret.txt");
    std::fs::write(&secret, &secret_bytes).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.put("教务科研处/启动仪式/fifo.jpg", &jpeg(1));
    env.put("教务科研处/启动仪式/link.jpg", &jpeg(2));
    env.put("教务科研处/启动仪式/zero.jpg", &jpeg(3));
    env.put("教务科研处/启动仪式/hardlink.jpg", &jpeg(4));
    env.put("教务科研处/启动仪式/kept.jpg", &jpeg(5));
    // Run by the binary between its walk and its open of each file (debug builds only).
    let hook = format!(
        r#"case "$1" in
  *fifo.jpg) rm "$1"; mkfifo "$1";;
  *hardlink.jpg) rm "$1"; ln '{s}' "$1";;
  */link.jpg) rm "$1"; ln -s '{s}' "$1";;
  *zero.jpg) rm "$1"; ln -s /dev/zero "$1";;
esac"#,
        s = secret.display()
    );
    let mut c = env.command(&["import", "--json"]);
    c.env("DANGAN_TEST_BEFORE_OPEN", hook);
    let run = wait_bounded(spawn(c), Duration::from_secs(60));
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let summary: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(summary["new"], 1);
    assert_eq!(summary["rejected"], 4);
    let rejected = env.rejected();
    let reason = |name: &str| {
        rejected
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not rejected: {rejected:?}"))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(reason("fifo.jpg").contains("管道（FIFO）"), "{rejected:?}");
    assert!(reason("/link.jpg").contains("符号链接"), "{rejected:?}");
    assert!(reason("zero.jpg").contains("符号链接"), "{rejected:?}");
    assert!(reason("hardlink.jpg").contains("被替换"), "{rejected:?}");
    let listed: Vec<String> = env
        .list()
        .iter()
        .map(|v| v["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, ["教务科研处/启动仪式/kept.jpg"]);
    let objects = env.objects();
    assert_eq!(objects.len(), 1);
    assert_eq!(std::fs::read(&objects[0]).unwrap(), jpeg(5));
    // The dry run opens the same way: nothing hangs, the swapped files are refused.
    let mut c = env.command(&["import", "--dry-run"]);
    c.env(
        "DANGAN_TEST_BEFORE_OPEN",
        r#"case "$1" in *kept.jpg) ;; *) test -p "$1" || { rm -f "$1"; mkfifo "$1"; };; esac"#,
    );
    let dry = wait_bounded(spawn(c), Duration::from_secs(60));
    dry.stdout_has("管道（FIFO）");
}

/// An xlsx written by hand (inline strings, one sheet): `rows` are the `<row>` elements,
/// `after` what follows `</sheetData>` (hyperlinks), `rels` the sheet's relationships.
fn raw_xlsx(sheet_name: &str, rows: &str, after: &str, rels: Option<&str>) -> Vec<u8> {
    use std::io::Write;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;")
    };
    let mut parts: Vec<(&str, String)> = vec![
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.into(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into(),
        ),
        (
            "xl/workbook.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{}" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
                esc(sheet_name)
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.into(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>{rows}</sheetData>{after}</worksheet>"#
            ),
        ),
    ];
    if let Some(rels) = rels {
        parts.push(("xl/worksheets/_rels/sheet1.xml.rels", rels.to_string()));
    }
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::from_date_and_time(2025, 5, 7, 10, 0, 0).unwrap());
    for (name, text) in parts {
        w.start_file(name, opts).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A row of inline strings (`None`: no cell), 1-based `r`.
fn xml_row(r: u32, cells: &[Option<&str>]) -> String {
    let mut out = format!(r#"<row r="{r}">"#);
    for (i, c) in cells.iter().enumerate() {
        if let Some(text) = c {
            let col = (b'A' + i as u8) as char;
            out.push_str(&format!(
                r#"<c r="{col}{r}" t="inlineStr"><is><t>{text}</t></is></c>"#
            ));
        }
    }
    out.push_str("</row>");
    out
}

/// `sh -c 'ulimit -v KiB; exec dangan …'`: every process of the run (the sheet child
/// included) is capped at `mib` MiB of address space.
fn capped(env: &Env, mib: u64, args: &[&str]) -> Command {
    capped_with(env, "-v", mib, args)
}

/// [`capped`] with the soft limit only (`ulimit -S -v`): the parent is capped, the sheet child
/// raises its own limit to its 1 GiB.
fn capped_parent(env: &Env, mib: u64, args: &[&str]) -> Command {
    capped_with(env, "-S -v", mib, args)
}

fn capped_with(env: &Env, flag: &str, mib: u64, args: &[&str]) -> Command {
    let inner = env.command(args);
    let mut c = Command::new("sh");
    c.current_dir(env.dir.path())
        .arg("-c")
        .arg(format!("ulimit {flag} {}; exec \"$@\"", mib * 1024))
        .arg("sh")
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_remove("SOURCE_DATE_EPOCH")
        // glibc reserves 64 MiB of address space for a second arena (made only when two
        // threads contend for malloc, so on a loaded machine only): under a cap of 120 MiB
        // that reservation, not memory in use, made a thread's stack fail once. One arena: the
        // cap measures what dangan holds.
        .env("MALLOC_ARENA_MAX", "1");
    c
}

#[test]
fn a_poison_sheet_costs_its_rows_not_the_night() {
    let env = Env::new();
    let name = "签".repeat(20_000);
    let mut rows = xml_row(1, &[Some("姓名"), Some("学号")]);
    for r in 2..=200_001u32 {
        rows.push_str(&format!(
            r#"<row r="{r}"><c r="B{r}"><v>{}</v></c></row>"#,
            2_023_000_000 + r
        ));
    }
    let poison = raw_xlsx(&name, &rows, "", None);
    assert!(
        poison.len() < 2 << 20,
        "{} bytes: read in-process",
        poison.len()
    );
    env.put("教务科研处/启动仪式/签到表.xlsx", &poison);
    env.put("教务科研处/启动仪式/a.jpg", &jpeg(1));
    let good = raw_xlsx(
        "签到",
        &[
            xml_row(1, &[Some("姓名"), Some("学号")]),
            xml_row(2, &[Some("张三"), Some("2023000001")]),
        ]
        .concat(),
        "",
        None,
    );
    env.put("学生处/签到.xlsx", &good);
    let run = wait_bounded(
        spawn(capped(&env, 200, &["import", "--json"])),
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let summary: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(summary["new"], 3, "{summary}");
    assert_eq!(env.list().len(), 3);
    let status = env.run(&["status", "--json"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let problems = status["row_problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["row"], 2);
    assert_eq!(
        problems[0]["reason"],
        "缺少姓名，已跳过（第 2–200001 行，共 200000 行）"
    );
    let sheet = problems[0]["sheet"].as_str().unwrap();
    assert_eq!(sheet.chars().count(), 101);
    assert!(sheet.ends_with('…'));
    // The night's other sheet counts.
    let stats = env.run(&["stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(stats["participants"], 1, "{stats}");
}

/// Runs `c` under `sh`, returning its result and the CPU seconds (user + system) of it and
/// every process it waited for (the sheet child included), from the shell's `times`.
fn with_cpu(c: Command) -> (Run, f64) {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(r#""$@"; s=$?; times >&2; exit $s"#)
        .arg("sh")
        .arg(c.get_program())
        .args(c.get_args())
        .env_remove("SOURCE_DATE_EPOCH");
    if let Some(dir) = c.get_current_dir() {
        sh.current_dir(dir);
    }
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    let run = wait_bounded(spawn(sh), Duration::from_secs(300));
    let secs = |t: &str| -> f64 {
        let (m, s) = t.trim_end_matches('s').split_once('m').unwrap();
        m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap()
    };
    let line = run.stderr.lines().last().unwrap().to_string();
    let cpu: f64 = line.split_whitespace().map(secs).sum();
    (run, cpu)
}

#[test]
fn hyperlinks_that_match_no_cell_cost_linear_time() {
    // The issue's register at a test's size: 30 000 rows and 117 000 hyperlinks that match
    // no cell (matched against every report, 3.5·10⁹ comparisons; linear, a few ms).
    let env = Env::new();
    let mut rows = xml_row(1, &[Some("标题"), Some("媒体"), Some("链接")]);
    for r in 2..=30_001u32 {
        rows.push_str(&xml_row(r, &[Some(&format!("报道{r}")), Some("宜宾日报")]));
    }
    let mut links = String::from("<hyperlinks>");
    for r in 1..=117_000u32 {
        links.push_str(&format!(r#"<hyperlink ref="AA{r}" r:id="rId1"/>"#));
    }
    // One link that matches: the first report's title.
    links.push_str(r#"<hyperlink ref="A2" r:id="rId1"/>"#);
    links.push_str("</hyperlinks>");
    let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://news.example.org/x" TargetMode="External"/></Relationships>"#;
    let register = raw_xlsx("媒体报道", &rows, &links, Some(rels));
    env.put("融媒体中心/媒体报道登记.xlsx", &register);
    let (run, cpu) = with_cpu(env.command(&["import", "--json"]));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(cpu < 5.0, "{cpu} s of CPU");
    assert_eq!(env.list()[0]["kind"], "sheet");
}

/// The pids of processes whose command line has every one of `words`.
fn processes_with(words: &[&str]) -> Vec<i32> {
    let mut out = Vec::new();
    for d in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = d.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(d.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd);
        // A zombie has an empty command line: it is gone.
        if words.iter().all(|w| cmd.contains(w)) {
            out.push(pid);
        }
    }
    out
}

#[test]
fn the_sheet_child_dies_with_its_parent() {
    let env = Inbox::new()
        // An HTML "xls": always read in the child process.
        .put(
            "教务科研处/启动仪式/签到表.xls",
            "<html><body><table><tr><td>姓名</td></tr><tr><td>张三</td></tr></table></body></html>"
                .as_bytes(),
        );
    let mut c = env.command(&["import"]);
    c.env("DANGAN_TEST_SHEET_CHILD_SLEEP_MS", "60000");
    let mut parent = spawn(c);
    let marker = env.dir.path().to_string_lossy().into_owned();
    let start = Instant::now();
    let child = loop {
        if let Some(pid) = processes_with(&["__read-sheet", &marker]).first() {
            break *pid;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no sheet child");
        std::thread::sleep(Duration::from_millis(20));
    };
    parent.kill().unwrap();
    parent.wait().unwrap();
    let start = Instant::now();
    while std::path::Path::new(&format!("/proc/{child}/cmdline")).exists()
        && !std::fs::read(format!("/proc/{child}/cmdline"))
            .unwrap_or_default()
            .is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the sheet child {child} outlived its parent"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many sign-in rows the catalog counts (`stats --json` participants, every row a person).
fn participants(env: &Env) -> u64 {
    let stats = env.run(&["stats", "--json"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    let stats: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    stats["participants"].as_u64().unwrap()
}

// The issue's 92 MB CSV of 1 M rows (2.0 GB before) at a tenth of the rows, each process under
// 180 MiB of address space (below the 200 MB target; at 100 MiB the threads of a loaded run
// now and then found no room for their stacks and malloc arenas): the child sends each row as
// it reads it, the parent holds the rows packed (~60 bytes each), never the file or its text.
#[test]
fn a_large_csv_is_streamed_in_bounded_memory() {
    let env = Env::new();
    let mut csv = String::from("姓名,学号,单位,签到时间\n");
    for i in 0..100_000 {
        csv.push_str(&format!(
            "学生{i},2023{i:07},信息工程学院,2025-05-12 09:30\n"
        ));
    }
    env.put("教务科研处/启动仪式/签到表.csv", csv.as_bytes());
    // Every process capped, the sheet child included: it hands each row on as it reads it.
    let run = wait_bounded(
        spawn(capped(&env, 180, &["import", "--json"])),
        Duration::from_secs(240),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(participants(&env), 100_000);
    // The tally of those rows (1.77 KB a row before, 0.9 KB now) under the same cap.
    let stats = wait_bounded(
        spawn(capped(&env, 200, &["stats", "--json"])),
        Duration::from_secs(240),
    );
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    let stats: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(stats["participants"], 100_000);
}

// The issue's 14 MB xlsx of 1 048 576 rows (1.54 GB in the parent before) at a tenth of the
// rows, the parent under 180 MiB of address space (150 MiB was now and then too tight for a
// loaded run's threads): too many rows for the in-process reader (which stops at its caps),
// read again in the child, its rows streamed.
#[test]
fn a_large_xlsx_is_streamed_from_the_child_in_bounded_memory() {
    let env = Env::new();
    let mut rows = xml_row(1, &[Some("姓名"), Some("学号")]);
    for r in 2..=100_001u32 {
        rows.push_str(&xml_row(
            r,
            &[Some(&format!("学生{r}")), Some(&format!("2023{r:07}"))],
        ));
    }
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &raw_xlsx("签到", &rows, "", None),
    );
    let run = wait_bounded(
        spawn(capped_parent(&env, 180, &["import", "--json"])),
        Duration::from_secs(240),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(participants(&env), 100_000);
}

// The tally streams the catalog's sign-in rows (a pass for names and ID-less rows, one for the
// IDs those may be, one to count), keeping a person as a number with role bits: 100 000 persons
// under 120 MiB of address space (with the rows held whole, a release build peaked at 112 MB
// RSS and aborted under this cap; 26 MB now).
// Every rule of a person is exercised at that size: ID-less rows that are the person with the ID
// of the same role and name, rows of unknown role whose ID also signs in with a known role (not
// counted), rows of unknown role only (参与总人数 alone), one enterprise under two spellings, an
// external vocational school.
#[test]
fn stats_counts_distinct_persons_of_many_rows_in_bounded_memory() {
    let env = Env::new();
    let mut csv = String::from("姓名,学号,身份,单位\n");
    for i in 0..100_000u32 {
        if i % 10 == 0 {
            csv.push_str(&format!("教师{i},T{i:06},教师,\n"));
        } else {
            csv.push_str(&format!("学生{i},2023{i:07},学生,\n"));
        }
    }
    for i in (1..20_000u32).filter(|i| i % 10 != 0) {
        csv.push_str(&format!("学生{i},,学生,\n"));
    }
    for i in (1..10_000u32).filter(|i| i % 10 != 0) {
        csv.push_str(&format!("学生{i},2023{i:07},,\n"));
    }
    for j in 0..1_000u32 {
        csv.push_str(&format!("来宾{j},U{j:04},,\n"));
    }
    for j in 0..50u32 {
        csv.push_str(&format!("企业{j},E{j:02},企业,宜宾天原集团\n"));
        csv.push_str(&format!("企业{j},E{j:02},企业,宜宾天原集团有限公司\n"));
    }
    csv.push_str("访客甲,V01,中职学生,自贡市职业技术学校\n");
    env.put("教务科研处/启动仪式/签到表.csv", csv.as_bytes());
    let run = env.run(&["import", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let stats = wait_bounded(
        spawn(capped(&env, 120, &["stats", "--json"])),
        Duration::from_secs(240),
    );
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    let stats: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(stats["teachers"], 10_000);
    assert_eq!(stats["students"], 90_000);
    assert_eq!(stats["enterprises"], 1);
    assert_eq!(stats["schools"], 2);
    assert_eq!(stats["participants"], 10_000 + 90_000 + 1_000 + 50 + 1);
}
