//! `examples/files.rs` (and so `eddy::files::directory`) over real sockets:
//! whole files, HEAD without reading, single ranges, `If-Modified-Since`,
//! every way out of the directory refused, a file that shrinks mid-answer,
//! and curl as a second client when it is installed.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Client, Example, Response, IO_TIMEOUT};

/// A fresh directory to serve, with `a.txt`, `big.bin` (`len` bytes of a
/// pattern), `sub/index.html`, a symlink to a file outside it and one to a
/// file inside.
struct Tree {
    root: PathBuf,
    outside: PathBuf,
}

impl Tree {
    fn new(test: &str, len: usize) -> Tree {
        let base = std::env::temp_dir().join(format!("eddy-files-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("a.txt"), "hello files\n").unwrap();
        fs::write(root.join("big.bin"), pattern(len)).unwrap();
        fs::write(root.join("sub/index.html"), "<h1>sub</h1>\n").unwrap();
        let outside = base.join("secret.txt");
        fs::write(&outside, "secret\n").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("in.txt")).unwrap();
        // A directory whose index is a symlink out; a FIFO (whose `open`
        // would wait for a writer); a dot file; `.well-known`.
        fs::create_dir_all(root.join("leak")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("leak/index.html")).unwrap();
        let fifo = Command::new("mkfifo").arg(root.join("fifo")).status();
        assert!(fifo.is_ok_and(|s| s.success()), "mkfifo");
        fs::write(root.join(".env"), "SECRET=1\n").unwrap();
        fs::create_dir_all(root.join(".well-known")).unwrap();
        fs::write(root.join(".well-known/security.txt"), "Contact: x\n").unwrap();
        Tree { root, outside }
    }

    fn serve(&self) -> Example {
        Example::start(
            "files",
            &["--addr", "127.0.0.1:0", self.root.to_str().unwrap()],
        )
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(self.root.parent().unwrap());
    }
}

/// `len` bytes that differ from their neighbours, so a wrong offset shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn request(c: &mut Client, method: &str, path: &str, headers: &[&str]) -> Response {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    c.send(text.as_bytes());
    if method == "HEAD" {
        c.head_response()
    } else {
        c.response()
    }
}

/// Bytes the process has read through `read(2)` and friends, files and
/// sockets alike (`/proc/PID/io`'s `rchar`).
fn bytes_read(pid: u32) -> u64 {
    let io = fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn whole_files_heads_ranges_and_not_modified() {
    const LEN: usize = 8 << 20;
    let tree = Tree::new("wire", LEN);
    let app = tree.serve();
    let mut c = Client::connect(app.addr);
    let whole = pattern(LEN);

    let r = request(&mut c, "GET", "/big.bin", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(LEN.to_string().as_str()));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert!(r.body == whole, "the body differs from the file");
    let last_modified = r
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    let r = request(&mut c, "GET", "/a.txt", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "hello files\n"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));

    // HEAD: GET's head, no body, and the file is not read. Twenty HEADs
    // read the requests' few hundred bytes from the sockets; one read of
    // the file would be a 64 KiB chunk (files::READ_CHUNK).
    let before = bytes_read(app.child.id());
    for _ in 0..20 {
        let head = request(&mut c, "HEAD", "/big.bin", &[]);
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("content-length"),
            Some(LEN.to_string().as_str())
        );
        assert_eq!(head.header("last-modified"), Some(last_modified.as_str()));
    }
    assert_eq!(request(&mut c, "GET", "/a.txt", &[]).status, 200);
    let during = bytes_read(app.child.id()) - before;
    assert!(during < 16 << 10, "20 HEADs read {during} bytes");

    // One range, in each form; the connection goes on after each.
    let r = request(&mut c, "GET", "/big.bin", &["Range: bytes=10-19"]);
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 10-19/{LEN}").as_str())
    );
    assert_eq!(r.body, whole[10..20]);
    let r = request(&mut c, "GET", "/big.bin", &["Range: bytes=-5"]);
    assert_eq!((r.status, &r.body[..]), (206, &whole[LEN - 5..]));
    let r = request(&mut c, "GET", "/big.bin", &["Range: bytes=8000000-"]);
    assert_eq!((r.status, &r.body[..]), (206, &whole[8_000_000..]));
    let r = request(&mut c, "GET", "/a.txt", &["Range: bytes=12-"]);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */12"));
    // Several ranges, or an If-Range for another version: the whole file.
    let r = request(&mut c, "GET", "/a.txt", &["Range: bytes=0-1,4-5"]);
    assert_eq!((r.status, r.text().as_str()), (200, "hello files\n"));
    let old = "If-Range: Thu, 01 Jan 1970 00:00:00 GMT";
    let r = request(&mut c, "GET", "/big.bin", &["Range: bytes=0-4", old]);
    assert_eq!(r.status, 200);
    let same = format!("If-Range: {last_modified}");
    let r = request(&mut c, "GET", "/big.bin", &["Range: bytes=0-4", &same]);
    assert_eq!((r.status, &r.body[..]), (206, &whole[..5]));

    // If-Modified-Since: as new as ours → 304 (for HEAD too); older, or
    // not a date at all → the file.
    let since = format!("If-Modified-Since: {last_modified}");
    let r = request(&mut c, "GET", "/big.bin", &[&since]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("last-modified"), Some(last_modified.as_str()));
    assert_eq!(r.header("content-length"), None);
    assert_eq!(request(&mut c, "HEAD", "/big.bin", &[&since]).status, 304);
    let older = "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT";
    assert_eq!(request(&mut c, "GET", "/a.txt", &[older]).status, 200);
    // If-None-Match comes first: eddy sends no tags, so `*` is a 304 and
    // a list of tags matches nothing and overrides the date.
    let r = request(&mut c, "GET", "/a.txt", &["If-None-Match: *"]);
    assert_eq!(r.status, 304);
    let tags = "If-None-Match: \"v1\", W/\"v2\"";
    assert_eq!(
        request(&mut c, "GET", "/a.txt", &[tags, &since]).status,
        200
    );
    // A date after now is not valid: ignored, not a 304.
    let future = "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT";
    assert_eq!(request(&mut c, "GET", "/a.txt", &[future]).status, 200);
    let junk = "If-Modified-Since: yesterday";
    assert_eq!(request(&mut c, "GET", "/a.txt", &[junk]).status, 200);

    // Pipelined: a range, a whole file and a 304 leave in order.
    let ims = format!("GET /a.txt HTTP/1.1\r\nHost: x\r\n{since}\r\n\r\n");
    let pipelined = format!(
        "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-2\r\n\r\n\
         GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n{ims}"
    );
    c.send(pipelined.as_bytes());
    assert_eq!(c.response().body, whole[..3]);
    assert!(c.response().body == whole);
    assert_eq!(c.response().status, 304);
}

#[test]
fn nothing_outside_the_directory_can_be_named() {
    let tree = Tree::new("escape", 16);
    let app = tree.serve();
    let mut c = Client::connect(app.addr);
    let name = tree.outside.file_name().unwrap().to_str().unwrap();
    for path in [
        format!("/../{name}"),
        format!("/%2e%2e/{name}"),
        format!("/sub/%2E%2E/%2e%2e/{name}"),
        format!("/..%2f{name}"),
        format!("/sub/..%2F..%2F{name}"),
        "/out.txt".to_string(),
        "/nope.txt".to_string(),
        "/a.txt/".to_string(),
        "/a.txt%00".to_string(),
        "/leak/".to_string(),
        "/fifo".to_string(),
        "/fifo".to_string(), // twice: as many as the workers, had they hung
        "/.env".to_string(),
        "/%2eenv".to_string(),
        format!("/{}", tree.outside.display()),
    ] {
        let r = request(&mut c, "GET", &path, &[]);
        assert_eq!(r.status, 404, "{path} was {}: {}", r.status, r.text());
    }
    // A symlink that stays inside is served; a directory redirects to its
    // name with a slash, and then serves its index.
    let r = request(&mut c, "GET", "/in.txt", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "hello files\n"));
    let r = request(&mut c, "GET", "/sub", &[]);
    assert_eq!((r.status, r.header("location")), (301, Some("./sub/")));
    // Relative to the name: `//sub` must not send the client to host `sub`.
    let r = request(&mut c, "GET", "//sub", &[]);
    assert_eq!((r.status, r.header("location")), (301, Some("./sub/")));
    let r = request(&mut c, "GET", "/.well-known/security.txt", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "Contact: x\n"));
    let r = request(&mut c, "GET", "/sub/", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "<h1>sub</h1>\n"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

#[test]
fn a_file_that_shrinks_while_it_is_sent_ends_its_answer_short() {
    const LEN: usize = 32 << 20;
    let tree = Tree::new("shrink", 16);
    // Sparse: 32 MiB of zeros that cost no disk.
    let big = tree.root.join("big.bin");
    fs::File::create(&big).unwrap().set_len(LEN as u64).unwrap();
    let app = tree.serve();
    let mut c = Client::connect(app.addr);
    c.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut c.reader, &mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    // The client has read almost nothing, so backpressure holds the
    // producer a few MiB in; then the file loses most of its length.
    fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let mut rest = Vec::new();
    c.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let ended = c.reader.read_to_end(&mut rest);
    assert!(ended.is_ok(), "the server never closed: {ended:?}");
    assert!(
        rest.len() < LEN,
        "the answer looks whole: {} bytes",
        rest.len()
    );
}

#[test]
fn curl_agrees() {
    let Ok(version) = Command::new("curl").arg("--version").output() else {
        common::skip(
            "files::curl_agrees",
            "curl is not installed (.ci/run installs it)",
        );
        return;
    };
    assert!(version.status.success());
    let tree = Tree::new("curl", 300_000);
    let app = tree.serve();
    let url = |path: &str| format!("http://{}{path}", app.addr);
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "30"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {args:?}: {out:?}");
        out.stdout
    };
    let whole = pattern(300_000);
    assert!(curl(&[&url("/big.bin")]) == whole);
    assert_eq!(curl(&["-r", "100-199", &url("/big.bin")]), whole[100..200]);
    let local: &Path = &tree.root.join("a.txt");
    let status = curl(&[
        "-z",
        local.to_str().unwrap(),
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &url("/a.txt"),
    ]);
    assert_eq!(String::from_utf8_lossy(&status), "304");
    let head = String::from_utf8(curl(&["-I", &url("/big.bin")])).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Length: 300000\r\n"), "{head}");
}

#[test]
fn stalled_downloads_do_not_hold_the_workers() {
    let tree = Tree::new("stall", 16);
    // Sparse: 256 MiB that cost no disk, far more than the socket buffers.
    let huge = tree.root.join("huge.bin");
    fs::File::create(&huge).unwrap().set_len(256 << 20).unwrap();
    let app = tree.serve();
    // Twice as many downloads as the example has workers, plus two; each
    // reads its status line and then nothing. A producer that blocked its
    // worker on a full pipe would leave the small file below queued
    // behind them until the job timeout (504 after 30 s).
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let stalled: Vec<Client> = (0..2 * workers + 2)
        .map(|_| {
            let mut c = Client::connect(app.addr);
            c.send(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n");
            let mut line = String::new();
            std::io::BufRead::read_line(&mut c.reader, &mut line).unwrap();
            assert!(line.starts_with("HTTP/1.1 200"), "{line}");
            c
        })
        .collect();
    let r = Client::connect(app.addr).get("/a.txt");
    assert_eq!((r.status, r.text().as_str()), (200, "hello files\n"));
    drop(stalled);
}
