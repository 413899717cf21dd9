import EdgeCore
import Foundation

extension ConfigReader {
    /// `https.*`: listener, certificates (each `{cert, key, hosts}`; files checked now: readable PEM, the key the
    /// certificate's, not expired), `hsts`, `reloadInterval`, `handshakeTimeout`. A host listed by two
    /// certificates is a problem.
    mutating func https(_ section: [String: Any]) -> HTTPSSettings {
        var h = HTTPSSettings()
        let environment = environment
        func value(_ key: String) -> Any? { environment["IMGEDGE_HTTPS_" + key.uppercased()] ?? section[key] }
        if let v = value("host") { h.host = string(v, "https.host") ?? h.host }
        if let v = value("port") { h.port = port(v, "https.port") ?? h.port }
        if let v = value("hsts") { h.hsts = string(v, "https.hsts").flatMap { $0.isEmpty ? nil : $0 } }
        if let v = value("reloadInterval") { h.reloadInterval = duration(v, "https.reloadInterval").map { max(1, $0) } ?? h.reloadInterval }
        if let v = value("maxConcurrentStreams") { h.maxConcurrentStreams = integer(v, "https.maxConcurrentStreams", 1...10_000) ?? h.maxConcurrentStreams }
        if let v = value("handshakeTimeout") { h.handshakeTimeout = duration(v, "https.handshakeTimeout").map { max(0.1, $0) } ?? h.handshakeTimeout }
        guard let list = section["certificates"], !(list is NSNull) else { return h }
        guard let items = list as? [Any] else {
            problem("https.certificates", "must be a list of {cert, key, hosts}")
            return h
        }
        for (i, item) in items.enumerated() {
            let at = "https.certificates[\(i)]"
            guard let map = item as? [String: Any] else {
                problem(at, "must be a mapping {cert, key, hosts}")
                continue
            }
            for key in map.keys where !["cert", "key", "hosts"].contains(key) { problem("\(at).\(key)", "unknown key") }
            let cert = map["cert"].flatMap { string($0, "\(at).cert") }.map(resolvePath)
            let key = map["key"].flatMap { string($0, "\(at).key") }.map(resolvePath)
            if cert == nil { problem("\(at).cert", "required: the PEM certificate chain, leaf first") }
            if key == nil { problem("\(at).key", "required: the PEM private key") }
            var hosts: [String] = []
            if let v = map["hosts"], !(v is NSNull) {
                if let list = v as? [Any] {
                    for name in list.compactMap({ string($0, "\(at).hosts") }) {
                        if HostPattern(name) == nil { problem("\(at).hosts", "\(name) is not a host name or *.domain") } else { hosts.append(name) }
                    }
                } else {
                    problem("\(at).hosts", "must be a list of host names")
                }
            }
            guard let cert, let key else { continue }
            for p in CertificateFiles.problems(cert: cert, key: key) { problem(at, p) }
            h.certificates.append(HTTPSSettings.Certificate(cert: cert, key: key, hosts: hosts))
        }
        for name in CertificateSelector.duplicates(h.certificates.map(\.hosts)) {
            problem("https.certificates", "host \(name) is listed by more than one certificate")
        }
        return h
    }
}
