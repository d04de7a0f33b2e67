import Foundation

/// Where a PostgreSQL database is and who logs in, parsed from a
/// `postgres://` URL as `clearanced serve --store` takes it.
///
/// Forms:
/// - `postgres://USER@HOST:PORT/DATABASE` (TCP; `postgresql://` too; the
///   port defaults to 5432; IPv6 as `[::1]`);
/// - `postgres://USER@/DATABASE?host=/run/postgresql` (a Unix socket
///   directory, as libpq's `host` parameter; the socket file is
///   `.s.PGSQL.PORT` in it);
/// - `?sslmode=disable|require|verify-full` (default `disable` on a socket
///   or loopback, `verify-full` elsewhere: a store across a network is
///   never read in clear text by default).
///
/// The password is never part of the URL, because a URL ends up on command
/// lines, in `ps` and in shell history: it comes from a file or the
/// environment (``PostgresPasswordSource``). A URL with one is refused.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        /// The socket file itself (`DIR/.s.PGSQL.PORT`).
        case unixSocket(path: String)
    }

    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable
        /// Encrypted, the server's certificate not checked.
        case require
        /// Encrypted, the certificate checked against the system's roots and the host name.
        case verifyFull = "verify-full"
    }

    public var endpoint: Endpoint
    public var user: String
    public var database: String
    public var tls: TLSMode

    public init(endpoint: Endpoint, user: String, database: String, tls: TLSMode) {
        self.endpoint = endpoint
        self.user = user
        self.database = database
        self.tls = tls
    }

    /// The same server and user, another database (tests make one per case).
    public func database(_ name: String) -> PostgresLocation {
        var copy = self
        copy.database = name
        return copy
    }

    /// The URL again, without any password: safe for logs and status pages.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "postgres://\(user)@\(shownHost):\(port)/\(database)?sslmode=\(tls.rawValue)"
        case .unixSocket(let path):
            return "postgres://\(user)@/\(database)?socket=\(path)"
        }
    }

    /// Parses a `postgres://` URL; see the type's documentation.
    /// - Throws: ``PostgresLocationError`` naming what is wrong.
    public init(url text: String) throws(PostgresLocationError) {
        guard text.utf8.count <= 1024 else { throw .init(text: "(\(text.utf8.count) bytes)", "is too long") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased()
        else { throw .init(text: text, "is not a URL") }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw .init(text: text, "must start with postgres:// (not \(scheme)://)")
        }
        if components.password != nil {
            throw .init(
                text: Self.redacted(components),
                "holds a password; give it in a file (--store-password-file) or PGPASSWORD instead, never on the command line"
            )
        }
        guard let user = components.user, !user.isEmpty else {
            throw .init(text: text, "names no user (postgres://USER@HOST/DATABASE)")
        }
        let path = components.path
        let database = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard !database.isEmpty, !database.contains("/") else {
            throw .init(text: text, "names no database (postgres://USER@HOST/DATABASE)")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard query[item.name] == nil else { throw .init(text: text, "gives \(item.name) twice") }
            query[item.name] = item.value ?? ""
        }
        let known: Set = ["host", "sslmode"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw .init(text: text, "has an unknown parameter \(unknown) (known: host, sslmode)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw .init(text: text, "has port \(port), not 1 to 65535") }

        let endpoint: Endpoint
        if let directory = query["host"] {
            guard directory.hasPrefix("/") else {
                throw .init(text: text, "has host=\(directory); a socket directory is an absolute path")
            }
            guard components.host.map(\.isEmpty) ?? true else {
                throw .init(text: text, "gives both a host name and a socket directory")
            }
            endpoint = .unixSocket(path: "\(directory)/.s.PGSQL.\(port)")
        } else {
            guard let host = components.host, !host.isEmpty else {
                throw .init(text: text, "names no host (postgres://USER@HOST/DATABASE, or ?host=/socket/dir)")
            }
            endpoint = .tcp(host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
        }
        let tls: TLSMode
        if let mode = query["sslmode"] {
            guard let parsed = TLSMode(rawValue: mode) else {
                throw .init(
                    text: text,
                    "has sslmode=\(mode); use \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard parsed == .disable || !Self.isSocket(endpoint) else {
                throw .init(text: text, "asks for TLS over a Unix socket, which PostgreSQL does not offer")
            }
            tls = parsed
        } else {
            tls = Self.isLocal(endpoint) ? .disable : .verifyFull
        }
        self.init(endpoint: endpoint, user: user, database: database, tls: tls)
    }

    private static func isSocket(_ endpoint: Endpoint) -> Bool {
        if case .unixSocket = endpoint { true } else { false }
    }

    private static func isLocal(_ endpoint: Endpoint) -> Bool {
        switch endpoint {
        case .unixSocket: true
        case .tcp(let host, _): host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    private static func redacted(_ components: URLComponents) -> String {
        var copy = components
        copy.password = "***"
        return copy.string ?? "(the URL)"
    }
}

/// A `postgres://` URL that cannot be used, and why.
public struct PostgresLocationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var problem: String

    init(text: String, _ problem: String) {
        self.text = text
        self.problem = problem
    }

    public var description: String { "store URL \(text) \(problem)" }
}

/// Where the database password comes from: never the command line.
public enum PostgresPasswordSource: Sendable, Hashable {
    /// No password (trust or peer authentication, a Unix socket).
    case none
    /// The first line of a file (mode 0600, owned by the service's user).
    case file(String)
    /// An environment variable (`PGPASSWORD`, as libpq reads it).
    case environment(String)

    /// The password, read off the cooperative pool's threads by the caller
    /// (``PostgresPool/open(_:password:logger:)`` does).
    /// - Throws: ``PostgresLocationError`` when the file or variable is missing or empty.
    public func read(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        switch self {
        case .none:
            return nil
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw PostgresLocationError(text: "password", "was expected in $\(name), which is not set")
            }
            return value
        case .file(let path):
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw PostgresLocationError(text: "password file \(path)", "cannot be read: \(error)")
            }
            guard data.count <= 4096 else {
                throw PostgresLocationError(
                    text: "password file \(path)", "is over 4096 bytes; is it the right file?")
            }
            let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(
                String.init)
            guard let line, !line.isEmpty else {
                throw PostgresLocationError(text: "password file \(path)", "is empty")
            }
            return line
        }
    }
}
