//! Videos (MP4/MOV): the `mvhd` creation time, converted from UTC to the configured local
//! offset, and the frame size from the first video track's `tkhd`.
//!
//! Walks the box headers with seeks (a `moov` after a multi-gigabyte `mdat` costs a few small
//! reads), reads at most a few hundred bytes of any box, never trusts a box size blindly and
//! never prints a creation time as UTC.

use super::{Content, ExtractOptions, Extracted};
use crate::model::{DateCandidate, DateSource};
use crate::resolve::date::from_unix_seconds;

/// Seconds from 1904-01-01 (the QuickTime epoch) to 1970-01-01.
const EPOCH_1904_TO_1970: i64 = 2_082_844_800;

/// Boxes looked at on one level before giving up (a corrupt file of tiny boxes).
const MAX_BOXES: usize = 100_000;

pub(crate) fn extract_video(content: &mut Content, opts: &ExtractOptions, out: &mut Extracted) {
    let total = content.len();
    if let Some(problem) = cut_short(content, "视频") {
        out.problems.push(problem);
    }
    let moov = match find_box(content, 0, total, b"moov") {
        Ok(Some(moov)) => moov,
        Ok(None) => {
            out.problems.push(
                "视频不完整：找不到 moov（影片信息），可能录制或拷贝中断；无法读取拍摄时间"
                    .to_string(),
            );
            return;
        }
        Err(why) => {
            out.problems.push(format!("视频结构已损坏：{why}"));
            return;
        }
    };
    match find_box(content, moov.body, moov.end, b"mvhd") {
        Ok(Some(mvhd)) => {
            if let Some(secs) = mvhd_creation(content, mvhd.body)
                && let Some(when) = from_unix_seconds(secs - EPOCH_1904_TO_1970, opts.utc_offset)
            {
                out.dates.push(DateCandidate {
                    source: DateSource::Video,
                    when,
                    offset: None,
                });
            }
        }
        Ok(None) => out
            .problems
            .push("视频的 moov 中没有 mvhd（影片头），无法读取拍摄时间".to_string()),
        Err(why) => out.problems.push(format!("视频结构已损坏：{why}")),
    }
    if let Some((w, h)) = frame_size(content, moov.body, moov.end) {
        out.width = Some(w);
        out.height = Some(h);
    }
}

/// A problem when the top-level boxes claim more bytes than the file has (a copy or an upload
/// that stopped early). `what` names the kind of file for the message.
pub(crate) fn cut_short(content: &mut Content, what: &str) -> Option<String> {
    let total = content.len();
    let mut offset = 0u64;
    for _ in 0..MAX_BOXES {
        if offset.saturating_add(8) > total {
            return None;
        }
        let header = content.read_at(offset, 16).ok()?;
        if header.len() < 8 {
            return None;
        }
        let size = match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
            0 => return None, // runs to the end of the file
            1 => {
                let b: [u8; 8] = header.get(8..16)?.try_into().ok()?;
                u64::from_be_bytes(b)
            }
            s => u64::from(s),
        };
        if size < 8 {
            return None; // not a box structure find_box would accept either
        }
        let end = offset.saturating_add(size);
        if end > total {
            return Some(format!(
                "{what}不完整：文件应至少有 {end} 字节，实际只有 {total} 字节（可能传输或拷贝中断）"
            ));
        }
        offset = end;
    }
    None
}

/// One box: where its body starts and where the box ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoxAt {
    pub(crate) body: u64,
    pub(crate) end: u64,
}

/// The first box of type `kind` among the boxes between `start` and `end`.
pub(crate) fn find_box(
    content: &mut Content,
    start: u64,
    end: u64,
    kind: &[u8; 4],
) -> Result<Option<BoxAt>, String> {
    let mut offset = start;
    for _ in 0..MAX_BOXES {
        if offset.saturating_add(8) > end {
            return Ok(None);
        }
        let header = content
            .read_at(offset, 16)
            .map_err(|e| format!("读取第 {offset} 字节处失败（{e}）"))?;
        if header.len() < 8 {
            return Ok(None);
        }
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let (header_len, size) = match size32 {
            0 => (8, end - offset),
            1 => {
                if header.len() < 16 {
                    return Ok(None);
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&header[8..16]);
                (16, u64::from_be_bytes(b))
            }
            s => (8, u64::from(s)),
        };
        if size < header_len {
            return Err(format!("第 {offset} 字节处的 box 大小 {size} 不合理"));
        }
        let box_end = offset.saturating_add(size).min(end);
        if &header[4..8] == kind {
            return Ok(Some(BoxAt {
                body: offset + header_len,
                end: box_end,
            }));
        }
        offset = offset.saturating_add(size);
    }
    Err("box 数量异常多".to_string())
}

/// The creation time in `mvhd` (version 0: u32, version 1: u64), seconds since 1904; 0 is
/// unset.
fn mvhd_creation(content: &mut Content, body: u64) -> Option<i64> {
    let b = content.read_at(body, 12).ok()?;
    let secs = match *b.first()? {
        0 if b.len() >= 8 => u64::from(u32::from_be_bytes([b[4], b[5], b[6], b[7]])),
        1 if b.len() >= 12 => {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[4..12]);
            u64::from_be_bytes(x)
        }
        _ => return None,
    };
    if secs == 0 {
        return None;
    }
    i64::try_from(secs).ok()
}

/// Width and height of the first track whose `tkhd` gives a non-zero size (16.16 fixed point).
fn frame_size(content: &mut Content, moov_body: u64, moov_end: u64) -> Option<(u32, u32)> {
    let mut offset = moov_body;
    for _ in 0..1000 {
        let trak = find_box(content, offset, moov_end, b"trak").ok()??;
        offset = trak.end;
        let Ok(Some(tkhd)) = find_box(content, trak.body, trak.end, b"tkhd") else {
            continue;
        };
        let len = tkhd.end.checked_sub(tkhd.body)?;
        if !(84..=4096).contains(&len) {
            continue;
        }
        let b = content.read_at(tkhd.end - 8, 8).ok()?;
        if b.len() < 8 {
            continue;
        }
        let w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) >> 16;
        let h = u32::from_be_bytes([b[4], b[5], b[6], b[7]]) >> 16;
        if w > 0 && h > 0 {
            return Some((w, h));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;
    use crate::model::Format;
    use chrono::{FixedOffset, NaiveDateTime};
    use std::io::Write;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn mvhd(version: u8, created_1904: u64) -> Vec<u8> {
        let mut body = vec![version, 0, 0, 0];
        if version == 1 {
            body.extend_from_slice(&created_1904.to_be_bytes());
            body.extend_from_slice(&created_1904.to_be_bytes());
            body.extend_from_slice(&1000u32.to_be_bytes());
            body.extend_from_slice(&5000u64.to_be_bytes());
        } else {
            body.extend_from_slice(&(created_1904 as u32).to_be_bytes());
            body.extend_from_slice(&(created_1904 as u32).to_be_bytes());
            body.extend_from_slice(&1000u32.to_be_bytes());
            body.extend_from_slice(&5000u32.to_be_bytes());
        }
        body.extend_from_slice(&[0; 80]);
        bx(b"mvhd", &body)
    }

    fn trak(w: u32, h: u32) -> Vec<u8> {
        let mut tkhd = vec![0u8; 76];
        tkhd.extend_from_slice(&(w << 16).to_be_bytes());
        tkhd.extend_from_slice(&(h << 16).to_be_bytes());
        bx(b"trak", &bx(b"tkhd", &tkhd))
    }

    /// 2025-05-06T20:00:00Z in seconds since 1904.
    const STAMP: u64 = 1_746_561_600 + EPOCH_1904_TO_1970 as u64;

    fn run_file(bytes: &[u8]) -> Extracted {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        let head = &bytes[..bytes.len().min(256 * 1024)];
        extract(
            Format::Mp4,
            head,
            file.path(),
            &ExtractOptions {
                utc_offset: FixedOffset::east_opt(8 * 3600).unwrap(),
                size: None,
            },
        )
    }

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn mvhd_v0_after_a_large_mdat_is_local_time() {
        let mut file = bx(b"ftyp", b"isom\0\0\0\0isommp41");
        file.extend(bx(b"mdat", &vec![0xAB; 400 * 1024]));
        let mut moov = mvhd(0, STAMP);
        moov.extend(trak(0, 0)); // an audio track first
        moov.extend(trak(1920, 1080));
        file.extend(bx(b"moov", &moov));
        let out = run_file(&file);
        assert_eq!(out.problems, Vec::<String>::new());
        assert_eq!(
            out.dates,
            vec![DateCandidate {
                source: DateSource::Video,
                when: local("2025-05-07 04:00:00"),
                offset: None
            }]
        );
        assert_eq!((out.width, out.height), (Some(1920), Some(1080)));
    }

    #[test]
    fn mvhd_v1_after_a_64_bit_mdat() {
        let mut file = bx(b"ftyp", b"qt  \0\0\0\0qt  ");
        let payload = vec![0u8; 300 * 1024];
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&((payload.len() + 16) as u64).to_be_bytes());
        file.extend_from_slice(&payload);
        file.extend(bx(b"moov", &mvhd(1, STAMP + 3600)));
        let out = run_file(&file);
        assert_eq!(out.dates[0].when, local("2025-05-07 05:00:00"));
    }

    #[test]
    fn unset_creation_time_gives_no_date_and_no_moov_is_a_problem() {
        let mut file = bx(b"ftyp", b"isom\0\0\0\0isom");
        file.extend(bx(b"moov", &mvhd(0, 0)));
        let out = run_file(&file);
        assert_eq!(out.dates, vec![]);
        assert_eq!(out.problems, Vec::<String>::new());

        let mut file = bx(b"ftyp", b"isom\0\0\0\0isom");
        // mdat of size 0 runs to the end of the file: the recording was never finished.
        file.extend_from_slice(&[0, 0, 0, 0]);
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&[1; 100]);
        let out = run_file(&file);
        assert_eq!(out.dates, vec![]);
        assert!(
            out.problems[0].contains("找不到 moov"),
            "{:?}",
            out.problems
        );

        let mut file = bx(b"ftyp", b"isom\0\0\0\0isom");
        file.extend_from_slice(&[0, 0, 0, 3]);
        file.extend_from_slice(b"junk");
        let out = run_file(&file);
        assert!(out.problems[0].contains("已损坏"), "{:?}", out.problems);
    }

    #[test]
    fn a_video_cut_short_is_a_problem_but_keeps_its_date() {
        let mut file = bx(b"ftyp", b"isom\0\0\0\0isom");
        file.extend(bx(b"moov", &mvhd(0, STAMP)));
        file.extend(bx(b"mdat", &vec![7u8; 50_000]));
        file.truncate(file.len() - 1000);
        let out = run_file(&file);
        assert_eq!(out.dates[0].when, local("2025-05-07 04:00:00"));
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        assert!(out.problems[0].starts_with("视频不完整"));
    }
}
