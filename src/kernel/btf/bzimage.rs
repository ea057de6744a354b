//! The kernel ELF inside a bzImage (`/boot/vmlinuz-KVER`), so that its `.BTF` section can be
//! read without the debug package: the boot protocol's header says where the compressed
//! payload is, and the payload is the kernel's `vmlinux`, stripped of symbols but not of
//! `.BTF`. Debian compresses 6.1's with xz (with the x86 BCJ filter) and 6.12's with zstd
//! (followed by a 4-byte size the decompressor stub reads).
use super::super::Error;
use std::io::Read;
use std::path::Path;

/// Offsets in the boot protocol's setup header (Documentation/arch/x86/boot.rst).
const SETUP_SECTS: usize = 0x1f1;
const HEADER_MAGIC: usize = 0x202;
const PROTOCOL_VERSION: usize = 0x206;
const PAYLOAD_OFFSET: usize = 0x248;
const PAYLOAD_LENGTH: usize = 0x24c;

/// The decompressed kernel ELF of the bzImage `bytes` (read from `path`, named in errors).
pub fn vmlinux(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let payload = payload(bytes).map_err(|what| unexpected(path, what))?;
    let mut out = Vec::new();
    let done = if payload.starts_with(b"\xfd7zXZ\x00") {
        liblzma::read::XzDecoder::new(payload).read_to_end(&mut out)
    } else if payload.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let mut input = payload;
        ruzstd::decoding::StreamingDecoder::new(&mut input)
            .map_err(|e| unexpected(path, &format!("its zstd payload: {e}")))?
            .read_to_end(&mut out)
    } else {
        let magic: Vec<String> = payload.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(unexpected(
            path,
            &format!(
                "its payload is compressed in a format rstap does not read (magic {}); xz and \
                 zstd are read",
                magic.join(" ")
            ),
        ));
    };
    done.map_err(|e| unexpected(path, &format!("decompressing its payload: {e}")))?;
    if !out.starts_with(b"\x7fELF") {
        return Err(unexpected(
            path,
            "its payload does not decompress to an ELF file",
        ));
    }
    Ok(out)
}

/// The compressed payload's bytes, as the setup header places them.
fn payload(b: &[u8]) -> Result<&[u8], &'static str> {
    let u16_at = |at: usize| b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32_at = |at: usize| {
        b.get(at..at + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    if b.get(HEADER_MAGIC..HEADER_MAGIC + 4) != Some(b"HdrS") {
        return Err("not a bzImage (no \"HdrS\" setup header)");
    }
    if u16_at(PROTOCOL_VERSION).unwrap_or(0) < 0x208 {
        return Err("its boot protocol is older than 2.08, which has no payload fields");
    }
    let sects = match b[SETUP_SECTS] {
        0 => 4,
        n => usize::from(n),
    };
    let start = (sects + 1) * 512 + u32_at(PAYLOAD_OFFSET).ok_or("truncated setup header")?;
    let len = u32_at(PAYLOAD_LENGTH).ok_or("truncated setup header")?;
    b.get(start..start.saturating_add(len))
        .ok_or("its payload lies outside the file")
}

fn unexpected(path: &Path, what: &str) -> Error {
    Error::Unexpected {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_setup_header_is_not_a_bzimage() {
        let e = vmlinux(Path::new("x"), &[0u8; 4096]).unwrap_err();
        assert!(e.to_string().contains("not a bzImage"), "{e}");
    }

    #[test]
    fn a_payload_past_the_end_is_an_error_not_a_panic() {
        let mut b = vec![0u8; 2048];
        b[HEADER_MAGIC..HEADER_MAGIC + 4].copy_from_slice(b"HdrS");
        b[PROTOCOL_VERSION..PROTOCOL_VERSION + 2].copy_from_slice(&0x20fu16.to_le_bytes());
        b[PAYLOAD_LENGTH..PAYLOAD_LENGTH + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = vmlinux(Path::new("x"), &b).unwrap_err();
        assert!(e.to_string().contains("outside the file"), "{e}");
    }
}
