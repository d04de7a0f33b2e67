import Foundation
import GRDB
import RoadCargo

// What central records about its lanes over the link: their reports, the
// officers' commands to them, and the offline caches pushed to them.
extension SQLiteCargoStore {
    // MARK: Lane events

    public func recordLaneEvent(_ event: LaneEventRecord) async throws -> LaneEventRecord {
        let fields = try Column.json(event.fields)
        let occurred = Column.millis(event.occurredAt)
        return try await transaction { db in
            try db.execute(
                sql: """
                    INSERT INTO lane_events(lane_id, occurred_at, kind, fields, received_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(lane_id, occurred_at, kind, fields) DO NOTHING
                    """,
                arguments: [event.lane.value, occurred, event.kind, fields, Column.millis(event.receivedAt)])
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT * FROM lane_events WHERE lane_id = ? AND occurred_at = ? AND kind = ? AND fields = ?",
                arguments: [event.lane.value, occurred, event.kind, fields])!
            return try RowMapping.laneEvent(row)
        }
    }

    public func laneEvents(lane: LaneID, limit: Int) async throws -> [LaneEventRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM lane_events WHERE lane_id = ?
                    ORDER BY occurred_at DESC, id DESC LIMIT ?
                    """,
                arguments: [lane.value, max(0, limit)]
            ).map(RowMapping.laneEvent)
        }
    }

    // MARK: Officers' commands

    public func recordOfficerAction(_ action: OfficerActionRecord) async throws -> OfficerActionRecord {
        let details = try Column.json(action.details)
        let at = Self.normalised(action.requestedAt)
        return try await transaction { db in
            try db.execute(
                sql: """
                    INSERT INTO officer_actions(lane_id, officer, command, details, requested_at, message_id)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    action.lane.value, action.officer, action.command.rawValue, details, Column.millis(at),
                    action.messageID.map { Int64(bitPattern: $0) },
                ])
            var stored = action
            stored.id = db.lastInsertedRowID
            stored.requestedAt = at
            return stored
        }
    }

    public func setOfficerActionMessage(id: Int64, messageID: UInt64) async throws {
        try await transaction { db in
            try db.execute(
                sql: "UPDATE officer_actions SET message_id = ? WHERE id = ?",
                arguments: [Int64(bitPattern: messageID), id])
            guard db.changesCount == 1 else { throw StoreError.notFound("officer action \(id)") }
        }
    }

    public func officerActions(lane: LaneID?, limit: Int) async throws -> [OfficerActionRecord] {
        try await writer.read { db in
            let rows: [Row]
            if let lane {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM officer_actions WHERE lane_id = ? ORDER BY id DESC LIMIT ?",
                    arguments: [lane.value, max(0, limit)])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM officer_actions ORDER BY id DESC LIMIT ?",
                    arguments: [max(0, limit)])
            }
            return try rows.map(RowMapping.officerAction)
        }
    }

    // MARK: Offline caches

    /// One read transaction, so the bundles, their CCRNs, the watch list and
    /// the cache feed's position are one consistent snapshot even while
    /// drivers bundle and debundle.
    public func offlineCacheSource(direction: Direction) async throws -> OfflineCacheSource {
        try await writer.read { db in
            // `status = 'active'` as a literal, so the partial index applies.
            let bundles = try Row.fetchAll(
                db, sql: "SELECT * FROM bundles WHERE direction = ? AND status = 'active' ORDER BY ubr",
                arguments: [direction.rawValue]
            ).map { try Rows.bundle(from: $0, db) }
            var ccrns: [CCRN: OfflineCacheSource.CCRNFacts] = [:]
            let facts = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.ccrn, c.valid_until, c.consignee_name
                    FROM bundles b
                    JOIN bundle_ccrns bc ON bc.ubr = b.ubr
                    JOIN consignments c ON c.ccrn = bc.ccrn
                    WHERE b.direction = ? AND b.status = 'active'
                    """,
                arguments: [direction.rawValue])
            for row in facts {
                let (ccrn, fact) = try RowMapping.ccrnFacts(row)
                ccrns[ccrn] = fact
            }
            let watchList = try Row.fetchAll(db, sql: "SELECT * FROM watch_list ORDER BY id")
                .map { try RowMapping.watchEntry($0).target }
            return OfflineCacheSource(
                bundles: bundles, ccrns: ccrns, watchList: watchList,
                feedPosition: try Self.cacheFeedPosition(db))
        }
    }

    public func recordCachePush(
        lane: LaneID, floor: UInt64, cause: CachePushCause, requestedBy: String?, bundles: Int,
        watchTargets: Int, omitted: Int, chunks: Int, at now: Date
    ) async throws -> CachePushRecord {
        let now = Self.normalised(now)
        // SQLite integers are signed; a floor past Int64 is a broken clock.
        let floor = Int64(clamping: floor)
        return try await transaction { db in
            let last = try Int64.fetchOne(db, sql: "SELECT max(generation) FROM cache_pushes") ?? 0
            let generation = max(floor, last + 1)
            try db.execute(
                sql: """
                    INSERT INTO cache_pushes(generation, lane_id, pushed_at, cause, requested_by, bundles,
                        watch_targets, omitted, chunks)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    generation, lane.value, Column.millis(now), cause.rawValue, requestedBy, bundles,
                    watchTargets, omitted, chunks,
                ])
            return CachePushRecord(
                generation: UInt64(generation), lane: lane, pushedAt: now, cause: cause,
                requestedBy: requestedBy, bundles: bundles, watchTargets: watchTargets, omitted: omitted,
                chunks: chunks)
        }
    }

    public func cachePushes(lane: LaneID, limit: Int) async throws -> [CachePushRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM cache_pushes WHERE lane_id = ? ORDER BY generation DESC LIMIT ?",
                arguments: [lane.value, max(0, limit)]
            ).map(RowMapping.cachePush)
        }
    }
}
