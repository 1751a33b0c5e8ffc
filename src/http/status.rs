//! Status codes: the number, and the reason phrase that goes with it.
//!
//! Every code in IANA's HTTP Status Code Registry has a name here and its
//! registered phrase (RFC 9110 §15 for most), so a handler that answers
//! `201` or `308` sends `HTTP/1.1 201 Created`, not a bare number.

/// An HTTP status code, such as `StatusCode::NOT_FOUND`.
///
/// A plain number wrapped in a type so a status cannot be confused with a
/// length or an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// 100 Continue: the client may send the body it announced with `Expect: 100-continue`.
    pub const CONTINUE: StatusCode = StatusCode(100);
    /// 101 Switching Protocols.
    pub const SWITCHING_PROTOCOLS: StatusCode = StatusCode(101);
    /// 102 Processing.
    pub const PROCESSING: StatusCode = StatusCode(102);
    /// 103 Early Hints.
    pub const EARLY_HINTS: StatusCode = StatusCode(103);
    /// 200 OK: success.
    pub const OK: StatusCode = StatusCode(200);
    /// 201 Created: a resource was created (say where with `Location`).
    pub const CREATED: StatusCode = StatusCode(201);
    /// 202 Accepted.
    pub const ACCEPTED: StatusCode = StatusCode(202);
    /// 203 Non-Authoritative Information.
    pub const NON_AUTHORITATIVE_INFORMATION: StatusCode = StatusCode(203);
    /// 204 No Content: success, and no body (none is sent, nor a `Content-Length`).
    pub const NO_CONTENT: StatusCode = StatusCode(204);
    /// 205 Reset Content.
    pub const RESET_CONTENT: StatusCode = StatusCode(205);
    /// 206 Partial Content.
    pub const PARTIAL_CONTENT: StatusCode = StatusCode(206);
    /// 207 Multi-Status.
    pub const MULTI_STATUS: StatusCode = StatusCode(207);
    /// 208 Already Reported.
    pub const ALREADY_REPORTED: StatusCode = StatusCode(208);
    /// 226 IM Used.
    pub const IM_USED: StatusCode = StatusCode(226);
    /// 300 Multiple Choices.
    pub const MULTIPLE_CHOICES: StatusCode = StatusCode(300);
    /// 301 Moved Permanently.
    pub const MOVED_PERMANENTLY: StatusCode = StatusCode(301);
    /// 302 Found.
    pub const FOUND: StatusCode = StatusCode(302);
    /// 303 See Other.
    pub const SEE_OTHER: StatusCode = StatusCode(303);
    /// 304 Not Modified: the client's copy is current (no body is sent, nor a `Content-Length`).
    pub const NOT_MODIFIED: StatusCode = StatusCode(304);
    /// 305 Use Proxy.
    pub const USE_PROXY: StatusCode = StatusCode(305);
    /// 307 Temporary Redirect.
    pub const TEMPORARY_REDIRECT: StatusCode = StatusCode(307);
    /// 308 Permanent Redirect.
    pub const PERMANENT_REDIRECT: StatusCode = StatusCode(308);
    /// 400 Bad Request: malformed request, or one whose framing is ambiguous.
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    /// 401 Unauthorized.
    pub const UNAUTHORIZED: StatusCode = StatusCode(401);
    /// 402 Payment Required.
    pub const PAYMENT_REQUIRED: StatusCode = StatusCode(402);
    /// 403 Forbidden.
    pub const FORBIDDEN: StatusCode = StatusCode(403);
    /// 404 Not Found: no route for this path.
    pub const NOT_FOUND: StatusCode = StatusCode(404);
    /// 405 Method Not Allowed: the path exists but not for this method (send `Allow`).
    pub const METHOD_NOT_ALLOWED: StatusCode = StatusCode(405);
    /// 406 Not Acceptable.
    pub const NOT_ACCEPTABLE: StatusCode = StatusCode(406);
    /// 407 Proxy Authentication Required.
    pub const PROXY_AUTHENTICATION_REQUIRED: StatusCode = StatusCode(407);
    /// 408 Request Timeout: the request did not arrive in time.
    pub const REQUEST_TIMEOUT: StatusCode = StatusCode(408);
    /// 409 Conflict.
    pub const CONFLICT: StatusCode = StatusCode(409);
    /// 410 Gone.
    pub const GONE: StatusCode = StatusCode(410);
    /// 411 Length Required.
    pub const LENGTH_REQUIRED: StatusCode = StatusCode(411);
    /// 412 Precondition Failed.
    pub const PRECONDITION_FAILED: StatusCode = StatusCode(412);
    /// 413 Content Too Large: the body is larger than the server accepts.
    pub const CONTENT_TOO_LARGE: StatusCode = StatusCode(413);
    /// 413 under its pre-RFC 9110 name (the `http` crate's), for readers who know that one.
    pub const PAYLOAD_TOO_LARGE: StatusCode = StatusCode(413);
    /// 414 URI Too Long: the request-target is longer than the server accepts.
    pub const URI_TOO_LONG: StatusCode = StatusCode(414);
    /// 415 Unsupported Media Type.
    pub const UNSUPPORTED_MEDIA_TYPE: StatusCode = StatusCode(415);
    /// 416 Range Not Satisfiable.
    pub const RANGE_NOT_SATISFIABLE: StatusCode = StatusCode(416);
    /// 417 Expectation Failed: an `Expect` the server cannot meet.
    pub const EXPECTATION_FAILED: StatusCode = StatusCode(417);
    /// 421 Misdirected Request.
    pub const MISDIRECTED_REQUEST: StatusCode = StatusCode(421);
    /// 422 Unprocessable Content.
    pub const UNPROCESSABLE_CONTENT: StatusCode = StatusCode(422);
    /// 423 Locked.
    pub const LOCKED: StatusCode = StatusCode(423);
    /// 424 Failed Dependency.
    pub const FAILED_DEPENDENCY: StatusCode = StatusCode(424);
    /// 425 Too Early.
    pub const TOO_EARLY: StatusCode = StatusCode(425);
    /// 426 Upgrade Required.
    pub const UPGRADE_REQUIRED: StatusCode = StatusCode(426);
    /// 428 Precondition Required.
    pub const PRECONDITION_REQUIRED: StatusCode = StatusCode(428);
    /// 429 Too Many Requests.
    pub const TOO_MANY_REQUESTS: StatusCode = StatusCode(429);
    /// 431 Request Header Fields Too Large: too many header fields, or a header block too large.
    pub const REQUEST_HEADER_FIELDS_TOO_LARGE: StatusCode = StatusCode(431);
    /// 451 Unavailable For Legal Reasons.
    pub const UNAVAILABLE_FOR_LEGAL_REASONS: StatusCode = StatusCode(451);
    /// 500 Internal Server Error: the handler failed (for example, a job panicked).
    pub const INTERNAL_SERVER_ERROR: StatusCode = StatusCode(500);
    /// 501 Not Implemented: a transfer coding (or other feature) the server does not implement.
    pub const NOT_IMPLEMENTED: StatusCode = StatusCode(501);
    /// 502 Bad Gateway.
    pub const BAD_GATEWAY: StatusCode = StatusCode(502);
    /// 503 Service Unavailable: overloaded or shutting down; try again later.
    pub const SERVICE_UNAVAILABLE: StatusCode = StatusCode(503);
    /// 504 Gateway Timeout: the job did not finish within its timeout.
    pub const GATEWAY_TIMEOUT: StatusCode = StatusCode(504);
    /// 505 HTTP Version Not Supported: a major HTTP version other than 1.
    pub const HTTP_VERSION_NOT_SUPPORTED: StatusCode = StatusCode(505);
    /// 506 Variant Also Negotiates.
    pub const VARIANT_ALSO_NEGOTIATES: StatusCode = StatusCode(506);
    /// 507 Insufficient Storage.
    pub const INSUFFICIENT_STORAGE: StatusCode = StatusCode(507);
    /// 508 Loop Detected.
    pub const LOOP_DETECTED: StatusCode = StatusCode(508);
    /// 510 Not Extended.
    pub const NOT_EXTENDED: StatusCode = StatusCode(510);
    /// 511 Network Authentication Required.
    pub const NETWORK_AUTHENTICATION_REQUIRED: StatusCode = StatusCode(511);

    /// The reason phrase IANA's registry gives the code. A code the registry
    /// does not have gets an empty phrase, which the status-line grammar
    /// allows (RFC 9112 §4).
    pub fn reason(self) -> &'static str {
        match self.0 {
            100 => "Continue",
            101 => "Switching Protocols",
            102 => "Processing",
            103 => "Early Hints",
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            203 => "Non-Authoritative Information",
            204 => "No Content",
            205 => "Reset Content",
            206 => "Partial Content",
            207 => "Multi-Status",
            208 => "Already Reported",
            226 => "IM Used",
            300 => "Multiple Choices",
            301 => "Moved Permanently",
            302 => "Found",
            303 => "See Other",
            304 => "Not Modified",
            305 => "Use Proxy",
            307 => "Temporary Redirect",
            308 => "Permanent Redirect",
            400 => "Bad Request",
            401 => "Unauthorized",
            402 => "Payment Required",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            406 => "Not Acceptable",
            407 => "Proxy Authentication Required",
            408 => "Request Timeout",
            409 => "Conflict",
            410 => "Gone",
            411 => "Length Required",
            412 => "Precondition Failed",
            413 => "Content Too Large",
            414 => "URI Too Long",
            415 => "Unsupported Media Type",
            416 => "Range Not Satisfiable",
            417 => "Expectation Failed",
            421 => "Misdirected Request",
            422 => "Unprocessable Content",
            423 => "Locked",
            424 => "Failed Dependency",
            425 => "Too Early",
            426 => "Upgrade Required",
            428 => "Precondition Required",
            429 => "Too Many Requests",
            431 => "Request Header Fields Too Large",
            451 => "Unavailable For Legal Reasons",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            505 => "HTTP Version Not Supported",
            506 => "Variant Also Negotiates",
            507 => "Insufficient Storage",
            508 => "Loop Detected",
            510 => "Not Extended",
            511 => "Network Authentication Required",
            _ => "",
        }
    }

    /// The code as a number.
    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// True for the codes whose responses never carry content (RFC 9110
    /// §6.4.1): 1xx, 204 and 304. They get no body and no `Content-Length`
    /// (RFC 9110 §8.6: a server MUST NOT send one in a 1xx or 204).
    pub fn forbids_content(self) -> bool {
        matches!(self.0, 100..=199 | 204 | 304)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_code_has_its_phrase() {
        assert_eq!(StatusCode::CREATED.reason(), "Created");
        assert_eq!(StatusCode(204).reason(), "No Content");
        assert_eq!(StatusCode(302).reason(), "Found");
        assert_eq!(StatusCode(511).reason(), "Network Authentication Required");
        assert_eq!(StatusCode(299).reason(), "");
    }

    #[test]
    fn which_codes_carry_no_content() {
        for code in [100, 101, 103, 204, 304] {
            assert!(StatusCode(code).forbids_content(), "{code}");
        }
        for code in [200, 201, 205, 206, 301, 400, 500] {
            assert!(!StatusCode(code).forbids_content(), "{code}");
        }
    }
}
