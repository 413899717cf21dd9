internal import CCurl
internal import CCurlLib
public import EdgeCore
import Foundation

/// Fetches originals over HTTP(S) with libcurl's easy interface. Blocking: callers run it on a bounded pool.
/// Handles are pooled and reset between requests, which keeps their connections alive for reuse.
///
/// SSRF guard: every address curl is about to connect to, after name resolution, is judged by the fetch's
/// `NetworkAddressPolicy` in curl's open-socket callback, so what is checked is what is connected (a DNS answer
/// that changes between a check and the connect cannot slip through). A reused connection skips that callback,
/// so idle handles (each with its own connections) are kept apart by the policy they were opened under.
public final class CurlOriginFetcher: @unchecked Sendable {
    /// Time to establish a connection, and for the whole transfer.
    public var connectTimeout: Duration
    public var totalTimeout: Duration
    private let lock = NSLock()
    // Guarded by `lock`: idle handles by the address policy their connections were opened under, most recently
    // used last, and how many there are in all.
    private var idle: [NetworkAddressPolicy: [UnsafeMutableRawPointer]] = [:]
    private var idleCount = 0
    private let maxIdle: Int

    public init(connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30), maxIdleHandles: Int = 64) {
        CurlRuntime.start()
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxIdle = maxIdleHandles
    }

    deinit {
        for h in idle.values.joined() { curl_easy_cleanup(h) }
    }

    /// Redirects followed at most; one more answers 502.
    public static let maxRedirects = 3
    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// GETs `url`, reading at most `maxBytes` of body (checked as the bytes arrive). Every request of the fetch —
    /// the first and each of up to `maxRedirects` redirects, followed here rather than by curl — must be http(s)
    /// on a host `hosts` allows (403 "origin scheme not allowed" / "origin host not allowed") and connect only
    /// to addresses `addresses` allows (403 "origin address not allowed", with nothing sent). The size cap and
    /// `totalTimeout` span the whole chain. `conditional` request header lines (`If-None-Match`,
    /// `If-Modified-Since`) go with every request and make it a revalidation: a 304 is returned with no body.
    /// `forwarded` request lines (a client's, for an original) go with every request too; a forwarded
    /// `User-Agent` replaces the node's own. With `passRedirects` a redirect is returned as it came (its Location as sent) instead of followed. Every
    /// other final status is returned with its body and headers; an unconditional 304, or a status that is not
    /// one, is 502.
    public func get(url: String, maxBytes: Int, conditional: [(name: String, value: String)] = [],
                    forwarded: [(name: String, value: String)] = [], passRedirects: Bool = false, addresses: NetworkAddressPolicy,
                    hosts: OriginHosts) throws(EdgeError) -> OriginResponse {
        guard let handle = takeHandle(addresses) else { throw .internalError(detail: "curl_easy_init failed") }
        var reusable = true
        defer { giveBack(handle, addresses, reusable: reusable) }

        let transfer = Transfer(maxBytes: maxBytes, addresses: addresses)
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }

        curl_easy_reset(handle)
        var ok = true
        ok = ok && ccurl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK
        ok = ok && ccurl_easy_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK
        // No proxy, not even one named by http_proxy / ALL_PROXY in the environment: the guard must see the origin.
        ok = ok && ccurl_easy_setopt_string(handle, CURLOPT_PROXY, "") == CURLE_OK
        ok = ok && ccurl_easy_setopt_opensocket(handle, curlOpenSocket) == CURLE_OK
        ok = ok && ccurl_easy_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, context.toOpaque()) == CURLE_OK
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        // Redirects are followed below, each target checked before it is requested.
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0) == CURLE_OK
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout)) == CURLE_OK
        ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1) == CURLE_OK
        let userAgent = forwarded.last { $0.name == "user-agent" }?.value ?? "imgedge"
        ok = ok && ccurl_easy_setopt_string(handle, CURLOPT_USERAGENT, userAgent) == CURLE_OK
        ok = ok && ccurl_easy_setopt_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteBody) == CURLE_OK
        ok = ok && ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()) == CURLE_OK
        ok = ok && ccurl_easy_setopt_callback(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader) == CURLE_OK
        ok = ok && ccurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque()) == CURLE_OK
        // Request header lines: validators and forwarded lines, only well-formed ones (no line breaks can reach
        // the wire; an empty value is sent as `name;`, curl's form for it).
        var requestHeaders: UnsafeMutablePointer<curl_slist>?
        defer { if let requestHeaders { curl_slist_free_all(requestHeaders) } }
        for line in conditional + forwarded.filter({ $0.name != "user-agent" })
        where !line.value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) && !line.name.isEmpty {
            requestHeaders = curl_slist_append(requestHeaders, line.value.isEmpty ? "\(line.name);" : "\(line.name): \(line.value)")
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
        let deadline = clock + totalTimeout
        var next = url
        var redirects = 0
        while true {
            let target = try Self.check(next, hosts: hosts)
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw .gatewayTimeout(detail: "timeout after \(redirects) redirects") }
            transfer.nextResponse()
            ok = ccurl_easy_setopt_string(handle, CURLOPT_URL, target.url) == CURLE_OK
            ok = ok && ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Self.milliseconds(remaining))) == CURLE_OK
            // 0 would mean no limit; the write callback enforces the exact cap in any case.
            let budget = max(1, maxBytes - transfer.spent)
            ok = ok && ccurl_easy_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(budget)) == CURLE_OK
            guard ok else {
                reusable = false
                throw .internalError(detail: "curl_easy_setopt failed")
            }
            let rc = curl_easy_perform(handle)
            let duration = (ContinuousClock.now - clock).seconds
            var status = 0
            ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)

            if let refusal = transfer.refusal, rc != CURLE_OK {
                throw .forbidden("origin address not allowed", detail: refusal)
            }
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
            if Self.redirectStatuses.contains(status) && !passRedirects {
                guard redirects < Self.maxRedirects else {
                    throw .badGateway("too many redirects", detail: "more than \(Self.maxRedirects) redirects")
                }
                // curl resolves Location against the URL just fetched, as it would to follow it.
                var location: UnsafeMutablePointer<CChar>?
                guard ccurl_easy_getinfo_string(handle, CURLINFO_REDIRECT_URL, &location) == CURLE_OK, let location else {
                    throw .badGateway(detail: "origin answered \(status) without a usable Location")
                }
                next = String(cString: location)
                redirects += 1
                continue
            }
            switch status {
            case 304 where !conditional.isEmpty:
                return OriginResponse(status: 304, body: [], headers: transfer.headers, startedAt: started, duration: duration)
            case 200...999 where status != 304:
                return OriginResponse(status: status, body: transfer.body, headers: transfer.headers, startedAt: started,
                                      duration: duration)
            default:
                throw .badGateway(detail: "origin answered \(status)")
            }
        }
    }

    /// Parses `url` as curl will fetch it and checks that it may be: http or https, on a host `hosts` allows.
    static func check(_ url: String, hosts: OriginHosts) throws(EdgeError) -> CurlURL {
        guard let target = CurlURL(url) else { throw .badGateway(detail: "origin URL curl cannot parse") }
        guard target.scheme == "http" || target.scheme == "https" else {
            throw .forbidden("origin scheme not allowed", detail: "scheme \(target.scheme)")
        }
        guard let host = target.host, hosts.allows(host) else {
            throw .forbidden("origin host not allowed", detail: "host \(target.host ?? "(none)") is not allowed for this source")
        }
        return target
    }

    /// The host of `url` as curl reads it (a web source's baseURL: the host its fetches may always name).
    public static func host(of url: String) -> String? { CurlURL(url)?.host }

    private func takeHandle(_ policy: NetworkAddressPolicy) -> UnsafeMutableRawPointer? {
        let handle = lock.withLock { () -> UnsafeMutableRawPointer? in
            guard let h = idle[policy]?.popLast() else { return nil }
            idleCount -= 1
            return h
        }
        return handle ?? curl_easy_init()
    }

    private func giveBack(_ handle: UnsafeMutableRawPointer, _ policy: NetworkAddressPolicy, reusable: Bool) {
        let keep = reusable && lock.withLock {
            guard idleCount < maxIdle else { return false }
            idle[policy, default: []].append(handle)
            idleCount += 1
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
    let addresses: NetworkAddressPolicy
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    /// Body bytes of earlier responses in a redirect chain: the size cap spans the chain.
    var spent = 0
    var exceeded = false
    /// Why the addresses curl tried were refused (each one it tried), for the log; nil while none was.
    var refusal: String?

    init(maxBytes: Int, addresses: NetworkAddressPolicy) {
        self.maxBytes = maxBytes
        self.addresses = addresses
    }

    /// Opens a socket to `address` if the policy allows it; else records why not and returns CURL_SOCKET_BAD.
    func openSocket(_ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        let ip = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer -> IPAddress? in
            let count = Int(ccurl_sockaddr_ip(address, buffer.baseAddress!))
            return IPAddress(bytes: UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
        // Only IP sockets exist here (no proxy, no Unix sockets); anything else is refused rather than guessed at.
        let why = ip.map { addresses.refusal(for: $0) } ?? "not an IP address (family \(address.pointee.family))"
        if let why {
            refusal = refusal.map { $0 + "; " + why } ?? why
            return CURL_SOCKET_BAD
        }
        return ccurl_open_socket(address)
    }

    /// Starts the next request of a redirect chain: the last response's body is dropped but still counts, and
    /// addresses refused on the way to it (another of the host's addresses having served) are forgotten.
    func nextResponse() {
        spent += body.count
        body.removeAll(keepingCapacity: true)
        headers.removeAll()
        refusal = nil
    }

    func append(_ data: UnsafeRawBufferPointer) -> Bool {
        guard spent + body.count + data.count <= maxBytes else {
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

private let curlOpenSocket: ccurl_opensocket_callback = { context, _, address in
    guard let context, let address else { return CURL_SOCKET_BAD }
    return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().openSocket(address)
}

/// curl_global_init, once per process, before any thread uses curl.
enum CurlRuntime {
    private static let once: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()
    static func start() { _ = once }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
