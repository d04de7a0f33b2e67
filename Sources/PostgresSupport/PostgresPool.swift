import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceSupport

/// A running PostgresNIO connection pool for one database, with the
/// connection settings every LaneKiosk store and node uses.
///
/// The pool works only while its `run()` is running; this type starts it
/// in a task of its own at ``open(_:password:logger:)`` and stops it at
/// ``close()``, so a store, a test or a command uses the database like any
/// other value and does not have to be a service in a group.
public final class PostgresPool: Sendable {
    public let location: PostgresLocation
    /// The pool; every query goes through it.
    public let client: PostgresClient
    /// For opening dedicated connections (LISTEN, which holds its connection).
    public let connectionConfiguration: PostgresConnection.Configuration
    public let logger: Logger
    private let running: Task<Void, Never>

    /// Reads the password (off the cooperative pool), starts the pool and
    /// checks that the server answers and accepts the login, so a wrong URL
    /// or password fails here with the server's own words, not at the first
    /// lane decision.
    ///
    /// - Parameter maximumConnections: the pool's ceiling; PostgreSQL's own
    ///   default limit is 100 connections for all nodes together.
    public static func open(
        _ location: PostgresLocation, password: PostgresPasswordSource, maximumConnections: Int = 20,
        logger: Logger
    ) async throws -> PostgresPool {
        let secret = try await Blocking.run { try password.read() }
        let database = try PostgresPool(
            location: location, password: secret, maximumConnections: maximumConnections, logger: logger)
        do {
            // A connection of its own: the pool would retry a refused login
            // for a minute before giving up with a vaguer error.
            _ = try await database.withDedicatedConnection { connection in
                try await connection.query("SELECT 1", logger: logger)
            }
        } catch {
            await database.close()
            throw PostgresOpenError(location: location, underlying: error)
        }
        return database
    }

    private init(location: PostgresLocation, password: String?, maximumConnections: Int, logger: Logger)
        throws
    {
        self.location = location
        self.logger = logger
        let tls: PostgresClient.Configuration.TLS
        let connectionTLS: PostgresConnection.Configuration.TLS
        switch location.tls {
        case .disable:
            tls = .disable
            connectionTLS = .disable
        case .require, .verifyFull:
            var configuration = TLSConfiguration.makeClientConfiguration()
            if location.tls == .require { configuration.certificateVerification = .none }
            tls = .require(configuration)
            connectionTLS = .require(try NIOSSLContext(configuration: configuration))
        }
        var configuration: PostgresClient.Configuration
        var connection: PostgresConnection.Configuration
        switch location.endpoint {
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: location.user, password: password,
                database: location.database, tls: tls)
            connection = .init(
                host: host, port: port, username: location.user, password: password,
                database: location.database, tls: connectionTLS)
        case .unixSocket(let path):
            configuration = .init(
                unixSocketPath: path, username: location.user, password: password, database: location.database
            )
            connection = .init(
                unixSocketPath: path, username: location.user, password: password, database: location.database
            )
        }
        configuration.options.maximumConnections = maximumConnections
        // A dead server must not hold a driver's request for long: the lane
        // has its own deadline (rule 4) and goes offline after it anyway.
        configuration.options.connectTimeout = .seconds(5)
        connection.options.connectTimeout = .seconds(5)
        // A node cut off from the database in the middle of a transaction
        // leaves its session idle in that transaction, holding its locks
        // (a decision holds the cache feed's) until TCP gives up, minutes
        // later: every other node's decisions wait behind it. The server
        // ends such a session after this long instead (found by the fault
        // campaign, docs/faults.md); none of ours idles a second in one.
        let idle = [("idle_in_transaction_session_timeout", "\(Self.idleInTransactionTimeoutMilliseconds)")]
        configuration.options.additionalStartupParameters = idle
        connection.options.additionalStartupParameters = idle
        self.connectionConfiguration = connection
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.running = Task { await client.run() }
    }

    /// How long the server lets one of our sessions sit idle inside a
    /// transaction before it ends the session and rolls the transaction back.
    public static let idleInTransactionTimeoutMilliseconds = 5000

    /// A pool nobody closed (a test's store going out of scope) still
    /// gives its connections back to the server.
    deinit {
        running.cancel()
    }

    /// Stops the pool: open connections are closed, and queries still
    /// waiting fail.
    public func close() async {
        running.cancel()
        await running.value
    }

    /// A connection of its own outside the pool, for as long as `body`
    /// runs (LISTEN: a pooled connection goes back to others and would take
    /// the subscription with it).
    public func withDedicatedConnection<T: Sendable>(
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: connectionConfiguration, id: Int.random(in: 1...Int.max), logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// The database could not be reached or refused the login.
public struct PostgresOpenError: Error, CustomStringConvertible {
    public var location: PostgresLocation
    public var underlying: any Error

    public var description: String {
        "cannot open the store \(location): \(PostgresErrors.describe(underlying))"
    }
}

/// PostgreSQL's errors as a person reads them: the server's message and
/// SQLSTATE rather than PostgresNIO's redacted default description.
/// A statement was not sent because its connection had already closed.
///
/// PostgresNIO (1.x) never answers a query written to a closed connection:
/// the write fails with nobody told, and the caller waits for ever. The
/// server closes a session of ours, for example, when it sat idle in a
/// transaction too long (``PostgresPool/idleInTransactionTimeoutMilliseconds``)
/// because its node was cut off; so every statement checks first.
public struct PostgresConnectionLost: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the connection to the database closed (the server ended the session)" }
}

extension PostgresConnection {
    /// Throws ``PostgresConnectionLost`` when this connection has closed:
    /// call before each statement (see there why).
    public func requireOpen() throws {
        if isClosed { throw PostgresConnectionLost() }
    }
}

public enum PostgresErrors {
    public static func describe(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return "\(error)" }
        if let message = psql.serverInfo?[.message] {
            let state = psql.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        }
        if let underlying = psql.underlying { return "\(psql.code): \(underlying)" }
        return "\(psql.code)"
    }

    /// The SQLSTATE of a server error, e.g. `23505` for a unique violation.
    public static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
