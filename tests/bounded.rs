//! Issue 15: nothing small and hostile stops the night. Each case runs the real binary on an
//! inbox made here, with machine-safe sizes (memory caps via `ulimit -v` where it matters).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

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
    assert!(dry.stdout.contains("管道（FIFO）"), "{}", dry.stdout);
}
