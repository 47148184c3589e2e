internal import CCurl
import Foundation

/// One libcurl easy handle and its buffers. Lives on the I/O thread only: created, driven and
/// cleaned up there, never shared.
final class CurlTransfer {
    let id: UInt64
    let request: HTTPTransferRequest
    let continuation: CheckedContinuation<HTTPTransferResult, any Error>
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// The response body received so far.
    var received = Data()
    var exceededMaximum = false
    /// The most request-body bytes libcurl reported as sent.
    var uploaded: Int64 = 0
    /// Whether libcurl has reported the whole request body sent (and `request.onSent` was called).
    var sent = false

    init(id: UInt64, request: HTTPTransferRequest, continuation: CheckedContinuation<HTTPTransferResult, any Error>) {
        self.id = id
        self.request = request
        self.continuation = continuation
    }

    /// Creates and configures the easy handle. Returns a failure message when libcurl refused.
    func prepare() -> String? {
        guard let easy = curl_easy_init() else { return "curl_easy_init failed" }
        self.easy = easy
        var list: UnsafeMutablePointer<curl_slist>?
        for line in request.headers + ["Expect:"] {
            guard let appended = curl_slist_append(list, line) else {
                curl_slist_free_all(list)
                return "curl_slist_append failed"
            }
            list = appended
        }
        headerList = list
        let context = Unmanaged.passUnretained(self).toOpaque()
        var rc = CURLE_OK
        func check(_ code: CURLcode) { if rc == CURLE_OK { rc = code } }
        check(ccurl_easy_setopt_str(easy, CURLOPT_URL, request.url))
        check(ccurl_easy_setopt_str(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        check(ccurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        switch request.method {
        case .post:
            check(ccurl_easy_setopt_long(easy, CURLOPT_POST, 1))
            check(ccurl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            request.body.withUnsafeBytes { raw in
                // COPYPOSTFIELDS: libcurl keeps its own copy, the Swift buffer may go away.
                check(ccurl_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress)))
            }
        case .get:
            check(ccurl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case .delete:
            check(ccurl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
            check(ccurl_easy_setopt_str(easy, CURLOPT_CUSTOMREQUEST, "DELETE"))
        }
        check(ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))
        check(ccurl_easy_setopt_str(easy, CURLOPT_ACCEPT_ENCODING, ""))
        check(ccurl_easy_setopt_str(easy, CURLOPT_USERAGENT, request.userAgent))
        check(ccurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, CLong(request.totalTimeout.curlMilliseconds)))
        let connect = min(request.connectTimeout, request.totalTimeout)
        check(ccurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, CLong(connect.curlMilliseconds)))
        check(ccurl_easy_setopt_off_t(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)))
        if !request.reuseConnection {
            check(ccurl_easy_setopt_long(easy, CURLOPT_FRESH_CONNECT, 1))
            check(ccurl_easy_setopt_long(easy, CURLOPT_FORBID_REUSE, 1))
        }
        // A generation sends nothing for many seconds: keep idle connections alive through NATs.
        check(ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        check(ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPIDLE, 30))
        check(ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPINTVL, 15))
        check(ccurl_easy_setopt_write_callback(easy, curlTransferWrite, context))
        check(ccurl_easy_setopt_xferinfo_callback(easy, curlTransferProgress, context))
        if rc != CURLE_OK { return "curl_easy_setopt failed: " + String(cString: curl_easy_strerror(rc)) }
        return nil
    }

    /// Reads how the finished transfer went.
    func result(code: CURLcode) -> HTTPTransferResult {
        guard let easy else { return .transportFailure(code: -1, message: "no handle", requestSent: false, kind: .other) }
        var sent: curl_off_t = 0
        _ = ccurl_easy_getinfo_off_t(easy, CURLINFO_SIZE_UPLOAD_T, &sent)
        let requestSent = max(Int64(sent), uploaded) >= Int64(request.body.count)
        if code == CURLE_OK {
            var status: CLong = 0
            _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            return .response(status: Int(status), body: received)
        }
        let kind: TransportFailureKind
        switch code {
        case CURLE_OPERATION_TIMEDOUT: kind = .timedOut
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .couldNotConnect
        case CURLE_WRITE_ERROR where exceededMaximum, CURLE_FILESIZE_EXCEEDED: kind = .responseTooLarge
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE: kind = .connectionLost
        default: kind = .other
        }
        let message = String(cString: curl_easy_strerror(code))
        return .transportFailure(
            code: Int(code.rawValue), message: message,
            requestSent: kind == .couldNotConnect ? false : requestSent, kind: kind)
    }

    /// Frees the easy handle and the header list. Call after removing it from the multi handle.
    func cleanUp() {
        if let easy { curl_easy_cleanup(easy) }
        easy = nil
        curl_slist_free_all(headerList)
        headerList = nil
    }

    deinit {
        cleanUp()
    }
}

/// libcurl's write callback: appends to the transfer's buffer, aborts beyond the maximum size.
private let curlTransferWrite: ccurl_write_callback = { data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard transfer.received.count + length <= transfer.request.maxResponseBytes else {
        transfer.exceededMaximum = true
        return 0
    }
    if let data, length > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            transfer.received.append(bytes, count: length)
        }
    }
    return length
}

/// libcurl's progress callback: records how much of the request body went out.
private let curlTransferProgress: ccurl_xferinfo_callback = { context, _, _, _, uploadedNow in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    transfer.uploaded = max(transfer.uploaded, Int64(uploadedNow))
    if !transfer.sent, transfer.uploaded >= Int64(transfer.request.body.count) {
        transfer.sent = true
        transfer.request.onSent?(ContinuousClock.now)
    }
    return 0
}
