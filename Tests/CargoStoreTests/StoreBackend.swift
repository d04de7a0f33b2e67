import Foundation
import GRDB
import PostgresNIO
import PostgresSupport
import PostgresTestSupport
import RoadCargo
import Testing

@testable import CargoStore

/// The stores every store test runs against: SQLite always, PostgreSQL when
/// the tests run under `scripts/with-postgres.sh` (always in `scripts/test.sh`).
enum StoreBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static let all: [StoreBackend] = PostgresTestServer.isConfigured ? [.sqlite, .postgres] : [.sqlite]

    var testDescription: String { rawValue }

    /// A new empty store: SQLite in memory, or PostgreSQL in a fresh database.
    /// - Parameter connections: PostgreSQL's pool; more for a test of
    ///   writers at once, as a node under load has them.
    func makeStore(connections: Int = 2) async throws -> any CargoRepository {
        switch self {
        case .sqlite: try SQLiteCargoStore.inMemory()
        case .postgres:
            try await PostgresCargoStore(
                database: try await PostgresTestServer.openFresh(maximumConnections: connections))
        }
    }

    /// A new empty store that several connections (or processes) can share:
    /// SQLite in a file, PostgreSQL in a fresh database; `second` opens
    /// another store on the same data (a second central node).
    func makeShared() async throws -> (
        first: any CargoRepository, second: () async throws -> any CargoRepository
    ) {
        switch self {
        case .sqlite:
            let path = try temporaryDirectory().appendingPathComponent("central.sqlite").path
            return (
                try await SQLiteCargoStore.open(path: path), { try await SQLiteCargoStore.open(path: path) }
            )
        case .postgres:
            let location = try await PostgresTestServer.freshDatabase()
            let open = { @Sendable () async throws -> any CargoRepository in
                try await PostgresCargoStore.open(
                    location, password: PostgresTestServer.password, maximumConnections: 8,
                    logger: .init(label: "test.postgres"))
            }
            return (try await open(), open)
        }
    }
}

/// Every row of every table, as text: two equal snapshots mean the store was
/// left exactly as it was.
func snapshot(_ store: any CargoRepository) async throws -> [String] {
    switch store {
    case let sqlite as SQLiteCargoStore:
        return try await sqlite.writer.read { db in
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            var out: [String] = []
            for table in tables {
                out.append("table \(table)")
                let columns = try db.columns(in: table).count
                let order = (1...columns).map(String.init).joined(separator: ", ")
                out += try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY \(order)").map(
                    \.description)
            }
            return out
        }
    case let postgres as PostgresCargoStore:
        var out: [String] = []
        for table in PostgresSchema.tables + ["cache_feed"] {
            out.append("table \(table)")
            let rows = try await postgres.rows(
                PostgresQuery(unsafeSQL: "SELECT t::text AS row FROM \(table) t ORDER BY 1"))
            out += try rows.map { try $0.text("row") }
        }
        return out
    default:
        Issue.record("no snapshot for \(type(of: store))")
        return []
    }
}

/// How many rows a table holds.
func count(_ store: any CargoRepository, _ table: String) async throws -> Int {
    switch store {
    case let sqlite as SQLiteCargoStore:
        return try await sqlite.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")!
        }
    case let postgres as PostgresCargoStore:
        return Int(
            try await postgres.rows(PostgresQuery(unsafeSQL: "SELECT count(*) AS n FROM \(table)"))[0].int(
                "n"))
    default:
        Issue.record("no count for \(type(of: store))")
        return 0
    }
}

/// The first column of a query's rows, as text.
func strings(_ store: any CargoRepository, _ sql: String) async throws -> [String] {
    switch store {
    case let sqlite as SQLiteCargoStore:
        return try await sqlite.writer.read { db in try String.fetchAll(db, sql: sql) }
    case let postgres as PostgresCargoStore:
        return try await postgres.rows(PostgresQuery(unsafeSQL: sql)).map {
            try $0.row[0].decode(String.self)
        }
    default:
        Issue.record("no query for \(type(of: store))")
        return []
    }
}

/// Writes a bundle row as it is, past every rule: what the schema alone allows.
func insertRaw(_ bundle: CargoBundle, into store: any CargoRepository) async throws {
    switch store {
    case let sqlite as SQLiteCargoStore:
        try await sqlite.writer.write { db in try Rows.insert(bundle, db) }
    case let postgres as PostgresCargoStore:
        try await postgres.transaction { db in try await PGRows.insert(bundle, db, postgres.logger) }
    default:
        Issue.record("no raw insert for \(type(of: store))")
    }
}

/// A unique index refused the write, in either database's words.
func isUniqueViolation(_ error: any Error) -> Bool {
    if let sqlite = error as? DatabaseError { return sqlite.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE }
    return PostgresErrors.sqlState(error) == "23505"
}
