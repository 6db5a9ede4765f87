//! Parsing what user space writes to /proc/sys, by Linux's rules.
//!
//! Linux parses integer sysctls with `proc_get_long` (kernel/sysctl.c):
//! leading white space is skipped, an optional `-` follows, then digits in
//! C notation (`0x` hexadecimal, a leading `0` octal, else decimal), and the
//! number must be followed by white space or the end of the write. A write
//! with no number, a malformed number or a value outside the entry's range
//! fails with EINVAL and changes nothing. String sysctls (`proc_dostring`)
//! take the bytes up to the first newline or NUL, cut to the entry's size.
//!
//! Only the first value of a write is used: every Starling sysctl holds one
//! value, and Linux ignores what follows it in a single-value entry.

use alloc::string::String;

/// What `proc_get_long` reads: the sign and the magnitude.
fn parse_long(data: &[u8]) -> Option<(bool, u64)> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = data.iter().position(|b| !is_space(b))?;
    let mut p = &data[start..];
    let neg = p.first() == Some(&b'-');
    if neg {
        p = &p[1..];
    }
    let (radix, digits) = if p.len() > 2 && p[0] == b'0' && (p[1] | 0x20) == b'x' {
        (16, &p[2..])
    } else if p.len() > 1 && p[0] == b'0' {
        (8, &p[1..])
    } else {
        (10, p)
    };
    let len = digits
        .iter()
        .position(|b| !(*b as char).is_digit(radix))
        .unwrap_or(digits.len());
    if len == 0 {
        // "0" alone is a decimal zero read as octal with no further digits.
        return (radix == 8).then_some((neg, 0)).filter(|_| {
            digits
                .first()
                .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\n'))
        });
    }
    let mut value: u64 = 0;
    for &b in &digits[..len] {
        let d = u64::from((b as char).to_digit(radix)?);
        value = value.checked_mul(u64::from(radix))?.checked_add(d)?;
    }
    // The separator set of proc_dointvec: the number must end here.
    match digits.get(len) {
        None | Some(b' ' | b'\t' | b'\n') => Some((neg, value)),
        Some(_) => None,
    }
}

/// An `int` sysctl (`proc_dointvec_minmax`): the value, if the write holds
/// one that fits an `int` and lies in `min..=max`.
pub fn parse_int(data: &[u8], min: i32, max: i32) -> Option<i32> {
    let (neg, mag) = parse_long(data)?;
    let value = if neg {
        // INT_MIN's magnitude is one more than INT_MAX.
        if mag > i32::MAX as u64 + 1 {
            return None;
        }
        (-(mag as i64)) as i32
    } else {
        i32::try_from(mag).ok()?
    };
    (min..=max).contains(&value).then_some(value)
}

/// An `unsigned long` sysctl (`proc_doulongvec_minmax`): negative numbers
/// are invalid.
pub fn parse_ulong(data: &[u8], min: u64, max: u64) -> Option<u64> {
    match parse_long(data)? {
        (true, _) => None,
        (false, v) => (min..=max).contains(&v).then_some(v),
    }
}

/// A string sysctl (`proc_dostring`): up to the first newline or NUL, at
/// most `maxlen - 1` bytes (the entry's buffer keeps a terminating NUL).
pub fn parse_string(data: &[u8], maxlen: usize) -> String {
    let end = data
        .iter()
        .position(|&b| b == b'\n' || b == 0)
        .unwrap_or(data.len())
        .min(maxlen.saturating_sub(1));
    String::from_utf8_lossy(&data[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_with_newline_and_spaces() {
        assert_eq!(parse_int(b"1\n", 0, 2), Some(1));
        assert_eq!(parse_int(b"  42  \n", 0, 100), Some(42));
        assert_eq!(parse_int(b"\t7", 0, 100), Some(7));
        assert_eq!(parse_int(b"-5\n", -10, 10), Some(-5));
    }

    #[test]
    fn c_notation() {
        assert_eq!(parse_int(b"0x10\n", 0, 100), Some(16));
        assert_eq!(parse_int(b"0X1f", 0, 100), Some(31));
        assert_eq!(parse_int(b"010\n", 0, 100), Some(8));
        assert_eq!(parse_int(b"0\n", 0, 1), Some(0));
        assert_eq!(parse_int(b"0", 0, 1), Some(0));
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            &b""[..],
            b"\n",
            b"   ",
            b"abc",
            b"1a",
            b"1.5",
            b"--1",
            b"-",
            b"0x",
            b"09",
            b"0xg",
            b"+1",
        ] {
            assert_eq!(parse_int(bad, i32::MIN, i32::MAX), None, "{bad:?}");
        }
    }

    #[test]
    fn only_the_first_value_counts() {
        assert_eq!(parse_int(b"3 4\n", 0, 10), Some(3));
    }

    #[test]
    fn int_range_and_overflow() {
        assert_eq!(parse_int(b"2147483647", i32::MIN, i32::MAX), Some(i32::MAX));
        assert_eq!(parse_int(b"2147483648", i32::MIN, i32::MAX), None);
        assert_eq!(
            parse_int(b"-2147483648", i32::MIN, i32::MAX),
            Some(i32::MIN)
        );
        assert_eq!(parse_int(b"-2147483649", i32::MIN, i32::MAX), None);
        assert_eq!(parse_int(b"99999999999999999999999", 0, 1), None);
        assert_eq!(parse_int(b"3", 0, 2), None);
        assert_eq!(parse_int(b"-1", 0, 2), None);
    }

    #[test]
    fn ulong_rejects_negative() {
        assert_eq!(parse_ulong(b"-1", 0, u64::MAX), None);
        assert_eq!(
            parse_ulong(b"18446744073709551615\n", 0, u64::MAX),
            Some(u64::MAX)
        );
        assert_eq!(parse_ulong(b"18446744073709551616", 0, u64::MAX), None);
        assert_eq!(parse_ulong(b"5", 10, 20), None);
    }

    #[test]
    fn strings_stop_at_newline_and_size() {
        assert_eq!(parse_string(b"core\n", 128), "core");
        assert_eq!(parse_string(b"a\0b", 128), "a");
        assert_eq!(parse_string(b"abcdef", 4), "abc");
        assert_eq!(parse_string(b"", 4), "");
    }
}
