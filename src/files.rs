//! Static files: a route that streams the files under one directory.
//!
//! [`directory`] is an offloaded route whose job does every filesystem
//! call on a worker — `open`, `stat`, every `read` — and sends the bytes
//! through a streamed body (`stream.rs`), so a 1 GiB file costs the
//! server a pipe's worth of memory and the loop never touches the disk.
//! Why not `sendfile(2)`? It would have the loop thread own the file and
//! wait on the disk: a page-cache miss blocks every connection for as long
//! as it takes, the very monster this server exists to keep off the loop.
//! A read on a worker and a copy into the socket costs one more pass over
//! the bytes (bench/files.sh measures what that leaves).
//!
//! What it answers, in the order RFC 9110 §13.2.2 evaluates it:
//!
//! 1. the path, resolved under the root: a `..` or `.` segment, a NUL, or
//!    a path whose real location (after symlinks) is outside the root is
//!    **404**, as is a missing file — a client learns nothing about what
//!    is outside. So is a dot name (`.env`, `.git`), but for
//!    `.well-known`; and anything but a regular file (a FIFO would hold the
//!    worker in `open`). A directory serves its `index.html` (checked
//!    against the root like any name); asked for without its trailing
//!    slash, it is a **301** to the name with one, so the page's relative
//!    links resolve inside it (nginx does the same).
//! 2. `If-None-Match`, then `If-Modified-Since` (GET and HEAD only): eddy
//!    sends no entity tags, so `If-None-Match: *` (any representation) is a
//!    **304** and any other list matches nothing — and then, as §13.1.3
//!    says, `If-Modified-Since` is ignored. Otherwise a valid date the file
//!    is not newer than → **304** with `Last-Modified`; an invalid one, or
//!    one later than now, is ignored. (`If-Match` and
//!    `If-Unmodified-Since`, for writes, are not looked at: this route only
//!    reads.)
//! 3. `Range` on a GET (`http/range.rs`): one satisfiable range → **206**
//!    with `Content-Range`; past the end → **416** with `bytes */len`;
//!    `If-Range` that is not this file's `Last-Modified` → the whole.
//! 4. Else **200**, with `Content-Length`, `Last-Modified`, a
//!    `Content-Type` by extension and `Accept-Ranges: bytes`. A HEAD gets
//!    the same head and the file is never read.
//!
//! A file that shrinks while it is sent ends its body short: the connection
//! closes before the promised length, and the client can tell.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use crate::http::date::{format_http_date, now_secs, HTTP_DATE_LEN};
use crate::http::{byte_range, parse_http_date, ByteRange, Request, Response, StatusCode};
use crate::job::{Head, Job};
use crate::router::{offload, Route};

/// Bytes read from the file per `send`: big enough that a gigabyte is
/// 16,384 trips through the pipe, small enough that four fit under its
/// high-water mark.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// A GET route serving the files under `root`. Mount it on a pattern that
/// ends in `*path` (`/static/*path`, or `/*path` for every path); the
/// captured rest names the file. Without such a parameter the request's
/// whole path does.
///
/// The root is taken as it is now: if it cannot be resolved (it does not
/// exist), every request is a 404.
pub fn directory(root: impl Into<PathBuf>) -> Route {
    let root = root.into();
    // Resolved once, so each request compares against the real root.
    let root: Arc<Path> = root.canonicalize().unwrap_or(root).into();
    offload(move |req, _| {
        let wanted = FileRequest::of(req);
        let root = Arc::clone(&root);
        Ok(Job::stream(move |_, head| serve(&root, &wanted, head)))
    })
}

/// What the job needs of the request, copied off the loop's buffers.
struct FileRequest {
    /// The path under the root, percent-decoded.
    path: String,
    /// The request's path as sent, for a redirect's `Location`.
    sent_path: String,
    head_only: bool,
    if_modified_since: Option<u64>,
    /// `If-None-Match`: `Some(true)` for `*`, `Some(false)` for a list of
    /// tags (none of which can be this file's).
    if_none_match: Option<bool>,
    range: Option<Vec<u8>>,
    if_range: Option<Vec<u8>>,
}

impl FileRequest {
    fn of(req: &Request) -> FileRequest {
        let path = match req.param("path") {
            Some(path) => path.into_owned(),
            None => req.decoded_path().into_owned(),
        };
        let text = |name| std::str::from_utf8(req.header(name)?).ok();
        FileRequest {
            path,
            sent_path: req.path().to_owned(),
            head_only: req.is_head(),
            if_modified_since: text("if-modified-since").and_then(parse_http_date),
            if_none_match: req.header("if-none-match").map(|v| v.trim_ascii() == b"*"),
            range: req.header("range").map(<[u8]>::to_vec),
            if_range: req.header("if-range").map(<[u8]>::to_vec),
        }
    }
}

/// The job: answer `wanted` from under `root`, streaming the bytes.
fn serve(root: &Path, wanted: &FileRequest, head: Head) {
    let (mut file, meta, media) = match look_up(root, &wanted.path) {
        Some(Lookup::File(file, meta, media)) => (file, meta, media),
        Some(Lookup::Directory) if !wanted.sent_path.ends_with('/') => {
            // Relative to the name asked for (`./name/`): a `Location` built
            // from the whole path would turn `//name` into another host.
            let name = wanted.sent_path.rsplit('/').next().unwrap_or("");
            let location = format!("./{name}/");
            let response = Response::text(StatusCode::MOVED_PERMANENTLY, "301 Moved Permanently\n")
                .with_header("Location", location);
            return head.answer(response);
        }
        _ => return head.answer(Response::text(StatusCode::NOT_FOUND, "404 Not Found\n")),
    };
    let len = meta.len();
    let modified = modified_secs(&meta);
    let mut last_modified = [0u8; HTTP_DATE_LEN];
    format_http_date(modified, &mut last_modified);
    let last_modified = String::from_utf8_lossy(&last_modified).into_owned();

    // §13.2.2's order: If-None-Match first; only without it, the date
    // (not modified if the file's time is at or before the client's).
    let not_modified = match wanted.if_none_match {
        Some(any) => any,
        // A date later than now is not a valid one (RFC 9110 §13.1.3,
        // after RFC 7232 §3.3): a client with a clock ahead would never see
        // a change.
        None => wanted
            .if_modified_since
            .is_some_and(|since| modified <= since && since <= now_secs()),
    };
    if not_modified {
        let response =
            Response::new(StatusCode::NOT_MODIFIED).with_header("Last-Modified", last_modified);
        return head.answer(response);
    }
    let range = if wanted.head_only || !if_range_holds(wanted, &last_modified) {
        ByteRange::Whole
    } else {
        byte_range(wanted.range.as_deref(), len)
    };
    let response = Response::new(StatusCode::OK)
        .with_content_type(media)
        .with_header("Last-Modified", last_modified)
        .with_header("Accept-Ranges", "bytes");
    let (response, bytes) = match range {
        ByteRange::Whole => (response, 0..len),
        ByteRange::Part(bytes) => {
            let content_range = format!("bytes {}-{}/{len}", bytes.start, bytes.end - 1);
            let mut response = response.with_header("Content-Range", content_range);
            response.status = StatusCode::PARTIAL_CONTENT;
            (response, bytes)
        }
        ByteRange::Unsatisfiable => {
            let response = Response::text(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "416 Range Not Satisfiable\n",
            )
            .with_header("Content-Range", format!("bytes */{len}"));
            return head.answer(response);
        }
    };
    let mut left = bytes.end - bytes.start;
    if wanted.head_only {
        // The head is all a HEAD gets: the file is never read.
        let _ = head.start(response, Some(left)).finish();
        return;
    }
    if bytes.start > 0 && file.seek(SeekFrom::Start(bytes.start)).is_err() {
        return head.answer(Response::error(StatusCode::INTERNAL_SERVER_ERROR));
    }
    // Paced: the pool calls this for each piece while the pipe has room,
    // and the job gives its worker back while the client is slow — two
    // slow downloads on two workers no longer hold the server.
    head.start_paced(response, Some(left), move |_| {
        if left == 0 {
            return Ok(None);
        }
        // `read_to_end` into fresh capacity: the bytes are not zeroed first
        // only to be overwritten (a memset of every byte sent, otherwise).
        let want = READ_CHUNK.min(left as usize);
        let mut piece = Vec::with_capacity(want);
        let n = (&mut file).take(want as u64).read_to_end(&mut piece)?;
        if n == 0 {
            // Shorter than it said: the client must be told.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was sent",
            ));
        }
        left -= n as u64;
        Ok(Some(piece))
    });
}

/// What a path names under the root.
enum Lookup {
    /// A regular file (or a directory's `index.html`, asked for with a
    /// trailing slash), open, with its media type.
    File(File, Metadata, &'static str),
    /// A directory asked for without its trailing slash.
    Directory,
}

/// Looks `path` up under `root`, refusing every way out of it: `None` for
/// nothing, nothing readable, or something outside the root.
fn look_up(root: &Path, path: &str) -> Option<Lookup> {
    let mut full = root.to_path_buf();
    for part in Path::new(path.trim_start_matches('/')).components() {
        match part {
            // A dot name (`.env`, `.git/`) is a secret more often than a
            // page: 404, but for `.well-known` (RFC 8615).
            Component::Normal(name)
                if name.as_encoded_bytes().starts_with(b".") && name != ".well-known" =>
            {
                return None
            }
            Component::Normal(name) => full.push(name),
            // `..` (and `.`, and a second root) could walk out of the root
            // before any symlink is resolved: refuse the name, not just the
            // result.
            Component::ParentDir
            | Component::CurDir
            | Component::RootDir
            | Component::Prefix(_) => return None,
        }
    }
    if path.contains('\0') {
        return None;
    }
    let mut real = real_under(root, &full)?;
    if !real.is_dir() && path.ends_with('/') {
        // `a.txt/`: a file is not a directory (nginx: ENOTDIR, 404).
        return None;
    }
    if real.is_dir() {
        if !path.is_empty() && !path.ends_with('/') {
            return Some(Lookup::Directory);
        }
        // The index may be a symlink too: resolved and checked again.
        real = real_under(root, &real.join("index.html"))?;
    }
    // Only a regular file: a FIFO's `open` would wait for a writer, holding
    // the worker (and a device is nobody's page). Checked before opening,
    // and opened non-blocking in case it changed in between.
    if !std::fs::metadata(&real).ok()?.is_file() {
        return None;
    }
    let file = open_nonblocking(&real)?;
    let meta = file.metadata().ok()?;
    let media = content_type(&real.to_string_lossy());
    meta.is_file().then_some(Lookup::File(file, meta, media))
}

/// `path` with every symlink resolved, if that is still under `root`: a
/// symlink inside the root may point anywhere.
fn real_under(root: &Path, path: &Path) -> Option<PathBuf> {
    let real = path.canonicalize().ok()?;
    real.starts_with(root).then_some(real)
}

/// Opens for reading without waiting (`O_NONBLOCK`: a no-op for a regular
/// file's reads, and no hang if the name became a FIFO).
fn open_nonblocking(path: &Path) -> Option<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path).ok()
}

/// `Last-Modified` as Unix seconds (HTTP dates have one-second resolution,
/// and the comparison with `If-Modified-Since` must be at the same).
fn modified_secs(meta: &Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// `If-Range` (RFC 9110 §13.1.5): a range is served only if the validator
/// the client holds is still this file's; eddy sends no ETag, so only an
/// exact `Last-Modified` date matches. No `If-Range`: it holds.
fn if_range_holds(wanted: &FileRequest, last_modified: &str) -> bool {
    match &wanted.if_range {
        None => true,
        Some(value) => value == last_modified.as_bytes(),
    }
}

/// The media type for a file name's extension; bytes for the rest.
pub(crate) fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}
