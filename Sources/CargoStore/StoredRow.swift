import ClearanceCore
import Foundation
import GRDB
import RoadCargo

/// One row as either store reads it (a GRDB `Row`, a PostgresNIO row), so
/// that turning rows into domain values is written once for both stores.
///
/// Both schemas use the same column names and kinds: instants as integer
/// milliseconds, CCRNs and UBRs as integers, JSON documents as text (SQLite)
/// or `jsonb` (PostgreSQL).
protocol StoredRow {
    func int(_ column: String) throws -> Int64
    func optionalInt(_ column: String) throws -> Int64?
    func text(_ column: String) throws -> String
    func optionalText(_ column: String) throws -> String?
    func bool(_ column: String) throws -> Bool
    /// The JSON document in the column, as text.
    func jsonText(_ column: String) throws -> String
}

extension Row: StoredRow {
    func int(_ column: String) throws -> Int64 { self[column] }
    func optionalInt(_ column: String) throws -> Int64? { self[column] }
    func text(_ column: String) throws -> String { self[column] }
    func optionalText(_ column: String) throws -> String? { self[column] }
    func bool(_ column: String) throws -> Bool { self[column] }
    func jsonText(_ column: String) throws -> String { self[column] }
}

extension StoredRow {
    func date(_ column: String) throws -> Date { Column.date(millis: try int(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalInt(column).map(Column.date(millis:)) }
    func json<T: Decodable>(_ type: T.Type, _ column: String) throws -> T {
        try Column.decode(type, json: try jsonText(column))
    }
    func enumValue<T: RawRepresentable>(_ type: T.Type, _ column: String, _ name: String) throws -> T
    where T.RawValue == String {
        try Rows.decodeEnum(type, try text(column), name)
    }
}

/// Rows to domain values, for both stores. Nothing here queries or checks a rule.
enum RowMapping {
    static func consignment(_ row: some StoredRow) throws -> Consignment {
        Consignment(
            ccrn: Column.ccrn(try row.int("ccrn")),
            submission: try row.json(ConsignmentSubmission.self, "submission"),
            submittedBy: try row.text("submitted_by"), submittedAt: try row.date("submitted_at"),
            amendedAt: try row.optionalDate("amended_at"),
            validUntil: CalendarDay(daysSinceEpoch: Int(try row.int("valid_until"))),
            status: try row.enumValue(ConsignmentStatus.self, "status", "consignments.status"),
            bundledIn: try row.optionalInt("bundled_in").map(Column.ubr))
    }

    /// What a decision needs of a consignment: `valid_until` and `consignee_name`.
    static func consignmentFacts(_ row: some StoredRow) throws -> ConsignmentFacts {
        ConsignmentFacts(
            validUntil: CalendarDay(daysSinceEpoch: Int(try row.int("valid_until"))),
            consignee: try row.text("consignee_name"))
    }

    /// A bundle from its row and its CCRNs in order (from `bundle_ccrns`).
    static func bundle(_ row: some StoredRow, ccrns: [Int64]) throws -> CargoBundle {
        CargoBundle(
            ubr: Column.ubr(try row.int("ubr")), driverName: try row.text("driver_name"),
            driverAccount: try row.text("driver_account"), vrn: try VRN(try row.text("vrn")),
            direction: try row.enumValue(Direction.self, "direction", "bundles.direction"),
            expectedControlPoint: try row.optionalText("expected_control_point").map {
                try Rows.decodeEnum(ControlPoint.self, $0, "bundles.control_point")
            },
            ccrns: ccrns.map(Column.ccrn), completedAt: try row.date("completed_at"),
            earliestCrossing: try row.date("earliest_crossing"),
            status: try row.enumValue(BundleStatus.self, "status", "bundles.status"),
            endedAt: try row.optionalDate("ended_at"))
    }

    /// The claim a claimed bundle's row holds.
    static func claim(_ row: some StoredRow) throws -> BundleLife.Claim {
        BundleLife.Claim(
            claimant: try row.text("claimed_by"), lane: try LaneID(try row.text("claimed_lane")),
            at: try row.date("claimed_at"))
    }

    static func crossing(_ row: some StoredRow) throws -> Crossing {
        Crossing(
            id: try row.int("id"), lane: try LaneID(try row.text("lane_id")),
            vrn: try VRN(try row.text("vrn")),
            arrivedAt: try row.date("arrived_at"), unladenPressed: try row.bool("unladen"),
            decision: try row.json(Decision.self, "decision"), decidedAt: try row.date("decided_at"))
    }

    /// A crossing and the request it answered.
    static func crossingAndRequest(_ row: some StoredRow) throws -> (Crossing, DecisionRequest) {
        let crossing = try crossing(row)
        let lane = Lane(
            id: crossing.lane,
            controlPoint: try row.enumValue(ControlPoint.self, "control_point", "crossings.control_point"),
            direction: try row.enumValue(Direction.self, "direction", "crossings.direction"))
        let request = DecisionRequest(
            lane: lane, vrn: crossing.vrn, arrivedAt: crossing.arrivedAt,
            unladenPressed: crossing.unladenPressed)
        return (crossing, request)
    }

    static func crossingSummary(_ row: some StoredRow, ccrns: [Int64]) throws -> CrossingSummary {
        CrossingSummary(
            crossing: try crossing(row), requestID: try row.text("request_id"), ccrns: ccrns.map(Column.ccrn))
    }

    static func watchEntry(_ row: some StoredRow) throws -> WatchEntry {
        WatchEntry(
            id: try row.int("id"),
            target: try WatchTarget(kind: try row.text("kind"), value: try row.text("value")),
            note: try row.text("note"), addedBy: try row.text("added_by"), addedAt: try row.date("added_at"))
    }

    static func lane(_ row: some StoredRow) throws -> Lane {
        Lane(
            id: try LaneID(try row.text("id")),
            controlPoint: try row.enumValue(ControlPoint.self, "control_point", "lanes.control_point"),
            direction: try row.enumValue(Direction.self, "direction", "lanes.direction"))
    }

    static func account(_ row: some StoredRow) throws -> Account {
        Account(
            name: try row.text("name"), role: try row.enumValue(AccountRole.self, "role", "accounts.role"),
            controlPoint: try row.optionalText("control_point").map {
                try Rows.decodeEnum(ControlPoint.self, $0, "accounts.control_point")
            })
    }

    static func laneEvent(_ row: some StoredRow) throws -> LaneEventRecord {
        LaneEventRecord(
            id: try row.int("id"), lane: try LaneID(try row.text("lane_id")),
            occurredAt: try row.date("occurred_at"), kind: try row.text("kind"),
            fields: try row.json([String: String].self, "fields"), receivedAt: try row.date("received_at"))
    }

    static func officerAction(_ row: some StoredRow) throws -> OfficerActionRecord {
        OfficerActionRecord(
            id: try row.int("id"), lane: try LaneID(try row.text("lane_id")),
            officer: try row.text("officer"),
            command: try row.enumValue(OfficerActionKind.self, "command", "officer_actions.command"),
            details: try row.json([String: String].self, "details"),
            requestedAt: try row.date("requested_at"),
            messageID: try row.optionalInt("message_id").map { UInt64(bitPattern: $0) })
    }

    static func cachePush(_ row: some StoredRow) throws -> CachePushRecord {
        CachePushRecord(
            generation: UInt64(try row.int("generation")), lane: try LaneID(try row.text("lane_id")),
            pushedAt: try row.date("pushed_at"),
            cause: try row.enumValue(CachePushCause.self, "cause", "cache_pushes.cause"),
            requestedBy: try row.optionalText("requested_by"), bundles: Int(try row.int("bundles")),
            watchTargets: Int(try row.int("watch_targets")), omitted: Int(try row.int("omitted")),
            chunks: Int(try row.int("chunks")))
    }

    static func offlineCrossing(_ row: some StoredRow) throws -> OfflineCrossingRecord {
        let generation = try row.optionalInt("cache_generation")
        let sequence = try row.optionalInt("cache_sequence")
        return OfflineCrossingRecord(
            id: try row.int("id"), lane: try LaneID(try row.text("lane_id")),
            passageID: UInt64(bitPattern: try row.int("passage_id")),
            requestID: UInt64(bitPattern: try row.int("request_id")), vrn: try VRN(try row.text("vrn")),
            arrivedAt: try row.date("arrived_at"), unladenPressed: try row.bool("unladen"),
            decidedAt: try row.date("decided_at"), decision: try row.json(Decision.self, "decision"),
            cacheVersion: generation.map {
                CacheVersion(generation: UInt64(bitPattern: $0), sequence: UInt64(bitPattern: sequence ?? 0))
            },
            receivedAt: try row.date("received_at"),
            outcome: try row.enumValue(ReconciliationOutcome.self, "outcome", "offline_crossings.outcome"),
            conflict: try row.optionalText("conflict"),
            acknowledgedBy: try row.optionalText("acknowledged_by"),
            acknowledgedAt: try row.optionalDate("acknowledged_at"),
            acknowledgedNote: try row.optionalText("acknowledged_note"))
    }

    static func session(_ row: some StoredRow, tokenHash: String) throws -> ConsoleSession {
        ConsoleSession(
            tokenHash: tokenHash, officer: try row.text("officer"), csrf: try row.text("csrf"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"),
            idleUntil: try row.date("idle_until"), endedAt: try row.optionalDate("ended_at"))
    }

    static func journalEntry(_ row: some StoredRow) throws -> ConsoleJournalEntry {
        ConsoleJournalEntry(
            id: try row.int("id"), officer: try row.text("officer"), action: try row.text("action"),
            target: try row.text("target"),
            outcome: ConsoleJournalEntry.Outcome(rawValue: try row.text("outcome")) ?? .done,
            details: try row.json([String: String].self, "details"), at: try row.date("at"))
    }

    static func helpCall(_ row: some StoredRow) throws -> HelpCallRecord {
        HelpCallRecord(
            id: try row.int("id"), lane: try LaneID(try row.text("lane_id")),
            controlPoint: try row.enumValue(ControlPoint.self, "control_point", "help_calls.control_point"),
            laneCallID: UInt64(bitPattern: try row.int("lane_call_id")),
            vrn: try row.optionalText("vrn").map { try VRN($0) },
            state: try row.enumValue(HelpCallRecord.State.self, "state", "help_calls.state"),
            officer: try row.optionalText("officer"), rangAt: try row.date("rang_at"),
            answeredAt: try row.optionalDate("answered_at"),
            escalatedAt: try row.optionalDate("escalated_at"),
            endedAt: try row.optionalDate("ended_at"), endedBy: try row.optionalText("ended_by"),
            messages: try row.json([HelpCallRecord.Message].self, "messages"))
    }

    static func helpCallStep(_ row: some StoredRow) throws -> HelpCallStep {
        HelpCallStep(
            step: try row.text("step"), actor: try row.text("actor"),
            details: try row.json([String: String].self, "details"), at: try row.date("at"))
    }

    static func ccrnFacts(_ row: some StoredRow) throws -> (CCRN, OfflineCacheSource.CCRNFacts) {
        (
            Column.ccrn(try row.int("ccrn")),
            OfflineCacheSource.CCRNFacts(
                validUntil: CalendarDay(daysSinceEpoch: Int(try row.int("valid_until"))),
                consignee: try row.text("consignee_name"))
        )
    }
}
