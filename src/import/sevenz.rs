//! The members of a 7z a department dropped, read like a zip's ([`super::zipped`]): each its
//! own object under `…/<name>.7z/<member path>`, names made safe, the same limits.
//!
//! 7z stores names as UTF-16, so they need no guessing ([`NameEncoding::Utf8`]). Members of a
//! solid block are decoded one after another by `sevenz-rust2`, which stops each at the size
//! its header declares and checks its CRC; so the work of decoding is bounded by the declared
//! sizes, and those are checked against the limits *before* a member is decoded (the sum over the
//! archive at most [`Limits::max_total`], and at most [`Limits::max_ratio`] times the 7z's own
//! size past [`Limits::ratio_floor`]: a solid block has no per-member compressed size). What
//! comes out is counted again while it is copied. The decoder's dictionaries and header buffers
//! are capped at [`MEMORY_KB`]; a dictionary beyond that (no 7-Zip preset uses one) stops the
//! 7z with a reason. An encrypted 7z, or one compressed by a method this build lacks, is kept
//! whole with the reason. A panic in the decoder on a hostile file costs that 7z's remaining
//! members, never the run.

use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};

use sevenz_rust2::{ArchiveReader, EntryDecision, Error, Password};

use super::zipped::{Admit, At, Budget, Ctx, Member, Unpacked, is_archive, safe_path, show};
use crate::extract::document::Limited;
use crate::model::NameEncoding;
use crate::store::StoreError;

/// A 7z's first six bytes.
pub const MAGIC: [u8; 6] = *b"7z\xBC\xAF\x27\x1C";

/// Largest decoder dictionary and header buffer, in KiB: 7-Zip's largest preset (-mx9) uses a
/// 64 MiB dictionary (a little more than 64 MiB with the decoder's state).
pub const MEMORY_KB: usize = 128 << 10;

/// One 7z is decoded at a time, so that the import's memory holds one dictionary at most.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Windows FILETIME (100 ns since 1601) of the Unix epoch.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// Reads the members of the 7z open as `file` into the store, like [`super::zipped::unpack`].
pub(super) fn unpack_into(
    ctx: &Ctx,
    file: At,
    prefix: &[u8],
    container: Option<usize>,
    depth: u32,
    budget: &mut Budget,
    out: &mut Unpacked,
) -> Result<(), String> {
    let own_size = file.len;
    let limits = ctx.limits;
    // Everything decoded from this 7z, members skipped as junk included.
    let ratio_cap = own_size
        .saturating_mul(limits.max_ratio)
        .max(limits.ratio_floor);
    let mut decoded_left = ratio_cap;
    let mut nested: Vec<(usize, std::path::PathBuf, Vec<u8>)> = Vec::new();
    let mut write_failed: Option<String> = None;

    let one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let read = catch_unwind(AssertUnwindSafe(|| {
        let mut reader = ArchiveReader::new_with_memory_limit(
            BufReader::with_capacity(256 << 10, file),
            Password::empty(),
            MEMORY_KB,
        )?;
        reader.set_thread_count(1);
        reader.for_each_entries_with_decision(|entry, data| {
            if entry.is_directory() || !entry.has_stream() && entry.size() == 0 && entry.is_anti_item
            {
                return Ok(EntryDecision::Continue);
            }
            let declared = entry.size();
            if declared > decoded_left || declared > budget.bytes_left {
                out.problems.push(if declared > budget.bytes_left {
                    super::zipped::stop_total(limits)
                } else {
                    format!(
                        "7z 压缩包解压后超过它自身大小的 {} 倍（疑似压缩炸弹），成员“{}”和其余成员未读取；已读取的成员保留",
                        limits.max_ratio,
                        show(entry.name().as_bytes())
                    )
                });
                budget.stopped = true;
                return Ok(EntryDecision::Stop);
            }
            // Drained by the decoder even when skipped below: counted either way.
            decoded_left -= declared;
            let name = entry.name().as_bytes();
            let Some((rel, replaced)) = safe_path(name, NameEncoding::Utf8) else {
                return Ok(EntryDecision::Continue);
            };
            let member_path = match budget.admit(prefix, &rel, limits, out) {
                Admit::Read(path) => path,
                Admit::Skip => return Ok(EntryDecision::Continue),
                Admit::Stop => return Ok(EntryDecision::Stop),
            };
            let mut problems = Vec::new();
            if replaced {
                problems.push(format!(
                    "压缩包内的名称“{}”是绝对路径或含“..”（会越出压缩包），已改为“{}”",
                    show(name),
                    show(&rel)
                ));
            }
            let mtime_ns = if entry.has_last_modified_date {
                filetime_ns(u64::from(entry.last_modified_date()))
            } else {
                None
            }
            .unwrap_or(ctx.fallback_mtime_ns);

            let mut capped = Limited::new(data, declared.min(budget.bytes_left));
            let stored = ctx.store.ingest(&mut capped, || Ok(()));
            let stored = match stored {
                Ok(s) => s,
                Err(StoreError::Write(e)) => {
                    write_failed = Some(format!("写入存档失败：{e}；压缩包其余成员未读取"));
                    return Ok(EntryDecision::Stop);
                }
                // The decoder's own error (a CRC, a truncated stream) ends this 7z below.
                Err(StoreError::Read(e)) => return Err(Error::from(e)),
                Err(StoreError::Rejected(why)) => return Err(Error::Other(why.into())),
            };
            budget.bytes_left = budget.bytes_left.saturating_sub(stored.size);
            let is_nested = is_archive(&stored, &rel);
            if is_nested && depth >= limits.max_depth {
                problems.push(
                    "压缩包里的压缩包又套了一层压缩包，超过一层嵌套，未解开；请解压后再放入"
                        .into(),
                );
            }
            let index = out.members.len();
            if is_nested && depth < limits.max_depth {
                nested.push((index, stored.path.clone(), member_path.clone()));
            }
            out.members.push(Member {
                path: member_path,
                raw_name: name.to_vec(),
                encoding: NameEncoding::Utf8,
                container,
                mtime_ns,
                stored,
                opaque: false,
                problems,
            });
            Ok(EntryDecision::Continue)
        })
    }));
    drop(one);
    if let Some(why) = write_failed {
        return Err(why);
    }
    match read {
        Ok(Ok(())) => {}
        Ok(Err(e)) => out.problems.push(describe_error(&e)),
        Err(_) => out.problems.push(
            "7z 压缩包结构异常，读取中断，其余成员未读取；已读取的成员保留；请重新压缩后再放入"
                .into(),
        ),
    }
    // Archives inside: after this one is closed, one level deep, like a zip's.
    super::zipped::open_inner(ctx, nested, depth, budget, out);
    Ok(())
}

/// A FILETIME as Unix nanoseconds; `None` for zero or a time beyond `i64`.
fn filetime_ns(ft: u64) -> Option<i64> {
    if ft == 0 {
        return None;
    }
    let hundreds = i128::from(ft) - i128::from(FILETIME_UNIX_EPOCH);
    i64::try_from(hundreds * 100).ok()
}

/// Why a 7z's members (or the rest of them) could not be read, in Chinese.
fn describe_error(e: &Error) -> String {
    let text = e.to_string();
    match e {
        Error::PasswordRequired | Error::MaybeBadPassword(_) => ENCRYPTED.into(),
        Error::UnsupportedCompressionMethod(m) if m.to_ascii_uppercase().contains("AES") => {
            ENCRYPTED.into()
        }
        Error::UnsupportedCompressionMethod(m) => format!(
            "7z 压缩包使用了无法解压的压缩方式（{m}），按原样保存，成员未读取；请用常见的 zip 或 7z 格式重新压缩"
        ),
        Error::MaxMemLimited { actaul_kb, .. } => format!(
            "7z 压缩包需要 {} MiB 内存解压（超过 {} MiB 的上限，疑似恶意文件），成员未读取；请用普通压缩级别重新压缩",
            actaul_kb >> 10,
            MEMORY_KB >> 10
        ),
        _ if text.contains("AES") || text.to_ascii_lowercase().contains("password") => {
            ENCRYPTED.into()
        }
        Error::ChecksumVerificationFailed | Error::NextHeaderCrcMismatch => {
            "7z 压缩包校验失败（文件不完整或已损坏），其余成员未读取；已读取的成员保留；请重新压缩后再放入"
                .into()
        }
        _ if text.contains("ChecksumVerificationFailed") => {
            "7z 压缩包校验失败（文件不完整或已损坏），其余成员未读取；已读取的成员保留；请重新压缩后再放入"
                .into()
        }
        // The decoder's own words are English and technical: the office needs what to do.
        _ => "7z 压缩包已损坏或不完整，无法继续读取，其余成员未读取；已读取的成员保留；请重新压缩后再放入"
            .into(),
    }
}

const ENCRYPTED: &str =
    "7z 压缩包设置了密码（已加密），按原样保存，成员无法读取；请部门提供未加密的压缩包";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetimes_become_unix_time() {
        // 2025-05-13 00:00:00 UTC.
        let unix = 1_747_094_400i64;
        let ft = FILETIME_UNIX_EPOCH + (unix as u64) * 10_000_000;
        assert_eq!(filetime_ns(ft), Some(unix * 1_000_000_000));
        assert_eq!(filetime_ns(0), None);
    }

    #[test]
    fn memory_errors_name_the_size() {
        let e = Error::MaxMemLimited {
            max_kb: MEMORY_KB,
            actaul_kb: 1 << 20,
        };
        assert!(describe_error(&e).contains("1024 MiB"));
        assert!(describe_error(&Error::PasswordRequired).contains("密码"));
    }
}
