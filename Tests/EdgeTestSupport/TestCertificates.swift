import _CryptoExtras
import Crypto
public import Foundation
import SwiftASN1
import X509

/// A certificate authority made in the test, and certificates it signs for host names (ECDSA P-256 or RSA 2048),
/// written as PEM files for the node and for clients (`caPath` is what a client trusts).
public final class TestCertificates: Sendable {
    public enum KeyKind: Sendable { case ecdsa, rsa }

    public let dir: TemporaryDirectory
    private let caKey: Certificate.PrivateKey
    private let caName: DistinguishedName
    /// The CA's certificate, PEM.
    public let caPath: String

    public init() throws {
        dir = try TemporaryDirectory(prefix: "imgedge-tls")
        caKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        caName = try DistinguishedName { CommonName("imgedge test CA") }
        let now = Date()
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: caKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400 * 30),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: caKey)
        caPath = dir.path + "/ca.pem"
        try Self.pem(ca).write(toFile: caPath, atomically: true, encoding: .utf8)
    }

    /// A certificate for `hosts` (the first is its common name), signed by the CA, valid from `notBefore` to
    /// `notAfter` (default: an hour ago to thirty days on), and its key: written to `<name>.pem` and
    /// `<name>.key` in the folder, whose paths are returned. The chain file holds the leaf, then the CA.
    @discardableResult
    public func issue(_ name: String, hosts: [String], key kind: KeyKind = .ecdsa, notBefore: Date? = nil,
                      notAfter: Date? = nil) throws -> (cert: String, key: String) {
        let key: Certificate.PrivateKey
        let keyPEM: String
        switch kind {
        case .ecdsa:
            let k = P256.Signing.PrivateKey()
            key = Certificate.PrivateKey(k)
            keyPEM = k.pemRepresentation
        case .rsa:
            let k = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            key = Certificate.PrivateKey(k)
            keyPEM = k.pemRepresentation
        }
        let now = Date()
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: notBefore ?? now.addingTimeInterval(-3600),
            notValidAfter: notAfter ?? now.addingTimeInterval(86_400 * 30),
            issuer: caName, subject: try DistinguishedName { CommonName(hosts.first ?? name) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames(hosts.map { GeneralName.dnsName($0) })
            },
            issuerPrivateKey: caKey)
        let certPath = dir.path + "/\(name).pem", keyPath = dir.path + "/\(name).key"
        let caPEM = try String(contentsOfFile: caPath, encoding: .utf8)
        try (Self.pem(leaf) + caPEM).write(toFile: certPath, atomically: true, encoding: .utf8)
        try keyPEM.write(toFile: keyPath, atomically: true, encoding: .utf8)
        return (certPath, keyPath)
    }

    private static func pem(_ c: Certificate) throws -> String {
        try c.serializeAsPEM().pemString + "\n"
    }
}

/// The SHA-256 of `bytes` in lower-case hex (to compare bodies with what a client outside the process saw).
public func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
