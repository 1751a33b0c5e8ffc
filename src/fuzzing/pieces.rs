//! The input layout the `decoder` and `websocket` targets share: a
//! control byte, then piece sizes, then the stream those sizes cut up — so
//! that libFuzzer's mutations move the cuts as freely as the bytes.

/// An input, read: its control byte (the low 4 bits were the count of
/// piece sizes; the target gives the other bits a meaning), the stream,
/// and the stream cut into pieces.
pub(super) struct Pieces<'a> {
    pub(super) control: u8,
    pub(super) stream: &'a [u8],
    pub(super) pieces: Vec<&'a [u8]>,
}

/// Reads `data`: byte 0 is the control byte, whose low 4 bits are `k`;
/// bytes `1..=k` are piece sizes, used in a cycle until the stream is cut
/// up (a size of 0 is an empty read); the rest is the stream. `None` for
/// an empty input.
pub(super) fn read(data: &[u8]) -> Option<Pieces<'_>> {
    let (&control, rest) = data.split_first()?;
    let k = usize::from(control & 0x0f).min(rest.len());
    let (sizes, stream) = rest.split_at(k);
    Some(Pieces {
        control,
        stream,
        pieces: cut(stream, sizes),
    })
}

/// Cuts `stream` into pieces whose lengths cycle through `sizes`; with no
/// size (or only zeros) the stream is one piece.
fn cut<'a>(stream: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    if sizes.iter().all(|&s| s == 0) {
        return vec![stream];
    }
    let mut pieces = Vec::new();
    let mut rest = stream;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, after) = rest.split_at(usize::from(size).min(rest.len()));
        pieces.push(piece);
        rest = after;
    }
    pieces
}
