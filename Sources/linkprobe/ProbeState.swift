import Foundation
import GRDB
import LinkCore

/// The probe's own tables, in the outbox's SQLite file so that one file is
/// the probe's whole memory across kill -9.
struct ProbeState: Sendable {
    let writer: any DatabaseWriter

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        try writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS probe_meta (key TEXT PRIMARY KEY, value REAL NOT NULL);
                    CREATE TABLE IF NOT EXISTS probe_requests (number INTEGER PRIMARY KEY);
                    CREATE TABLE IF NOT EXISTS probe_decisions (
                        request_id INTEGER PRIMARY KEY, decision_id INTEGER NOT NULL,
                        instruction TEXT NOT NULL, reason TEXT NOT NULL);
                    """)
        }
    }

    /// The arrival time of request 0, fixed at the first run: arrival times
    /// are base + number seconds, the same on every run.
    func arrivalBase() throws -> Date {
        try writer.write { db in
            if let value = try Double.fetchOne(db, sql: "SELECT value FROM probe_meta WHERE key = 'base'") {
                return Date(timeIntervalSince1970: value)
            }
            let now = Date().timeIntervalSince1970.rounded(.down)
            try db.execute(sql: "INSERT INTO probe_meta (key, value) VALUES ('base', ?)", arguments: [now])
            return Date(timeIntervalSince1970: now)
        }
    }

    /// The highest request number enqueued, 0 before the first.
    ///
    /// Written after the outbox enqueue, not with it: a kill between the two
    /// sends that number again, with the same id, VRN and arrival time, and
    /// central's crossing record is idempotent by request id.
    func highestSent() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT max(number) FROM probe_requests") ?? 0 }
    }

    func markSent(_ number: Int) throws {
        try writer.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO probe_requests (number) VALUES (?)", arguments: [number])
        }
    }

    /// Stores a decision; false when this request already had one (central
    /// resent it after a lost ack).
    func store(_ message: DecisionMessage) throws -> Bool {
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO probe_decisions (request_id, decision_id, instruction, reason)
                    VALUES (?, ?, ?, ?)
                    """,
                arguments: [
                    Int64(message.requestID), Int64(message.decisionID),
                    message.decision.instruction.rawValue,
                    message.decision.reason.rawValue,
                ])
            return db.changesCount > 0
        }
    }

    func answeredCount() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM probe_decisions") ?? 0 }
    }

    /// One decision as a JSON line (keys sorted, so lines diff cleanly).
    static func jsonLine(_ message: DecisionMessage) -> String {
        var fields: [String: String] = [
            "requestID": String(message.requestID), "decisionID": String(message.decisionID),
            "instruction": message.decision.instruction.rawValue, "reason": message.decision.reason.rawValue,
        ]
        if let ubr = message.decision.ubr { fields["ubr"] = "\(ubr)" }
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
