import Foundation
import RoadCargo
import TestKit
import Testing

@testable import LinkCore

@Suite("Bundle-cache chunking")
struct MessageBundleChunkTests {
    @Test("a large generation splits into chunks that each fit a frame and reassemble in order")
    func split() throws {
        var gen = MessageGenerator(rng: SeededGenerator(seed: 12))
        let bundles = (0..<700).map { _ in gen.bundle() }
        let watch = (0..<300).map { _ in gen.watchTarget() }
        let chunks = try BundleCacheChunk.split(generation: 9, bundles: bundles, watchList: watch)
        #expect(chunks.count > 5)
        for (i, c) in chunks.enumerated() {
            #expect(c.index == UInt16(i) && c.count == UInt16(chunks.count) && c.generation == 9)
            let payload = try LaneMessage.bundleCache(c).encode()
            #expect(payload.count <= FrameFormat.maxPayload)
            #expect(try LaneMessage(kind: .data, payload: payload) == .bundleCache(c))
        }
        #expect(chunks.flatMap(\.bundles) == bundles)
        #expect(chunks.flatMap(\.watchList) == watch)
    }

    @Test("an empty generation is one empty chunk")
    func empty() throws {
        let chunks = try BundleCacheChunk.split(generation: 3, bundles: [], watchList: [])
        #expect(chunks == [BundleCacheChunk(generation: 3, index: 0, count: 1, bundles: [], watchList: [])])
    }

    @Test("a bundle too large for any chunk is an error, not a silent drop")
    func tooLarge() throws {
        var gen = MessageGenerator(rng: SeededGenerator(seed: 13))
        let bundle = gen.bundle()
        #expect(throws: WireError.self) {
            try BundleCacheChunk.split(generation: 1, bundles: [bundle], watchList: [], maxPayload: 30)
        }
    }
}
