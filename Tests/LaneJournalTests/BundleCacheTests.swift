import Foundation
import LaneCore
import RoadCargo
import Testing

@testable import LaneJournal

@Suite("Offline bundle cache")
struct BundleCacheTests {
    let directory: TemporaryDirectory
    let clock = SimulatedWallClock(morning)
    let journal: LaneJournal

    init() async throws {
        directory = try TemporaryDirectory()
        journal = try await LaneJournal.open(path: directory.path("lane.sqlite"), clock: clock)
    }

    static func bundle(
        _ payload: UInt64, _ plate: String, _ direction: Direction = .inbound, status: BundleStatus = .active,
        ccrns: Int = 2
    ) -> OfflineBundle {
        OfflineBundle(
            ubr: UBR(payload: payload), vrn: vrn(plate), direction: direction,
            earliestCrossing: morning.addingTimeInterval(Double(payload % 1000) + 0.5), status: status,
            ccrns: (0..<ccrns).map {
                OfflineBundle.Item(
                    ccrn: CCRN(payload: payload * 10 + UInt64($0)),
                    validUntil: CalendarDay(daysSinceEpoch: 20_790 + $0))
            })
    }

    static let watch: [WatchTarget] = [
        .vrn(vrn("XY9")), .ccrn(CCRN(payload: 5)), .consignee("Wilson  development ltd"),
    ]

    @Test func theActiveBundleForAVRNAndDirectionIsFoundWithItsCCRNsInOrder() async throws {
        let inbound = Self.bundle(11, "AB1234", ccrns: 3)
        try await journal.replaceCache(
            generation: 1,
            bundles: [
                inbound, Self.bundle(12, "AB1234", .outbound), Self.bundle(13, "CD5678", status: .used),
                Self.bundle(14, "CD5678", status: .debundled),
            ], watchList: Self.watch)
        #expect(try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) == inbound)
        #expect(
            try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .outbound)?.ubr == UBR(payload: 12))
        // Used and debundled bundles do not clear anyone.
        #expect(try await journal.cachedBundle(vrn: vrn("CD5678"), direction: .inbound) == nil)
        #expect(try await journal.cachedBundle(vrn: vrn("XY9"), direction: .inbound) == nil)
        #expect(
            Set(try await journal.cachedWatchList())
                == [.vrn(vrn("XY9")), .ccrn(CCRN(payload: 5)), .consignee("WILSON DEVELOPMENT LTD")])
        let generation = try #require(try await journal.cacheGeneration())
        #expect(generation.generation == 1 && generation.bundles == 4 && generation.watchTargets == 3)
    }

    @Test func aNewGenerationReplacesTheWholeCache() async throws {
        try await journal.replaceCache(
            generation: 1, bundles: [Self.bundle(11, "AB1234")], watchList: Self.watch)
        try await journal.replaceCache(generation: 2, bundles: [Self.bundle(21, "CD5678")], watchList: [])
        #expect(try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) == nil)
        #expect(
            try await journal.cachedBundle(vrn: vrn("CD5678"), direction: .inbound)?.ubr == UBR(payload: 21))
        #expect(try await journal.cachedWatchList().isEmpty)
    }

    @Test func aGenerationWithADuplicateUBRIsRefusedAndTheOldCacheStays() async throws {
        try await journal.replaceCache(generation: 1, bundles: [Self.bundle(11, "AB1234")], watchList: [])
        await #expect(throws: (any Error).self) {
            try await journal.replaceCache(
                generation: 2, bundles: [Self.bundle(21, "CD5678"), Self.bundle(21, "XY9")], watchList: [])
        }
        #expect(try await journal.cacheGeneration()?.generation == 1)
        #expect(try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) != nil)
    }

    @Test func chunksInstallOnlyWhenAllHaveComeInAnyOrderAcrossARestart() async throws {
        let b1 = Self.bundle(31, "AB1234")
        let b2 = Self.bundle(32, "CD5678")
        #expect(
            try await journal.stageCacheChunk(
                generation: 7, index: 2, count: 3, bundles: [], watchList: Self.watch)
                == .staged(have: 1, of: 3))
        #expect(
            try await journal.stageCacheChunk(generation: 7, index: 0, count: 3, bundles: [b1], watchList: [])
                == .staged(have: 2, of: 3))
        // Half a generation is never decided from.
        #expect(try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) == nil)
        let reopened = try await LaneJournal.open(path: directory.path("lane.sqlite"), clock: clock)
        let outcome = try await reopened.stageCacheChunk(
            generation: 7, index: 1, count: 3, bundles: [b2], watchList: [])
        guard case .installed(let generation) = outcome else {
            Issue.record("expected the generation to install, got \(outcome)")
            return
        }
        #expect(generation.generation == 7 && generation.bundles == 2 && generation.watchTargets == 3)
        #expect(try await reopened.cachedBundle(vrn: vrn("CD5678"), direction: .inbound) == b2)
        // A resend of a chunk of the installed generation changes nothing.
        #expect(
            try await reopened.stageCacheChunk(generation: 7, index: 0, count: 3, bundles: [], watchList: [])
                == .stale(installed: 7))
        #expect(try await reopened.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) == b1)
    }

    @Test func aNewerGenerationDropsTheStagedChunksOfAnOlderOne() async throws {
        _ = try await journal.stageCacheChunk(
            generation: 3, index: 0, count: 2, bundles: [Self.bundle(31, "AB1234")], watchList: [])
        _ = try await journal.stageCacheChunk(
            generation: 4, index: 0, count: 2, bundles: [Self.bundle(41, "CD5678")], watchList: [])
        // Generation 3's last chunk comes late: its generation is gone.
        #expect(
            try await journal.stageCacheChunk(generation: 3, index: 1, count: 2, bundles: [], watchList: [])
                == .superseded(staging: 4))
        let outcome = try await journal.stageCacheChunk(
            generation: 4, index: 1, count: 2, bundles: [], watchList: [])
        guard case .installed = outcome else {
            Issue.record("expected generation 4 to install, got \(outcome)")
            return
        }
        #expect(try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) == nil)
        #expect(try await journal.cachedBundle(vrn: vrn("CD5678"), direction: .inbound) != nil)
    }

    @Test func chunksThatDoNotFitTheirGenerationAreRefusedWithTheReason() async throws {
        await #expect(
            throws: JournalError.cacheChunk(
                generation: 5, index: 3, count: 3, why: "the index must be below the count")
        ) {
            try await journal.stageCacheChunk(generation: 5, index: 3, count: 3, bundles: [], watchList: [])
        }
        _ = try await journal.stageCacheChunk(generation: 5, index: 0, count: 3, bundles: [], watchList: [])
        await #expect(
            throws: JournalError.cacheChunk(
                generation: 5, index: 1, count: 4, why: "its other chunks say the generation has 3")
        ) {
            try await journal.stageCacheChunk(generation: 5, index: 1, count: 4, bundles: [], watchList: [])
        }
    }

    @Test func aBundleUsedHereOfflineStaysUsedUntilCentralStopsListingIt() async throws {
        let b = Self.bundle(51, "AB1234")
        try await journal.replaceCache(generation: 1, bundles: [b], watchList: [])
        try await journal.markCachedBundleUsed(b.ubr)
        #expect(try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) == nil)
        // Central has not heard of the crossing yet and still lists it active.
        try await journal.replaceCache(generation: 2, bundles: [b], watchList: [])
        #expect(try await journal.cachedBundle(vrn: vrn("AB1234"), direction: .inbound) == nil)
        // Once central stops listing it, the lane's mark goes with it.
        try await journal.replaceCache(generation: 3, bundles: [Self.bundle(52, "CD5678")], watchList: [])
        let marks = try journal.writer.readNow { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM cache_bundle WHERE used_here_at IS NOT NULL")
        }
        #expect(marks == 0)
    }
}
