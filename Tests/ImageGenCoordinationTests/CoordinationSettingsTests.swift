import ImageGenCoordination
import Testing

/// `--coordination` / `IMAGEGEN_DATABASE_URL`: what a URL means, and, for one that cannot be
/// used, an error naming what is wrong that never repeats the password.
@Suite(.timeLimit(.minutes(1)))
struct CoordinationSettingsTests {
    @Test func aURLGivesItsPartsAndTLSMode() throws {
        let plain = try CoordinationSettings(url: "postgres://imagegen@db.example/render")
        #expect(plain.host == "db.example" && plain.port == 5432 && plain.username == "imagegen" && plain.password == nil)
        #expect(plain.database == "render" && plain.tlsMode == .disable && plain.rootCertificateFile == nil)
        #expect(plain.endpoint == "postgres://imagegen@db.example:5432/render")

        let secure = try CoordinationSettings(
            url: "postgresql://render%2Dhost:hunter%402@10.0.0.5:6432/coordination?sslmode=verify-full&sslrootcert=/etc/imagegen/ca.pem")
        #expect(secure.username == "render-host" && secure.password == "hunter@2" && secure.port == 6432)
        #expect(secure.tlsMode == .verifyFull && secure.rootCertificateFile == "/etc/imagegen/ca.pem")
        #expect(secure.endpoint == "postgres://render-host@10.0.0.5:6432/coordination?sslmode=verify-full")

        for mode in CoordinationTLSMode.allCases where mode != .disable {
            #expect(try CoordinationSettings(url: "postgres://u@h/d?sslmode=\(mode.rawValue)&sslrootcert=/ca.pem").tlsMode == mode)
        }
        #expect(try CoordinationSettings(url: "postgres://u@h/d?sslmode=disable").tlsMode == .disable)
        #expect(try CoordinationSettings(url: "postgres://u@h/d?sslmode=verify-full").rootCertificateFile == nil)

        let client = try CoordinationSettings(url: "postgres://u@h/d?sslkey=/etc/imagegen/client.key&sslmode=require&sslcert=/etc/imagegen/client.crt")
        #expect(client.clientCertificateFile == "/etc/imagegen/client.crt" && client.clientKeyFile == "/etc/imagegen/client.key")
        #expect(client.rootCertificateFile == nil && client.endpoint == "postgres://u@h:5432/d?sslmode=require")
        #expect(plain.clientCertificateFile == nil && plain.clientKeyFile == nil)
    }

    static let refused: [(url: String, message: String)] = [
        ("http://imagegen:hunter2@h/d", "must be a URL like postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"),
        ("postgres://:hunter2@h/d", "names no user"),
        ("postgres://imagegen:hunter2@h", "names no database (postgres://USER@HOST:PORT/DATABASE)"),
        ("postgres://imagegen:hunter2@h:0/d", "port 0 is not from 1 to 65535"),
        ("postgres://imagegen:hunter2@h/d?sslmode=allow", "sslmode \"allow\" is not one of disable, prefer, require, verify-ca, verify-full"),
        ("postgres://imagegen:hunter2@h/d?sslmode=require&sslmode=disable", "gives sslmode twice"),
        ("postgres://imagegen:hunter2@h/d?sslrootcert=/etc/ca.pem", "gives sslrootcert but no sslmode that uses TLS (prefer, require, verify-ca or verify-full)"),
        ("postgres://imagegen:hunter2@h/d?sslmode=disable&sslrootcert=/etc/ca.pem", "gives sslrootcert but no sslmode that uses TLS (prefer, require, verify-ca or verify-full)"),
        ("postgres://imagegen:hunter2@h/d?sslmode=verify-ca&sslrootcert=ca.pem", "sslrootcert must be an absolute path to a PEM file, got \"ca.pem\""),
        ("postgres://imagegen:hunter2@h/d?sslmode=verify-ca",
            "gives sslmode=verify-ca but no sslrootcert: the authority that signs the database's certificate must be named (or use verify-full, which also checks the host name against the system's roots)"),
        ("postgres://imagegen@h/d?password=hunter2", "parameter \"password\" is not supported (only sslmode, sslrootcert, sslcert and sslkey are)"),
        ("postgres://imagegen:hunter2@h/d?sslmode=require&sslpassword=hunter2", "parameter \"sslpassword\" is not supported (only sslmode, sslrootcert, sslcert and sslkey are)"),
        ("postgres://imagegen:hunter2@h/d?sslmode=require&sslcert=/etc/client.pem", "gives sslcert but no sslkey: the client certificate's private key must be named too"),
        ("postgres://imagegen:hunter2@h/d?sslmode=require&sslkey=/etc/client.key", "gives sslkey but no sslcert: the client certificate must be named too"),
        ("postgres://imagegen:hunter2@h/d?sslcert=/etc/client.pem&sslkey=/etc/client.key", "gives sslcert but no sslmode that uses TLS (prefer, require, verify-ca or verify-full)"),
        ("postgres://imagegen:hunter2@h/d?sslmode=require&sslcert=client.pem&sslkey=/etc/client.key", "sslcert must be an absolute path to a PEM file, got \"client.pem\""),
        ("postgres://imagegen:hunter2@h/d?sslmode=require&sslcert=/etc/client.pem&sslkey=~/client.key", "sslkey must be an absolute path to a PEM file, got \"~/client.key\""),
        ("postgres://imagegen:hunter2@h/d?sslmode=require&sslcert=/a&sslkey=/b&sslkey=/c", "gives sslkey twice"),
    ]

    @Test(arguments: refused)
    func aURLThatCannotBeUsedIsRefusedWithTheReason(url: String, message: String) {
        #expect {
            _ = try CoordinationSettings(url: url)
        } throws: { error in
            let text = (error as? CoordinationSettingsError)?.message ?? "\(error)"
            #expect(text == "the coordination URL \(message)")
            #expect(!text.contains("hunter2"), "\(text)")
            return true
        }
    }
}
