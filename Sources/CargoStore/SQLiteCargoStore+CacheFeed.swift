import Foundation
import GRDB
import RoadCargo

/// What changed, since a feed position, in what lanes cache: read from
/// `cache_changes` (filled by triggers in the transaction of every change)
/// together with each changed bundle's state now, in one read transaction.
public struct CacheChangeBatch: Sendable, Hashable {
    /// A bundle named by the feed, as it is now.
    public enum Change: Sendable, Hashable {
        /// Active: lanes should hold it (its CCRNs' facts are in ``CacheChangeBatch/ccrns``).
        case active(CargoBundle)
        /// Claimed by a passage, used or debundled: lanes should drop it.
        case ended(direction: Direction, ubr: UBR)

        public var direction: Direction {
            switch self {
            case .active(let b): b.direction
            case .ended(let direction, _): direction
            }
        }
    }

    /// The feed position this batch starts after.
    public var after: Int64
    /// The last change read: the next read starts after it (`after` when
    /// nothing changed).
    public var through: Int64
    /// The first change read (nil when nothing changed).
    public var first: Int64?
    /// How many feed rows the batch read (at most the limit asked for).
    public var rows: Int
    /// One entry per bundle named, in the order first named.
    public var changes: [Change]
    /// The facts of every CCRN of the active bundles in ``changes``.
    public var ccrns: [CCRN: OfflineCacheSource.CCRNFacts]
    /// The whole watch list, when lanes need it again: it changed, or an
    /// active bundle in ``changes`` has a CCRN whose consignee is watched.
    public var watchList: [WatchTarget]?
    /// With ``watchList``: per direction, the CCRNs of active bundles whose
    /// consignee is watched (a lane matches them as CCRNs; see `OfflineCache`).
    public var watchedCCRNs: [Direction: [CCRN]]

    public init(
        after: Int64, through: Int64, first: Int64?, rows: Int, changes: [Change],
        ccrns: [CCRN: OfflineCacheSource.CCRNFacts], watchList: [WatchTarget]?,
        watchedCCRNs: [Direction: [CCRN]]
    ) {
        self.after = after
        self.through = through
        self.first = first
        self.rows = rows
        self.changes = changes
        self.ccrns = ccrns
        self.watchList = watchList
        self.watchedCCRNs = watchedCCRNs
    }

    /// Whether a lane whose cache is current through `position` (at least
    /// ``after``) missed changes that are gone from the feed (pruned), so
    /// that deltas cannot bring it up to date: it needs a full push.
    public func missed(from position: Int64) -> Bool {
        guard let first else { return false }
        return first > position + 1
    }
}

// The change feed behind lanes' live caches (docs/store.md, "Cache feed").
extension SQLiteCargoStore {
    public func cacheChanges(after position: Int64, limit: Int) async throws -> CacheChangeBatch {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT seq, direction, ubr FROM cache_changes WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [position, max(1, limit)])
            guard let first = rows.first else {
                return CacheChangeBatch(
                    after: position, through: position, first: nil, rows: 0, changes: [], ccrns: [:],
                    watchList: nil, watchedCCRNs: [:])
            }
            let firstSeq: Int64 = first["seq"]
            let through: Int64 = rows.last!["seq"]
            var watchChanged = false
            var seen: Set<Int64> = []
            var changes: [CacheChangeBatch.Change] = []
            var ccrns: [CCRN: OfflineCacheSource.CCRNFacts] = [:]
            let bundleSQL = try db.cachedStatement(sql: "SELECT * FROM bundles WHERE ubr = ?")
            let factsSQL = try db.cachedStatement(
                sql: """
                    SELECT c.ccrn, c.valid_until, c.consignee_name
                    FROM bundle_ccrns bc JOIN consignments c ON c.ccrn = bc.ccrn
                    WHERE bc.ubr = ?
                    """)
            for row in rows {
                guard let ubr = row["ubr"] as Int64? else {
                    watchChanged = true
                    continue
                }
                guard seen.insert(ubr).inserted else { continue }
                if let bundleRow = try Row.fetchOne(bundleSQL, arguments: [ubr]),
                    bundleRow["status"] as String == BundleStatus.active.rawValue
                {
                    changes.append(.active(try Rows.bundle(from: bundleRow, db)))
                    for fact in try Row.fetchAll(factsSQL, arguments: [ubr]) {
                        let (ccrn, facts) = try RowMapping.ccrnFacts(fact)
                        ccrns[ccrn] = facts
                    }
                } else {
                    let direction: String = row["direction"]
                    changes.append(
                        .ended(
                            direction: try Rows.decodeEnum(
                                Direction.self, direction, "cache_changes.direction"),
                            ubr: Column.ubr(ubr)))
                }
            }
            let watchedConsignees = Set(
                try String.fetchAll(db, sql: "SELECT value FROM watch_list WHERE kind = 'consignee'"))
            let touchesWatched = ccrns.values.contains { watchedConsignees.contains($0.consignee) }
            var watchList: [WatchTarget]?
            var watchedCCRNs: [Direction: [CCRN]] = [:]
            if watchChanged || touchesWatched {
                watchList = try Row.fetchAll(db, sql: "SELECT * FROM watch_list ORDER BY id")
                    .map { try RowMapping.watchEntry($0).target }
                for row in try Row.fetchAll(
                    db,
                    sql: """
                        SELECT b.direction, c.ccrn FROM watch_list w
                        JOIN consignments c ON c.consignee_name = w.value
                        JOIN bundle_ccrns bc ON bc.ccrn = c.ccrn
                        JOIN bundles b ON b.ubr = bc.ubr AND b.status = 'active'
                        WHERE w.kind = 'consignee'
                        GROUP BY b.direction, c.ccrn ORDER BY b.ubr, bc.position
                        """)
                {
                    let direction = try Rows.decodeEnum(Direction.self, row["direction"], "bundles.direction")
                    watchedCCRNs[direction, default: []].append(Column.ccrn(row["ccrn"]))
                }
            }
            return CacheChangeBatch(
                after: position, through: through, first: firstSeq, rows: rows.count, changes: changes,
                ccrns: ccrns, watchList: watchList, watchedCCRNs: watchedCCRNs)
        }
    }

    public func pruneCacheChanges(keeping: Int) async throws -> Int {
        try await transaction { db in
            try db.execute(
                sql: "DELETE FROM cache_changes WHERE seq <= (SELECT max(seq) FROM cache_changes) - ?",
                arguments: [max(0, keeping)])
            return db.changesCount
        }
    }

    /// The feed position a snapshot read in `db` is current through.
    static func cacheFeedPosition(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'cache_changes'") ?? 0
    }
}
