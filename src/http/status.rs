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

/// Declares every registered code once — its constant (with its doc) and
/// its reason phrase — so that the two cannot drift apart: one table,
/// below, in the order of IANA's registry.
macro_rules! status_codes {
    ($($(#[$doc:meta])* $code:literal $name:ident $phrase:literal;)+) => {
        impl StatusCode {
            $(
            $(#[$doc])*
            pub const $name: StatusCode = StatusCode($code);
            )+

            /// The reason phrase IANA's registry gives the code. A code the
            /// registry does not have gets an empty phrase, which the
            /// status-line grammar allows (RFC 9112 §4).
            pub fn reason(self) -> &'static str {
                match self.0 {
                    $($code => $phrase,)+
                    _ => "",
                }
            }
        }
    };
}

status_codes! {
    /// 100 Continue: the client may send the body it announced with `Expect: 100-continue`.
    100 CONTINUE "Continue";
    /// 101 Switching Protocols.
    101 SWITCHING_PROTOCOLS "Switching Protocols";
    /// 102 Processing.
    102 PROCESSING "Processing";
    /// 103 Early Hints.
    103 EARLY_HINTS "Early Hints";
    /// 200 OK: success.
    200 OK "OK";
    /// 201 Created: a resource was created (say where with `Location`).
    201 CREATED "Created";
    /// 202 Accepted.
    202 ACCEPTED "Accepted";
    /// 203 Non-Authoritative Information.
    203 NON_AUTHORITATIVE_INFORMATION "Non-Authoritative Information";
    /// 204 No Content: success, and no body (none is sent, nor a `Content-Length`).
    204 NO_CONTENT "No Content";
    /// 205 Reset Content.
    205 RESET_CONTENT "Reset Content";
    /// 206 Partial Content.
    206 PARTIAL_CONTENT "Partial Content";
    /// 207 Multi-Status.
    207 MULTI_STATUS "Multi-Status";
    /// 208 Already Reported.
    208 ALREADY_REPORTED "Already Reported";
    /// 226 IM Used.
    226 IM_USED "IM Used";
    /// 300 Multiple Choices.
    300 MULTIPLE_CHOICES "Multiple Choices";
    /// 301 Moved Permanently.
    301 MOVED_PERMANENTLY "Moved Permanently";
    /// 302 Found.
    302 FOUND "Found";
    /// 303 See Other.
    303 SEE_OTHER "See Other";
    /// 304 Not Modified: the client's copy is current (no body is sent, nor a `Content-Length`).
    304 NOT_MODIFIED "Not Modified";
    /// 305 Use Proxy.
    305 USE_PROXY "Use Proxy";
    /// 307 Temporary Redirect.
    307 TEMPORARY_REDIRECT "Temporary Redirect";
    /// 308 Permanent Redirect.
    308 PERMANENT_REDIRECT "Permanent Redirect";
    /// 400 Bad Request: malformed request, or one whose framing is ambiguous.
    400 BAD_REQUEST "Bad Request";
    /// 401 Unauthorized.
    401 UNAUTHORIZED "Unauthorized";
    /// 402 Payment Required.
    402 PAYMENT_REQUIRED "Payment Required";
    /// 403 Forbidden.
    403 FORBIDDEN "Forbidden";
    /// 404 Not Found: no route for this path.
    404 NOT_FOUND "Not Found";
    /// 405 Method Not Allowed: the path exists but not for this method (send `Allow`).
    405 METHOD_NOT_ALLOWED "Method Not Allowed";
    /// 406 Not Acceptable.
    406 NOT_ACCEPTABLE "Not Acceptable";
    /// 407 Proxy Authentication Required.
    407 PROXY_AUTHENTICATION_REQUIRED "Proxy Authentication Required";
    /// 408 Request Timeout: the request did not arrive in time.
    408 REQUEST_TIMEOUT "Request Timeout";
    /// 409 Conflict.
    409 CONFLICT "Conflict";
    /// 410 Gone.
    410 GONE "Gone";
    /// 411 Length Required.
    411 LENGTH_REQUIRED "Length Required";
    /// 412 Precondition Failed.
    412 PRECONDITION_FAILED "Precondition Failed";
    /// 413 Content Too Large: the body is larger than the server accepts.
    413 CONTENT_TOO_LARGE "Content Too Large";
    /// 414 URI Too Long: the request-target is longer than the server accepts.
    414 URI_TOO_LONG "URI Too Long";
    /// 415 Unsupported Media Type.
    415 UNSUPPORTED_MEDIA_TYPE "Unsupported Media Type";
    /// 416 Range Not Satisfiable.
    416 RANGE_NOT_SATISFIABLE "Range Not Satisfiable";
    /// 417 Expectation Failed: an `Expect` the server cannot meet.
    417 EXPECTATION_FAILED "Expectation Failed";
    /// 421 Misdirected Request.
    421 MISDIRECTED_REQUEST "Misdirected Request";
    /// 422 Unprocessable Content.
    422 UNPROCESSABLE_CONTENT "Unprocessable Content";
    /// 423 Locked.
    423 LOCKED "Locked";
    /// 424 Failed Dependency.
    424 FAILED_DEPENDENCY "Failed Dependency";
    /// 425 Too Early.
    425 TOO_EARLY "Too Early";
    /// 426 Upgrade Required.
    426 UPGRADE_REQUIRED "Upgrade Required";
    /// 428 Precondition Required.
    428 PRECONDITION_REQUIRED "Precondition Required";
    /// 429 Too Many Requests.
    429 TOO_MANY_REQUESTS "Too Many Requests";
    /// 431 Request Header Fields Too Large: too many header fields, or a header block too large.
    431 REQUEST_HEADER_FIELDS_TOO_LARGE "Request Header Fields Too Large";
    /// 451 Unavailable For Legal Reasons.
    451 UNAVAILABLE_FOR_LEGAL_REASONS "Unavailable For Legal Reasons";
    /// 500 Internal Server Error: the handler failed (for example, a job panicked).
    500 INTERNAL_SERVER_ERROR "Internal Server Error";
    /// 501 Not Implemented: a transfer coding (or other feature) the server does not implement.
    501 NOT_IMPLEMENTED "Not Implemented";
    /// 502 Bad Gateway.
    502 BAD_GATEWAY "Bad Gateway";
    /// 503 Service Unavailable: overloaded or shutting down; try again later.
    503 SERVICE_UNAVAILABLE "Service Unavailable";
    /// 504 Gateway Timeout: the job did not finish within its timeout.
    504 GATEWAY_TIMEOUT "Gateway Timeout";
    /// 505 HTTP Version Not Supported: a major HTTP version other than 1.
    505 HTTP_VERSION_NOT_SUPPORTED "HTTP Version Not Supported";
    /// 506 Variant Also Negotiates.
    506 VARIANT_ALSO_NEGOTIATES "Variant Also Negotiates";
    /// 507 Insufficient Storage.
    507 INSUFFICIENT_STORAGE "Insufficient Storage";
    /// 508 Loop Detected.
    508 LOOP_DETECTED "Loop Detected";
    /// 510 Not Extended.
    510 NOT_EXTENDED "Not Extended";
    /// 511 Network Authentication Required.
    511 NETWORK_AUTHENTICATION_REQUIRED "Network Authentication Required";
}

impl StatusCode {
    /// 413 under its pre-RFC 9110 name (the `http` crate's), for readers who know that one.
    pub const PAYLOAD_TOO_LARGE: StatusCode = StatusCode::CONTENT_TOO_LARGE;

    /// The code as a number.
    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// True for the codes whose responses never carry content (RFC 9110
    /// §6.4.1): 1xx, 204 and 304. They get no body and no `Content-Length`
    /// (RFC 9110 §8.6: a server MUST NOT send one in a 1xx or 204).
    pub(crate) fn forbids_content(self) -> bool {
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
