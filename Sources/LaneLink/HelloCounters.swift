import Foundation
import GRDB
import RoadCargo

/// Central's durable memory of the last hello counter it accepted from each
/// lane, in its own small table of central's database, so that a captured
/// hello stays refused after central restarts.
///
/// Every call goes through GRDB's async API: it runs on a connection
/// admission path and must never block a cooperative thread.
public final class HelloCounterStore: Sendable {
    public let writer: any DatabaseWriter
    public let table: String

    /// Uses `table` in `writer`'s database; ``prepare()`` creates it.
    public init(writer: any DatabaseWriter, table: String = "link_hello") throws {
        try LinkStoreError.check(table)
        self.writer = writer
        self.table = table
    }

    /// Creates the table if needed.
    public func prepare() async throws {
        try await writer.write { [table] db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS "\(table)" (
                        lane TEXT PRIMARY KEY NOT NULL,
                        counter INTEGER NOT NULL,
                        accepted_at INTEGER NOT NULL
                    )
                    """)
        }
    }

    /// Records `counter` for `lane` when it is above the stored one, in one
    /// write transaction (so two connections cannot both win), and says
    /// whether it was. A counter at or below the stored one is a replay.
    public func accept(lane: LaneID, counter: UInt64, at now: Date) async throws -> Bool {
        guard counter <= UInt64(Int64.max) else { return false }
        return try await writer.write { [table] db in
            let last = try Int64.fetchOne(
                db, sql: "SELECT counter FROM \"\(table)\" WHERE lane = ?", arguments: [lane.value])
            if let last, Int64(counter) <= last { return false }
            try db.execute(
                sql: """
                    INSERT INTO "\(table)" (lane, counter, accepted_at) VALUES (?, ?, ?)
                    ON CONFLICT(lane) DO UPDATE SET counter = excluded.counter, accepted_at = excluded.accepted_at
                    """,
                arguments: [lane.value, Int64(counter), LinkDatabase.millis(now)])
            return true
        }
    }

    /// The last counter accepted from `lane`, if any.
    public func last(for lane: LaneID) async throws -> UInt64? {
        try await writer.read { [table] db in
            try Int64.fetchOne(
                db, sql: "SELECT counter FROM \"\(table)\" WHERE lane = ?", arguments: [lane.value]
            )
            .map { UInt64($0) }
        }
    }
}
