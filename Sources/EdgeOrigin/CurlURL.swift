internal import CCurlLib

/// A URL as curl itself reads it. The scheme and host that the fetcher checks come from curl's own parser, so
/// no difference between two parsers (`http://allowed@evil/`, backslashes, odd IPv4 spellings) can make the
/// checked host differ from the one connected to; the normalised form is what is then handed to curl.
struct CurlURL {
    /// The whole URL, normalised by curl.
    let url: String
    /// Lower case (`http`, `https`, or whatever else a redirect named).
    let scheme: String
    /// As curl will use it: IPv4 normalised (`127.1` → `127.0.0.1`), IPv6 in brackets, IDN as punycode; nil
    /// for URLs without one (`file:///etc/passwd`).
    let host: String?

    /// nil when curl cannot parse `text` as an absolute URL.
    init?(_ text: String) {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        // Unknown schemes parse, so a redirect to ftp:// is refused for its scheme rather than as garbage.
        guard curl_url_set(handle, CURLUPART_URL, text, UInt32(CURLU_NON_SUPPORT_SCHEME)) == CURLUE_OK else { return nil }
        func part(_ what: CURLUPart, _ flags: Int32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, what, &value, UInt32(flags)) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        guard let url = part(CURLUPART_URL), let scheme = part(CURLUPART_SCHEME) else { return nil }
        self.url = url
        self.scheme = scheme.lowercased()
        self.host = part(CURLUPART_HOST, CURLU_PUNYCODE)
    }
}
