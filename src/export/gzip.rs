//! Request-body compression: gzip via libdeflate, the level chosen by configuration.

use std::cell::RefCell;

thread_local! {
    /// One compressor per thread and level, reused: libdeflate allocates and clears its match-finder tables when a
    /// compressor is made, which costs more than compressing a small body.
    static COMPRESSOR: RefCell<Option<(i32, libdeflater::Compressor)>> = const { RefCell::new(None) };
    /// Room for the worst case, reused: zeroing a fresh bound-sized buffer per body costs more than copying out the
    /// few compressed bytes.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Gzips `data` at `level` (libdeflate's 0–12; 6 is zlib's default).
pub fn gzip(data: &[u8], level: i32) -> Vec<u8> {
    COMPRESSOR.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let (_, c) = match slot.take() {
                Some((l, c)) if l == level => slot.insert((l, c)),
                _ => slot.insert((level, new_compressor(level))),
            };
            compress(c, data)
        }
        // Only reentrancy could find it borrowed; a compressor of its own is still right.
        Err(_) => compress(&mut new_compressor(level), data),
    })
}

fn new_compressor(level: i32) -> libdeflater::Compressor {
    libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap_or_default())
}

fn compress(c: &mut libdeflater::Compressor, data: &[u8]) -> Vec<u8> {
    let bound = c.gzip_compress_bound(data.len());
    let mut into = |out: &mut Vec<u8>| {
        if out.len() < bound {
            out.resize(bound, 0);
        }
        // The bound is libdeflate's own worst case, so compressing into it cannot run out of space.
        let n = c.gzip_compress(data, &mut out[..bound]).unwrap_or(0);
        out[..n].to_vec()
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => into(&mut scratch),
        Err(_) => into(&mut Vec::new()),
    })
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
