import Foundation
import SwiftASN1
import X509

/// Reads a certificate chain and its private key from PEM files and says what is wrong with them, as
/// `check-config` reports it: a file missing or unreadable, no certificate in it, a key that is not one, a key
/// that does not belong to the certificate, a certificate past its end (or before its start).
enum CertificateFiles {
    /// Every problem with the pair (empty: they are usable), each a short sentence.
    static func problems(cert certPath: String, key keyPath: String, now: Date = Date()) -> [String] {
        var problems: [String] = []
        var leaf: Certificate?
        var key: Certificate.PrivateKey?
        if let text = read(certPath, "certificate", &problems) {
            do {
                let chain = try PEMDocument.parseMultiple(pemString: text).filter { $0.discriminator == "CERTIFICATE" }
                    .map { try Certificate(pemDocument: $0) }
                if let first = chain.first { leaf = first } else { problems.append("\(certPath) holds no PEM certificate") }
            } catch {
                problems.append("\(certPath) is not a PEM certificate chain (\(error))")
            }
        }
        if let text = read(keyPath, "key", &problems) {
            do { key = try Certificate.PrivateKey(pemEncoded: text) } catch {
                problems.append("\(keyPath) is not a PEM private key (\(error))")
            }
        }
        if let leaf {
            if leaf.notValidAfter < now {
                problems.append("\(certPath) expired on \(ISO8601DateFormatter().string(from: leaf.notValidAfter))")
            } else if leaf.notValidBefore > now {
                problems.append("\(certPath) is not valid before \(ISO8601DateFormatter().string(from: leaf.notValidBefore))")
            }
            if let key, key.publicKey != leaf.publicKey {
                problems.append("\(keyPath) is not the key of the certificate in \(certPath)")
            }
        }
        return problems
    }

    private static func read(_ path: String, _ what: String, _ problems: inout [String]) -> String? {
        guard FileManager.default.fileExists(atPath: path) else {
            problems.append("\(what) file \(path) does not exist")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            problems.append("\(what) file \(path) cannot be read")
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }
}
