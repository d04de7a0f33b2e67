import Foundation
import LaneCore
import LaneJournal
import LaneLink
import LinkCore

// Central's messages that are not inputs of the state machine: the bundle
// cache (whole pushes and numbered deltas) and time sync. Everything else
// becomes an input and queues behind the lane's other inputs.
extension LaneController {
    /// A message from central, handed over by the link client; returns once
    /// the lane has handled it, so that the link acknowledges only then.
    /// Bundle-cache chunks go to the journal's cache; a chunk that cannot be
    /// stored throws, which ends the session so that central sends it again.
    public nonisolated func received(_ message: LaneMessage) async throws {
        switch message {
        case .bundleCache(let chunk):
            let outcome = try await parts.journal.stageCacheChunk(
                generation: chunk.generation, index: Int(chunk.index), count: Int(chunk.count),
                bundles: chunk.bundles.map(OfflineBundle.init), watchList: chunk.watchList)
            parts.logger.debug(
                "bundle cache chunk",
                metadata: ["generation": "\(chunk.generation)", "outcome": "\(outcome)"])
            if case .installed(let generation) = outcome {
                parts.logger.info(
                    "bundle cache installed",
                    metadata: ["generation": "\(generation.generation)", "bundles": "\(generation.bundles)"])
                // The push's chunks were decoded and written; their buffers
                // are free now, and a lane in a cabinet should not keep them.
                HeapTrim.soon()
            }
        case .bundleCacheDelta(let delta):
            try await apply(delta)
        case .timeSync(let sync):
            if let offset = sync.offset(replyReceivedAt: parts.clock.now()) {
                parts.logger.info("central's clock minus ours", metadata: ["seconds": "\(offset)"])
            }
        default:
            guard let input = LinkMessages.input(for: message) else {
                parts.logger.debug("link message ignored", metadata: ["message": "\(message.name)"])
                return
            }
            try await submit(input)
        }
    }

    /// Applies a numbered cache delta; on a gap, asks central for a full
    /// push through the outbox in the same transaction, once per version
    /// held (the journal remembers the request), so a run of deltas after
    /// one lost number costs one request.
    private nonisolated func apply(_ delta: BundleCacheDelta) async throws {
        let journal = parts.journal
        let outbox = parts.outbox
        let linked = parts.link != nil
        let now = parts.clock.now()
        let changes: [CacheDeltaChange] = delta.changes.map { change in
            switch change {
            case .put(let bundle): .put(OfflineBundle(bundle))
            case .drop(let ubr): .drop(ubr)
            case .watchList(let targets): .watchList(targets)
            }
        }
        let (outcome, resync) = try await journal.writer.write {
            db -> (CacheDeltaOutcome, (UInt64, [UInt8])?) in
            let outcome = try journal.applyCacheDelta(
                generation: delta.generation, sequence: delta.sequence, changes: changes, in: db)
            guard case .gap(let have) = outcome, linked,
                try journal.noteResyncAsked(have: have, at: now, in: db)
            else { return (outcome, nil) }
            let message = LaneMessage.cacheResync(have: have)
            let payload = try LaneLinkClient.payload(for: message)
            return (outcome, (try outbox.enqueue(in: db, topic: message.name, payload: payload), payload))
        }
        switch outcome {
        case .applied(let version, let refused):
            parts.logger.debug(
                "bundle cache delta applied",
                metadata: ["version": "\(version)", "changes": "\(delta.changes.count)"])
            if !refused.isEmpty {
                parts.logger.warning(
                    "bundle cache full: bundles left out; offline, their vehicles go to inspection",
                    metadata: [
                        "limit": "\(LaneJournal.cacheBundleLimit)", "ubrs": "\(refused.map(\.value))",
                    ])
            }
        case .stale(let have):
            parts.logger.debug(
                "bundle cache delta already applied",
                metadata: ["delta": "\(delta.version)", "have": "\(have)"])
        case .gap(let have):
            parts.logger.warning(
                "bundle cache delta does not follow the cache; asking central for a full push",
                metadata: [
                    "delta": "\(delta.version)", "have": "\(have.map(\.description) ?? "none")",
                    "asked": "\(resync != nil)",
                ])
        }
        if let (id, payload) = resync { parts.link?.offer(messageID: id, payload: payload) }
    }
}
