import Logging
import PostgresNIO

/// Versioned schema migrations for one database, shared by every part that
/// keeps tables in it (the cargo store, the cluster's tables).
///
/// Each migration runs once, in its own transaction, with its name recorded
/// in `lanekiosk_migrations` by the same transaction. A transaction-scoped
/// advisory lock serialises migrators, so several nodes starting at once
/// against a new database apply each step exactly once; the others wait and
/// then find it done.
public struct PostgresMigrations: Sendable {
    public struct Step: Sendable {
        /// Unique across all parts: `store/v1`, `cluster/v1`.
        public var name: String
        /// One or more statements; run as they are, in the step's transaction.
        public var statements: [String]

        public init(_ name: String, _ statements: [String]) {
            self.name = name
            self.statements = statements
        }
    }

    /// Which part these steps belong to (`store`, `cluster`): a database
    /// holding a step of this part that this build does not know was written
    /// by a newer version, and is refused rather than used half-understood.
    public var part: String
    public var steps: [Step]

    public init(part: String, steps: [Step]) {
        precondition(steps.allSatisfy { $0.name.hasPrefix(part + "/") }, "steps are named \(part)/…")
        self.part = part
        self.steps = steps
    }

    /// An arbitrary constant of ours for `pg_advisory_xact_lock`.
    static let lockKey: Int64 = 0x4C61_6E65_4B69_6F73  // "LaneKios"

    /// Applies the steps not yet applied, in order; returns their names.
    /// - Throws: ``PostgresSchemaError`` for a database from a newer version.
    @discardableResult
    public func apply(to database: PostgresPool) async throws -> [String] {
        let logger = database.logger
        // Under the lock too: two CREATE TABLE IF NOT EXISTS at once can
        // both miss the table and one then fails on the catalogue's index.
        try await database.client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS lanekiosk_migrations (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
        }
        var applied: [String] = []
        for step in steps {
            let done = try await database.client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                let rows = try await connection.query(
                    "SELECT 1 FROM lanekiosk_migrations WHERE name = \(step.name)", logger: logger)
                for try await _ in rows { return true }
                for statement in step.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO lanekiosk_migrations(name) VALUES (\(step.name))", logger: logger)
                return false
            }
            if !done {
                applied.append(step.name)
                logger.info("schema step applied", metadata: ["step": "\(step.name)"])
            }
        }
        let known = Set(steps.map(\.name))
        let prefix = part + "/%"
        let rows = try await database.client.query(
            "SELECT name FROM lanekiosk_migrations WHERE name LIKE \(prefix) ORDER BY name", logger: logger)
        for try await name in rows.decode(String.self) where !known.contains(name) {
            throw PostgresSchemaError(
                description:
                    "the database \(database.location) has schema step \(name), which this version does not know: it was written by a newer LaneKiosk"
            )
        }
        return applied
    }
}

/// The database's schema does not fit this build.
public struct PostgresSchemaError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
