import Foundation
import NIOSSL
import PostgresNIO

/// PostgresNIO's TLS setting for a ``CoordinationSettings``: its mode, the root certificates of
/// its `sslrootcert`, and the client certificate and key of its `sslcert` and `sslkey` (read from
/// the files each time: call it off the cooperative pool).
enum CoordinationTLS {
    /// A TLS file cannot be used; ``message`` names the file and why.
    struct Problem: Error {
        let message: String
    }

    /// The largest certificate file read (a bundle of every public root is about 200 KiB).
    static let largestCertificateFile = 1 << 20
    /// The largest key file read (an RSA 8192 key in PEM is under 7 KiB).
    static let largestKeyFile = 64 << 10

    static func configuration(for settings: CoordinationSettings) throws(Problem) -> PostgresConnection.Configuration.TLS {
        guard settings.tlsMode != .disable else { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12  // as libpq's default ssl_min_protocol_version
        if let file = settings.rootCertificateFile {
            tls.trustRoots = .certificates(try certificates(in: file, parameter: "sslrootcert"))
        }
        if let certificateFile = settings.clientCertificateFile, let keyFile = settings.clientKeyFile {
            tls.certificateChain = try certificates(in: certificateFile, parameter: "sslcert").map { .certificate($0) }
            tls.privateKey = .privateKey(try privateKey(in: keyFile))
        }
        tls.certificateVerification =
            switch (settings.tlsMode, settings.rootCertificateFile) {
            case (.verifyFull, _): .fullVerification
            case (.verifyCA, _), (_, .some): .noHostnameVerification
            default: .none
            }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            // The key was read as a key above: here NIOSSL found it is not the certificate's.
            if case NIOSSLError.failedToLoadPrivateKey = error, let key = settings.clientKeyFile, let certificate = settings.clientCertificateFile {
                throw Problem(message: "sslkey \(shown(key)) is not the key of the certificate in sslcert \(shown(certificate))")
            }
            throw Problem(message: "cannot set up TLS: \(String(describing: error).prefix(300))")
        }
        return settings.tlsMode.requiresTLS ? .require(context) : .prefer(context)
    }

    /// The certificates of a PEM file; an error names the parameter, the file and what is wrong with it.
    static func certificates(in path: String, parameter: String) throws(Problem) -> [NIOSSLCertificate] {
        let data = try contents(of: path, parameter: parameter, largest: largestCertificateFile)
        let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(data))
        guard let certificates, !certificates.isEmpty else {
            throw Problem(message: "\(parameter) \(shown(path)): holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    /// The unencrypted private key of a PEM file that only its owner can read or change (libpq's
    /// rule: no group or other access, or only group read when root owns it, so that a group can
    /// be given a root-owned key).
    static func privateKey(in path: String) throws(Problem) -> NIOSSLPrivateKey {
        let data = try contents(of: path, parameter: "sslkey", largest: largestKeyFile) { status in
            let mode = status.st_mode & 0o777
            let forbidden: mode_t = status.st_uid == 0 ? 0o037 : 0o077
            guard mode & forbidden == 0 else {
                return "others than its owner may read or change it (mode \(String(mode, radix: 8))); make it mode 600 (chmod 600), as libpq requires"
            }
            return nil
        }
        let text = String(decoding: data, as: UTF8.self)
        if text.contains("ENCRYPTED") {
            throw Problem(message: "sslkey \(shown(path)): the key is encrypted, and a passphrase is not supported; store it unencrypted (openssl pkey -in KEY -out PLAIN), readable by the server's user only")
        }
        guard text.contains("PRIVATE KEY-----"), let key = try? NIOSSLPrivateKey(bytes: Array(data), format: .pem) else {
            throw Problem(message: "sslkey \(shown(path)): holds no PEM private key (-----BEGIN PRIVATE KEY-----)")
        }
        return key
    }

    /// The bytes of a regular file of at most `largest` bytes that `check` (given its status) finds
    /// nothing wrong with. The checks and the read are of one open descriptor (a file swapped in
    /// between is not read), opened without blocking (a FIFO would block the read, and the
    /// server's shutdown behind it).
    private static func contents(
        of path: String, parameter: String, largest: Int, check: (stat) -> String? = { _ in nil }
    ) throws(Problem) -> Data {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw Problem(message: "\(parameter) \(shown(path)): cannot read it: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw Problem(message: "\(parameter) \(shown(path)): cannot read it: \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Problem(message: "\(parameter) \(shown(path)): not a regular file") }
        if let wrong = check(status) { throw Problem(message: "\(parameter) \(shown(path)): \(wrong)") }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while data.count <= largest {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            guard count > 0 else {
                if errno == EINTR { continue }
                throw Problem(message: "\(parameter) \(shown(path)): cannot read it: \(String(cString: strerror(errno)))")
            }
            data.append(contentsOf: buffer[..<count])
        }
        guard data.count <= largest else {
            let size = largest >= 1 << 20 ? "\(largest >> 20) MiB" : "\(largest >> 10) KiB"
            throw Problem(message: "\(parameter) \(shown(path)): larger than \(size); is it a PEM file?")
        }
        return data
    }

    /// A path as errors show it: at most 200 characters.
    private static func shown(_ path: String) -> String {
        path.count > 200 ? path.prefix(199) + "…" : path
    }
}
