import Foundation
import GRDB
import LaneCore
import RoadCargo
import Testing

@testable import LaneJournal

@Suite("Bundle cache deltas")
struct BundleCacheDeltaTests {
    let directory: TemporaryDirectory
    let clock = SimulatedWallClock(morning)
    let journal: LaneJournal

    init() async throws {
        directory = try TemporaryDirectory()
        journal = try await LaneJournal.open(path: directory.path("lane.sqlite"), clock: clock)
    }

    static func bundle(_ payload: UInt64, _ plate: String) -> OfflineBundle {
        BundleCacheTests.bundle(payload, plate)
    }

    func active(_ plate: String) async throws -> UBR? {
        try await journal.cachedBundle(vrn: vrn(plate), direction: .inbound)?.ubr
    }

    @Test func deltasApplyInOrderAndTheVersionFollows() async throws {
        try await journal.replaceCache(generation: 4, bundles: [Self.bundle(11, "AB1234")], watchList: [])
        #expect(try await journal.cacheVersion() == CacheVersion(generation: 4, sequence: 0))
        #expect(
            try await journal.applyCacheDelta(
                generation: 4, sequence: 1,
                changes: [.put(Self.bundle(12, "CD5678")), .drop(UBR(payload: 11))])
                == .applied(version: CacheVersion(generation: 4, sequence: 1), refused: []))
        #expect(try await active("AB1234") == nil, "debundled at central: gone from the cache")
        #expect(try await active("CD5678") == UBR(payload: 12))
        let watch: [WatchTarget] = [.vrn(vrn("XY9")), .ccrn(CCRN(payload: 5))]
        #expect(
            try await journal.applyCacheDelta(generation: 4, sequence: 2, changes: [.watchList(watch)])
                == .applied(version: CacheVersion(generation: 4, sequence: 2), refused: []))
        #expect(Set(try await journal.cachedWatchList()) == Set(watch))
        _ = try await journal.applyCacheDelta(generation: 4, sequence: 3, changes: [.watchList([])])
        #expect(try await journal.cachedWatchList().isEmpty, "a target removed at central is removed here")
        let generation = try #require(try await journal.cacheGeneration())
        #expect(generation.sequence == 3 && generation.bundles == 1 && generation.watchTargets == 0)
    }

    @Test func aPutOfAChangedBundleReplacesItsCCRNs() async throws {
        try await journal.replaceCache(generation: 1, bundles: [Self.bundle(11, "AB1234")], watchList: [])
        var amended = Self.bundle(11, "AB1234")
        amended.ccrns = [.init(ccrn: CCRN(payload: 999), validUntil: CalendarDay(daysSinceEpoch: 20_800))]
        _ = try await journal.applyCacheDelta(generation: 1, sequence: 1, changes: [.put(amended)])
        #expect(try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) == amended)
    }

    @Test func aResentOrOlderDeltaIsStaleAndChangesNothing() async throws {
        try await journal.replaceCache(generation: 4, bundles: [Self.bundle(11, "AB1234")], watchList: [])
        _ = try await journal.applyCacheDelta(generation: 4, sequence: 1, changes: [])
        let have = CacheVersion(generation: 4, sequence: 1)
        #expect(
            try await journal.applyCacheDelta(generation: 4, sequence: 1, changes: [.drop(UBR(payload: 11))])
                == .stale(have: have))
        #expect(
            try await journal.applyCacheDelta(generation: 3, sequence: 9, changes: [.drop(UBR(payload: 11))])
                == .stale(have: have))
        #expect(try await active("AB1234") == UBR(payload: 11))
        #expect(try await journal.cacheVersion() == have)
    }

    @Test func aGapAnotherGenerationOrNoCacheAppliesNothingAndSaysWhatTheLaneHas() async throws {
        #expect(
            try await journal.applyCacheDelta(
                generation: 4, sequence: 1, changes: [.put(Self.bundle(11, "AB1234"))])
                == .gap(have: nil))
        #expect(try await active("AB1234") == nil)
        try await journal.replaceCache(generation: 4, bundles: [], watchList: [])
        let have = CacheVersion(generation: 4, sequence: 0)
        #expect(
            try await journal.applyCacheDelta(
                generation: 4, sequence: 2, changes: [.put(Self.bundle(11, "AB1234"))])
                == .gap(have: have))
        #expect(
            try await journal.applyCacheDelta(
                generation: 5, sequence: 1, changes: [.put(Self.bundle(11, "AB1234"))])
                == .gap(have: have))
        #expect(try await active("AB1234") == nil)
        #expect(try await journal.cacheVersion() == have)
    }

    @Test func aBundleUsedHereStaysUsedThroughPutsAndDrops() async throws {
        let b = Self.bundle(51, "AB1234")
        try await journal.replaceCache(generation: 1, bundles: [b], watchList: [])
        try await journal.markCachedBundleUsed(b.ubr)
        // Central has not reconciled the crossing yet and sends the bundle again.
        _ = try await journal.applyCacheDelta(generation: 1, sequence: 1, changes: [.put(b)])
        #expect(try await active("AB1234") == nil)
        // Dropped and put back (another passage's claim released): still used here.
        _ = try await journal.applyCacheDelta(generation: 1, sequence: 2, changes: [.drop(b.ubr)])
        _ = try await journal.applyCacheDelta(generation: 1, sequence: 3, changes: [.put(b)])
        #expect(try await active("AB1234") == nil)
    }

    @Test func aRestartKeepsTheVersionAndAFullPushStartsAgainAtZero() async throws {
        try await journal.replaceCache(generation: 2, bundles: [], watchList: [])
        _ = try await journal.applyCacheDelta(
            generation: 2, sequence: 1, changes: [.put(Self.bundle(11, "AB1234"))])
        _ = try await journal.applyCacheDelta(generation: 2, sequence: 2, changes: [])
        let reopened = try await LaneJournal.open(path: directory.path("lane.sqlite"), clock: clock)
        #expect(try await reopened.cacheVersion() == CacheVersion(generation: 2, sequence: 2))
        #expect(try await reopened.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) != nil)
        #expect(
            try await reopened.applyCacheDelta(generation: 2, sequence: 3, changes: [])
                == .applied(version: CacheVersion(generation: 2, sequence: 3), refused: []))
        try await reopened.replaceCache(generation: 3, bundles: [], watchList: [])
        #expect(try await reopened.cacheVersion() == CacheVersion(generation: 3, sequence: 0))
    }

    @Test func aFullCacheRefusesNewBundlesButStillChangesThoseItHolds() async throws {
        try await journal.replaceCache(
            generation: 1, bundles: [Self.bundle(11, "AB1234"), Self.bundle(12, "CD5678")], watchList: [])
        var amended = Self.bundle(12, "CD5678")
        amended.earliestCrossing = morning.addingTimeInterval(7200)
        #expect(
            try await journal.applyCacheDelta(
                generation: 1, sequence: 1, changes: [.put(Self.bundle(13, "EF9012")), .put(amended)],
                limit: 2)
                == .applied(version: CacheVersion(generation: 1, sequence: 1), refused: [UBR(payload: 13)]))
        #expect(try await active("EF9012") == nil, "offline, that truck finds no bundle: inspection")
        #expect(try await journal.cachedBundle(vrn: vrn("CD5678"), direction: .inbound) == amended)
        // A drop makes room.
        #expect(
            try await journal.applyCacheDelta(
                generation: 1, sequence: 2,
                changes: [.drop(UBR(payload: 11)), .put(Self.bundle(13, "EF9012"))],
                limit: 2) == .applied(version: CacheVersion(generation: 1, sequence: 2), refused: []))
        #expect(try await active("EF9012") == UBR(payload: 13))
    }

    @Test func aResyncIsAskedOncePerVersionHeldAndAgainAfterAMinute() async throws {
        let v1 = CacheVersion(generation: 2, sequence: 1)
        func ask(_ have: CacheVersion?, after seconds: Double = 0) async throws -> Bool {
            clock.advance(by: seconds)
            let now = clock.now()
            return try await journal.writer.write { db in
                try journal.noteResyncAsked(have: have, at: now, in: db)
            }
        }
        #expect(try await ask(nil))
        #expect(try await ask(nil, after: 1) == false)
        #expect(try await ask(v1))
        #expect(try await ask(v1, after: 30) == false)
        #expect(try await ask(v1, after: 31), "a minute without an answer: ask again")
    }
}

/// What a lane holds for its cache grows with the bundles and stays small:
/// 1,000 bundles of two CCRNs in well under half a megabyte. The figures for
/// 10,000 (bytes and install time, beside bare SQLite) come from
/// scripts/bench-cache.sh, not from a test (docs/lane-dispatch.md, "Size").
@Suite("Bundle cache size")
struct BundleCacheSizeTests {
    @Test func aThousandActiveBundlesHoldWellUnderHalfAMegabyte() async throws {
        let directory = try TemporaryDirectory()
        let journal = try await LaneJournal.open(
            path: directory.path("lane.sqlite"), clock: SimulatedWallClock(morning))
        let empty = try await Self.bytes(journal)
        // Two CCRNs a bundle, as most trucks carry one to three consignments,
        // staged as a push arrives: chunks of 79, the last one installing.
        let bundles = (1...1_000).map { n in BundleCacheTests.bundle(UInt64(n), "AB\(n)", ccrns: 2) }
        let per = 79
        let count = (bundles.count + per - 1) / per
        for index in 0..<count {
            _ = try await journal.stageCacheChunk(
                generation: 1, index: index, count: count,
                bundles: Array(bundles[(index * per)..<min(bundles.count, (index + 1) * per)]), watchList: [])
        }
        let held = try await Self.bytes(journal) - empty
        #expect(held > 100_000 && held < 400_000, "\(held) bytes")
        #expect(try await journal.cacheGeneration()?.bundles == 1_000)
    }

    /// The journal's pages in use, once the WAL is checkpointed into the file.
    static func bytes(_ journal: LaneJournal) async throws -> Int {
        try await journal.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let size = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return (pages - free) * size
        }
    }
}
