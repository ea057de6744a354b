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

/// The `.BTF` section of the kernel in the bzImage `bytes` (read from `path`, named in
/// errors). The payload is decompressed only as far as the section's end: vmlinux BTF
/// starts with its header (magic 0xeb9f, version 1, a 24-byte header, types then
/// strings), 36-45% into Debian's images, and it is the only BTF of its size there (the
/// BPF programs built into the kernel carry a few kilobytes of their own). A stream with
/// no such header is decompressed whole and read as an ELF file.
pub fn btf_section(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let payload = payload(bytes).map_err(|what| unexpected(path, what))?;
    let mut input = decoder(path, payload)?.ok_or_else(|| {
        let magic: Vec<String> = payload.iter().take(4).map(|b| format!("{b:02x}")).collect();
        unexpected(
            path,
            &format!(
                "its payload is compressed in a format rstap does not read (magic {}); xz and \
                 zstd are read",
                magic.join(" ")
            ),
        )
    })?;
    let mut out: Vec<u8> = Vec::with_capacity(64 << 20);
    let mut scanned = 0;
    let mut found: Option<(usize, usize)> = None;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        if let Some((start, len)) = found {
            if out.len() >= start + len {
                return Ok(out[start..start + len].to_vec());
            }
        }
        let n = input
            .read(&mut chunk)
            .map_err(|e| unexpected(path, &format!("decompressing its payload: {e}")))?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
        if found.is_none() {
            found = find_btf_header(&out, scanned);
            scanned = out.len().saturating_sub(HEADER_LEN);
        }
    }
    if !out.starts_with(b"\x7fELF") {
        return Err(unexpected(
            path,
            "its payload does not decompress to an ELF file",
        ));
    }
    super::load::section(path, &out, ".BTF")
}

/// A BTF header's size, and the least a kernel's type section holds (its real ones hold
/// megabytes; an embedded BPF program's, kilobytes).
const HEADER_LEN: usize = 24;
const KERNEL_TYPES_AT_LEAST: u32 = 1 << 20;

/// The first plausible vmlinux BTF header at or after `from`: (its offset, the section's
/// length).
fn find_btf_header(b: &[u8], from: usize) -> Option<(usize, usize)> {
    const MAGIC: [u8; 8] = [0x9f, 0xeb, 1, 0, 24, 0, 0, 0];
    let u32_at = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let mut at = from;
    while at + HEADER_LEN <= b.len() {
        let rest = &b[at..];
        at += rest.windows(MAGIC.len()).position(|w| w == MAGIC)?;
        if at + HEADER_LEN > b.len() {
            return None;
        }
        let (type_off, type_len) = (u32_at(at + 8), u32_at(at + 12));
        let (str_off, str_len) = (u32_at(at + 16), u32_at(at + 20));
        if type_off == 0
            && str_off == type_len
            && type_len >= KERNEL_TYPES_AT_LEAST
            && type_len % 4 == 0
            && str_len > 0
        {
            return Some((at, HEADER_LEN + str_off as usize + str_len as usize));
        }
        at += 1;
    }
    None
}

/// A reader of `data` decompressed, by its magic: xz (the kernel's 6.1 images and 6.12's
/// modules) or zstd; `None` for anything else. Kernel images and modules both come here.
pub(super) fn decoder<'a>(
    path: &Path,
    data: &'a [u8],
) -> Result<Option<Box<dyn Read + 'a>>, Error> {
    if data.starts_with(b"\xfd7zXZ\x00") {
        return Ok(Some(Box::new(liblzma::read::XzDecoder::new(data))));
    }
    if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        // One frame: the kernel's payload ends with the decompressed size (4 bytes), which
        // is no frame.
        let zstd = zstd::stream::read::Decoder::with_buffer(data)
            .map_err(|e| unexpected(path, &format!("its zstd data: {e}")))?
            .single_frame();
        return Ok(Some(Box::new(zstd)));
    }
    Ok(None)
}

#[cfg(test)]
/// The decompressed kernel ELF of the bzImage `bytes` (read from `path`, named in errors).
pub fn vmlinux(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let payload = payload(bytes).map_err(|what| unexpected(path, what))?;
    let mut out = Vec::new();
    decoder(path, payload)?
        .expect("Debian's images are xz or zstd")
        .read_to_end(&mut out)
        .map_err(|e| unexpected(path, &format!("decompressing its payload: {e}")))?;
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

    /// Stopping at the section's end gives the bytes of the ELF's `.BTF` section, on each
    /// installed image.
    #[test]
    fn the_early_stop_finds_the_same_bytes_as_the_elf_section() {
        for e in std::fs::read_dir("/boot").into_iter().flatten().flatten() {
            let path = e.path();
            if !e.file_name().to_string_lossy().starts_with("vmlinuz-") {
                continue;
            }
            let b = std::fs::read(&path).unwrap();
            let early = btf_section(&path, &b).unwrap();
            let whole =
                super::super::load::section(&path, &vmlinux(&path, &b).unwrap(), ".BTF").unwrap();
            assert!(early == whole, "{}", path.display());
        }
    }

    #[test]
    fn a_file_without_a_setup_header_is_not_a_bzimage() {
        let e = btf_section(Path::new("x"), &[0u8; 4096]).unwrap_err();
        assert!(e.to_string().contains("not a bzImage"), "{e}");
    }

    #[test]
    fn a_payload_past_the_end_is_an_error_not_a_panic() {
        let mut b = vec![0u8; 2048];
        b[HEADER_MAGIC..HEADER_MAGIC + 4].copy_from_slice(b"HdrS");
        b[PROTOCOL_VERSION..PROTOCOL_VERSION + 2].copy_from_slice(&0x20fu16.to_le_bytes());
        b[PAYLOAD_LENGTH..PAYLOAD_LENGTH + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = btf_section(Path::new("x"), &b).unwrap_err();
        assert!(e.to_string().contains("outside the file"), "{e}");
    }
}
