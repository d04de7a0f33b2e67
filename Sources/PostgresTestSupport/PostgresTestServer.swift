import Foundation
import Logging
import PostgresNIO
import PostgresSupport

/// The throwaway PostgreSQL server `scripts/with-postgres.sh` starts for the
/// tests, read from its environment variables.
///
/// Outside that script there is none, and PostgreSQL tests are skipped
/// (`.enabled(if: PostgresTestServer.isConfigured)`), so `swift test` alone
/// still runs everything else; `scripts/test.sh` always runs under the
/// script and sets `LANEKIOSK_REQUIRE_POSTGRES=1`, under which a missing
/// server fails ``isConfigured`` loudly instead of skipping quietly.
public enum PostgresTestServer {
    static let environment = ProcessInfo.processInfo.environment

    /// Whether the tests have a server. Traps when one is required and missing.
    public static let isConfigured: Bool = {
        let configured = environment["LANEKIOSK_TEST_POSTGRES_URL"] != nil
        if !configured && environment["LANEKIOSK_REQUIRE_POSTGRES"] == "1" {
            fatalError(
                "LANEKIOSK_REQUIRE_POSTGRES=1 but LANEKIOSK_TEST_POSTGRES_URL is not set: run under scripts/with-postgres.sh"
            )
        }
        return configured
    }()

    /// The server's `lanekiosk` database.
    public static func location() throws -> PostgresLocation {
        guard let url = environment["LANEKIOSK_TEST_POSTGRES_URL"] else {
            throw PostgresSchemaError(description: "no test server: run under scripts/with-postgres.sh")
        }
        return try PostgresLocation(url: url)
    }

    public static var password: PostgresPasswordSource {
        environment["LANEKIOSK_TEST_POSTGRES_PASSWORD_FILE"].map { .file($0) } ?? .none
    }

    /// A new empty database of its own for one test (`t_` and 16 random hex
    /// digits), so tests run in parallel without seeing each other's rows,
    /// LISTEN channels or migrations. Left behind: the whole cluster goes
    /// when the script ends.
    public static func freshDatabase(logger: Logger = Logger(label: "test.postgres")) async throws
        -> PostgresLocation
    {
        let admin = try location()
        let name = "t_" + String(UInt64.random(in: .min ... .max), radix: 16)
        let database = try await PostgresPool.open(
            admin, password: password, maximumConnections: 1, logger: logger)
        // CREATE DATABASE takes no parameters; the name is ours, hex only.
        do {
            try await database.client.query(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        return admin.database(name)
    }

    /// Opens a fresh database (``freshDatabase(logger:)``).
    public static func openFresh(
        maximumConnections: Int = 10, logger: Logger = Logger(label: "test.postgres")
    )
        async throws -> PostgresPool
    {
        try await PostgresPool.open(
            try await freshDatabase(logger: logger), password: password,
            maximumConnections: maximumConnections, logger: logger)
    }
}
