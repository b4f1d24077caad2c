//! Request-body compression: gzip by ISA-L at the default level 1 (bodies of 16 KiB or more), by libdeflate otherwise.

use std::cell::RefCell;

/// The level ISA-L serves; `LOGSHIP_GZIP_LEVEL`'s default.
pub const FAST_LEVEL: i32 = 1;

/// Below this, libdeflate's level 1 is the faster: ISA-L's one-shot call zeroes 276 KiB of tables every time (about
/// 15 µs here), which a small body never earns back; from 16 KiB up ISA-L wins, by 1.6× at 64 KiB and 2.3× on a
/// 1,000-event batch's bodies.
const ISAL_MIN_INPUT: usize = 16 * 1024;

/// ISA-L counts its input and output in `u32`; bodies are capped far below this, and anything larger goes to
/// libdeflate rather than be truncated.
const ISAL_MAX_INPUT: usize = 1 << 30;

thread_local! {
    /// One compressor per thread and level, reused: libdeflate allocates and clears its match-finder tables when a
    /// compressor is made, which costs more than compressing a small body.
    static COMPRESSOR: RefCell<Option<(i32, libdeflater::Compressor)>> = const { RefCell::new(None) };
    /// Room for the worst case, reused: zeroing a fresh bound-sized buffer per body costs more than copying out the
    /// few compressed bytes.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Gzips `data` at `level`: 1 (the default) is ISA-L's level 1 for bodies of 16 KiB or more and libdeflate's below,
/// 0 and 2–12 are libdeflate's levels (0 stores).
///
/// ISA-L's level 1 compresses the OTLP bodies 2–2.3× faster than libdeflate's for 2–4% more bytes, and gzip is the
/// largest single cost of a delivery with logs; libdeflate's higher levels remain for those who pay more for bytes
/// than for time.
pub fn gzip(data: &[u8], level: i32) -> Vec<u8> {
    if level == FAST_LEVEL && data.len() >= ISAL_MIN_INPUT {
        if let Some(gz) = isal_gzip(data) {
            return gz;
        }
    }
    libdeflate_gzip(data, level)
}

/// ISA-L's one-shot level 1, or `None` when it cannot take `data` (then libdeflate does: nothing is dropped).
fn isal_gzip(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() > ISAL_MAX_INPUT {
        return None;
    }
    // The stateless encoder needs room for its whole output: at worst stored blocks (5 bytes per 64 KiB) after the
    // largest block header it writes, inside gzip's 10-byte header and 8-byte trailer.
    let bound = data.len() + 5 * (data.len() / 0xffff + 1) + 328 + 18;
    with_scratch(bound, |out| {
        let n = isal::compress_into(data, out, isal::CompressionLevel::One, isal::Codec::Gzip).ok()?;
        out.get(..n).map(<[u8]>::to_vec)
    })
}

fn libdeflate_gzip(data: &[u8], level: i32) -> Vec<u8> {
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
    // The bound is libdeflate's own worst case, so compressing into it cannot run out of space.
    with_scratch(bound, |out| {
        let n = c.gzip_compress(data, out).unwrap_or(0);
        out[..n].to_vec()
    })
}

/// Runs `f` on the first `len` bytes of this thread's scratch buffer, grown as needed.
fn with_scratch<T>(len: usize, f: impl FnOnce(&mut [u8]) -> T) -> T {
    let run = |out: &mut Vec<u8>| {
        if out.len() < len {
            out.resize(len, 0);
        }
        f(&mut out[..len])
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => run(&mut scratch),
        Err(_) => run(&mut Vec::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{inflate_capped, DecodeOptions, Origin};
    use proptest::prelude::*;

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        inflate_capped(gz, &Origin::Raw, &DecodeOptions::default()).unwrap()
    }

    /// Bytes no compressor can shrink, so ISA-L's stored-block worst case is what the bound must hold.
    fn noise(len: usize) -> Vec<u8> {
        let mut rng = fastrand::Rng::with_seed(7);
        (0..len).map(|_| rng.u8(..)).collect()
    }

    #[test]
    fn round_trips_at_every_level() {
        let data = b"REPORT RequestId: abc\tDuration: 1.00 ms\n".repeat(100);
        for level in [0, 1, 2, 6, 12, 99] {
            assert_eq!(gunzip(&gzip(&data, level)), data, "level {level}");
        }
    }

    #[test]
    fn the_default_level_is_isal_and_needs_no_fallback() {
        let data = b"{\"level\":\"info\",\"msg\":\"order placed\"}\n".repeat(2000);
        let gz = isal_gzip(&data).expect("ISA-L takes an ordinary body");
        assert_eq!(gunzip(&gz), data);
        assert_eq!(gzip(&data, FAST_LEVEL), gz);
        assert!(gz.len() * 20 < data.len(), "{} bytes from {}", gz.len(), data.len());
    }

    #[test]
    fn small_bodies_go_to_libdeflate_at_the_default_level() {
        let data = b"{\"level\":\"info\",\"msg\":\"order placed\"}\n".repeat(100);
        assert!(data.len() < ISAL_MIN_INPUT);
        assert_eq!(gzip(&data, FAST_LEVEL), libdeflate_gzip(&data, FAST_LEVEL));
        assert_ne!(gzip(&data, FAST_LEVEL), isal_gzip(&data).unwrap(), "the two encoders write different streams");
    }

    #[test]
    fn incompressible_and_empty_bodies_fit_isal_bound() {
        for len in [0, 1, 100, 0xffff, 0x10000, 0x10001, 3 * 0x10000 + 17, 1 << 20] {
            let data = noise(len);
            let gz = isal_gzip(&data).unwrap_or_else(|| panic!("ISA-L refused {len} incompressible bytes"));
            assert_eq!(gunzip(&gz), data, "{len} bytes");
        }
    }

    proptest! {
        #[test]
        fn the_default_level_round_trips_anything(data in proptest::collection::vec(any::<u8>(), 0..70_000), repeat in 1usize..4) {
            let data = data.repeat(repeat);
            prop_assert_eq!(gunzip(&gzip(&data, FAST_LEVEL)), data);
        }
    }
}
