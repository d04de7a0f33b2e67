import Foundation
import Logging
import PostgresNIO
import RoadCargo

// What central records about its lanes, and the cache feed, in PostgreSQL:
// as SQLiteCargoStore+LaneLink and +CacheFeed.
extension PostgresCargoStore {
    public func recordLaneEvent(_ event: LaneEventRecord) async throws -> LaneEventRecord {
        let fields = try Column.json(event.fields)
        let occurred = Column.millis(event.occurredAt)
        return try await transaction { db in
            try await db.rows(
                """
                INSERT INTO lane_events(lane_id, occurred_at, kind, fields, received_at)
                VALUES (\(event.lane.value), \(occurred), \(event.kind), \(fields)::jsonb,
                    \(Column.millis(event.receivedAt)))
                ON CONFLICT (lane_id, occurred_at, kind, fields) DO NOTHING
                """, logger)
            return try RowMapping.laneEvent(
                try await db.rows(
                    """
                    SELECT * FROM lane_events WHERE lane_id = \(event.lane.value) AND occurred_at = \(occurred)
                        AND kind = \(event.kind) AND fields = \(fields)::jsonb
                    """, logger)[0])
        }
    }

    public func laneEvents(lane: LaneID, limit: Int) async throws -> [LaneEventRecord] {
        try await rows(
            """
            SELECT * FROM lane_events WHERE lane_id = \(lane.value)
            ORDER BY occurred_at DESC, id DESC LIMIT \(Int64(max(0, limit)))
            """
        ).map(RowMapping.laneEvent)
    }

    public func recordOfficerAction(_ action: OfficerActionRecord) async throws -> OfficerActionRecord {
        let details = try Column.json(action.details)
        let at = SQLiteCargoStore.normalised(action.requestedAt)
        return try await transaction { db in
            let row = try await db.rows(
                """
                INSERT INTO officer_actions(lane_id, officer, command, details, requested_at, message_id)
                VALUES (\(action.lane.value), \(action.officer), \(action.command.rawValue), \(details)::jsonb,
                    \(Column.millis(at)), \(action.messageID.map { Int64(bitPattern: $0) }))
                RETURNING id
                """, logger)[0]
            var stored = action
            stored.id = try row.int("id")
            stored.requestedAt = at
            return stored
        }
    }

    public func setOfficerActionMessage(id: Int64, messageID: UInt64) async throws {
        try await transaction { db in
            let changed = try await db.rows(
                "UPDATE officer_actions SET message_id = \(Int64(bitPattern: messageID)) WHERE id = \(id) RETURNING id",
                logger)
            guard changed.count == 1 else { throw StoreError.notFound("officer action \(id)") }
        }
    }

    public func officerActions(lane: LaneID?, limit: Int) async throws -> [OfficerActionRecord] {
        let limit = Int64(max(0, limit))
        let rows: [PGRow]
        if let lane {
            rows = try await self.rows(
                "SELECT * FROM officer_actions WHERE lane_id = \(lane.value) ORDER BY id DESC LIMIT \(limit)")
        } else {
            rows = try await self.rows("SELECT * FROM officer_actions ORDER BY id DESC LIMIT \(limit)")
        }
        return try rows.map(RowMapping.officerAction)
    }

    public func offlineCacheSource(direction: Direction) async throws -> OfflineCacheSource {
        try await read { db in
            // Every active bundle's CCRNs in one statement, not one round
            // trip per bundle: a cache of 100,000 bundles would otherwise
            // hold a pooled connection for 100,000 round trips per push.
            var ccrnsByBundle: [Int64: [Int64]] = [:]
            for row in try await db.rows(
                """
                SELECT bc.ubr, bc.ccrn FROM bundles b JOIN bundle_ccrns bc ON bc.ubr = b.ubr
                WHERE b.direction = \(direction.rawValue) AND b.status = 'active'
                ORDER BY bc.ubr, bc.position
                """, logger)
            {
                ccrnsByBundle[try row.int("ubr"), default: []].append(try row.int("ccrn"))
            }
            var bundles: [CargoBundle] = []
            for row in try await db.rows(
                "SELECT * FROM bundles WHERE direction = \(direction.rawValue) AND status = 'active' ORDER BY ubr",
                logger)
            {
                bundles.append(try RowMapping.bundle(row, ccrns: ccrnsByBundle[try row.int("ubr")] ?? []))
            }
            var ccrns: [CCRN: OfflineCacheSource.CCRNFacts] = [:]
            for row in try await db.rows(
                """
                SELECT c.ccrn, c.valid_until, c.consignee_name
                FROM bundles b
                JOIN bundle_ccrns bc ON bc.ubr = b.ubr
                JOIN consignments c ON c.ccrn = bc.ccrn
                WHERE b.direction = \(direction.rawValue) AND b.status = 'active'
                """, logger)
            {
                let (ccrn, fact) = try RowMapping.ccrnFacts(row)
                ccrns[ccrn] = fact
            }
            let watchList = try await db.rows("SELECT * FROM watch_list ORDER BY id", logger)
                .map { try RowMapping.watchEntry($0).target }
            return OfflineCacheSource(
                bundles: bundles, ccrns: ccrns, watchList: watchList,
                feedPosition: try await Self.cacheFeedPosition(db, logger))
        }
    }

    public func recordCachePush(
        lane: LaneID, floor: UInt64, cause: CachePushCause, requestedBy: String?, bundles: Int,
        watchTargets: Int, omitted: Int, chunks: Int, at now: Date
    ) async throws -> CachePushRecord {
        let now = SQLiteCargoStore.normalised(now)
        let floor = Int64(clamping: floor)
        return try await serialised(on: "cache_pushes") { db in
            let last =
                try await db.rows("SELECT max(generation) AS g FROM cache_pushes", logger)[0].optionalInt("g")
                ?? 0
            let generation = max(floor, last + 1)
            try await db.rows(
                """
                INSERT INTO cache_pushes(generation, lane_id, pushed_at, cause, requested_by, bundles,
                    watch_targets, omitted, chunks)
                VALUES (\(generation), \(lane.value), \(Column.millis(now)), \(cause.rawValue), \(requestedBy),
                    \(Int64(bundles)), \(Int64(watchTargets)), \(Int64(omitted)), \(Int64(chunks)))
                """, logger)
            return CachePushRecord(
                generation: UInt64(generation), lane: lane, pushedAt: now, cause: cause,
                requestedBy: requestedBy, bundles: bundles, watchTargets: watchTargets, omitted: omitted,
                chunks: chunks)
        }
    }

    public func cachePushes(lane: LaneID, limit: Int) async throws -> [CachePushRecord] {
        try await rows(
            """
            SELECT * FROM cache_pushes WHERE lane_id = \(lane.value)
            ORDER BY generation DESC LIMIT \(Int64(max(0, limit)))
            """
        ).map(RowMapping.cachePush)
    }

    // MARK: The cache feed

    public func cacheChanges(after position: Int64, limit: Int) async throws -> CacheChangeBatch {
        try await read { db in
            let rows = try await db.rows(
                """
                SELECT seq, direction, ubr FROM cache_changes WHERE seq > \(position)
                ORDER BY seq LIMIT \(Int64(max(1, limit)))
                """, logger)
            guard let first = rows.first else {
                return CacheChangeBatch(
                    after: position, through: position, first: nil, rows: 0, changes: [], ccrns: [:],
                    watchList: nil, watchedCCRNs: [:])
            }
            var watchChanged = false
            var seen: Set<Int64> = []
            var changes: [CacheChangeBatch.Change] = []
            var ccrns: [CCRN: OfflineCacheSource.CCRNFacts] = [:]
            for row in rows {
                guard let ubr = try row.optionalInt("ubr") else {
                    watchChanged = true
                    continue
                }
                guard seen.insert(ubr).inserted else { continue }
                if let bundleRow = try await db.rows("SELECT * FROM bundles WHERE ubr = \(ubr)", logger)
                    .first,
                    try bundleRow.text("status") == BundleStatus.active.rawValue
                {
                    changes.append(.active(try await PGRows.bundle(from: bundleRow, db, logger)))
                    for fact in try await db.rows(
                        """
                        SELECT c.ccrn, c.valid_until, c.consignee_name
                        FROM bundle_ccrns bc JOIN consignments c ON c.ccrn = bc.ccrn WHERE bc.ubr = \(ubr)
                        """, logger)
                    {
                        let (ccrn, facts) = try RowMapping.ccrnFacts(fact)
                        ccrns[ccrn] = facts
                    }
                } else {
                    changes.append(
                        .ended(
                            direction: try row.enumValue(
                                Direction.self, "direction", "cache_changes.direction"),
                            ubr: Column.ubr(ubr)))
                }
            }
            let watchedConsignees = Set(
                try await db.rows("SELECT value FROM watch_list WHERE kind = 'consignee'", logger)
                    .map { try $0.text("value") })
            let touchesWatched = ccrns.values.contains { watchedConsignees.contains($0.consignee) }
            var watchList: [WatchTarget]?
            var watchedCCRNs: [Direction: [CCRN]] = [:]
            if watchChanged || touchesWatched {
                watchList = try await db.rows("SELECT * FROM watch_list ORDER BY id", logger)
                    .map { try RowMapping.watchEntry($0).target }
                // As SQLite's GROUP BY: each (direction, CCRN) once, in the
                // order of its first bundle and position.
                for row in try await db.rows(
                    """
                    SELECT direction, ccrn FROM (
                        SELECT b.direction, c.ccrn, min(b.ubr) AS ubr, min(bc.position) AS position
                        FROM watch_list w
                        JOIN consignments c ON c.consignee_name = w.value
                        JOIN bundle_ccrns bc ON bc.ccrn = c.ccrn
                        JOIN bundles b ON b.ubr = bc.ubr AND b.status = 'active'
                        WHERE w.kind = 'consignee'
                        GROUP BY b.direction, c.ccrn) watched
                    ORDER BY ubr, position
                    """, logger)
                {
                    let direction = try row.enumValue(Direction.self, "direction", "bundles.direction")
                    watchedCCRNs[direction, default: []].append(Column.ccrn(try row.int("ccrn")))
                }
            }
            return CacheChangeBatch(
                after: position, through: try rows.last!.int("seq"), first: try first.int("seq"),
                rows: rows.count, changes: changes, ccrns: ccrns, watchList: watchList,
                watchedCCRNs: watchedCCRNs)
        }
    }

    public func pruneCacheChanges(keeping: Int) async throws -> Int {
        try await transaction { db in
            Int(
                try await db.rows(
                    """
                    WITH gone AS (
                        DELETE FROM cache_changes
                        WHERE seq <= (SELECT max(seq) FROM cache_changes) - \(Int64(max(0, keeping)))
                        RETURNING 1)
                    SELECT count(*) AS n FROM gone
                    """, logger)[0].int("n"))
        }
    }

    /// The feed position a snapshot read in `db` is current through: the
    /// feed's head as that snapshot sees it.
    static func cacheFeedPosition(_ db: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        try await db.rows("SELECT seq FROM cache_feed", logger)[0].int("seq")
    }
}
