import Foundation
import GRDB
import RoadCargo

// The officers' console and help calls (schema v3).
extension SQLiteCargoStore {
    // MARK: Passwords and sessions

    public func setPasswordHash(_ hash: String, for name: String, at now: Date) async throws {
        try await transaction { db in
            guard
                let stored = try String.fetchOne(
                    db, sql: "SELECT name FROM accounts WHERE name = ?", arguments: [name])
            else { throw StoreError.notFound("account \(name)") }
            try db.execute(
                sql: """
                    INSERT INTO officer_passwords(name, hash, changed_at) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at
                    """,
                arguments: [stored, hash, Column.millis(now)])
        }
    }

    public func passwordHash(for name: String) async throws -> (account: Account, hash: String)? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT accounts.*, officer_passwords.hash AS password_hash FROM accounts
                        JOIN officer_passwords ON officer_passwords.name = accounts.name
                        WHERE accounts.name = ?
                        """, arguments: [name])
            else { return nil }
            return (try RowMapping.account(row), row["password_hash"])
        }
    }

    public func createSession(_ session: ConsoleSession) async throws {
        try await transaction { db in
            try db.execute(
                sql: """
                    INSERT INTO console_sessions(token_hash, officer, csrf, created_at, expires_at, idle_until)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    session.tokenHash, session.officer, session.csrf, Column.millis(session.createdAt),
                    Column.millis(session.expiresAt), Column.millis(session.idleUntil),
                ])
        }
    }

    public func session(tokenHash: String) async throws -> (session: ConsoleSession, account: Account)? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT console_sessions.*, accounts.name, accounts.role, accounts.control_point,
                            accounts.token_hash
                        FROM console_sessions JOIN accounts ON accounts.name = console_sessions.officer
                        WHERE console_sessions.token_hash = ?
                        """, arguments: [tokenHash])
            else { return nil }
            return (try RowMapping.session(row, tokenHash: tokenHash), try RowMapping.account(row))
        }
    }

    public func touchSession(tokenHash: String, idleUntil: Date) async throws {
        try await transaction { db in
            try db.execute(
                sql: "UPDATE console_sessions SET idle_until = ? WHERE token_hash = ? AND ended_at IS NULL",
                arguments: [Column.millis(idleUntil), tokenHash])
        }
    }

    public func endSession(tokenHash: String, at now: Date) async throws {
        try await transaction { db in
            try db.execute(
                sql: "UPDATE console_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                arguments: [Column.millis(now), tokenHash])
        }
    }

    // MARK: The console journal

    public func journal(_ entry: ConsoleJournalEntry) async throws {
        let details = try Column.json(entry.details)
        try await transaction { db in
            try db.execute(
                sql: """
                    INSERT INTO console_journal(officer, action, target, outcome, details, at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.officer, entry.action, entry.target, entry.outcome.rawValue, details,
                    Column.millis(entry.at),
                ])
        }
    }

    public func consoleJournal(officer: String?, action: String?, since: Date?, limit: Int) async throws
        -> [ConsoleJournalEntry]
    {
        try await writer.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let officer {
                conditions.append("officer = ?")
                arguments += [officer]
            }
            if let action {
                conditions.append("action = ?")
                arguments += [action]
            }
            if let since {
                conditions.append("at >= ?")
                arguments += [Column.millis(since)]
            }
            arguments += [max(0, limit)]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM console_journal \(filter) ORDER BY id DESC LIMIT ?",
                arguments: arguments
            ).map(RowMapping.journalEntry)
        }
    }

    // MARK: Help calls

    public func insertHelpCall(_ call: HelpCallRecord, step: HelpCallStep) async throws
        -> (call: HelpCallRecord, inserted: Bool)
    {
        let messages = try Column.json(call.messages)
        let stepDetails = try Column.json(step.details)
        return try await transaction { db in
            if let existing = try Row.fetchOne(
                db, sql: "SELECT * FROM help_calls WHERE lane_id = ? AND lane_call_id = ?",
                arguments: [call.lane.value, Int64(bitPattern: call.laneCallID)])
            {
                return (try RowMapping.helpCall(existing), false)
            }
            try db.execute(
                sql: """
                    INSERT INTO help_calls(lane_id, control_point, lane_call_id, vrn, state, officer, rang_at,
                        answered_at, escalated_at, ended_at, ended_by, messages)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: Self.helpCallColumns(call, messages: messages))
            var stored = call
            stored.id = db.lastInsertedRowID
            try Self.insertStep(step, call: stored.id, details: stepDetails, db)
            return (stored, true)
        }
    }

    public func updateHelpCall(_ call: HelpCallRecord, from previous: HelpCallRecord, step: HelpCallStep)
        async throws
    {
        let messages = try Column.json(call.messages)
        let stepDetails = try Column.json(step.details)
        try await transaction { db in
            try db.execute(
                sql: """
                    UPDATE help_calls SET lane_id = ?, control_point = ?, lane_call_id = ?, vrn = ?, state = ?,
                        officer = ?, rang_at = ?, answered_at = ?, escalated_at = ?, ended_at = ?, ended_by = ?,
                        messages = ?
                    WHERE id = ? AND state = ? AND officer IS ? AND escalated_at IS ? AND ended_at IS ?
                        AND json_array_length(messages) = ?
                    """,
                arguments: Self.helpCallColumns(call, messages: messages) + [
                    call.id, previous.state.rawValue, previous.officer,
                    previous.escalatedAt.map(Column.millis),
                    previous.endedAt.map(Column.millis), previous.messages.count,
                ])
            guard db.changesCount == 1 else {
                let exists = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM help_calls WHERE id = ?", arguments: [call.id])
                throw exists == true
                    ? HelpCallChanged(callID: call.id) as any Error
                    : StoreError.notFound("help call \(call.id)")
            }
            try Self.insertStep(step, call: call.id, details: stepDetails, db)
        }
    }

    public func openHelpCalls() async throws -> [HelpCallRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM help_calls WHERE state != 'ended' ORDER BY id")
                .map(RowMapping.helpCall)
        }
    }

    public func helpCall(id: Int64) async throws -> HelpCallRecord? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM help_calls WHERE id = ?", arguments: [id])
                .map(RowMapping.helpCall)
        }
    }

    public func endedHelpCalls(limit: Int) async throws -> [HelpCallRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM help_calls WHERE state = 'ended' ORDER BY ended_at DESC, id DESC LIMIT ?",
                arguments: [max(0, limit)]
            ).map(RowMapping.helpCall)
        }
    }

    public func helpCallSteps(callID: Int64) async throws -> [HelpCallStep] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM help_call_steps WHERE call_id = ? ORDER BY id", arguments: [callID]
            ).map(RowMapping.helpCallStep)
        }
    }

    private static func helpCallColumns(_ call: HelpCallRecord, messages: String) -> StatementArguments {
        [
            call.lane.value, call.controlPoint.rawValue, Int64(bitPattern: call.laneCallID), call.vrn?.value,
            call.state.rawValue, call.officer, Column.millis(call.rangAt), call.answeredAt.map(Column.millis),
            call.escalatedAt.map(Column.millis), call.endedAt.map(Column.millis), call.endedBy, messages,
        ]
    }

    private static func insertStep(_ step: HelpCallStep, call: Int64, details: String, _ db: Database) throws
    {
        try db.execute(
            sql: "INSERT INTO help_call_steps(call_id, step, actor, details, at) VALUES (?, ?, ?, ?, ?)",
            arguments: [call, step.step, step.actor, details, Column.millis(step.at)])
    }

    // MARK: Crossings for officers

    public func crossings(lane: LaneID, limit: Int) async throws -> [CrossingSummary] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM crossings WHERE lane_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [lane.value, max(0, limit)])
            return try rows.map { try Self.summary($0, db) }
        }
    }

    public func searchCrossings(_ query: CrossingQuery, limit: Int) async throws -> [CrossingSummary] {
        let limit = max(0, limit)
        return try await writer.read { db in
            let rows: [Row]
            switch query {
            case .latest:
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM crossings ORDER BY id DESC LIMIT ?", arguments: [limit])
            case .vrn(let vrn):
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM crossings WHERE vrn = ? ORDER BY id DESC LIMIT ?",
                    arguments: [vrn.value, limit])
            case .ubr(let ubr):
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM crossings WHERE ubr = ? ORDER BY id DESC LIMIT ?",
                    arguments: [Column.number(ubr), limit])
            case .ccrn(let ccrn):
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT crossings.* FROM crossings
                        JOIN bundle_ccrns ON bundle_ccrns.ubr = crossings.ubr
                        WHERE bundle_ccrns.ccrn = ? ORDER BY crossings.id DESC LIMIT ?
                        """, arguments: [Column.number(ccrn), limit])
            }
            return try rows.map { try Self.summary($0, db) }
        }
    }

    private static func summary(_ row: Row, _ db: Database) throws -> CrossingSummary {
        let ubr: Int64? = row["ubr"]
        let ccrns =
            try ubr.map {
                try Int64.fetchAll(
                    db, sql: "SELECT ccrn FROM bundle_ccrns WHERE ubr = ? ORDER BY position", arguments: [$0])
            } ?? []
        return try RowMapping.crossingSummary(row, ccrns: ccrns)
    }
}
