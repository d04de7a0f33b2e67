import ClearanceCore
import Foundation
import Logging
import PostgresNIO
import RoadCargo

// Offline crossings in PostgreSQL: as SQLiteCargoStore+Reconciliation.
extension PostgresCargoStore {
    public func applyOfflineCrossing(
        _ report: OfflineCrossing, lane: Lane, claimant: String, receivedAt: Date
    ) async throws -> OfflineCrossingRecord {
        let receivedAt = SQLiteCargoStore.normalised(receivedAt)
        return try await transaction(lockingFeed: true) { db in
            // A resend, on this node or another: the first record stands.
            if let first = try await Self.offlineCrossing(
                db, lane: lane.id, requestID: report.requestID, logger)
            {
                return first
            }
            let (outcome, conflict, bundle) = try await Self.reconcile(
                report, lane: lane, claimant: claimant, now: receivedAt, db, logger)
            try await db.rows(
                """
                INSERT INTO offline_crossings(lane_id, passage_id, request_id, vrn, arrived_at, unladen,
                    decided_at, instruction, reason, ubr, decision, cache_generation, cache_sequence,
                    received_at, outcome, conflict)
                VALUES (\(lane.id.value), \(Int64(bitPattern: report.passageID)),
                    \(Int64(bitPattern: report.requestID)), \(report.vrn.value), \(Column.millis(report.arrivedAt)),
                    \(report.unladenPressed), \(Column.millis(report.decidedAt)),
                    \(report.decision.instruction.rawValue), \(report.decision.reason.rawValue),
                    \(report.decision.ubr.map(Column.number)), \(try Column.json(report.decision))::jsonb,
                    \(report.cacheVersion.map { Int64(bitPattern: $0.generation) }),
                    \(report.cacheVersion.map { Int64(bitPattern: $0.sequence) }), \(Column.millis(receivedAt)),
                    \(outcome.rawValue), \(conflict))
                """, logger)
            try await db.rows(
                """
                INSERT INTO crossings(request_id, lane_id, control_point, direction, vrn, arrived_at,
                    unladen, instruction, reason, ubr, decision, decided_at)
                VALUES (\(SQLiteCargoStore.offlineRequestID(lane: lane.id, requestID: report.requestID)),
                    \(lane.id.value), \(lane.controlPoint.rawValue), \(lane.direction.rawValue),
                    \(report.vrn.value), \(Column.millis(report.arrivedAt)), \(report.unladenPressed),
                    \(report.decision.instruction.rawValue), \(report.decision.reason.rawValue),
                    \(bundle.map { Column.number($0.ubr) }), \(try Column.json(report.decision))::jsonb,
                    \(Column.millis(report.decidedAt)))
                ON CONFLICT (request_id) DO NOTHING
                """, logger)
            return try await Self.offlineCrossing(db, lane: lane.id, requestID: report.requestID, logger)!
        }
    }

    private static func reconcile(
        _ report: OfflineCrossing, lane: Lane, claimant: String, now: Date, _ db: PostgresConnection,
        _ logger: Logger
    ) async throws -> (ReconciliationOutcome, String?, CargoBundle?) {
        guard let ubr = report.decision.ubr else { return (.noBundle, nil, nil) }
        let found = try await PGRows.bundle(db, ubr, logger)
        if let mismatch = StoreRules.offlineMismatch(report, ubr: ubr, bundle: found, lane: lane) {
            return (.conflict, mismatch, found)
        }
        guard var bundle = found else { return (.conflict, nil, nil) }
        bundle = try await settleLapsedClaim(bundle, now: now, db, logger)
        let state = try await PGRows.lifeState(bundle, db, logger)
        let decided = SQLiteCargoStore.normalised(report.decidedAt)
        let claim = BundleLife.Claim(claimant: claimant, lane: lane.id, at: decided)
        switch BundleLife.apply(.claim(claim), to: state) {
        case .success(.moved(to: .claimed)):
            let claimed = try await db.rows(
                """
                UPDATE bundles SET status = 'claimed', claimed_by = \(claimant), claimed_lane = \(lane.id.value),
                    claimed_at = \(Column.millis(decided))
                WHERE ubr = \(Column.number(ubr)) AND status = 'active' RETURNING ubr
                """, logger)
            guard claimed.count == 1 else { throw StoreRules.offlineClaimLost(ubr) }
            try await useIfAlreadyLeft(
                ubr, lane: lane.id, passageID: report.passageID, since: report.arrivedAt, now: now, db, logger
            )
            return (.applied, nil, bundle)
        case .success:
            return (.applied, nil, bundle)
        case .failure(let refusal):
            let by = try await db.rows(
                "SELECT claimed_by, claimed_lane FROM bundles WHERE ubr = \(Column.number(ubr))", logger
            ).first
            return (
                .conflict,
                StoreRules.conflictSentence(
                    refusal, bundle: bundle,
                    usedBy: (try by?.optionalText("claimed_by"), try by?.optionalText("claimed_lane"))),
                bundle
            )
        }
    }

    private static func useIfAlreadyLeft(
        _ ubr: UBR, lane: LaneID, passageID: UInt64, since arrival: Date, now: Date, _ db: PostgresConnection,
        _ logger: Logger
    ) async throws {
        let left = try await db.rows(
            """
            SELECT 1 FROM lane_events WHERE lane_id = \(lane.value)
                AND occurred_at >= \(Column.millis(arrival) - 1000) AND kind = 'vehicle_left'
                AND fields ->> 'passage' = \("\(passageID)") LIMIT 1
            """, logger)
        guard !left.isEmpty, let bundle = try await PGRows.bundle(db, ubr, logger) else { return }
        if case .success(.moved(to: .used)) = BundleLife.apply(
            .vehicleLeft(lane: lane), to: try await PGRows.lifeState(bundle, db, logger))
        {
            try await use(bundle, at: now, db, logger)
        }
    }

    public func offlineCrossings(_ filter: OfflineCrossingFilter, limit: Int) async throws
        -> [OfflineCrossingRecord]
    {
        var sql = "SELECT * FROM offline_crossings"
        var clauses: [String] = []
        var binds = PostgresBindings()
        if filter.openConflictsOnly {
            clauses.append("outcome = 'conflict' AND acknowledged_at IS NULL")
        }
        if let lane = filter.lane {
            binds.append(lane.value)
            clauses.append("lane_id = $\(binds.count)")
        }
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        binds.append(Int64(max(0, limit)))
        sql += " ORDER BY id DESC LIMIT $\(binds.count)"
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: binds)).map(RowMapping.offlineCrossing)
    }

    public func offlineCrossing(id: Int64) async throws -> OfflineCrossingRecord? {
        try await rows("SELECT * FROM offline_crossings WHERE id = \(id)").first.map(
            RowMapping.offlineCrossing)
    }

    public func offlineCrossingCounts() async throws -> [LaneID: OfflineCrossingCounts] {
        let rows = try await rows(
            """
            SELECT lane_id, outcome, count(*) AS n, count(*) FILTER (WHERE acknowledged_at IS NULL) AS unacknowledged
            FROM offline_crossings GROUP BY lane_id, outcome
            """)
        var counts: [LaneID: OfflineCrossingCounts] = [:]
        for row in rows {
            StoreRules.addCounts(
                &counts, lane: try LaneID(try row.text("lane_id")),
                outcome: try row.enumValue(
                    ReconciliationOutcome.self, "outcome", "offline_crossings.outcome"),
                n: Int(try row.int("n")), unacknowledged: Int(try row.int("unacknowledged")))
        }
        return counts
    }

    public func acknowledgeConflict(id: Int64, officer: String, at now: Date, note: String?) async throws
        -> OfflineCrossingRecord
    {
        let now = SQLiteCargoStore.normalised(now)
        return try await transaction { db in
            guard
                let record = try await db.rows("SELECT * FROM offline_crossings WHERE id = \(id)", logger)
                    .first
                    .map(RowMapping.offlineCrossing)
            else { throw StoreError.notFound("offline crossing \(id)") }
            try StoreRules.checkAcknowledgeable(record)
            return try await db.rows(
                """
                UPDATE offline_crossings SET acknowledged_by = \(officer), acknowledged_at = \(Column.millis(now)),
                    acknowledged_note = \(note)
                WHERE id = \(id) AND acknowledged_at IS NULL RETURNING *
                """, logger
            ).map(RowMapping.offlineCrossing)[0]
        }
    }

    private static func offlineCrossing(
        _ db: PostgresConnection, lane: LaneID, requestID: UInt64, _ logger: Logger
    ) async throws -> OfflineCrossingRecord? {
        try await db.rows(
            """
            SELECT * FROM offline_crossings
            WHERE lane_id = \(lane.value) AND request_id = \(Int64(bitPattern: requestID))
            """, logger
        ).first.map(RowMapping.offlineCrossing)
    }
}
