import Foundation
import Logging
import PostgresNIO
import RoadCargo

// Accounts, lanes, the watch list, the console and help calls in
// PostgreSQL: as SQLiteCargoStore+Admin and +Console. Account names compare
// ignoring case through lower(), as SQLite's COLLATE NOCASE.
extension PostgresCargoStore {
    // MARK: Watch list

    public func watchEntries() async throws -> [WatchEntry] {
        try await rows("SELECT * FROM watch_list ORDER BY id").map(RowMapping.watchEntry)
    }

    public func addWatch(_ target: WatchTarget, note: String, by officer: Account, at now: Date) async throws
        -> WatchEntry
    {
        try StoreRules.checkManagesWatchList(officer)
        let now = SQLiteCargoStore.normalised(now)
        return try await transaction(lockingFeed: true) { db in
            try RowMapping.watchEntry(
                try await db.rows(
                    """
                    INSERT INTO watch_list(kind, value, note, added_by, added_at)
                    VALUES (\(target.kind), \(target.value), \(note), \(officer.name), \(Column.millis(now)))
                    RETURNING *
                    """, logger)[0])
        }
    }

    public func removeWatch(id: Int64) async throws -> Bool {
        try await transaction(lockingFeed: true) { db in
            !(try await db.rows("DELETE FROM watch_list WHERE id = \(id) RETURNING id", logger).isEmpty)
        }
    }

    // MARK: Lanes

    public func lanes() async throws -> [Lane] {
        try await rows("SELECT * FROM lanes ORDER BY id").map(RowMapping.lane)
    }

    public func lane(_ id: LaneID) async throws -> Lane? {
        try await rows("SELECT * FROM lanes WHERE id = \(id.value)").first.map(RowMapping.lane)
    }

    /// Adds the lane, or replaces the one with the same id.
    public func putLane(_ lane: Lane) async throws {
        try await transaction { db in
            try await db.rows(
                """
                INSERT INTO lanes(id, control_point, direction)
                VALUES (\(lane.id.value), \(lane.controlPoint.rawValue), \(lane.direction.rawValue))
                ON CONFLICT (id) DO UPDATE SET control_point = excluded.control_point,
                    direction = excluded.direction
                """, logger)
        }
    }

    public func removeLane(_ id: LaneID) async throws -> Bool {
        try await transaction { db in
            !(try await db.rows("DELETE FROM lanes WHERE id = \(id.value) RETURNING id", logger).isEmpty)
        }
    }

    // MARK: Accounts

    /// As ``SQLiteCargoStore/addAccount(_:)``: names unique ignoring case.
    public func addAccount(_ account: Account) async throws -> String {
        let name = account.name
        try StoreRules.checkAccountName(name)
        let token = Tokens.generate()
        let hash = Tokens.hash(token)
        try await transaction { db in
            guard
                try await db.rows("SELECT 1 FROM accounts WHERE lower(name) = lower(\(name))", logger).isEmpty
            else { throw StoreError.duplicate("account \(name)") }
            try await db.rows(
                """
                INSERT INTO accounts(name, role, control_point, token_hash)
                VALUES (\(name), \(account.role.rawValue), \(account.controlPoint?.rawValue), \(hash))
                """, logger)
        }
        return token
    }

    public func account(forToken token: String) async throws -> Account? {
        try await rows("SELECT * FROM accounts WHERE token_hash = \(Tokens.hash(token))").first
            .map(RowMapping.account)
    }

    /// The account with this name (ignoring case), or nil.
    public func account(named name: String) async throws -> Account? {
        try await rows("SELECT * FROM accounts WHERE lower(name) = lower(\(name))").first.map(
            RowMapping.account)
    }

    // MARK: Passwords and sessions

    public func setPasswordHash(_ hash: String, for name: String, at now: Date) async throws {
        try await transaction { db in
            guard
                let stored = try await db.rows(
                    "SELECT name FROM accounts WHERE lower(name) = lower(\(name))", logger
                ).first
            else { throw StoreError.notFound("account \(name)") }
            try await db.rows(
                """
                INSERT INTO officer_passwords(name, hash, changed_at)
                VALUES (\(try stored.text("name")), \(hash), \(Column.millis(now)))
                ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at
                """, logger)
        }
    }

    public func passwordHash(for name: String) async throws -> (account: Account, hash: String)? {
        guard
            let row = try await rows(
                """
                SELECT accounts.*, officer_passwords.hash AS password_hash FROM accounts
                JOIN officer_passwords ON officer_passwords.name = accounts.name
                WHERE lower(accounts.name) = lower(\(name))
                """
            ).first
        else { return nil }
        return (try RowMapping.account(row), try row.text("password_hash"))
    }

    public func createSession(_ session: ConsoleSession) async throws {
        try await transaction { db in
            try await db.rows(
                """
                INSERT INTO console_sessions(token_hash, officer, csrf, created_at, expires_at, idle_until)
                VALUES (\(session.tokenHash), \(session.officer), \(session.csrf),
                    \(Column.millis(session.createdAt)), \(Column.millis(session.expiresAt)),
                    \(Column.millis(session.idleUntil)))
                """, logger)
        }
    }

    public func session(tokenHash: String) async throws -> (session: ConsoleSession, account: Account)? {
        guard
            let row = try await rows(
                """
                SELECT console_sessions.*, accounts.name, accounts.role, accounts.control_point
                FROM console_sessions JOIN accounts ON lower(accounts.name) = lower(console_sessions.officer)
                WHERE console_sessions.token_hash = \(tokenHash)
                """
            ).first
        else { return nil }
        return (try RowMapping.session(row, tokenHash: tokenHash), try RowMapping.account(row))
    }

    public func touchSession(tokenHash: String, idleUntil: Date) async throws {
        try await transaction { db in
            try await db.rows(
                """
                UPDATE console_sessions SET idle_until = \(Column.millis(idleUntil))
                WHERE token_hash = \(tokenHash) AND ended_at IS NULL
                """, logger)
        }
    }

    public func endSession(tokenHash: String, at now: Date) async throws {
        try await transaction { db in
            try await db.rows(
                """
                UPDATE console_sessions SET ended_at = \(Column.millis(now))
                WHERE token_hash = \(tokenHash) AND ended_at IS NULL
                """, logger)
        }
    }

    // MARK: The console journal

    public func journal(_ entry: ConsoleJournalEntry) async throws {
        let details = try Column.json(entry.details)
        try await transaction { db in
            try await db.rows(
                """
                INSERT INTO console_journal(officer, action, target, outcome, details, at)
                VALUES (\(entry.officer), \(entry.action), \(entry.target), \(entry.outcome.rawValue),
                    \(details)::jsonb, \(Column.millis(entry.at)))
                """, logger)
        }
    }

    public func consoleJournal(officer: String?, action: String?, since: Date?, limit: Int) async throws
        -> [ConsoleJournalEntry]
    {
        var conditions: [String] = []
        var binds = PostgresBindings()
        if let officer {
            binds.append(officer)
            conditions.append("lower(officer) = lower($\(binds.count))")
        }
        if let action {
            binds.append(action)
            conditions.append("action = $\(binds.count)")
        }
        if let since {
            binds.append(Column.millis(since))
            conditions.append("at >= $\(binds.count)")
        }
        binds.append(Int64(max(0, limit)))
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try await rows(
            PostgresQuery(
                unsafeSQL: "SELECT * FROM console_journal \(filter) ORDER BY id DESC LIMIT $\(binds.count)",
                binds: binds)
        ).map(RowMapping.journalEntry)
    }

    // MARK: Help calls

    public func insertHelpCall(_ call: HelpCallRecord, step: HelpCallStep) async throws
        -> (call: HelpCallRecord, inserted: Bool)
    {
        let messages = try Column.json(call.messages)
        let stepDetails = try Column.json(step.details)
        return try await transaction { db in
            if let existing = try await db.rows(
                """
                SELECT * FROM help_calls
                WHERE lane_id = \(call.lane.value) AND lane_call_id = \(Int64(bitPattern: call.laneCallID))
                """, logger
            ).first {
                return (try RowMapping.helpCall(existing), false)
            }
            let row = try await db.rows(
                """
                INSERT INTO help_calls(lane_id, control_point, lane_call_id, vrn, state, officer, rang_at,
                    answered_at, escalated_at, ended_at, ended_by, messages)
                VALUES (\(call.lane.value), \(call.controlPoint.rawValue), \(Int64(bitPattern: call.laneCallID)),
                    \(call.vrn?.value), \(call.state.rawValue), \(call.officer), \(Column.millis(call.rangAt)),
                    \(call.answeredAt.map(Column.millis)), \(call.escalatedAt.map(Column.millis)),
                    \(call.endedAt.map(Column.millis)), \(call.endedBy), \(messages)::jsonb)
                RETURNING id
                """, logger)[0]
            var stored = call
            stored.id = try row.int("id")
            try await Self.insertStep(step, call: stored.id, details: stepDetails, db, logger)
            return (stored, true)
        }
    }

    public func updateHelpCall(_ call: HelpCallRecord, from previous: HelpCallRecord, step: HelpCallStep)
        async throws
    {
        let messages = try Column.json(call.messages)
        let stepDetails = try Column.json(step.details)
        try await transaction { db in
            let changed = try await db.rows(
                """
                UPDATE help_calls SET lane_id = \(call.lane.value), control_point = \(call.controlPoint.rawValue),
                    lane_call_id = \(Int64(bitPattern: call.laneCallID)), vrn = \(call.vrn?.value),
                    state = \(call.state.rawValue), officer = \(call.officer), rang_at = \(Column.millis(call.rangAt)),
                    answered_at = \(call.answeredAt.map(Column.millis)),
                    escalated_at = \(call.escalatedAt.map(Column.millis)),
                    ended_at = \(call.endedAt.map(Column.millis)), ended_by = \(call.endedBy),
                    messages = \(messages)::jsonb
                WHERE id = \(call.id) AND state = \(previous.state.rawValue)
                    AND officer IS NOT DISTINCT FROM \(previous.officer)
                    AND escalated_at IS NOT DISTINCT FROM \(previous.escalatedAt.map(Column.millis))
                    AND ended_at IS NOT DISTINCT FROM \(previous.endedAt.map(Column.millis))
                    AND jsonb_array_length(messages) = \(previous.messages.count)
                RETURNING id
                """, logger)
            guard changed.count == 1 else {
                let exists = try await db.rows("SELECT 1 FROM help_calls WHERE id = \(call.id)", logger)
                throw exists.isEmpty
                    ? StoreError.notFound("help call \(call.id)") as any Error
                    : HelpCallChanged(callID: call.id)
            }
            try await Self.insertStep(step, call: call.id, details: stepDetails, db, logger)
        }
    }

    public func openHelpCalls() async throws -> [HelpCallRecord] {
        try await rows("SELECT * FROM help_calls WHERE state <> 'ended' ORDER BY id").map(RowMapping.helpCall)
    }

    public func helpCall(id: Int64) async throws -> HelpCallRecord? {
        try await rows("SELECT * FROM help_calls WHERE id = \(id)").first.map(RowMapping.helpCall)
    }

    public func endedHelpCalls(limit: Int) async throws -> [HelpCallRecord] {
        try await rows(
            """
            SELECT * FROM help_calls WHERE state = 'ended' ORDER BY ended_at DESC, id DESC
            LIMIT \(Int64(max(0, limit)))
            """
        ).map(RowMapping.helpCall)
    }

    public func helpCallSteps(callID: Int64) async throws -> [HelpCallStep] {
        try await rows("SELECT * FROM help_call_steps WHERE call_id = \(callID) ORDER BY id")
            .map(RowMapping.helpCallStep)
    }

    private static func insertStep(
        _ step: HelpCallStep, call: Int64, details: String, _ db: PostgresConnection, _ logger: Logger
    ) async throws {
        try await db.rows(
            """
            INSERT INTO help_call_steps(call_id, step, actor, details, at)
            VALUES (\(call), \(step.step), \(step.actor), \(details)::jsonb, \(Column.millis(step.at)))
            """, logger)
    }

    // MARK: Crossings for officers

    public func crossings(lane: LaneID, limit: Int) async throws -> [CrossingSummary] {
        try await summaries(
            "SELECT * FROM crossings WHERE lane_id = \(lane.value) ORDER BY id DESC LIMIT \(Int64(max(0, limit)))"
        )
    }

    public func searchCrossings(_ query: CrossingQuery, limit: Int) async throws -> [CrossingSummary] {
        let limit = Int64(max(0, limit))
        switch query {
        case .latest:
            return try await summaries("SELECT * FROM crossings ORDER BY id DESC LIMIT \(limit)")
        case .vrn(let vrn):
            return try await summaries(
                "SELECT * FROM crossings WHERE vrn = \(vrn.value) ORDER BY id DESC LIMIT \(limit)")
        case .ubr(let ubr):
            return try await summaries(
                "SELECT * FROM crossings WHERE ubr = \(Column.number(ubr)) ORDER BY id DESC LIMIT \(limit)")
        case .ccrn(let ccrn):
            return try await summaries(
                """
                SELECT crossings.* FROM crossings
                JOIN bundle_ccrns ON bundle_ccrns.ubr = crossings.ubr
                WHERE bundle_ccrns.ccrn = \(Column.number(ccrn)) ORDER BY crossings.id DESC LIMIT \(limit)
                """)
        }
    }

    /// The crossings and their bundles' CCRNs, in one snapshot.
    private func summaries(_ query: PostgresQuery) async throws -> [CrossingSummary] {
        try await read { db in
            var out: [CrossingSummary] = []
            for row in try await db.rows(query, logger) {
                let ccrns = try await row.optionalInt("ubr").asyncMap {
                    try await PGRows.ccrns(of: $0, db, logger)
                }
                out.append(try RowMapping.crossingSummary(row, ccrns: ccrns ?? []))
            }
            return out
        }
    }
}

extension Optional {
    fileprivate func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
