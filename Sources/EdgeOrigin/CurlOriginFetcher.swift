internal import CCurl
internal import CCurlLib
public import EdgeCore
import Foundation

/// Fetches originals over HTTP(S) with libcurl's easy interface. Blocking: callers run it on a bounded pool.
/// Handles are pooled and reset between requests, which keeps their connections alive for reuse.
public final class CurlOriginFetcher: @unchecked Sendable {
    /// Time to establish a connection, and for the whole transfer.
    public var connectTimeout: Duration
    public var totalTimeout: Duration
    private let lock = NSLock()
    // Guarded by `lock`: idle handles, most recently used last.
    private var idle: [UnsafeMutableRawPointer] = []
    private let maxIdle: Int

    public init(connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30), maxIdleHandles: Int = 64) {
        CurlRuntime.start()
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxIdle = maxIdleHandles
    }

    deinit {
        for h in idle { curl_easy_cleanup(h) }
    }

    /// GETs `url`, reading at most `maxBytes` of body (checked as the bytes arrive). `conditional` request header
    /// lines (`If-None-Match`, `If-Modified-Since`) make it a revalidation: a 304 is returned with no body.
    public func get(url: String, maxBytes: Int,
                    conditional: [(name: String, value: String)] = []) throws(EdgeError) -> OriginResponse {
        guard let handle = takeHandle() else { throw .internalError(detail: "curl_easy_init failed") }
        var reusable = true
        defer { giveBack(handle, reusable: reusable) }

        let transfer = Transfer(maxBytes: maxBytes)
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }

        curl_easy_reset(handle)
        var ok = true
        ok = ok && ccurl_easy_setopt_string(handle, CURLOPT_URL, url) == CURLE_OK
        ok = ok && ccurl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0) == CURLE_OK
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout)) == CURLE_OK
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(totalTimeout)) == CURLE_OK
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1) == CURLE_OK
        ok = ok && ccurl_easy_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxBytes)) == CURLE_OK
        ok = ok && ccurl_easy_setopt_string(handle, CURLOPT_USERAGENT, "imgedge") == CURLE_OK
        ok = ok && ccurl_easy_setopt_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteBody) == CURLE_OK
        ok = ok && ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()) == CURLE_OK
        ok = ok && ccurl_easy_setopt_callback(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader) == CURLE_OK
        ok = ok && ccurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque()) == CURLE_OK
        // Request header lines: only validators, and only well-formed ones (no line breaks can reach the wire).
        var requestHeaders: UnsafeMutablePointer<curl_slist>?
        defer { if let requestHeaders { curl_slist_free_all(requestHeaders) } }
        for line in conditional where !line.value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            requestHeaders = curl_slist_append(requestHeaders, "\(line.name): \(line.value)")
        }
        if let requestHeaders {
            ok = ok && ccurl_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(requestHeaders)) == CURLE_OK
        }
        guard ok else {
            reusable = false
            throw .internalError(detail: "curl_easy_setopt failed")
        }

        let started = Date().timeIntervalSince1970
        let clock = ContinuousClock.now
        let rc = curl_easy_perform(handle)
        let duration = (ContinuousClock.now - clock).seconds
        var status = 0
        ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)

        if transfer.exceeded || rc == CURLE_FILESIZE_EXCEEDED {
            reusable = false
            throw .payloadTooLarge("source is larger than the configured limit", detail: "over \(maxBytes) bytes")
        }
        switch rc {
        case CURLE_OK: break
        case CURLE_OPERATION_TIMEDOUT:
            reusable = false
            throw .gatewayTimeout(detail: "curl: timeout after \(duration)s")
        default:
            reusable = false
            throw .badGateway(detail: "curl: " + String(cString: curl_easy_strerror(rc)))
        }
        switch status {
        case 200:
            return OriginResponse(body: transfer.body, headers: transfer.headers, startedAt: started, duration: duration)
        case 304 where !conditional.isEmpty:
            return OriginResponse(status: 304, body: [], headers: transfer.headers, startedAt: started, duration: duration)
        case 404, 410:
            throw .notFound("not found", detail: "origin answered \(status)")
        default:
            throw .badGateway(detail: "origin answered \(status)")
        }
    }

    private func takeHandle() -> UnsafeMutableRawPointer? {
        lock.withLock { idle.popLast() } ?? curl_easy_init()
    }

    private func giveBack(_ handle: UnsafeMutableRawPointer, reusable: Bool) {
        let keep = reusable && lock.withLock {
            guard idle.count < maxIdle else { return false }
            idle.append(handle)
            return true
        }
        if !keep { curl_easy_cleanup(handle) }
    }

    static func milliseconds(_ d: Duration) -> Int {
        Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// What one transfer has received so far; curl's callbacks write into it.
final class Transfer {
    let maxBytes: Int
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var exceeded = false

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    func append(_ data: UnsafeRawBufferPointer) -> Bool {
        guard body.count + data.count <= maxBytes else {
            exceeded = true
            return false
        }
        body.append(contentsOf: data)
        return true
    }

    func header(_ line: UnsafeRawBufferPointer) {
        guard let text = String(validating: line, as: UTF8.self) else { return }
        if text.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after 1xx): only the final one counts
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        if headers.count < 100 { headers.append((name, value)) }
    }
}

private let curlWriteBody: ccurl_data_callback = { data, size, count, context in
    let n = size * count
    guard let context, let data else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.append(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
}

private let curlWriteHeader: ccurl_data_callback = { data, size, count, context in
    let n = size * count
    guard let context, let data else { return 0 }
    Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().header(UnsafeRawBufferPointer(start: data, count: n))
    return n
}

/// curl_global_init, once per process, before any thread uses curl.
enum CurlRuntime {
    private static let once: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()
    static func start() { _ = once }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
