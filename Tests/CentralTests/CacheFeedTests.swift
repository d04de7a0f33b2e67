import CargoStore
import Central
import ClearanceCore
import Foundation
import GRDB
import LinkCore
import Logging
import RoadCargo
import TestKit
import Testing

/// The live bundle cache at central (issue 14, part 4): every change to
/// what lanes cache reaches a connected lane as a numbered delta after its
/// full push, through the real link.
@Suite("Live bundle cache: central's feed")
struct CacheFeedTests {
    static let other = LaneLinkRig.lmc2

    /// Store-level cargo, as the API would make it.
    struct Cargo {
        let store: SQLiteCargoStore
        let clock: SimulatedWallClock
        let officer = Account(name: "officer", role: .officer)

        func accounts(_ vrn: String) async throws -> (shipper: Account, driver: Account) {
            let shipper = Account(name: "shipper-\(vrn)", role: .shipper)
            let driver = Account(name: "driver-\(vrn)", role: .driver)
            _ = try? await store.addAccount(shipper)
            _ = try? await store.addAccount(driver)
            return (shipper, driver)
        }

        @discardableResult
        func bundle(_ vrn: String, _ direction: Direction = .inbound, consignee: String = "Winning Co Ltd")
            async throws -> CargoBundle
        {
            let (shipper, driver) = try await accounts(vrn)
            let consignment = try await store.submitConsignment(
                ConsignmentSubmission(
                    direction: direction, expectedDate: CalendarDay(containing: clock.now()).advanced(by: 1),
                    consignor: Party(
                        name: "Shenzhen Widgets Ltd", countryCode: "CN", addressLines: ["1 Shennan Road"]),
                    consignee: Party(name: consignee, countryCode: "HK", addressLines: ["2 Nathan Road"]),
                    goodsItems: [
                        GoodsItem(
                            description: "plastic widgets", packaging: Packaging(count: 10, kind: "CT"),
                            grossWeight: Measure(value: 550, unit: "KGM"))
                    ]), by: shipper, at: clock.now())
            return try await store.createBundle(
                BundleRequest(
                    driverName: "Ho Kin", vrn: try VRN(vrn), direction: direction, ccrns: [consignment.ccrn]),
                by: driver, at: clock.now())
        }

        func debundle(_ b: CargoBundle) async throws {
            _ = try await store.debundle(b.ubr, by: try await accounts(b.vrn.value).driver, at: clock.now())
        }
    }

    func rig() async throws -> (LaneLinkRig, Cargo) {
        let rig = try await LaneLinkRig()
        try await rig.h.store.putLane(Lane(id: Self.other, controlPoint: .lokMaChau, direction: .inbound))
        return (rig, Cargo(store: rig.h.store, clock: rig.h.clock))
    }

    /// Waits for the lane's first full push and returns its generation.
    func firstPush(_ rig: LaneLinkRig, _ lane: RigLane) async throws -> UInt64 {
        try await eventually("the session's cache push") { !lane.chunks.isEmpty }
        try await rig.drained()
        return try #require(lane.chunks.last?.generation)
    }

    /// Polls central's feed and returns the changes the lane then received.
    func changes(_ rig: LaneLinkRig, _ lane: RigLane) async throws -> [BundleCacheDelta.Change] {
        let before = lane.deltas.count
        try await rig.dispatcher.pollCacheFeed()
        try await rig.drained()
        return lane.deltas.dropFirst(before).flatMap(\.changes)
    }

    func put(_ changes: [BundleCacheDelta.Change]) -> [UBR] {
        changes.compactMap {
            if case .put(let b) = $0 { return b.ubr }
            return nil
        }
    }

    func dropped(_ changes: [BundleCacheDelta.Change]) -> [UBR] {
        changes.compactMap {
            if case .drop(let u) = $0 { return u }
            return nil
        }
    }

    func watch(_ changes: [BundleCacheDelta.Change]) -> [WatchTarget]? {
        changes.compactMap {
            if case .watchList(let t) = $0 { return t }
            return nil
        }.last
    }

    @Test func everyChangeReachesAConnectedLaneAsConsecutivelyNumberedDeltas() async throws {
        let (rig, cargo) = try await rig()
        let lane = try rig.lane()
        let generation = try await firstPush(rig, lane)

        // Bundled: the lane holds it; debundled: it drops it.
        let first = try await cargo.bundle("AB1234")
        #expect(put(try await changes(rig, lane)) == [first.ubr])
        try await cargo.debundle(first)
        #expect(dropped(try await changes(rig, lane)) == [first.ubr])

        // Claimed at another lane, then used when that truck leaves.
        let second = try await cargo.bundle("CD5678")
        _ = try await changes(rig, lane)
        let decided = try await rig.hub.decide(
            lane: Self.other,
            request: DecisionRequestMessage(
                requestID: 1, passageID: 1, lane: Self.other, vrn: second.vrn, arrivedAt: cargo.clock.now(),
                unladenPressed: false))
        #expect(decided.decision.ubr == second.ubr)
        #expect(dropped(try await changes(rig, lane)) == [second.ubr], "claimed at another lane")
        _ = try await cargo.store.recordVehicleLeft(
            lane: Self.other, claimant: LaneHub.passageClaimant(lane: Self.other, passageID: 1),
            ubr: second.ubr,
            at: cargo.clock.now())
        #expect(dropped(try await changes(rig, lane)) == [second.ubr], "used")

        // A consignment's facts corrected at central: the bundle comes again with them.
        let third = try await cargo.bundle("EF9012")
        _ = try await changes(rig, lane)
        try await cargo.store.writer.write { db in
            try db.execute(
                sql: "UPDATE consignments SET valid_until = valid_until + 3 WHERE ccrn = ?",
                arguments: [Int64(third.ccrns[0].value)!])
        }
        let corrected = try await changes(rig, lane)
        guard case .put(let held) = try #require(corrected.first) else {
            Issue.record("expected a put, got \(corrected)")
            return
        }
        let consignment = try #require(try await cargo.store.consignment(third.ccrns[0]))
        #expect(held.ccrns.map(\.validUntil) == [consignment.validUntil])

        // The watch list: added, a consignee (matched as its CCRNs), removed.
        let entry = try await cargo.store.addWatch(
            .vrn(try VRN("XY9")), note: "tip-off", by: cargo.officer, at: cargo.clock.now())
        #expect(watch(try await changes(rig, lane)) == [.vrn(try VRN("XY9"))])
        let consignee = try await cargo.store.addWatch(
            try WatchTarget(kind: "consignee", value: "Winning Co Ltd"), note: "audit", by: cargo.officer,
            at: cargo.clock.now())
        #expect(
            Set(try #require(watch(try await changes(rig, lane))))
                == [.vrn(try VRN("XY9")), consignee.target, .ccrn(third.ccrns[0])])
        // A new bundle of that consignee brings its CCRN onto the lane's list with it.
        let fourth = try await cargo.bundle("GH3456")
        let withConsignee = try await changes(rig, lane)
        #expect(put(withConsignee) == [fourth.ubr])
        #expect(watch(withConsignee)?.contains(.ccrn(fourth.ccrns[0])) == true)
        _ = try await cargo.store.removeWatch(id: entry.id)
        _ = try await cargo.store.removeWatch(id: consignee.id)
        #expect(watch(try await changes(rig, lane)) == [])

        // Another direction's bundle is not this lane's business.
        try await cargo.bundle("JK7890", .outbound)
        #expect(try await changes(rig, lane).isEmpty)

        let deltas = lane.deltas
        #expect(deltas.allSatisfy { $0.generation == generation })
        #expect(deltas.map(\.sequence) == Array(1...UInt64(deltas.count)))
        await lane.stop()
        await rig.stop()
    }

    @Test func aLaneNotConnectedGetsNothingAndEachPushNumbersItsDeltasFromOne() async throws {
        let (rig, cargo) = try await rig()
        let lane = try rig.lane()
        let first = try await firstPush(rig, lane)
        // MKT-OUT-01 never connected: a push waits in its outbox, and no delta joins it.
        let mkt = try #require(try await cargo.store.lane(LaneLinkRig.mkt))
        let queued = try await rig.dispatcher.pushCache(to: mkt, cause: .officer, by: "officer")
        try await cargo.bundle("AB1234", .outbound)
        try await cargo.bundle("CD5678")
        let poll = try await rig.dispatcher.pollCacheFeed()
        #expect(poll.deltas.keys.sorted() == [LaneLinkRig.lmc])
        #expect(try await rig.server.pendingCount(for: LaneLinkRig.mkt) == queued.messageIDs.count)
        try await rig.drained()

        let second = try await rig.dispatcher.pushCache(
            to: try #require(try await cargo.store.lane(LaneLinkRig.lmc)), cause: .officer, by: "officer")
        #expect(second.record.generation > first)
        try await cargo.bundle("EF9012")
        _ = try await changes(rig, lane)
        #expect(
            lane.deltas.map(\.version) == [
                CacheVersion(generation: first, sequence: 1),
                CacheVersion(generation: second.record.generation, sequence: 1),
            ])
        await lane.stop()
        await rig.stop()
    }

    @Test func aLaneBehindPrunedChangesAndALaneThatAsksGetAFullPush() async throws {
        let (rig, cargo) = try await rig()
        rig.dispatcher.answerCacheResyncs(from: rig.hub)
        let lane = try rig.lane()
        let first = try await firstPush(rig, lane)
        for plate in ["AB1234", "CD5678", "EF9012"] { try await cargo.bundle(plate) }
        #expect(try await cargo.store.pruneCacheChanges(keeping: 1) >= 2)
        let poll = try await rig.dispatcher.pollCacheFeed()
        #expect(poll.repushed == [LaneLinkRig.lmc] && poll.deltas.isEmpty)
        try await eventually("a second generation") { lane.chunks.contains { $0.generation > first } }
        let second = try #require(lane.chunks.last?.generation)
        #expect(
            Set(lane.generation(second).flatMap(\.bundles).map(\.vrn.value)) == [
                "AB1234", "CD5678", "EF9012",
            ])

        _ = try await lane.client.send(.cacheResync(have: CacheVersion(generation: second, sequence: 0)))
        try await eventually("a third generation, the answer to the lane's request") {
            lane.chunks.contains { $0.generation > second }
        }
        await lane.stop()
        await rig.stop()
    }

    @Test func lanesWhoseSessionsStartTogetherShareOneStoreReadAndDeltasBringTheLaterOneUpToDate()
        async throws
    {
        let (rig, cargo) = try await rig()
        let early = try await cargo.bundle("AB1234")
        let first = try rig.lane()
        _ = try await firstPush(rig, first)
        #expect(await rig.dispatcher.cacheSnapshotReads == 1)

        // Bundled after the snapshot was read: the second lane's session
        // push is the same snapshot, and the bundle follows as a delta.
        let late = try await cargo.bundle("CD5678")
        let second = try rig.lane(Self.other)
        try await eventually("the second lane's cache push") { !second.chunks.isEmpty }
        try await rig.drained(Self.other)
        #expect(await rig.dispatcher.cacheSnapshotReads == 1, "one store read for both lanes")
        #expect(second.chunks.flatMap(\.bundles).map(\.ubr) == [early.ubr])
        try await rig.dispatcher.pollCacheFeed()
        try await rig.drained(Self.other)
        try await rig.drained()
        #expect(put(second.deltas.flatMap(\.changes)) == [late.ubr])
        #expect(put(first.deltas.flatMap(\.changes)) == [late.ubr])

        // An officer's push reads the store as it is; so does a session
        // once the shared snapshot is older than the dispatcher allows.
        let officers = try await rig.dispatcher.pushCache(
            to: try #require(try await cargo.store.lane(Self.other)), cause: .officer, by: "officer")
        #expect(await rig.dispatcher.cacheSnapshotReads == 2)
        #expect(officers.record.bundles == 2)
        await second.stop()
        _ = cargo.clock.advance(by: TimeInterval(rig.dispatcher.snapshotMaxAge.components.seconds) + 1)
        let again = try rig.lane(Self.other)
        try await eventually("a new session's push") {
            again.chunks.contains { $0.generation > officers.record.generation }
        }
        #expect(await rig.dispatcher.cacheSnapshotReads == 3)
        await again.stop()
        await first.stop()
        await rig.stop()
    }

    @Test func whichSnapshotAPushUses() {
        let now = Harness.start
        let age = Duration.seconds(30)
        func choose(
            fresh: Bool = false, readAgo: TimeInterval?, reading: Bool = false, maxAge: Duration = age
        )
            -> CacheSnapshotChoice
        {
            CacheSnapshotChoice.choose(
                fresh: fresh, newest: readAgo.map { now.addingTimeInterval(-$0) }, reading: reading, now: now,
                maxAge: maxAge)
        }
        #expect(choose(readAgo: nil) == .read, "nothing read yet")
        #expect(choose(readAgo: nil, reading: true) == .join)
        #expect(choose(readAgo: 0) == .reuse)
        #expect(choose(readAgo: 30) == .reuse)
        #expect(choose(readAgo: 30.5) == .read, "too old")
        #expect(choose(readAgo: 30.5, reading: true) == .join)
        #expect(choose(readAgo: -5) == .read, "read in the future: the clock stepped back")
        #expect(choose(fresh: true, readAgo: 0, reading: true) == .read, "an officer's push reads for itself")
        #expect(choose(readAgo: 0, maxAge: .zero) == .read, "sharing turned off")
    }

    @Test func aChangeMadeByAnotherCentralProcessOnTheSameFileIsInTheFeed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mine = try await SQLiteCargoStore.open(path: "\(directory)/central.sqlite")
        let theirs = try await SQLiteCargoStore.open(path: "\(directory)/central.sqlite")
        let snapshot = try await mine.offlineCacheSource(direction: .inbound)
        let clock = SimulatedWallClock(Harness.start)
        let made = try await Cargo(store: theirs, clock: clock).bundle("AB1234")
        _ = try await theirs.debundle(
            made.ubr, by: Account(name: "driver-AB1234", role: .driver), at: clock.now())
        let batch = try await mine.cacheChanges(after: snapshot.feedPosition, limit: 100)
        #expect(
            batch.changes == [.ended(direction: .inbound, ubr: made.ubr)],
            "one entry per bundle, its state now")
        #expect(!batch.missed(from: snapshot.feedPosition))
        #expect(try await mine.cacheChanges(after: batch.through, limit: 100).changes.isEmpty)
    }

    @Test func deltasAreSplitToFitAFrameAndNumberedOnFromTheLast() throws {
        let bundles = (1...40).map { n in
            CachedBundle(
                ubr: UBR(payload: UInt64(n)), vrn: try! VRN("AB\(n)"), direction: .inbound,
                ccrns: [
                    CachedCCRN(
                        ccrn: CCRN(payload: UInt64(n)), validUntil: CalendarDay(daysSinceEpoch: 20_800))
                ],
                earliestCrossing: Harness.start, status: .active)
        }
        let changes = bundles.map(BundleCacheDelta.Change.put) + [.drop(UBR(payload: 99)), .watchList([])]
        let deltas = try CacheFeedPlan.deltas(changes, generation: 7, after: 4, maxPayload: 512)
        #expect(deltas.count > 1)
        #expect(deltas.map(\.sequence) == Array(5...UInt64(4 + deltas.count)))
        #expect(deltas.flatMap(\.changes) == changes, "every change, in order")
        for delta in deltas {
            #expect(try LaneMessage.bundleCacheDelta(delta).encode().count <= 512)
        }
        let watchList = (0..<200).map { WatchTarget.ccrn(CCRN(payload: UInt64($0))) }
        #expect(throws: WireError.self) {
            try CacheFeedPlan.deltas([.watchList(watchList)], generation: 7, after: 0, maxPayload: 512)
        }
    }

    @Test func followersKeepTheNewestPushAndNumberOnlyOnTopOfWhatTheyKnow() throws {
        let lane = LaneLinkRig.lmc
        var f = CacheFollowers()
        f.pushed(lane: lane, direction: .inbound, generation: 5, position: 10)
        let at5 = try #require(f[lane])
        let claimed = f.claim(2, lane: lane, after: at5)
        #expect(claimed)
        #expect(f[lane]?.sequence == 2)
        let again = f.claim(1, lane: lane, after: at5)
        #expect(!again, "numbers already taken")
        f.pushed(lane: lane, direction: .inbound, generation: 4, position: 3)
        #expect(f[lane]?.generation == 5, "an older push finishing late changes nothing")
        f.advance(lane: lane, generation: 5, to: 12)
        f.pushed(lane: lane, direction: .inbound, generation: 6, position: 11)
        #expect(f[lane] == CacheFollower(direction: .inbound, generation: 6, sequence: 0, position: 11))
        let stale = f.claim(1, lane: lane, after: at5)
        #expect(!stale, "a delta computed for generation 5 is not sent")
        f.advance(lane: lane, generation: 5, to: 20)
        #expect(f[lane]?.position == 11)
        f.keep(only: [])
        #expect(f[lane] == nil)
    }
}

extension RigLane {
    var deltas: [BundleCacheDelta] {
        messages.compactMap {
            if case .bundleCacheDelta(let d) = $0 { return d }
            return nil
        }
    }
}

/// What a full push of 10,000 active bundles is on the link (the figures
/// docs/offline.md gives).
@Suite("Bundle cache push size")
struct CachePushSizeTests {
    @Test func tenThousandActiveBundlesAreAFewHundredChunks() throws {
        let bundles = (1...10_000).map { n in
            CachedBundle(
                ubr: UBR(payload: UInt64(n)), vrn: try! VRN("AB\(n % 10_000)"), direction: .inbound,
                ccrns: (0..<2).map {
                    CachedCCRN(
                        ccrn: CCRN(payload: UInt64(n * 10 + $0)),
                        validUntil: CalendarDay(daysSinceEpoch: 20_800))
                }, earliestCrossing: Harness.start, status: .active)
        }
        let chunks = try BundleCacheChunk.split(generation: 1, bundles: bundles, watchList: [])
        let bytes = try chunks.reduce(0) { $0 + (try LaneMessage.bundleCache($1).encode().count) }
        #expect(chunks.count < 400 && bytes < 1_200_000, "\(chunks.count) chunks, \(bytes) bytes")
        #expect(
            chunks.allSatisfy {
                (try? LaneMessage.bundleCache($0).encode().count) ?? .max <= FrameFormat.maxPayload
            })
    }
}
