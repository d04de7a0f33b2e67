import ClearanceCore
import Foundation
import GRDB
import RoadCargo

// Offline crossings (clearance rule 4): every decision a lane made offline is
// applied once, in one write transaction with the bundle it claims, and a
// conflict is kept until an officer acknowledges it (docs/store.md,
// "Offline crossings and reconciliation").
extension SQLiteCargoStore {
    public func applyOfflineCrossing(
        _ report: OfflineCrossing, lane: Lane, claimant: String, receivedAt: Date
    ) async throws -> OfflineCrossingRecord {
        let receivedAt = Self.normalised(receivedAt)
        return try await transaction { db in
            // A resend (central crashed before the link recorded the message
            // as applied, or the lane restarted from its outbox) is the same
            // crossing: it was applied once, and its record stands.
            if let first = try Self.offlineCrossing(db, lane: lane.id, requestID: report.requestID) {
                return first
            }
            let (outcome, conflict, bundle) = try Self.reconcile(
                report, lane: lane, claimant: claimant, now: receivedAt, db)
            try db.execute(
                sql: """
                    INSERT INTO offline_crossings(lane_id, passage_id, request_id, vrn, arrived_at, unladen,
                        decided_at, instruction, reason, ubr, decision, cache_generation, cache_sequence,
                        received_at, outcome, conflict)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    lane.id.value, Int64(bitPattern: report.passageID), Int64(bitPattern: report.requestID),
                    report.vrn.value, Column.millis(report.arrivedAt), report.unladenPressed,
                    Column.millis(report.decidedAt), report.decision.instruction.rawValue,
                    report.decision.reason.rawValue, report.decision.ubr.map(Column.number),
                    try Column.json(report.decision),
                    report.cacheVersion.map { Int64(bitPattern: $0.generation) },
                    report.cacheVersion.map { Int64(bitPattern: $0.sequence) }, Column.millis(receivedAt),
                    outcome.rawValue, conflict,
                ])
            // The VRN's and the lane's crossing history shows the offline
            // decision beside the online ones. The UBR column refers to a
            // bundle, so an unknown UBR stays in the decision's JSON only.
            try db.execute(
                sql: """
                    INSERT INTO crossings(request_id, lane_id, control_point, direction, vrn, arrived_at,
                        unladen, instruction, reason, ubr, decision, decided_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(request_id) DO NOTHING
                    """,
                arguments: [
                    Self.offlineRequestID(lane: lane.id, requestID: report.requestID), lane.id.value,
                    lane.controlPoint.rawValue, lane.direction.rawValue, report.vrn.value,
                    Column.millis(report.arrivedAt), report.unladenPressed,
                    report.decision.instruction.rawValue, report.decision.reason.rawValue,
                    bundle.map { Column.number($0.ubr) }, try Column.json(report.decision),
                    Column.millis(report.decidedAt),
                ])
            return try Self.offlineCrossing(db, lane: lane.id, requestID: report.requestID)!
        }
    }

    /// The request id an offline crossing has in `crossings`, apart from the
    /// online ones (`link:`), so the console never offers to override it.
    public static func offlineRequestID(lane: LaneID, requestID: UInt64) -> String {
        "offline:\(lane):\(requestID)"
    }

    /// Decides what the crossing does to its bundle and does it: claims an
    /// active bundle for the passage (and uses it when the passage's vehicle
    /// has already been reported leaving), or names the conflict.
    private static func reconcile(
        _ report: OfflineCrossing, lane: Lane, claimant: String, now: Date, _ db: Database
    ) throws -> (ReconciliationOutcome, String?, CargoBundle?) {
        guard let ubr = report.decision.ubr else { return (.noBundle, nil, nil) }
        let found = try Rows.bundle(db, ubr)
        if let mismatch = StoreRules.offlineMismatch(report, ubr: ubr, bundle: found, lane: lane) {
            return (.conflict, mismatch, found)
        }
        guard var bundle = found else { return (.conflict, nil, nil) }
        // Lapsed claims are settled first, so the bundle is judged as it stands now.
        bundle = try settleLapsedClaim(bundle, now: now, db)
        let state = try lifeState(bundle, db)
        // Claimed when the lane decided: the claim's lifetime counts from then.
        let decided = normalised(report.decidedAt)
        let claim = BundleLife.Claim(claimant: claimant, lane: lane.id, at: decided)
        switch BundleLife.apply(.claim(claim), to: state) {
        case .success(.moved(to: .claimed)):
            try db.execute(
                sql: """
                    UPDATE bundles SET status = 'claimed', claimed_by = ?, claimed_lane = ?, claimed_at = ?
                    WHERE ubr = ? AND status = 'active'
                    """,
                arguments: [claimant, lane.id.value, Column.millis(decided), Column.number(ubr)])
            // The write lock is held; a miss would mean the state read was
            // wrong, and the crossing must then not count as applied.
            guard db.changesCount == 1 else { throw StoreRules.offlineClaimLost(ubr) }
            try useIfAlreadyLeft(
                ubr, lane: lane.id, passageID: report.passageID, since: report.arrivedAt, now: now, db)
            return (.applied, nil, bundle)
        case .success:
            return (.applied, nil, bundle)  // this passage's own claim (an online request came first)
        case .failure(let refusal):
            return (.conflict, try conflictSentence(refusal, bundle: bundle, db), bundle)
        }
    }

    /// The vehicle-left report normally follows the crossing on the link; if
    /// it came first (it then found nothing claimed and changed nothing),
    /// the leaving is applied now, so the bundle does not wait for its
    /// claim to lapse.
    private static func useIfAlreadyLeft(
        _ ubr: UBR, lane: LaneID, passageID: UInt64, since arrival: Date, now: Date, _ db: Database
    ) throws {
        let left = try Bool.fetchOne(
            db,
            sql: """
                SELECT 1 FROM lane_events WHERE lane_id = ? AND occurred_at >= ? AND kind = 'vehicle_left'
                    AND json_extract(fields, '$.passage') = ? LIMIT 1
                """,
            arguments: [lane.value, Column.millis(arrival) - 1000, "\(passageID)"])
        guard left == true, let bundle = try Rows.bundle(db, ubr) else { return }
        if case .success(.moved(to: .used)) = BundleLife.apply(
            .vehicleLeft(lane: lane), to: try lifeState(bundle, db))
        {
            try use(bundle, at: now, db)
        }
    }

    private static func conflictSentence(_ refusal: BundleLife.Refusal, bundle: CargoBundle, _ db: Database)
        throws -> String
    {
        let by = try Row.fetchOne(
            db, sql: "SELECT claimed_by, claimed_lane FROM bundles WHERE ubr = ?",
            arguments: [Column.number(bundle.ubr)])
        return StoreRules.conflictSentence(
            refusal, bundle: bundle, usedBy: (by?["claimed_by"], by?["claimed_lane"]))
    }

    public func offlineCrossings(_ filter: OfflineCrossingFilter, limit: Int) async throws
        -> [OfflineCrossingRecord]
    {
        try await writer.read { db in
            var sql = "SELECT * FROM offline_crossings"
            var clauses: [String] = []
            var arguments: StatementArguments = []
            if filter.openConflictsOnly {
                // The literals of the partial index offline_crossings_open.
                clauses.append("outcome = 'conflict' AND acknowledged_at IS NULL")
            }
            if let lane = filter.lane {
                clauses.append("lane_id = ?")
                arguments += [lane.value]
            }
            if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments += [max(0, limit)]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(RowMapping.offlineCrossing)
        }
    }

    public func offlineCrossing(id: Int64) async throws -> OfflineCrossingRecord? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM offline_crossings WHERE id = ?", arguments: [id])
                .map(RowMapping.offlineCrossing)
        }
    }

    static let offlineCountsSQL = """
        SELECT lane_id, outcome, COUNT(*) AS n, SUM(acknowledged_at IS NULL) AS unacknowledged
        FROM offline_crossings GROUP BY lane_id, outcome
        """

    public func offlineCrossingCounts() async throws -> [LaneID: OfflineCrossingCounts] {
        try await writer.read { db in
            // Grouped by a prefix of the index offline_crossings_counts, so
            // that SQLite reads the index in order and no row.
            let rows = try Row.fetchAll(db, sql: Self.offlineCountsSQL)
            var counts: [LaneID: OfflineCrossingCounts] = [:]
            for row in rows {
                let lane = try LaneID(row["lane_id"] as String)
                StoreRules.addCounts(
                    &counts, lane: lane,
                    outcome: try Rows.decodeEnum(
                        ReconciliationOutcome.self, row["outcome"], "offline_crossings.outcome"),
                    n: row["n"], unacknowledged: row["unacknowledged"])
            }
            return counts
        }
    }

    public func acknowledgeConflict(id: Int64, officer: String, at now: Date, note: String?) async throws
        -> OfflineCrossingRecord
    {
        let now = Self.normalised(now)
        return try await transaction { db in
            guard
                let record = try Row.fetchOne(
                    db, sql: "SELECT * FROM offline_crossings WHERE id = ?", arguments: [id]
                ).map(RowMapping.offlineCrossing)
            else { throw StoreError.notFound("offline crossing \(id)") }
            try StoreRules.checkAcknowledgeable(record)
            try db.execute(
                sql: """
                    UPDATE offline_crossings SET acknowledged_by = ?, acknowledged_at = ?, acknowledged_note = ?
                    WHERE id = ? AND acknowledged_at IS NULL
                    """,
                arguments: [officer, Column.millis(now), note, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM offline_crossings WHERE id = ?", arguments: [id])
                .map(RowMapping.offlineCrossing)!
        }
    }

    private static func offlineCrossing(_ db: Database, lane: LaneID, requestID: UInt64) throws
        -> OfflineCrossingRecord?
    {
        try Row.fetchOne(
            db, sql: "SELECT * FROM offline_crossings WHERE lane_id = ? AND request_id = ?",
            arguments: [lane.value, Int64(bitPattern: requestID)]
        ).map(RowMapping.offlineCrossing)
    }
}
