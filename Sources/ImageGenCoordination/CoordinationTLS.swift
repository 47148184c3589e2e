import Foundation
import NIOSSL
import PostgresNIO

/// PostgresNIO's TLS setting for a ``CoordinationSettings``: its mode, and the root certificates of
/// its `sslrootcert` (read from the file each time: call it off the cooperative pool).
enum CoordinationTLS {
    /// The root certificates cannot be used; ``message`` names the file and why.
    struct Problem: Error {
        let message: String
    }

    /// The largest `sslrootcert` file read (a bundle of every public root is about 200 KiB).
    static let largestRootFile = 1 << 20

    static func configuration(for settings: CoordinationSettings) throws(Problem) -> PostgresConnection.Configuration.TLS {
        guard settings.tlsMode != .disable else { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12  // as libpq's default ssl_min_protocol_version
        if let file = settings.rootCertificateFile {
            tls.trustRoots = .certificates(try rootCertificates(in: file))
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
            throw Problem(message: "cannot set up TLS: \(String(describing: error).prefix(300))")
        }
        return settings.tlsMode.requiresTLS ? .require(context) : .prefer(context)
    }

    /// The certificates of a PEM file; an error names the file and what is wrong with it.
    static func rootCertificates(in path: String) throws(Problem) -> [NIOSSLCertificate] {
        let shown = path.count > 200 ? path.prefix(199) + "…" : path
        // A FIFO or device would block the read (and the server's shutdown behind it).
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw Problem(message: "sslrootcert \(shown): cannot read it: \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Problem(message: "sslrootcert \(shown): not a regular file") }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: largestRootFile + 1) ?? Data()
        } catch {
            throw Problem(message: "sslrootcert \(shown): cannot read it: \(error.localizedDescription.prefix(200))")
        }
        guard data.count <= largestRootFile else {
            throw Problem(message: "sslrootcert \(shown): larger than \(largestRootFile >> 20) MiB; is it a PEM file of certificates?")
        }
        let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(data))
        guard let certificates, !certificates.isEmpty else {
            throw Problem(message: "sslrootcert \(shown): holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }
}
