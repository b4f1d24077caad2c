//! Request-body compression: gzip via libdeflate, the level chosen by configuration.

/// Gzips `data` at `level` (libdeflate's 0–12; 6 is zlib's default).
pub fn gzip(data: &[u8], level: i32) -> Vec<u8> {
    let lvl = libdeflater::CompressionLvl::new(level).unwrap_or_default();
    let mut c = libdeflater::Compressor::new(lvl);
    let mut out = vec![0; c.gzip_compress_bound(data.len())];
    // The bound is libdeflate's own worst case, so compressing into it cannot run out of space.
    let n = c.gzip_compress(data, &mut out).unwrap_or(0);
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{inflate_capped, DecodeOptions, Origin};

    #[test]
    fn round_trips_at_every_level() {
        let data = b"REPORT RequestId: abc\tDuration: 1.00 ms\n".repeat(100);
        for level in [0, 1, 6, 12, 99] {
            let gz = gzip(&data, level);
            assert_eq!(inflate_capped(&gz, &Origin::Raw, &DecodeOptions::default()).unwrap(), data, "level {level}");
        }
    }
}
