//! DER (ITU-T X.690), the little of it sealstrap writes and reads: one-byte tags and definite
//! lengths. The one place DER is encoded and decoded, for the controller's certificate
//! (`controller_key`), RSA keys (`rsa`) and OpenSSH keys (`ssh`). Pure.

/// Appends a definite length (X.690 §8.1.3: short form below 128, else long form).
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Appends one TLV: `tag`, the length of `body`, `body`.
pub fn push_tlv(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    push_len(out, body.len());
    out.extend_from_slice(body);
}

/// One TLV as a new buffer.
pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 6);
    push_tlv(&mut out, tag, body);
    out
}

/// Appends an INTEGER holding the unsigned big-endian `n`: leading zero bytes dropped, and one
/// zero byte in front when the first bit is set (the integer is positive, X.690 §8.3). Writes
/// into `out` directly, so a private key's parts are copied only into the caller's buffer.
pub fn push_uint(out: &mut Vec<u8>, n: &[u8]) {
    let start = n.iter().take_while(|b| **b == 0).count();
    let n = &n[start..];
    let pad = n.first().is_none_or(|b| b & 0x80 != 0);
    out.push(0x02);
    push_len(out, n.len() + usize::from(pad));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(n);
}

/// An INTEGER holding the unsigned big-endian `n`, as a new buffer.
pub fn uint(n: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(n.len() + 4);
    push_uint(&mut out, n);
    out
}

/// Reads one TLV with a one-byte tag: `(tag, contents, rest)`. Lengths up to 4 bytes long.
pub fn read(input: &[u8]) -> Result<(u8, &[u8], &[u8]), &'static str> {
    let (&tag, rest) = input.split_first().ok_or("empty")?;
    let (&first, rest) = rest.split_first().ok_or("no length")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad length");
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err("truncated");
    }
    let (body, rest) = rest.split_at(len);
    Ok((tag, body, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_integers_and_reading_round_trip() {
        assert_eq!(tlv(0x04, &[1, 2]), [0x04, 0x02, 1, 2]);
        let long = vec![7u8; 300];
        let t = tlv(0x04, &long);
        assert_eq!(&t[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(read(&t), Ok((0x04, long.as_slice(), &[][..])));
        assert_eq!(uint(&[0, 0, 0x7f]), [0x02, 0x01, 0x7f]);
        assert_eq!(uint(&[0x94, 0xf5]), [0x02, 0x03, 0x00, 0x94, 0xf5]);
        assert_eq!(uint(&[0; 16]), [0x02, 0x01, 0x00]);
        assert_eq!(read(&[0x30]), Err("no length"));
        assert_eq!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]), Err("bad length"));
        assert_eq!(read(&[0x30, 0x03, 1]), Err("truncated"));
    }
}
