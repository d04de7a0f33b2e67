import Foundation
import RoadCargo

extension BundleCacheChunk {
    /// Bytes of a chunk besides its bundles and watch targets: the message
    /// type, generation, index, count and the two list counts.
    static let overhead = 1 + 8 + 2 + 2 + 2 + 2

    /// Splits one cache generation into chunks whose payloads each fit
    /// `maxPayload` bytes, bundles first, then the watch list, in order.
    /// An empty generation is one empty chunk, so that a lane still learns
    /// that its cache is now empty.
    public static func split(
        generation: UInt64, bundles: [CachedBundle], watchList: [WatchTarget],
        maxPayload: Int = FrameFormat.maxPayload
    ) throws(WireError) -> [BundleCacheChunk] {
        let budget = maxPayload - overhead
        var chunks: [BundleCacheChunk] = []
        var current = BundleCacheChunk(generation: generation, index: 0, count: 0, bundles: [], watchList: [])
        var used = 0

        func place(_ size: Int, what: String, _ add: (inout BundleCacheChunk) -> Void) throws(WireError) {
            guard size <= budget else { throw .tooLarge(field: what, count: size, limit: budget) }
            if used + size > budget || current.bundles.count + current.watchList.count == Int(UInt16.max) {
                chunks.append(current)
                current = BundleCacheChunk(
                    generation: generation, index: 0, count: 0, bundles: [], watchList: [])
                used = 0
            }
            add(&current)
            used += size
        }

        for b in bundles {
            var w = WireWriter()
            try LaneMessage.encodeCachedBundle(b, into: &w)
            try place(w.bytes.count, what: "bundle \(b.ubr)") { $0.bundles.append(b) }
        }
        for t in watchList {
            var w = WireWriter()
            try LaneMessage.encodeWatchTarget(t, into: &w)
            try place(w.bytes.count, what: "watch target") { $0.watchList.append(t) }
        }
        chunks.append(current)
        guard chunks.count <= Int(UInt16.max) else {
            throw .tooLarge(field: "chunks", count: chunks.count, limit: Int(UInt16.max))
        }
        for i in chunks.indices {
            chunks[i].index = UInt16(i)
            chunks[i].count = UInt16(chunks.count)
        }
        return chunks
    }
}
