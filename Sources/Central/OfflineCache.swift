import CargoStore
import Foundation
import LinkCore
import RoadCargo

/// What a lane holds to decide on its own in offline mode (clearance rule 4):
/// every active bundle of its direction with its CCRNs' Valid Until days, and
/// the watch list.
///
/// A lane's cache carries no consignee names, so a watched consignee could
/// not be matched offline. Central matches it here instead: every cached
/// CCRN whose consignee is watched is added to the watch list as that CCRN,
/// and the lane's rule 1.4 ("any of its CCRNs ... is on the watch list")
/// catches the vehicle as central would.
public struct OfflineCache: Sendable, Hashable {
    public var bundles: [CachedBundle]
    public var watchList: [WatchTarget]
    /// Active bundles left out because one alone does not fit a link frame
    /// (about 330 CCRNs or more), or because the cache already holds
    /// ``maxBundles``. Offline, such a vehicle finds no bundle and goes to
    /// inspection: slower for the driver, never a wrong CLEARED.
    public var omitted: [UBR]
    /// How many of ``omitted`` are over ``maxBundles``.
    public var overLimit: Int
    /// The store's cache feed position the snapshot is current through.
    public var feedPosition: Int64

    /// The most bundles a lane's cache holds (the lane's journal refuses
    /// more too): 50,000 bundles are about 11 MB in the lane's journal
    /// (docs/offline.md).
    public static let maxBundles = 50_000

    /// Builds the cache of a lane facing `direction` from a store snapshot.
    /// - Parameter maxBundles: smaller only in tests.
    public init(
        _ source: OfflineCacheSource, maxPayload: Int = FrameFormat.maxPayload, maxBundles: Int = maxBundles
    ) {
        var bundles: [CachedBundle] = []
        var omitted: [UBR] = []
        var overLimit = 0
        for bundle in source.bundles {
            guard bundles.count < maxBundles else {
                omitted.append(bundle.ubr)
                overLimit += 1
                continue
            }
            if let cached = Self.cached(bundle, facts: source.ccrns, maxPayload: maxPayload) {
                bundles.append(cached)
            } else {
                omitted.append(bundle.ubr)
            }
        }
        self.bundles = bundles
        self.watchList = Self.watchList(
            source.watchList,
            watchedCCRNs: Self.watchedCCRNs(bundles, facts: source.ccrns, watchList: source.watchList))
        self.omitted = omitted
        self.overLimit = overLimit
        self.feedPosition = source.feedPosition
    }

    /// `bundle` as a lane caches it, or nil when it cannot be cached: a CCRN
    /// without facts (a broken store; a bundle missing one must not be
    /// cached as if it had fewer CCRNs), or too large for one frame.
    static func cached(
        _ bundle: CargoBundle, facts: [CCRN: OfflineCacheSource.CCRNFacts], maxPayload: Int
    ) -> CachedBundle? {
        let cached = CachedBundle(
            ubr: bundle.ubr, vrn: bundle.vrn, direction: bundle.direction,
            ccrns: bundle.ccrns.compactMap { ccrn in
                facts[ccrn].map { CachedCCRN(ccrn: ccrn, validUntil: $0.validUntil) }
            },
            earliestCrossing: bundle.earliestCrossing, status: bundle.status)
        guard cached.ccrns.count == bundle.ccrns.count, fits(cached, maxPayload: maxPayload) else {
            return nil
        }
        return cached
    }

    /// The CCRNs of `bundles` whose consignee is on `watchList`.
    static func watchedCCRNs(
        _ bundles: [CachedBundle], facts: [CCRN: OfflineCacheSource.CCRNFacts], watchList: [WatchTarget]
    ) -> [CCRN] {
        let watchedConsignees = Set(
            watchList.compactMap { t -> String? in
                if case .consignee = t { return t.value }
                return nil
            })
        guard !watchedConsignees.isEmpty else { return [] }
        return bundles.flatMap { bundle in
            bundle.ccrns.compactMap { cached in
                facts[cached.ccrn].map { watchedConsignees.contains($0.consignee) } == true
                    ? cached.ccrn : nil
            }
        }
    }

    /// The watch list a lane holds: central's, plus each CCRN whose
    /// consignee is watched as a CCRN target.
    static func watchList(_ targets: [WatchTarget], watchedCCRNs: [CCRN]) -> [WatchTarget] {
        var watchList = targets
        var seen = Set(watchList)
        for ccrn in watchedCCRNs where seen.insert(.ccrn(ccrn)).inserted { watchList.append(.ccrn(ccrn)) }
        return watchList
    }

    /// The chunks of one generation, each within a frame's payload.
    public func chunks(generation: UInt64, maxPayload: Int = FrameFormat.maxPayload) throws
        -> [BundleCacheChunk]
    {
        try BundleCacheChunk.split(
            generation: generation, bundles: bundles, watchList: watchList, maxPayload: maxPayload)
    }

    private static func fits(_ bundle: CachedBundle, maxPayload: Int) -> Bool {
        (try? BundleCacheChunk.split(generation: 0, bundles: [bundle], watchList: [], maxPayload: maxPayload))
            != nil
    }
}
