import Foundation
import GRDB
import Logging
import PostgresNIO

/// `clearanced store copy`: a whole SQLite central into an empty PostgreSQL
/// store, in one PostgreSQL transaction (all or nothing), keeping every id
/// and number, and moving the PostgreSQL sequences past the copied ids so
/// that new rows continue after them (docs/deploying-central.md, "Moving a
/// SQLite central to PostgreSQL").
///
/// The source is read page by page outside one snapshot: copy a central
/// that is stopped, as the guide says.
public enum StoreCopy {
    /// How many rows one table held, and so were copied.
    public struct TableCount: Sendable, Hashable {
        public var table: String
        public var rows: Int
    }

    /// The target already holds data.
    public struct TargetNotEmpty: Error, CustomStringConvertible {
        public var found: [TableCount]
        public var description: String {
            "the target store is not empty ("
                + found.map { "\($0.rows) rows in \($0.table)" }.joined(separator: ", ")
                + "); copy into a new, empty database"
        }
    }

    /// Rows per INSERT statement.
    static let batch = 500

    /// Primary keys, for reading the source in a stable order.
    static let order: [String: String] = [
        "issued_numbers": "number", "accounts": "name", "bundles": "ubr", "consignments": "ccrn",
        "goods_items": "ccrn, position", "bundle_ccrns": "ubr, position", "lanes": "id",
        "cache_pushes": "generation", "officer_passwords": "name", "console_sessions": "token_hash",
        "cache_changes": "seq",
    ]

    /// Copies every table of `source` into `target`; returns the counts in copy order.
    /// - Throws: ``TargetNotEmpty`` naming what the target holds; nothing is written then.
    public static func copy(from source: SQLiteCargoStore, to target: PostgresCargoStore) async throws
        -> [TableCount]
    {
        let logger = target.logger
        let types = try await columnTypes(target)
        return try await target.transaction { db in
            var found: [TableCount] = []
            for table in PostgresSchema.tables {
                let n = try await db.rows(
                    PostgresQuery(unsafeSQL: "SELECT count(*) AS n FROM \(table)"), logger)[0]
                    .int("n")
                if n > 0 { found.append(TableCount(table: table, rows: Int(n))) }
            }
            guard found.isEmpty else { throw TargetNotEmpty(found: found) }
            var counts: [TableCount] = []
            for table in PostgresSchema.tables {
                if table == "cache_changes" {
                    // The triggers noted every copied bundle and watch entry;
                    // the feed is the source's instead, position and all.
                    try await db.rows("DELETE FROM cache_changes", logger)
                }
                let rows = try await copyTable(table, types: types[table] ?? [:], source, db, logger)
                counts.append(TableCount(table: table, rows: rows))
            }
            try await moveSequences(source, db, logger)
            return counts
        }
    }

    /// Every column's PostgreSQL type, by table.
    private static func columnTypes(_ target: PostgresCargoStore) async throws -> [String: [String: String]] {
        var types: [String: [String: String]] = [:]
        for row in try await target.rows(
            """
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema()
            """)
        {
            types[try row.text("table_name"), default: [:]][try row.text("column_name")] = try row.text(
                "data_type")
        }
        return types
    }

    private static func copyTable(
        _ table: String, types: [String: String], _ source: SQLiteCargoStore, _ db: PostgresConnection,
        _ logger: Logger
    ) async throws -> Int {
        let keys = (Self.order[table] ?? "id").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let keyList = keys.joined(separator: ", ")
        // Keyset paging: each page starts after the previous page's last
        // key, through the primary key's index, so a million rows cost a
        // million steps (OFFSET would walk every skipped row again).
        var last: [DatabaseValue]?
        var copied = 0
        while true {
            // Plain values out of the read: GRDB's rows stay on its queue.
            let (columns, page) = try await source.writer.read { [last] sqlite in
                let rows: [Row]
                if let last {
                    let marks = Array(repeating: "?", count: last.count).joined(separator: ", ")
                    rows = try Row.fetchAll(
                        sqlite,
                        sql:
                            "SELECT * FROM \(table) WHERE (\(keyList)) > (\(marks)) ORDER BY \(keyList) LIMIT ?",
                        arguments: StatementArguments(last + [batch.databaseValue]))
                } else {
                    rows = try Row.fetchAll(
                        sqlite, sql: "SELECT * FROM \(table) ORDER BY \(keyList) LIMIT ?", arguments: [batch])
                }
                return (rows.first.map { Array($0.columnNames) } ?? [], rows.map { Array($0.databaseValues) })
            }
            guard !page.isEmpty, let final = page.last else { return copied }
            var binds = PostgresBindings(capacity: page.count * columns.count)
            var tuples: [String] = []
            for row in page {
                var placeholders: [String] = []
                for (i, column) in columns.enumerated() {
                    let type = types[column] ?? "text"
                    try bind(row[i], as: type, into: &binds)
                    placeholders.append("$\(binds.count)" + (type == "jsonb" ? "::jsonb" : ""))
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let sql =
                "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + tuples.joined(separator: ", ")
            try await db.rows(PostgresQuery(unsafeSQL: sql, binds: binds), logger)
            copied += page.count
            last = try keys.map { key in
                guard let index = columns.firstIndex(of: key) else {
                    throw StoreError.incompatible("the source's \(table) has no column \(key)")
                }
                return final[index]
            }
        }
    }

    /// One SQLite value as the PostgreSQL column's type.
    private static func bind(_ value: DatabaseValue, as type: String, into binds: inout PostgresBindings)
        throws
    {
        switch value.storage {
        case .null:
            binds.appendNull()
        case .int64(let n):
            switch type {
            case "boolean": binds.append(n != 0)
            case "double precision": binds.append(Double(n))
            case "text", "jsonb": binds.append(String(n))
            default: binds.append(n)
            }
        case .double(let d):
            binds.append(d)
        case .string(let s):
            binds.append(s)
        case .blob:
            throw StoreError.incompatible("a blob in the source store, where LaneKiosk writes none")
        }
    }

    /// Identities continue after the copied ids (and after ids SQLite
    /// issued and then lost to deletion, which AUTOINCREMENT never reuses);
    /// the cache feed continues after the source's position.
    private static func moveSequences(_ source: SQLiteCargoStore, _ db: PostgresConnection, _ logger: Logger)
        async throws
    {
        let issued = try await source.writer.read { sqlite in
            try Row.fetchAll(sqlite, sql: "SELECT name, seq FROM sqlite_sequence").reduce(
                into: [String: Int64]()
            ) {
                $0[$1["name"]] = $1["seq"]
            }
        }
        for table in PostgresSchema.identityTables {
            let floor = issued[table] ?? 0
            try await db.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table)', 'id'),
                            greatest(coalesce((SELECT max(id) FROM \(table)), 0), $1) + 1, false)
                        """, binds: bindings(floor)), logger)
        }
        try await db.rows(
            """
            UPDATE cache_feed SET seq = greatest(coalesce((SELECT max(seq) FROM cache_changes), 0), \(issued["cache_changes"] ?? 0))
            """, logger)
    }

    private static func bindings(_ value: Int64) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
    }
}
