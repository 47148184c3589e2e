/// How the connection to the coordination database uses TLS: a URL's `sslmode`, with libpq's
/// names and meanings, except the default (``disable``: the URL says when to encrypt, since
/// libpq's `prefer` encrypts without proving who answers).
public enum CoordinationTLSMode: String, Sendable, CaseIterable {
    /// Plain TCP.
    case disable
    /// TLS when the server offers it, plain TCP when it does not; the certificate is checked only
    /// against an `sslrootcert` given.
    case prefer
    /// TLS or no connection; the certificate is checked only against an `sslrootcert` given.
    case require
    /// TLS, and the server's certificate must chain to `sslrootcert` (required: any publicly
    /// issued certificate chains to the system's roots, so they would prove nothing here).
    case verifyCA = "verify-ca"
    /// TLS, the server's certificate must chain to `sslrootcert` (else the system's roots) and
    /// name the URL's host (a DNS name or IP address).
    case verifyFull = "verify-full"

    /// Whether the connection is made at all when the server does not offer TLS.
    var requiresTLS: Bool { self != .disable && self != .prefer }
}
