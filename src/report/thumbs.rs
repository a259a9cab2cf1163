//! The thumbnail cache: `archive/thumbs/<sha256>.jpg`, at most 320 px on the long side, with the
//! photo's EXIF orientation applied. Made once per content: from the EXIF embedded thumbnail
//! when the photo has one (no decode of the full image); else a JPEG is decoded shrunk on load
//! (jpeg-decoder's DCT scaling at 1/2, 1/4 or 1/8, as libjpeg and libvips do: the largest
//! reduction that still gives at least 320 px), and PNG/WebP fully under the image crate's
//! limits (a pixel bomb is refused from its header, before any pixel is allocated). Every decode
//! first takes its estimated memory (from the header's size, the scale and, for a progressive
//! JPEG, its coefficient buffers) from one budget shared by all threads, so that thumbnails made
//! on every core at once stay within it whatever the photos. A photo that cannot
//! be made into a thumbnail gets a `<sha256>.txt` holding the reason, so it is not tried again
//! every night; the report shows a labelled placeholder for it. HEIC (no decoder here) and video
//! get a placeholder without any reading.
//!
//! The cache is read from one listing of the folder per run ([`Listing`]), not a `stat` per
//! photo. Entries are written without an fsync each; instead a run that writes any first makes
//! a durable `.writing` marker and, once done, one `syncfs` and removes it. A run that finds the
//! marker (the last writer was killed: a listed entry may have lost its bytes) checks each
//! entry's size as it is used.
//!
//! Reads objects from the store, writes only under `archive/thumbs/`; never panics on bad bytes.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use fast_image_resize::{FilterType, PixelType, ResizeAlg};
use image::{DynamicImage, ImageFormat, ImageReader, Limits, metadata::Orientation};

use crate::extract::exif::MAX_PIXELS;

/// The long side of a thumbnail.
pub const THUMB_SIZE: u32 = 320;
/// Memory a single decode may take.
const MAX_ALLOC: u64 = 512 << 20;
/// How much of a JPEG's start is searched for its EXIF block.
const EXIF_HEAD: u64 = 256 << 10;
/// Memory all decodes running at once may take together (estimated from their headers). A
/// decode estimated above it runs alone.
pub const DECODE_BUDGET: u64 = 128 << 20;

/// The decode memory in use, shared by every thread making thumbnails.
struct Budget {
    used: Mutex<u64>,
    freed: Condvar,
}

static BUDGET: Budget = Budget::new();

/// A share of a [`Budget`], given back when dropped.
struct Share(&'static Budget, u64);

impl Budget {
    const fn new() -> Budget {
        Budget {
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits until `bytes` (at most the whole budget) fit beside what others hold.
    fn take(&'static self, bytes: u64) -> Share {
        let want = bytes.clamp(1, DECODE_BUDGET);
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used > 0 && *used + want > DECODE_BUDGET {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += want;
        Share(self, want)
    }

    #[cfg(test)]
    fn in_use(&self) -> u64 {
        *self.used.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut used = self.0.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(self.1);
        self.0.freed.notify_all();
    }
}

/// What the report can show for a photo or video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thumb {
    /// `thumbs/<sha256>.jpg` exists.
    Image,
    /// No image: the label says why (视频, HEIC, 损坏 …).
    Placeholder(String),
}

/// Whether the thumbnail was made now or already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    Now,
    Cached,
    /// Nothing to make (video, HEIC).
    None,
}

/// One photo or video whose thumbnail is wanted.
#[derive(Debug, Clone)]
pub struct ThumbRequest {
    pub sha256: String,
    /// The catalog's format (`jpeg`, `png`, `heic`, `mp4` …).
    pub format: String,
    pub orientation: Option<u16>,
    pub has_thumbnail: bool,
    /// The size the catalog read from the header, when known.
    pub pixels: Option<(u32, u32)>,
}

pub fn thumb_path(thumbs: &Path, sha: &str) -> PathBuf {
    thumbs.join(format!("{sha}.jpg"))
}

fn reason_path(thumbs: &Path, sha: &str) -> PathBuf {
    thumbs.join(format!("{sha}.txt"))
}

/// The marker of a run that is writing cache entries (see the module doc).
const WRITING: &str = ".writing";

/// What `thumbs/` held when the run began, from one listing of the folder.
pub struct Listing {
    dir: PathBuf,
    /// The folder's names; `None` when a run that wrote entries did not finish: then each
    /// entry is checked as it is used.
    names: Option<HashSet<String>>,
    /// Whether this run has made the `.writing` marker (and whether that worked).
    writing: Mutex<Option<bool>>,
    /// A killed run's marker that this run's [`Listing::finish`] leaves: an unlisted run looks
    /// at its few entries only, and the killed run's other entries stay to be checked.
    keep_marker: bool,
}

impl Listing {
    /// Lists `dir` (made if missing), removing the temporary files of a killed run.
    pub fn read(dir: &Path) -> std::io::Result<Listing> {
        std::fs::create_dir_all(dir)?;
        let mut names = HashSet::new();
        let mut unfinished = false;
        for e in std::fs::read_dir(dir)?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".thumb-") && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            } else if name == WRITING {
                unfinished = true;
            } else {
                names.insert(name);
            }
        }
        Ok(Listing {
            dir: dir.to_path_buf(),
            names: (!unfinished).then_some(names),
            writing: Mutex::new(None),
            keep_marker: false,
        })
    }

    /// For a few entries: each is checked as it is used (one `stat`), the folder not listed —
    /// the forms' few photos need not read 40 000 names — nor cleaned of a killed run's temp
    /// files (the next [`Listing::read`] removes them), nor of a killed run's marker. The folder
    /// is made if missing.
    pub fn unlisted(dir: &Path) -> std::io::Result<Listing> {
        std::fs::create_dir_all(dir)?;
        Ok(Listing {
            dir: dir.to_path_buf(),
            names: None,
            writing: Mutex::new(None),
            keep_marker: dir.join(WRITING).exists(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a non-empty `name` is in the cache.
    fn has(&self, name: &str) -> bool {
        match &self.names {
            Some(names) => names.contains(name),
            // A zero-length file (its bytes lost in a crash before they reached the disk) is
            // made again.
            None => {
                std::fs::metadata(self.dir.join(name)).is_ok_and(|m| m.is_file() && m.len() > 0)
            }
        }
    }

    /// Before the first entry of the run is written: the `.writing` marker, durable.
    fn begin_writing(&self) -> bool {
        let mut w = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        *w.get_or_insert_with(|| {
            let marker = self.dir.join(WRITING);
            File::create(&marker)
                .and_then(|f| f.sync_all())
                .and_then(|()| File::open(&self.dir)?.sync_all())
                .is_ok()
        })
    }

    /// After the run's last entry: one `syncfs`, then the marker goes (it stays when the
    /// `syncfs` fails).
    pub fn finish(&self) -> std::io::Result<()> {
        let began = *self.writing.lock().unwrap_or_else(|e| e.into_inner()) == Some(true);
        if began {
            crate::store::sync_fs(&File::open(&self.dir)?)?;
            if !self.keep_marker {
                std::fs::remove_file(self.dir.join(WRITING))?;
            }
        }
        Ok(())
    }
}

/// Makes (or finds) the thumbnail of one object.
pub fn ensure(objects: &Path, cache: &Listing, req: &ThumbRequest) -> (Thumb, Made) {
    match req.format.as_str() {
        "mp4" | "mov" => return (Thumb::Placeholder("视频".into()), Made::None),
        "heic" => {
            return (
                Thumb::Placeholder("HEIC 照片（本机无法预览）".into()),
                Made::None,
            );
        }
        _ => {}
    }
    // Hashes come from the catalog; anything but hex would escape the folder.
    if req.sha256.len() < 3 || !req.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (Thumb::Placeholder("无法预览".into()), Made::None);
    }
    let thumbs = cache.dir();
    let out = thumb_path(thumbs, &req.sha256);
    if cache.has(&format!("{}.jpg", req.sha256)) {
        return (Thumb::Image, Made::Cached);
    }
    let why = reason_path(thumbs, &req.sha256);
    if cache.has(&format!("{}.txt", req.sha256))
        && let Ok(reason) = std::fs::read_to_string(&why)
    {
        return (Thumb::Placeholder(reason.trim().to_string()), Made::Cached);
    }
    if !cache.begin_writing() {
        return (Thumb::Placeholder("缩略图无法写入".into()), Made::Now);
    }
    let src = crate::store::object_path(objects, &req.sha256);
    match make(&src, req) {
        Ok(jpeg) => match write_cache(&out, &jpeg) {
            Ok(()) => (Thumb::Image, Made::Now),
            Err(_) => (Thumb::Placeholder("缩略图无法写入".into()), Made::Now),
        },
        Err(reason) => {
            // The same text whether made now or read from the cache (a bag built twice is
            // byte-identical). A read error may pass (a share that came back, a healed
            // object): it is not cached, and the next run tries again.
            let reason = reason.trim().to_string();
            if !reason.starts_with(UNREADABLE) {
                let _ = write_cache(&why, reason.as_bytes());
            }
            (Thumb::Placeholder(reason), Made::Now)
        }
    }
}

/// Writes a cache file through a temporary file and a rename, without fsync: the run's one
/// `syncfs` ([`Listing::finish`]) makes them durable, and thousands of fsyncs would cost more
/// than the thumbnails themselves.
fn write_cache(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        // Readable by the office as the umask allows (0644 under 022), not tempfile's 0600.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .prefix(".thumb-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The JPEG bytes of a thumbnail, or a reason a person understands.
pub fn make(src: &Path, req: &ThumbRequest) -> Result<Vec<u8>, String> {
    let orientation = req
        .orientation
        .and_then(|o| u8::try_from(o).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    if let Some((w, h)) = req.pixels
        && u64::from(w) * u64::from(h) > MAX_PIXELS
    {
        return Err(too_big(w, h));
    }
    let mut img = None;
    if req.has_thumbnail
        && let Some(bytes) = embedded_thumbnail(src)
    {
        // Some cameras letterbox a 4:3 thumbnail of a 16:9 photo: then the photo is decoded.
        img = decode_bytes(&bytes)
            .ok()
            .filter(|t| same_shape((t.width(), t.height()), req.pixels));
    }
    let mut img = match img {
        Some(i) => i,
        None if req.format == "jpeg" || req.format == "jpg" => match decode_jpeg_scaled(src) {
            Ok(i) => i,
            // What jpeg-decoder refuses (a truncated scan, an odd colour space, arithmetic
            // coding) the image crate's decoder may still read: the photo is not lost for it.
            Err(ScaledError::Other) => decode_file(src)?,
            Err(ScaledError::Final(reason)) => return Err(reason),
        },
        None => decode_file(src)?,
    };
    img = shrink(img);
    img.apply_orientation(orientation);
    encode_jpeg(&img)
}

/// The IFD1 JPEG thumbnail of an image's EXIF block, if it has one.
pub fn embedded_thumbnail(src: &Path) -> Option<Vec<u8>> {
    let file = File::open(src).ok()?;
    let mut reader = BufReader::new(file.take(EXIF_HEAD));
    let exif = match exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut reader)
    {
        Ok(e) => e,
        Err(exif::Error::PartialResult(p)) => p.into_inner().0,
        Err(_) => return None,
    };
    let get = |tag| {
        exif.get_field(tag, exif::In::THUMBNAIL)
            .and_then(|f| f.value.get_uint(0))
    };
    let offset = get(exif::Tag::JPEGInterchangeFormat)? as usize;
    let len = get(exif::Tag::JPEGInterchangeFormatLength)? as usize;
    let bytes = exif.buf().get(offset..offset.checked_add(len)?)?;
    bytes.starts_with(&[0xFF, 0xD8]).then(|| bytes.to_vec())
}

/// Whether an embedded thumbnail has the photo's proportions (within 5 %; unknown size: yes).
fn same_shape(thumb: (u32, u32), photo: Option<(u32, u32)>) -> bool {
    let Some((w, h)) = photo else { return true };
    if thumb.0 == 0 || thumb.1 == 0 || w == 0 || h == 0 {
        return false;
    }
    let a = f64::from(thumb.0) / f64::from(thumb.1);
    let b = f64::from(w) / f64::from(h);
    // A thumbnail of a portrait photo may be stored landscape (orientation applies to both).
    let r = (a / b).max(b / a);
    let r_turned = (a * b).max(1.0 / (a * b));
    r.min(r_turned) < 1.05
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_alloc = Some(MAX_ALLOC);
    l
}

fn decode_bytes(bytes: &[u8]) -> Result<DynamicImage, String> {
    let mut r = ImageReader::with_format(std::io::Cursor::new(bytes), ImageFormat::Jpeg);
    r.limits(limits());
    r.decode().map_err(|e| format!("缩略图损坏：{e}"))
}

/// Why the shrink-on-load decode gave no image.
enum ScaledError {
    /// The answer for this photo (unreadable object, pixel bomb, over the limit).
    Final(String),
    /// Anything else: the full decode is tried instead.
    Other,
}

/// Decodes a JPEG at the smallest DCT scale (1/8, 1/4, 1/2 or 1) that still gives at least
/// [`THUMB_SIZE`] pixels on one side, under its share of the decode budget.
fn decode_jpeg_scaled(src: &Path) -> Result<DynamicImage, ScaledError> {
    let file = File::open(src).map_err(|e| ScaledError::Final(format!("{UNREADABLE}：{e}")))?;
    let mut d = jpeg_decoder::Decoder::new(BufReader::with_capacity(64 << 10, file));
    d.read_info().map_err(scaled_error)?;
    let info = d.info().ok_or(ScaledError::Other)?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(ScaledError::Final(too_big(w, h)));
    }
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => true,
        jpeg_decoder::PixelFormat::L8 => false,
        _ => return Err(ScaledError::Other),
    };
    let (sw, sh) = d
        .scale(THUMB_SIZE as u16, THUMB_SIZE as u16)
        .map_err(|_| ScaledError::Other)?;
    let cost = jpeg_decode_cost(
        (w, h),
        (u32::from(sw), u32::from(sh)),
        rgb,
        info.coding_process,
    );
    if cost > MAX_ALLOC {
        return Err(ScaledError::Final(format!(
            "图片 {w}×{h} 像素，超出解码限制，拒绝生成预览"
        )));
    }
    let share = BUDGET.take(cost);
    d.set_max_decoding_buffer_size(MAX_ALLOC as usize);
    let pixels = d.decode().map_err(scaled_error)?;
    let img = if rgb {
        image::RgbImage::from_raw(u32::from(sw), u32::from(sh), pixels).map(DynamicImage::from)
    } else {
        image::GrayImage::from_raw(u32::from(sw), u32::from(sh), pixels).map(DynamicImage::from)
    }
    .ok_or(ScaledError::Other)?;
    let img = shrink(img);
    drop(share);
    Ok(img)
}

/// A read error of the object is the answer (not cached: tried again next run); a file that
/// ends early, or anything jpeg-decoder cannot do, goes to the full decoder, which says what
/// is damaged in the words the report has always used.
fn scaled_error(e: jpeg_decoder::Error) -> ScaledError {
    match e {
        jpeg_decoder::Error::Io(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
            ScaledError::Final(format!("{UNREADABLE}：{e}"))
        }
        _ => ScaledError::Other,
    }
}

/// Bytes a jpeg-decoder decode of a `full` image at `scaled` size takes at its peak: the
/// component planes and the output at the scaled size, and for a progressive JPEG the DCT
/// coefficients of the whole image (2 bytes per sample), which scaling does not shrink.
fn jpeg_decode_cost(
    full: (u32, u32),
    scaled: (u32, u32),
    rgb: bool,
    process: jpeg_decoder::CodingProcess,
) -> u64 {
    let components: u64 = if rgb { 3 } else { 1 };
    let out = u64::from(scaled.0) * u64::from(scaled.1) * components;
    // Planes padded to whole blocks, then the interleaved output.
    let mut cost = out * 2 + (1 << 20);
    if process != jpeg_decoder::CodingProcess::DctSequential {
        let blocks = u64::from(full.0.div_ceil(8)) * u64::from(full.1.div_ceil(8));
        cost += blocks * 64 * 2 * components;
    }
    cost
}

fn decode_file(src: &Path) -> Result<DynamicImage, String> {
    let mut r = ImageReader::open(src)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("{UNREADABLE}：{e}"))?;
    if r.format().is_none() {
        return Err("无法识别的图片格式，无法预览".into());
    }
    r.limits(limits());
    // Refuse a pixel bomb from its header, before any decode.
    let (w, h) = r
        .into_dimensions()
        .map_err(|e| format!("照片已损坏，无法预览：{e}"))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(too_big(w, h));
    }
    let mut r = ImageReader::open(src)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("{UNREADABLE}：{e}"))?;
    r.limits(limits());
    // The whole image at 4 bytes a pixel (RGBA, the widest 8-bit layout) and its thumbnail.
    let _share = BUDGET.take(u64::from(w) * u64::from(h) * 4 + (1 << 20));
    let img = r.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => format!("图片 {w}×{h} 像素，超出解码限制，拒绝生成预览"),
        image::ImageError::IoError(e) => format!("{UNREADABLE}：{e}"),
        e => format!("照片已损坏，无法预览：{e}"),
    })?;
    // Shrunk while the share is held: the full image goes before the next decode starts.
    Ok(shrink(img))
}

/// At most [`THUMB_SIZE`] on the long side, the aspect kept (as `DynamicImage::thumbnail`
/// sizes it). The pixels go through fast_image_resize's SIMD bilinear convolution: the image
/// crate's own area sampling was a third of a cold report's CPU.
fn shrink(img: DynamicImage) -> DynamicImage {
    let (w, h) = (img.width(), img.height());
    if w <= THUMB_SIZE && h <= THUMB_SIZE {
        return img;
    }
    let (tw, th) = fit_within(w, h, THUMB_SIZE);
    let resized = match &img {
        DynamicImage::ImageLuma8(g) => resize_u8(g.as_raw(), (w, h), (tw, th), PixelType::U8)
            .and_then(|px| image::GrayImage::from_raw(tw, th, px).map(DynamicImage::from)),
        _ => {
            let rgb = img.to_rgb8();
            resize_u8(rgb.as_raw(), (w, h), (tw, th), PixelType::U8x3)
                .and_then(|px| image::RgbImage::from_raw(tw, th, px).map(DynamicImage::from))
        }
    };
    // A buffer fast_image_resize refuses (it should not): the image crate's own, slower path.
    resized.unwrap_or_else(|| img.thumbnail(THUMB_SIZE, THUMB_SIZE))
}

/// The size of `w`×`h` scaled to fit `max`×`max`, rounded, at least 1×1.
fn fit_within(w: u32, h: u32, max: u32) -> (u32, u32) {
    let ratio = f64::min(f64::from(max) / f64::from(w), f64::from(max) / f64::from(h));
    let side = |v: u32| ((f64::from(v) * ratio).round() as u32).clamp(1, max);
    (side(w), side(h))
}

fn resize_u8(px: &[u8], from: (u32, u32), to: (u32, u32), kind: PixelType) -> Option<Vec<u8>> {
    let src = fast_image_resize::images::ImageRef::new(from.0, from.1, px, kind).ok()?;
    let mut dst = fast_image_resize::images::Image::new(to.0, to.1, kind);
    let options = fast_image_resize::ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    fast_image_resize::Resizer::new()
        .resize(&src, &mut dst, &options)
        .ok()?;
    Some(dst.into_vec())
}

/// How a reason that the object could not be read begins (not cached: tried again).
const UNREADABLE: &str = "无法读取照片";

fn too_big(w: u32, h: u32) -> String {
    format!("图片声称有 {w}×{h} 像素，过大，拒绝生成预览")
}

fn encode_jpeg(img: &DynamicImage) -> Result<Vec<u8>, String> {
    let rgb = img.to_rgb8();
    let (w, h) = (
        u16::try_from(rgb.width()).map_err(|_| "缩略图过大，无法编码".to_string())?,
        u16::try_from(rgb.height()).map_err(|_| "缩略图过大，无法编码".to_string())?,
    );
    let mut out = Vec::with_capacity(32 << 10);
    // jpeg-encoder's SIMD DCT: the image crate's encoder was a fifth of a cold report's CPU.
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(rgb.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| format!("缩略图无法编码：{e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, _| {
            if x < w / 2 {
                image::Rgb([255, 0, 0])
            } else {
                image::Rgb([0, 0, 255])
            }
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap();
        out
    }

    /// A JPEG whose EXIF holds orientation 6 and an IFD1 thumbnail (`thumb`).
    fn jpeg_with_thumbnail(main: &[u8], thumb: &[u8]) -> Vec<u8> {
        let exif = crate::testing::Exif {
            orientation: Some(6),
            thumbnail: Some(thumb),
            ..Default::default()
        };
        crate::testing::with_exif(main, &exif.tiff())
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    fn req(format: &str, orientation: Option<u16>, has_thumbnail: bool) -> ThumbRequest {
        ThumbRequest {
            sha256: "ab".repeat(32),
            format: format.into(),
            orientation,
            has_thumbnail,
            pixels: None,
        }
    }

    #[test]
    fn embedded_thumbnail_is_used_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("p.jpg");
        // main image 800×600, embedded 160×120: the thumbnail must come from the embedded one
        std::fs::write(&src, jpeg_with_thumbnail(&jpeg(800, 600), &jpeg(160, 120))).unwrap();
        assert!(embedded_thumbnail(&src).is_some());
        let out = make(&src, &req("jpeg", Some(6), true)).unwrap();
        let img = image::load_from_memory(&out).unwrap();
        // orientation 6: turned a quarter, so 120 wide and 160 high
        assert_eq!((img.width(), img.height()), (120, 160));
    }

    #[test]
    fn a_letterboxed_embedded_thumbnail_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("p.jpg");
        std::fs::write(&src, jpeg_with_thumbnail(&jpeg(640, 360), &jpeg(160, 120))).unwrap();
        let mut r = req("jpeg", None, true);
        r.pixels = Some((640, 360));
        let img = image::load_from_memory(&make(&src, &r).unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (320, 180));
        assert!(same_shape((160, 120), Some((4000, 3000))));
        assert!(same_shape((160, 120), Some((3000, 4000))));
        assert!(!same_shape((160, 120), Some((1920, 1080))));
    }

    #[test]
    fn without_embedded_thumbnail_the_photo_is_decoded_and_resized() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("p.jpg");
        std::fs::write(&src, jpeg(800, 600)).unwrap();
        let out = make(&src, &req("jpeg", None, false)).unwrap();
        let img = image::load_from_memory(&out).unwrap();
        assert_eq!((img.width(), img.height()), (320, 240));
    }

    #[test]
    fn a_jpeg_is_shrunk_on_load_to_the_thumbnail_size() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("p.jpg");
        std::fs::write(&src, jpeg(2600, 1950)).unwrap();
        // 2600×1950 at 1/8 is 325×244: the DCT gives that, one resize makes 320×240.
        let img = match decode_jpeg_scaled(&src) {
            Ok(i) => i,
            Err(_) => panic!("the scaled decode failed"),
        };
        assert_eq!((img.width(), img.height()), (320, 240));
        // The colours survive the scaled decode: red on the left, blue on the right.
        let rgb = img.to_rgb8();
        assert!(rgb.get_pixel(10, 120)[0] > 200 && rgb.get_pixel(310, 120)[2] > 200);
        let out = make(&src, &req("jpeg", Some(6), false)).unwrap();
        let t = image::load_from_memory(&out).unwrap();
        assert_eq!((t.width(), t.height()), (240, 320));
    }

    #[test]
    fn a_damaged_jpeg_is_a_reason_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("p.jpg");
        let mut bytes = jpeg(800, 600);
        bytes.truncate(300);
        std::fs::write(&src, &bytes).unwrap();
        // Whatever each decoder makes of it: an image or a reason, and the budget given back.
        let _ = make(&src, &req("jpeg", None, false));
        let mut junk = b"\xff\xd8\xff\xe0".to_vec();
        junk.extend(b"garbage".repeat(100));
        std::fs::write(&src, &junk).unwrap();
        let why = make(&src, &req("jpeg", None, false)).unwrap_err();
        assert!(why.contains("损坏"), "{why}");
    }

    #[test]
    fn decode_memory_is_estimated_from_the_header_and_the_scale() {
        use jpeg_decoder::CodingProcess::{DctProgressive, DctSequential};
        // Issue 15: a 13000² JPEG at 1/8 takes about 16 MB, not the 507 MB of a full decode;
        // six at once fit the budget.
        let seq = jpeg_decode_cost((13000, 13000), (1625, 1625), true, DctSequential);
        assert!(seq < 20 << 20, "{seq}");
        assert!(6 * seq < DECODE_BUDGET);
        // Progressive: the whole image's coefficients stay in memory, so it is refused.
        let prog = jpeg_decode_cost((13000, 13000), (1625, 1625), true, DctProgressive);
        assert!(prog > MAX_ALLOC, "{prog}");
        // A 12 MP progressive phone photo is made, taking its real share.
        let phone = jpeg_decode_cost((4000, 3000), (500, 375), true, DctProgressive);
        assert!(phone < MAX_ALLOC && phone > 60 << 20, "{phone}");
    }

    #[test]
    fn decodes_on_every_thread_stay_within_the_budget() {
        static LOCAL: Budget = Budget::new();
        static PEAK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let threads: Vec<_> = (0..6)
            .map(|i| {
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        // Each "decode" wants 45 % of the budget (one over it: the whole).
                        let want = if i == 0 {
                            DECODE_BUDGET * 2
                        } else {
                            DECODE_BUDGET * 45 / 100
                        };
                        let share = LOCAL.take(want);
                        PEAK.fetch_max(LOCAL.in_use(), std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_micros(200));
                        drop(share);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(PEAK.load(std::sync::atomic::Ordering::SeqCst) <= DECODE_BUDGET);
        assert_eq!(LOCAL.in_use(), 0);
    }

    #[test]
    fn a_pixel_bomb_is_refused_and_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let objects = dir.path().join("objects");
        let thumbs = dir.path().join("thumbs");
        std::fs::create_dir_all(&thumbs).unwrap();
        // A PNG header claiming 100000×100000 pixels.
        let mut chunk = b"IHDR".to_vec();
        chunk.extend_from_slice(&100_000u32.to_be_bytes());
        chunk.extend_from_slice(&100_000u32.to_be_bytes());
        chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0d".to_vec();
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IDAT");
        png.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
        let r = req("png", None, false);
        let src = crate::store::object_path(&objects, &r.sha256);
        std::fs::create_dir_all(src.parent().unwrap()).unwrap();
        std::fs::write(&src, png).unwrap();
        let (t, made) = ensure(&objects, &run(&thumbs), &r);
        assert!(
            matches!(&t, Thumb::Placeholder(s) if s.contains("过大")),
            "{t:?}"
        );
        assert_eq!(made, Made::Now);
        let (t2, made) = ensure(&objects, &run(&thumbs), &r);
        assert_eq!((t2, made), (t, Made::Cached));
    }

    /// The listing a new run reads.
    fn run(thumbs: &Path) -> Listing {
        Listing::read(thumbs).unwrap()
    }

    /// A 640×480 JPEG in the store under `objects`, and the request for its thumbnail.
    fn stored_photo(objects: &Path) -> ThumbRequest {
        let r = req("jpeg", None, false);
        let src = crate::store::object_path(objects, &r.sha256);
        std::fs::create_dir_all(src.parent().unwrap()).unwrap();
        std::fs::write(&src, jpeg(640, 480)).unwrap();
        r
    }

    #[test]
    fn entries_of_a_run_killed_while_writing_are_checked_and_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let (objects, thumbs) = (dir.path().join("o"), dir.path().join("t"));
        let r = stored_photo(&objects);
        let cache = run(&thumbs);
        assert_eq!(ensure(&objects, &cache, &r), (Thumb::Image, Made::Now));
        // Killed before `finish`: the marker stays, and the entry lost its bytes in the crash.
        assert!(thumbs.join(WRITING).exists());
        std::fs::write(thumb_path(&thumbs, &r.sha256), b"").unwrap();
        let cache = run(&thumbs);
        assert_eq!(ensure(&objects, &cache, &r), (Thumb::Image, Made::Now));
        cache.finish().unwrap();
        assert!(!thumbs.join(WRITING).exists());
        assert!(
            std::fs::metadata(thumb_path(&thumbs, &r.sha256))
                .unwrap()
                .len()
                > 100
        );
        // A finished run's entries are trusted from the listing: nothing is made.
        assert_eq!(
            ensure(&objects, &run(&thumbs), &r),
            (Thumb::Image, Made::Cached)
        );
    }

    /// The forms' lookups: each entry by its own `stat` — a non-empty one is used, an empty
    /// one (bytes lost in a crash) made again — and a killed run's temp file left for the next
    /// listing, which removes it.
    #[test]
    fn an_unlisted_cache_looks_each_entry_up() {
        let dir = tempfile::tempdir().unwrap();
        let (objects, thumbs) = (dir.path().join("o"), dir.path().join("t"));
        let r = stored_photo(&objects);
        std::fs::create_dir_all(&thumbs).unwrap();
        let leftover = thumbs.join(".thumb-killed.tmp");
        std::fs::write(&leftover, b"half").unwrap();
        std::fs::write(thumb_path(&thumbs, &r.sha256), b"").unwrap();
        let cache = Listing::unlisted(&thumbs).unwrap();
        assert_eq!(ensure(&objects, &cache, &r), (Thumb::Image, Made::Now));
        cache.finish().unwrap();
        assert!(leftover.exists());
        let cache = Listing::unlisted(&thumbs).unwrap();
        assert_eq!(ensure(&objects, &cache, &r), (Thumb::Image, Made::Cached));
        assert_eq!(
            ensure(&objects, &run(&thumbs), &r),
            (Thumb::Image, Made::Cached)
        );
        assert!(!leftover.exists());
    }

    /// A killed run's marker outlives an unlisted run that wrote (it checked its few entries
    /// only), and goes with the next listed run that finishes.
    #[test]
    fn an_unlisted_run_leaves_a_killed_runs_marker() {
        let dir = tempfile::tempdir().unwrap();
        let (objects, thumbs) = (dir.path().join("o"), dir.path().join("t"));
        let r = stored_photo(&objects);
        std::fs::create_dir_all(&thumbs).unwrap();
        std::fs::write(thumbs.join(WRITING), b"").unwrap();
        let cache = Listing::unlisted(&thumbs).unwrap();
        assert_eq!(ensure(&objects, &cache, &r), (Thumb::Image, Made::Now));
        cache.finish().unwrap();
        assert!(thumbs.join(WRITING).exists());
        let cache = run(&thumbs);
        assert!(cache.names.is_none());
        std::fs::remove_file(thumb_path(&thumbs, &r.sha256)).unwrap();
        assert_eq!(ensure(&objects, &cache, &r), (Thumb::Image, Made::Now));
        cache.finish().unwrap();
        assert!(!thumbs.join(WRITING).exists());
    }

    #[test]
    fn heic_and_video_get_placeholders_and_a_cache_hit_reads_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (objects, thumbs) = (dir.path().join("o"), dir.path().join("t"));
        std::fs::create_dir_all(&thumbs).unwrap();
        let (t, _) = ensure(&objects, &run(&thumbs), &req("heic", None, false));
        assert!(matches!(t, Thumb::Placeholder(s) if s.contains("HEIC")));
        let (t, _) = ensure(&objects, &run(&thumbs), &req("mp4", None, false));
        assert_eq!(t, Thumb::Placeholder("视频".into()));
        let r = req("jpeg", None, false);
        std::fs::write(thumb_path(&thumbs, &r.sha256), b"x").unwrap();
        assert_eq!(
            ensure(&objects, &run(&thumbs), &r),
            (Thumb::Image, Made::Cached)
        );
    }
}
