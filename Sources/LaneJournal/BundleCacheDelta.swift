import Foundation
import GRDB
import RoadCargo

/// One change of a numbered cache delta, as the journal applies it.
public enum CacheDeltaChange: Sendable, Hashable {
    /// The bundle is active at central (new or changed): hold it as given.
    case put(OfflineBundle)
    /// The bundle is no longer active at central: drop it.
    case drop(UBR)
    /// The whole watch list as it is now.
    case watchList([WatchTarget])
}

/// What ``LaneJournal/applyCacheDelta(generation:sequence:changes:limit:in:)`` did.
public enum CacheDeltaOutcome: Sendable, Hashable {
    /// Applied: the cache is now `version`. `refused` lists bundles left
    /// out because the cache already held ``LaneJournal/cacheBundleLimit``.
    case applied(version: CacheVersion, refused: [UBR])
    /// The cache is already at this version or past it (a resend, or a
    /// delta of an older generation): nothing changed.
    case stale(have: CacheVersion)
    /// The delta does not follow what the cache holds (a number was missed,
    /// it belongs to a generation not installed, or there is no cache):
    /// nothing changed; the lane needs a full push.
    case gap(have: CacheVersion?)
}

// Central sends changes after a full push as deltas numbered 1, 2, 3, ... per
// generation (docs/link-protocol.md, "Cache pushes and deltas"). A delta
// applies whole, in one transaction, and only directly on top of the version
// before it, so the cache is always exactly some version central sent.
extension LaneJournal {
    /// The most bundles the cache holds. A lane facing 10,000 active bundles
    /// holds about 2.2 MB (docs/offline.md); the bound keeps a runaway store
    /// or a bug at central from filling the lane's disk. Central bounds its
    /// pushes to the same number.
    public static let cacheBundleLimit = 50_000

    /// Applies one delta if it is the next of the installed generation.
    /// Bundles this lane used offline stay used (as after a full push), and
    /// a drop keeps such a row so that a later put cannot revive it.
    /// - Parameter limit: the most bundles to hold (smaller only in tests).
    public func applyCacheDelta(
        generation: UInt64, sequence: UInt64, changes: [CacheDeltaChange], limit: Int = cacheBundleLimit,
        in db: Database
    ) throws -> CacheDeltaOutcome {
        guard let current = try cacheGeneration(db) else { return .gap(have: nil) }
        let have = current.version
        if generation < current.generation || (generation == current.generation && sequence <= have.sequence)
        {
            return .stale(have: have)
        }
        guard generation == current.generation, sequence == have.sequence + 1 else { return .gap(have: have) }
        var held = try Int.fetchOne(db, sql: "SELECT count(*) FROM cache_bundle") ?? 0
        var refused: [UBR] = []
        for change in changes {
            switch change {
            case .put(let bundle):
                let known =
                    try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM cache_bundle WHERE ubr = ?", arguments: [bundle.ubr.value])
                    ?? false
                if !known && held >= limit {
                    refused.append(bundle.ubr)
                    continue
                }
                try put(bundle, db)
                if !known { held += 1 }
            case .drop(let ubr):
                try db.execute(
                    sql: "DELETE FROM cache_bundle WHERE ubr = ? AND used_here_at IS NULL",
                    arguments: [ubr.value])
                held -= db.changesCount
            case .watchList(let targets):
                try db.execute(sql: "DELETE FROM cache_watch")
                let insert = try db.makeStatement(
                    sql: "INSERT OR IGNORE INTO cache_watch (kind, value) VALUES (?, ?)")
                for target in targets { try insert.execute(arguments: [target.kind, target.value]) }
            }
        }
        try db.execute(
            sql: """
                UPDATE cache_generation SET sequence = ?, bundles = ?,
                    watch_targets = (SELECT count(*) FROM cache_watch)
                WHERE id = 1
                """,
            arguments: [JournalSchema.stored(sequence), held])
        return .applied(version: CacheVersion(generation: generation, sequence: sequence), refused: refused)
    }

    /// ``applyCacheDelta(generation:sequence:changes:limit:in:)`` in a transaction of its own.
    public func applyCacheDelta(
        generation: UInt64, sequence: UInt64, changes: [CacheDeltaChange], limit: Int = cacheBundleLimit
    ) async throws -> CacheDeltaOutcome {
        try await writer.write { db in
            try applyCacheDelta(
                generation: generation, sequence: sequence, changes: changes, limit: limit, in: db)
        }
    }

    /// Notes that the lane asks central for a full push while holding
    /// `have`, and says whether to send the request: once per version held,
    /// again only after `every` (the request, or central's answer, may have
    /// been lost to a central restart), so a stream of deltas after one gap
    /// does not become a stream of requests.
    public func noteResyncAsked(have: CacheVersion?, at: Date, every: TimeInterval = 60, in db: Database)
        throws -> Bool
    {
        let g = have.map { JournalSchema.stored($0.generation) }
        let s = have.map { JournalSchema.stored($0.sequence) }
        if let row = try Row.fetchOne(
            db, sql: "SELECT have_generation, have_sequence, asked_at FROM cache_resync WHERE id = 1"),
            row["have_generation"] as Int64? == g, row["have_sequence"] as Int64? == s,
            JournalTime.date(micros: row["asked_at"]).addingTimeInterval(every) > at
        {
            return false
        }
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO cache_resync (id, have_generation, have_sequence, asked_at)
                VALUES (1, ?, ?, ?)
                """,
            arguments: [g, s, JournalTime.micros(at)])
        return true
    }

    private func put(_ b: OfflineBundle, _ db: Database) throws {
        // A bundle that crossed here offline stays used whatever central
        // says, until central stops listing it: central may not know yet.
        try db.execute(
            sql: """
                INSERT INTO cache_bundle (ubr, vrn, direction, earliest_crossing, status) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (ubr) DO UPDATE SET vrn = excluded.vrn, direction = excluded.direction,
                    earliest_crossing = excluded.earliest_crossing,
                    status = CASE WHEN used_here_at IS NULL THEN excluded.status ELSE 'used' END
                """,
            arguments: [
                b.ubr.value, b.vrn.value, b.direction.rawValue, JournalTime.micros(b.earliestCrossing),
                b.status.rawValue,
            ])
        try db.execute(sql: "DELETE FROM cache_ccrn WHERE ubr = ?", arguments: [b.ubr.value])
        let insert = try db.makeStatement(
            sql: "INSERT INTO cache_ccrn (ubr, position, ccrn, valid_until) VALUES (?, ?, ?, ?)")
        for (position, item) in b.ccrns.enumerated() {
            try insert.execute(arguments: [
                b.ubr.value, position, item.ccrn.value, item.validUntil.description,
            ])
        }
    }
}
