import ClearanceCore
import Foundation
import GRDB
import RoadCargo

// The officers' administrative records: watch list, lanes, accounts.
extension SQLiteCargoStore {
    // MARK: Watch list

    public func watchEntries() async throws -> [WatchEntry] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM watch_list ORDER BY id").map(RowMapping.watchEntry)
        }
    }

    public func addWatch(_ target: WatchTarget, note: String, by officer: Account, at now: Date) async throws
        -> WatchEntry
    {
        try StoreRules.checkManagesWatchList(officer)
        let now = Self.normalised(now)
        return try await transaction { db in
            try db.execute(
                sql: "INSERT INTO watch_list(kind, value, note, added_by, added_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [target.kind, target.value, note, officer.name, Column.millis(now)])
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM watch_list WHERE id = ?", arguments: [db.lastInsertedRowID])!
            return try RowMapping.watchEntry(row)
        }
    }

    public func removeWatch(id: Int64) async throws -> Bool {
        try await transaction { db in
            try db.execute(sql: "DELETE FROM watch_list WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: Lanes

    public func lanes() async throws -> [Lane] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM lanes ORDER BY id").map(RowMapping.lane)
        }
    }

    public func lane(_ id: LaneID) async throws -> Lane? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM lanes WHERE id = ?", arguments: [id.value])
                .map(RowMapping.lane)
        }
    }

    /// Adds the lane, or replaces the one with the same id.
    public func putLane(_ lane: Lane) async throws {
        try await transaction { db in
            try db.execute(
                sql: """
                    INSERT INTO lanes(id, control_point, direction) VALUES (?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET control_point = excluded.control_point,
                        direction = excluded.direction
                    """,
                arguments: [lane.id.value, lane.controlPoint.rawValue, lane.direction.rawValue])
        }
    }

    public func removeLane(_ id: LaneID) async throws -> Bool {
        try await transaction { db in
            try db.execute(sql: "DELETE FROM lanes WHERE id = ?", arguments: [id.value])
            return db.changesCount > 0
        }
    }

    // MARK: Accounts

    /// Names are unique ignoring case, so `Driver-Ho` cannot pose as
    /// `driver-ho` in a list an officer reads.
    ///
    /// - Throws: ``StoreError/duplicate(_:)`` when the name is taken,
    ///   `ValidationFailure` when it is empty, too long or holds white space.
    public func addAccount(_ account: Account) async throws -> String {
        let name = account.name
        try StoreRules.checkAccountName(name)
        let token = Tokens.generate()
        let hash = Tokens.hash(token)
        try await transaction { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE name = ?", arguments: [name]) ?? false
            {
                throw StoreError.duplicate("account \(name)")
            }
            try db.execute(
                sql: "INSERT INTO accounts(name, role, control_point, token_hash) VALUES (?, ?, ?, ?)",
                arguments: [name, account.role.rawValue, account.controlPoint?.rawValue, hash])
        }
        return token
    }

    public func account(forToken token: String) async throws -> Account? {
        let hash = Tokens.hash(token)
        return try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE token_hash = ?", arguments: [hash])
                .map(RowMapping.account)
        }
    }

    /// The account with this name (ignoring case), or nil.
    public func account(named name: String) async throws -> Account? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE name = ?", arguments: [name])
                .map(RowMapping.account)
        }
    }
}
