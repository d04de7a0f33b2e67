import CargoStore
import Foundation
import LaneLink
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
    /// (about 330 CCRNs or more). Offline, such a vehicle finds no bundle and
    /// goes to inspection: slower for the driver, never a wrong CLEARED.
    public var omitted: [UBR]

    /// Builds the cache of a lane facing `direction` from a store snapshot.
    public init(_ source: OfflineCacheSource, maxPayload: Int = FrameFormat.maxPayload) {
        var bundles: [CachedBundle] = []
        var omitted: [UBR] = []
        for bundle in source.bundles {
            let cached = CachedBundle(
                ubr: bundle.ubr, vrn: bundle.vrn, direction: bundle.direction,
                ccrns: bundle.ccrns.compactMap { ccrn in
                    source.ccrns[ccrn].map { CachedCCRN(ccrn: ccrn, validUntil: $0.validUntil) }
                },
                earliestCrossing: bundle.earliestCrossing, status: bundle.status)
            // A CCRN without facts would be a broken store; a bundle missing
            // one must not be cached as if it had fewer CCRNs.
            if cached.ccrns.count == bundle.ccrns.count, Self.fits(cached, maxPayload: maxPayload) {
                bundles.append(cached)
            } else {
                omitted.append(bundle.ubr)
            }
        }
        var watchList = source.watchList
        var seen = Set(watchList)
        let watchedConsignees = Set(
            source.watchList.compactMap { t -> String? in
                if case .consignee = t { return t.value }
                return nil
            })
        if !watchedConsignees.isEmpty {
            for bundle in bundles {
                for cached in bundle.ccrns {
                    guard let facts = source.ccrns[cached.ccrn], watchedConsignees.contains(facts.consignee)
                    else { continue }
                    let target = WatchTarget.ccrn(cached.ccrn)
                    if seen.insert(target).inserted { watchList.append(target) }
                }
            }
        }
        self.bundles = bundles
        self.watchList = watchList
        self.omitted = omitted
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
