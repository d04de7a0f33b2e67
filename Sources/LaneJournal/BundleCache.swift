import Foundation
import GRDB
import RoadCargo

/// A bundle as the lane's offline cache holds it: what rule 1 needs, no
/// more (central keeps driver names and accounts to itself).
public struct OfflineBundle: Sendable, Hashable, Codable {
    /// A CCRN of the bundle and the last Hong Kong day it may cross.
    public struct Item: Sendable, Hashable, Codable {
        public var ccrn: CCRN
        public var validUntil: CalendarDay

        public init(ccrn: CCRN, validUntil: CalendarDay) {
            self.ccrn = ccrn
            self.validUntil = validUntil
        }
    }

    public var ubr: UBR
    public var vrn: VRN
    public var direction: Direction
    public var earliestCrossing: Date
    public var status: BundleStatus
    public var ccrns: [Item]

    public init(
        ubr: UBR, vrn: VRN, direction: Direction, earliestCrossing: Date, status: BundleStatus, ccrns: [Item]
    ) {
        self.ubr = ubr
        self.vrn = vrn
        self.direction = direction
        self.earliestCrossing = earliestCrossing
        self.status = status
        self.ccrns = ccrns
    }
}

/// The cache generation the lane decides from in offline mode.
public struct CacheGeneration: Sendable, Hashable {
    public var generation: UInt64
    public var installedAt: Date
    public var bundles: Int
    public var watchTargets: Int
    /// The last delta applied on top of the generation (0 right after a
    /// full push).
    public var sequence: UInt64 = 0

    /// What offline decisions are made with now.
    public var version: CacheVersion { CacheVersion(generation: generation, sequence: sequence) }
}

/// What ``LaneJournal/stageCacheChunk(generation:index:count:bundles:watchList:at:)`` did with a chunk.
public enum CacheChunkOutcome: Sendable, Hashable {
    /// Kept; the generation still lacks chunks.
    case staged(have: Int, of: Int)
    /// The last missing chunk: the generation is now the cache.
    case installed(CacheGeneration)
    /// The cache already holds this generation or a newer one (a resend).
    case stale(installed: UInt64)
    /// Chunks of a newer generation are being staged; this one is dropped.
    case superseded(staging: UInt64)
}

// Central pushes the cache in generations of chunks. The lane swaps a whole
// generation in one transaction, never half of one, so an offline decision
// sees either the old cache or the new one.
extension LaneJournal {
    /// Replaces the whole cache with one generation, atomically. Bundles the
    /// lane has marked used itself (``markCachedBundleUsed(_:at:)``) stay used
    /// when the new generation still lists them, since central may not yet
    /// know what the lane did offline.
    @discardableResult
    public func replaceCache(
        generation: UInt64, bundles: [OfflineBundle], watchList: [WatchTarget], at: Date? = nil
    ) async throws -> CacheGeneration {
        let time = at ?? clock.now()
        return try await writer.write { db in
            try install(db, generation: generation, bundles: bundles, watchList: watchList, at: time)
        }
    }

    /// Keeps one chunk of a push and installs the generation once all its
    /// chunks are here. Chunks survive a restart. A chunk of a newer
    /// generation drops the staged chunks of older ones; a late chunk of an
    /// older generation is dropped itself.
    /// - Throws: ``JournalError/cacheChunk(generation:index:count:why:)`` for
    ///   an index out of range or a count that differs from the generation's
    ///   other chunks.
    public func stageCacheChunk(
        generation: UInt64, index: Int, count: Int, bundles: [OfflineBundle], watchList: [WatchTarget],
        at: Date? = nil
    ) async throws -> CacheChunkOutcome {
        let time = at ?? clock.now()
        @Sendable func refuse(_ why: String) -> JournalError {
            .cacheChunk(generation: generation, index: index, count: count, why: why)
        }
        guard count >= 1, (0..<count).contains(index) else {
            throw refuse("the index must be below the count")
        }
        return try await writer.write { db in
            if let current = try cacheGeneration(db), current.generation >= generation {
                return .stale(installed: current.generation)
            }
            if let newer = try Int64.fetchOne(db, sql: "SELECT max(generation) FROM cache_staged_chunk"),
                JournalSchema.loaded(newer) > generation
            {
                return .superseded(staging: JournalSchema.loaded(newer))
            }
            let g = JournalSchema.stored(generation)
            try db.execute(sql: "DELETE FROM cache_staged_chunk WHERE generation <> ?", arguments: [g])
            if let other = try Int.fetchOne(
                db,
                sql: "SELECT chunk_count FROM cache_staged_chunk WHERE generation = ? AND chunk_count <> ?",
                arguments: [g, count])
            {
                throw refuse("its other chunks say the generation has \(other)")
            }
            let content = try JournalSchema.encode(StagedChunk(bundles: bundles, watchList: watchList))
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO cache_staged_chunk (generation, chunk_index, chunk_count, content)
                    VALUES (?, ?, ?, ?)
                    """,
                arguments: [g, index, count, content])
            let have =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM cache_staged_chunk WHERE generation = ?", arguments: [g])
                ?? 0
            guard have == count else { return .staged(have: have, of: count) }
            var allBundles: [OfflineBundle] = []
            var allWatch: [WatchTarget] = []
            let texts = try String.fetchAll(
                db, sql: "SELECT content FROM cache_staged_chunk WHERE generation = ? ORDER BY chunk_index",
                arguments: [g])
            for text in texts {
                let chunk = try JournalSchema.decode(StagedChunk.self, text)
                allBundles += chunk.bundles
                allWatch += chunk.watchList
            }
            try db.execute(sql: "DELETE FROM cache_staged_chunk")
            return .installed(
                try install(db, generation: generation, bundles: allBundles, watchList: allWatch, at: time))
        }
    }

    /// The generation installed, if any.
    public func cacheGeneration() async throws -> CacheGeneration? {
        try await writer.read { db in try cacheGeneration(db) }
    }

    /// The version offline decisions are made with now: the installed
    /// generation and the last delta applied on it; nil with no cache.
    public func cacheVersion() async throws -> CacheVersion? {
        try await cacheGeneration()?.version
    }

    /// The active bundle for `vrn` in `direction`, if the cache holds one.
    public func cachedBundle(vrn: VRN, direction: Direction) async throws -> OfflineBundle? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT ubr, earliest_crossing FROM cache_bundle
                        WHERE vrn = ? AND direction = ? AND status = 'active'
                        ORDER BY earliest_crossing DESC LIMIT 1
                        """,
                    arguments: [vrn.value, direction.rawValue])
            else { return nil }
            let raw: String = row["ubr"]
            guard let ubr = try? UBR(raw) else {
                throw JournalError.corruptRow(table: "cache_bundle", key: raw, column: "ubr", value: raw)
            }
            var items: [OfflineBundle.Item] = []
            for item in try Row.fetchAll(
                db, sql: "SELECT ccrn, valid_until FROM cache_ccrn WHERE ubr = ? ORDER BY position",
                arguments: [raw])
            {
                let ccrn: String = item["ccrn"]
                let day: String = item["valid_until"]
                guard let c = try? CCRN(ccrn) else {
                    throw JournalError.corruptRow(table: "cache_ccrn", key: raw, column: "ccrn", value: ccrn)
                }
                guard let d = try? CalendarDay(day) else {
                    throw JournalError.corruptRow(
                        table: "cache_ccrn", key: raw, column: "valid_until", value: day)
                }
                items.append(OfflineBundle.Item(ccrn: c, validUntil: d))
            }
            return OfflineBundle(
                ubr: ubr, vrn: vrn, direction: direction,
                earliestCrossing: JournalTime.date(micros: row["earliest_crossing"]), status: .active,
                ccrns: items)
        }
    }

    /// The officers' watch list as central last pushed it.
    public func cachedWatchList() async throws -> [WatchTarget] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, value FROM cache_watch ORDER BY kind, value").map { row in
                let kind: String = row["kind"]
                let value: String = row["value"]
                guard let target = try? WatchTarget(kind: kind, value: value) else {
                    throw JournalError.corruptRow(
                        table: "cache_watch", key: kind, column: "value", value: value)
                }
                return target
            }
        }
    }

    /// Marks a cached bundle used by a vehicle that left this lane on it in
    /// offline mode, so the cache does not clear a second crossing on it.
    /// Call it in the transaction that journals the vehicle leaving.
    public func markCachedBundleUsed(_ ubr: UBR, at: Date, in db: Database) throws {
        try db.execute(
            sql: "UPDATE cache_bundle SET status = 'used', used_here_at = ? WHERE ubr = ?",
            arguments: [JournalTime.micros(at), ubr.value])
    }

    /// ``markCachedBundleUsed(_:at:in:)`` in a transaction of its own.
    public func markCachedBundleUsed(_ ubr: UBR, at: Date? = nil) async throws {
        let time = at ?? clock.now()
        try await writer.write { db in try markCachedBundleUsed(ubr, at: time, in: db) }
    }

    private struct StagedChunk: Codable {
        var bundles: [OfflineBundle]
        var watchList: [WatchTarget]
    }

    func cacheGeneration(_ db: Database) throws -> CacheGeneration? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT generation, installed_at, bundles, watch_targets, sequence
                FROM cache_generation WHERE id = 1
                """
        ).map { row in
            CacheGeneration(
                generation: JournalSchema.loaded(row["generation"]),
                installedAt: JournalTime.date(micros: row["installed_at"]), bundles: row["bundles"],
                watchTargets: row["watch_targets"], sequence: JournalSchema.loaded(row["sequence"]))
        }
    }

    private func install(
        _ db: Database, generation: UInt64, bundles: [OfflineBundle], watchList: [WatchTarget], at: Date
    ) throws -> CacheGeneration {
        let usedHere = try Row.fetchAll(
            db, sql: "SELECT ubr, used_here_at FROM cache_bundle WHERE used_here_at IS NOT NULL")
        try db.execute(sql: "DELETE FROM cache_ccrn; DELETE FROM cache_bundle; DELETE FROM cache_watch")
        let bundleInsert = try db.makeStatement(
            sql:
                "INSERT INTO cache_bundle (ubr, vrn, direction, earliest_crossing, status) VALUES (?, ?, ?, ?, ?)"
        )
        let ccrnInsert = try db.makeStatement(
            sql: "INSERT INTO cache_ccrn (ubr, position, ccrn, valid_until) VALUES (?, ?, ?, ?)")
        for b in bundles {
            try bundleInsert.execute(arguments: [
                b.ubr.value, b.vrn.value, b.direction.rawValue, JournalTime.micros(b.earliestCrossing),
                b.status.rawValue,
            ])
            for (position, item) in b.ccrns.enumerated() {
                try ccrnInsert.execute(arguments: [
                    b.ubr.value, position, item.ccrn.value, item.validUntil.description,
                ])
            }
        }
        for row in usedHere {
            try db.execute(
                sql: "UPDATE cache_bundle SET status = 'used', used_here_at = ? WHERE ubr = ?",
                arguments: [row["used_here_at"] as Int64, row["ubr"] as String])
        }
        let watchInsert = try db.makeStatement(
            sql: "INSERT OR IGNORE INTO cache_watch (kind, value) VALUES (?, ?)")
        for target in watchList { try watchInsert.execute(arguments: [target.kind, target.value]) }
        let watchCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM cache_watch") ?? 0
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO cache_generation
                    (id, generation, installed_at, bundles, watch_targets, sequence)
                VALUES (1, ?, ?, ?, ?, 0)
                """,
            arguments: [JournalSchema.stored(generation), JournalTime.micros(at), bundles.count, watchCount])
        return CacheGeneration(
            generation: generation, installedAt: at, bundles: bundles.count, watchTargets: watchCount)
    }
}
