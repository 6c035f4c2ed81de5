//! Object bodies compressed as Firehose compresses them, and the extensions it names them with.
//!
//! Invariant: [`Compression::compress`] of a body decompresses, with the format's standard
//! tool, to exactly that body. GZIP uses flate2; Snappy is the framing format (snap's frame
//! encoder); HADOOP_SNAPPY is Hadoop's block format (big-endian uncompressed length, then
//! length-prefixed raw Snappy chunks), written here over snap's raw encoder because no crate
//! writes it; ZIP is one deflated entry named like the object without `.zip`.

use std::io::Write;

/// `CompressionFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// `UNCOMPRESSED`.
    Uncompressed,
    /// `GZIP`.
    Gzip,
    /// `ZIP`.
    Zip,
    /// `Snappy` (framing format).
    Snappy,
    /// `HADOOP_SNAPPY`.
    HadoopSnappy,
}

/// Hadoop's SnappyCodec block size.
const HADOOP_BLOCK: usize = 256 * 1024;

impl Compression {
    /// The format `name` (Firehose's enum value) names.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "UNCOMPRESSED" => Self::Uncompressed,
            "GZIP" => Self::Gzip,
            "ZIP" => Self::Zip,
            "Snappy" => Self::Snappy,
            "HADOOP_SNAPPY" => Self::HadoopSnappy,
            _ => return None,
        })
    }

    /// The extension Firehose adds to object names.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Uncompressed => "",
            Self::Gzip => ".gz",
            Self::Zip => ".zip",
            Self::Snappy | Self::HadoopSnappy => ".snappy",
        }
    }

    /// `body` compressed; `name` is the ZIP entry's name.
    pub fn compress(self, body: &[u8], name: &str) -> Vec<u8> {
        match self {
            Self::Uncompressed => body.to_vec(),
            Self::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(body).expect("writing to memory");
                encoder.finish().expect("writing to memory")
            }
            Self::Snappy => {
                let mut encoder = snap::write::FrameEncoder::new(Vec::new());
                encoder.write_all(body).expect("writing to memory");
                encoder.into_inner().expect("writing to memory")
            }
            Self::HadoopSnappy => {
                let mut out = Vec::new();
                let mut encoder = snap::raw::Encoder::new();
                for block in body.chunks(HADOOP_BLOCK) {
                    let compressed = encoder.compress_vec(block).expect("block within limits");
                    out.extend_from_slice(&(block.len() as u32).to_be_bytes());
                    out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
                    out.extend_from_slice(&compressed);
                }
                out
            }
            Self::Zip => {
                let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .large_file(body.len() as u64 >= u64::from(u32::MAX));
                writer.start_file(name, options).expect("writing to memory");
                writer.write_all(body).expect("writing to memory");
                writer.finish().expect("writing to memory").into_inner()
            }
        }
    }

    /// The `Content-Encoding` an object of this format carries, if any.
    pub fn content_encoding(self) -> Option<&'static str> {
        matches!(self, Self::Gzip).then_some("gzip")
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn body() -> Vec<u8> {
        (0..600_000u32)
            .flat_map(|n| (n % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn every_format_round_trips() {
        let body = body();
        let gz = Compression::Gzip.compress(&body, "x");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);

        let framed = Compression::Snappy.compress(&body, "x");
        assert_eq!(
            &framed[..10],
            b"\xff\x06\x00\x00sNaPpY",
            "stream identifier chunk"
        );
        let mut out = Vec::new();
        snap::read::FrameDecoder::new(&framed[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);

        let hadoop = Compression::HadoopSnappy.compress(&body, "x");
        let (mut at, mut out) = (0, Vec::new());
        while at < hadoop.len() {
            let raw = u32::from_be_bytes(hadoop[at..at + 4].try_into().unwrap()) as usize;
            let len = u32::from_be_bytes(hadoop[at + 4..at + 8].try_into().unwrap()) as usize;
            let block = snap::raw::Decoder::new()
                .decompress_vec(&hadoop[at + 8..at + 8 + len])
                .unwrap();
            assert_eq!(block.len(), raw);
            assert!(raw <= HADOOP_BLOCK);
            out.extend(block);
            at += 8 + len;
        }
        assert_eq!(out, body);

        let zipped = Compression::Zip.compress(&body, "logs-1-2024");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "logs-1-2024");
        let mut out = Vec::new();
        entry.read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn names_and_extensions() {
        for (name, ext) in [
            ("UNCOMPRESSED", ""),
            ("GZIP", ".gz"),
            ("ZIP", ".zip"),
            ("Snappy", ".snappy"),
            ("HADOOP_SNAPPY", ".snappy"),
        ] {
            assert_eq!(Compression::parse(name).unwrap().extension(), ext);
        }
        assert_eq!(Compression::parse("gzip"), None);
    }
}
