//! Test support, not part of the program: the one hand-built EXIF writer that the unit tests
//! (`extract/exif.rs`, `report/thumbs.rs`) and the integration tests (`tests/it/support/`)
//! share. It lives in the library, hidden from the docs, because an integration test can reach
//! only what the library exports; it uses no test-only dependency and nothing in the program
//! calls it.

/// What to put into a hand-built EXIF block; every field left out is absent from the block.
#[derive(Debug, Default, Clone)]
pub struct Exif<'a> {
    /// DateTimeOriginal (Exif IFD, 0x9003), as cameras write it: `2025:05:07 10:15:00`.
    pub original: Option<&'a str>,
    /// DateTimeDigitized (Exif IFD, 0x9004).
    pub digitized: Option<&'a str>,
    /// DateTime (IFD0, 0x0132): when the file was last changed.
    pub datetime: Option<&'a str>,
    /// OffsetTimeOriginal (Exif IFD, 0x9011): `+08:00`.
    pub offset_original: Option<&'a str>,
    /// Orientation (IFD0, 0x0112), 1 to 8.
    pub orientation: Option<u16>,
    /// An embedded JPEG thumbnail (IFD1, JPEGInterchangeFormat and its length).
    pub thumbnail: Option<&'a [u8]>,
    /// Motorola byte order (`MM`) instead of Intel (`II`).
    pub big_endian: bool,
}

/// One IFD entry: tag, type (2 ASCII, 3 SHORT, 4 LONG), count, and the value's bytes in the
/// block's byte order (up to 4 bytes stand in the entry, longer ones in the data area).
struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    value: Vec<u8>,
}

/// Where a LONG entry's value is an offset not known until the layout is: IFD0's pointer to
/// the Exif IFD, IFD1's pointer to the thumbnail.
enum Long {
    Value(u32),
    ExifIfd,
    Thumbnail,
}

impl Exif<'_> {
    /// The TIFF block an APP1 `Exif\0\0` segment (or a PNG `eXIf` chunk, a WebP `EXIF` chunk, a
    /// HEIF Exif item) carries: header, IFD0 (→ Exif IFD, → IFD1), their values, the thumbnail.
    pub fn tiff(&self) -> Vec<u8> {
        let be = self.big_endian;
        let u16b = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let u32b = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let ascii = |tag: u16, s: &str| {
            let mut value = s.as_bytes().to_vec();
            value.push(0);
            Entry {
                tag,
                typ: 2,
                count: value.len() as u32,
                value,
            }
        };
        let mut exif_ifd: Vec<Entry> = Vec::new();
        for (tag, value) in [
            (0x9003, self.original),
            (0x9004, self.digitized),
            (0x9011, self.offset_original),
        ] {
            if let Some(s) = value {
                exif_ifd.push(ascii(tag, s));
            }
        }
        let mut ifd0: Vec<Entry> = Vec::new();
        let mut ifd0_longs: Vec<(u16, Long)> = Vec::new();
        if let Some(o) = self.orientation {
            let mut value = u16b(o).to_vec();
            value.extend_from_slice(&[0, 0]); // a SHORT stands left-justified in its field
            ifd0.push(Entry {
                tag: 0x0112,
                typ: 3,
                count: 1,
                value,
            });
        }
        if let Some(s) = self.datetime {
            ifd0.push(ascii(0x0132, s));
        }
        // A camera's EXIF always has an Exif IFD; a block holding only an orientation or a
        // thumbnail (as the thumbnail tests want it) goes without.
        let with_exif_ifd =
            !exif_ifd.is_empty() || (self.orientation.is_none() && self.thumbnail.is_none());
        if with_exif_ifd {
            ifd0_longs.push((0x8769, Long::ExifIfd));
        }
        let ifd1_longs: Vec<(u16, Long)> = match self.thumbnail {
            Some(t) => vec![
                (0x0201, Long::Thumbnail),
                (0x0202, Long::Value(t.len() as u32)),
            ],
            None => Vec::new(),
        };

        // Layout: header, IFD0, Exif IFD, IFD1, the data area, the thumbnail.
        let ifd_size = |n: usize| 2 + 12 * n + 4;
        let ifd0_at = 8;
        let exif_at = ifd0_at + ifd_size(ifd0.len() + ifd0_longs.len());
        let ifd1_at = exif_at
            + if with_exif_ifd {
                ifd_size(exif_ifd.len())
            } else {
                0
            };
        let data_at = ifd1_at
            + if ifd1_longs.is_empty() {
                0
            } else {
                ifd_size(ifd1_longs.len())
            };
        let data_len: usize = [&ifd0, &exif_ifd]
            .iter()
            .flat_map(|ifd| ifd.iter())
            .filter(|e| e.value.len() > 4)
            .map(|e| e.value.len())
            .sum();
        let thumb_at = data_at + data_len;

        let resolve = |longs: Vec<(u16, Long)>| -> Vec<Entry> {
            longs
                .into_iter()
                .map(|(tag, l)| {
                    let v = match l {
                        Long::Value(v) => v,
                        Long::ExifIfd => exif_at as u32,
                        Long::Thumbnail => thumb_at as u32,
                    };
                    Entry {
                        tag,
                        typ: 4,
                        count: 1,
                        value: u32b(v).to_vec(),
                    }
                })
                .collect()
        };
        ifd0.extend(resolve(ifd0_longs));
        let ifd1 = resolve(ifd1_longs);

        let mut out = if be {
            b"MM\0*".to_vec()
        } else {
            b"II*\0".to_vec()
        };
        out.extend_from_slice(&u32b(ifd0_at as u32));
        let mut data = Vec::new();
        let mut write_ifd = |out: &mut Vec<u8>, mut entries: Vec<Entry>, next: usize| {
            entries.sort_by_key(|e| e.tag);
            out.extend_from_slice(&u16b(entries.len() as u16));
            for e in entries {
                out.extend_from_slice(&u16b(e.tag));
                out.extend_from_slice(&u16b(e.typ));
                out.extend_from_slice(&u32b(e.count));
                if e.value.len() <= 4 {
                    let mut field = e.value;
                    field.resize(4, 0);
                    out.extend_from_slice(&field);
                } else {
                    out.extend_from_slice(&u32b((data_at + data.len()) as u32));
                    data.extend_from_slice(&e.value);
                }
            }
            out.extend_from_slice(&u32b(next as u32));
        };
        let has_ifd1 = !ifd1.is_empty();
        write_ifd(&mut out, ifd0, if has_ifd1 { ifd1_at } else { 0 });
        if with_exif_ifd {
            write_ifd(&mut out, exif_ifd, 0);
        }
        if has_ifd1 {
            write_ifd(&mut out, ifd1, 0);
        }
        debug_assert_eq!(out.len(), data_at);
        out.extend_from_slice(&data);
        if let Some(t) = self.thumbnail {
            out.extend_from_slice(t);
        }
        out
    }
}

/// `jpeg` with an APP1 `Exif\0\0` segment holding `tiff` right after its SOI marker.
pub fn with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A small real JPEG (64×48, decodable) without EXIF; `seed` varies the pixels so that contents
/// differ.
pub fn jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([seed, (x * 4) as u8, (y * 5) as u8 ^ seed])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .expect("encode a 64×48 JPEG");
    out
}

/// [`jpeg`] with the EXIF block `e`.
pub fn jpeg_with_exif(seed: u8, e: &Exif) -> Vec<u8> {
    with_exif(&jpeg(seed), &e.tiff())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(tiff: &[u8]) -> exif::Exif {
        exif::Reader::new().read_raw(tiff.to_vec()).unwrap()
    }

    #[test]
    fn every_field_is_read_back_in_both_byte_orders() {
        let thumb = jpeg(1);
        for big_endian in [false, true] {
            let e = Exif {
                original: Some("2025:05:07 10:15:00"),
                digitized: Some("2025:05:07 10:16:00"),
                datetime: Some("2025:05:08 09:00:00"),
                offset_original: Some("+08:00"),
                orientation: Some(6),
                thumbnail: Some(&thumb),
                big_endian,
            };
            let tiff = e.tiff();
            assert_eq!(&tiff[..2], if big_endian { b"MM" } else { b"II" });
            let x = read(&tiff);
            let text = |tag, ifd| x.get_field(tag, ifd).unwrap().display_value().to_string();
            use exif::{In, Tag};
            assert_eq!(
                text(Tag::DateTimeOriginal, In::PRIMARY),
                "2025-05-07 10:15:00"
            );
            assert_eq!(
                text(Tag::DateTimeDigitized, In::PRIMARY),
                "2025-05-07 10:16:00"
            );
            assert_eq!(text(Tag::DateTime, In::PRIMARY), "2025-05-08 09:00:00");
            assert_eq!(text(Tag::OffsetTimeOriginal, In::PRIMARY), "\"+08:00\"");
            let uint = |tag, ifd| x.get_field(tag, ifd).unwrap().value.get_uint(0).unwrap();
            assert_eq!(uint(Tag::Orientation, In::PRIMARY), 6);
            let at = uint(Tag::JPEGInterchangeFormat, In::THUMBNAIL) as usize;
            let len = uint(Tag::JPEGInterchangeFormatLength, In::THUMBNAIL) as usize;
            assert_eq!(&x.buf()[at..at + len], &thumb[..]);
        }
    }

    #[test]
    fn a_jpeg_with_exif_decodes_and_carries_the_block() {
        let bytes = jpeg_with_exif(
            3,
            &Exif {
                original: Some("2025:05:07 10:15:00"),
                ..Exif::default()
            },
        );
        assert_eq!(&bytes[..4], &[0xFF, 0xD8, 0xFF, 0xE1]);
        assert_eq!(&bytes[6..12], b"Exif\0\0");
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (64, 48));
        let x = exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(&bytes))
            .unwrap();
        assert!(
            x.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)
                .is_some()
        );
    }
}
