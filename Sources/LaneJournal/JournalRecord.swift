import Foundation
import GRDB
import LaneControl
import LaneCore
import RoadCargo

/// One stored journal entry with its sequence number and time.
///
/// Encodes as the control socket's journal entry (`docs/control-socket.md`):
/// snake_case keys, times in Hong Kong time, absent values as `null`.
public struct JournalRecord: Sendable, Hashable, Encodable {
    /// Increases with every entry, never reused, also after retention.
    public var seq: Int64
    /// The lane's wall clock when the entry was written, to the microsecond.
    public var at: Date
    /// The `kind` column as stored; also set for kinds this version does not
    /// know (a journal written by a newer laned), where ``entry`` is nil.
    public var kind: String
    public var entry: JournalEntry?

    public init(seq: Int64, at: Date, kind: String, entry: JournalEntry?) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.entry = entry
    }

    /// The entry as the control socket's `journal` gives it.
    public var control: ControlJournalEntry {
        ControlJournalEntry(
            seq: seq, at: JournalTime.hongKong(at), kind: kind, vrn: entry?.vrn?.value,
            requestID: entry?.requestID, decisionID: entry?.decisionID,
            instruction: entry?.instruction?.rawValue, reason: entry?.reason?.rawValue,
            officer: entry?.officer,
            callID: entry?.callID, detail: entry?.detail ?? "")
    }

    public func encode(to encoder: any Encoder) throws {
        try control.encode(to: encoder)
    }

    static let columns =
        "seq, at, kind, vrn, request_id, decision_id, instruction, reason, officer, call_id, decision, detail"

    static func fetch(_ db: Database, where clause: String, arguments: StatementArguments) throws
        -> [JournalRecord]
    {
        let rows = try Row.fetchCursor(
            db, sql: "SELECT \(columns) FROM journal WHERE \(clause)", arguments: arguments)
        var out: [JournalRecord] = []
        while let row = try rows.next() { out.append(try JournalRecord(row: row)) }
        return out
    }

    init(row: Row) throws {
        let seq: Int64 = row["seq"]
        func corrupt(_ column: String, _ value: String) -> JournalError {
            .corruptRow(table: "journal", key: "seq \(seq)", column: column, value: value)
        }
        func parse<T>(_ column: String, _ make: (String) -> T?) throws -> T? {
            guard let raw: String = row[column] else { return nil }
            guard let value = make(raw) else { throw corrupt(column, raw) }
            return value
        }
        let kind: String = row["kind"]
        self.seq = seq
        self.at = JournalTime.date(micros: row["at"])
        self.kind = kind
        guard let known = JournalKind(rawValue: kind) else {
            entry = nil
            return
        }
        let decision = try parse("decision") { try? JournalSchema.decode(Decision.self, $0) }
        entry = JournalEntry(
            known, vrn: try parse("vrn") { try? VRN($0) },
            requestID: (row["request_id"] as Int64?).map(JournalSchema.loaded),
            decisionID: (row["decision_id"] as Int64?).map(JournalSchema.loaded),
            instruction: try parse("instruction", Instruction.init(rawValue:)),
            reason: try parse("reason", Reason.init(rawValue:)), officer: row["officer"],
            detail: row["detail"],
            decision: decision, callID: (row["call_id"] as Int64?).map(JournalSchema.loaded))
    }
}
