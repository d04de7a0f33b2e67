import CargoStore
import Foundation
import LinkCore
import Logging
import RoadCargo

/// What one lane's cache is, as this central process follows it: the last
/// full push it queued and the deltas numbered on top of it.
public struct CacheFollower: Sendable, Hashable {
    public var direction: Direction
    public var generation: UInt64
    /// The number of the last delta queued (0 right after the push).
    public var sequence: UInt64
    /// The store's cache feed position the lane's cache is current through
    /// once everything queued has arrived.
    public var position: Int64

    public init(direction: Direction, generation: UInt64, sequence: UInt64, position: Int64) {
        self.direction = direction
        self.generation = generation
        self.sequence = sequence
        self.position = position
    }
}

/// The lanes whose caches this process keeps current, as a value: what
/// each transition does is tested without a store or a link.
public struct CacheFollowers: Sendable, Hashable {
    public private(set) var lanes: [LaneID: CacheFollower] = [:]

    public init() {}

    public subscript(lane: LaneID) -> CacheFollower? { lanes[lane] }

    /// A full push of `generation` was queued, its snapshot current through
    /// `position`. An older generation finishing its queueing late changes
    /// nothing: the lane keeps the newest generation too.
    public mutating func pushed(lane: LaneID, direction: Direction, generation: UInt64, position: Int64) {
        if let known = lanes[lane], known.generation > generation { return }
        lanes[lane] = CacheFollower(
            direction: direction, generation: generation, sequence: 0, position: position)
    }

    /// Forgets lanes not in `connected`: their next session brings a full
    /// push, and deltas must not pile up in the outbox of a lane away.
    public mutating func keep(only connected: Set<LaneID>) {
        lanes = lanes.filter { connected.contains($0.key) }
    }

    /// Takes the numbers for `count` deltas on top of `follower`, if the lane
    /// is still at that generation and number (a push may have come between).
    public mutating func claim(_ count: Int, lane: LaneID, after follower: CacheFollower) -> Bool {
        guard var known = lanes[lane], known.generation == follower.generation,
            known.sequence == follower.sequence
        else { return false }
        known.sequence += UInt64(count)
        lanes[lane] = known
        return true
    }

    /// The lane's cache is current through `position`, if still at `generation`.
    public mutating func advance(lane: LaneID, generation: UInt64, to position: Int64) {
        guard var known = lanes[lane], known.generation == generation else { return }
        known.position = max(known.position, position)
        lanes[lane] = known
    }
}

/// Turns a batch of the store's cache feed into one lane's deltas: pure.
public enum CacheFeedPlan {
    /// The changes a lane facing `direction` needs from `batch`, and the
    /// active bundles it must drop instead of hold because they do not fit
    /// a frame (as ``OfflineCache/omitted``).
    public static func changes(
        for direction: Direction, in batch: CacheChangeBatch, maxPayload: Int = FrameFormat.maxPayload
    ) -> (changes: [BundleCacheDelta.Change], omitted: [UBR]) {
        var changes: [BundleCacheDelta.Change] = []
        var omitted: [UBR] = []
        for change in batch.changes where change.direction == direction {
            switch change {
            case .active(let bundle):
                if let cached = OfflineCache.cached(bundle, facts: batch.ccrns, maxPayload: maxPayload) {
                    changes.append(.put(cached))
                } else {
                    omitted.append(bundle.ubr)
                    changes.append(.drop(bundle.ubr))
                }
            case .ended(_, let ubr):
                changes.append(.drop(ubr))
            }
        }
        if let targets = batch.watchList {
            changes.append(
                .watchList(OfflineCache.watchList(targets, watchedCCRNs: batch.watchedCCRNs[direction] ?? []))
            )
        }
        return (changes, omitted)
    }

    /// `changes` as deltas numbered from `after + 1`, each within a frame's
    /// payload, in order.
    /// - Throws: `WireError.tooLarge` when one change alone does not fit (a
    ///   watch list too long for one frame): the lane needs a full push.
    public static func deltas(
        _ changes: [BundleCacheDelta.Change], generation: UInt64, after: UInt64,
        maxPayload: Int = FrameFormat.maxPayload
    ) throws -> [BundleCacheDelta] {
        let empty = try LaneMessage.bundleCacheDelta(.init(generation: 0, sequence: 0, changes: [])).encode()
            .count
        var deltas: [BundleCacheDelta] = []
        var current: [BundleCacheDelta.Change] = []
        var used = empty
        for change in changes {
            let size =
                try LaneMessage.bundleCacheDelta(.init(generation: 0, sequence: 0, changes: [change]))
                .encode().count
                - empty
            guard empty + size <= maxPayload else {
                throw WireError.tooLarge(field: "cache delta change", count: empty + size, limit: maxPayload)
            }
            if used + size > maxPayload || current.count == Int(UInt16.max) {
                deltas.append(
                    .init(
                        generation: generation, sequence: after + UInt64(deltas.count) + 1, changes: current))
                current = []
                used = empty
            }
            current.append(change)
            used += size
        }
        if !current.isEmpty {
            deltas.append(
                .init(generation: generation, sequence: after + UInt64(deltas.count) + 1, changes: current))
        }
        return deltas
    }
}

/// What one poll of the cache feed did.
public struct CacheFeedPoll: Sendable, Hashable {
    /// Deltas queued, per lane, in order.
    public var deltas: [LaneID: [BundleCacheDelta]] = [:]
    /// Lanes given a full push instead (they missed pruned changes, or a
    /// change did not fit a delta).
    public var repushed: [LaneID] = []
    /// Feed rows read.
    public var rows = 0
}

/// Serialises polls: deltas of one lane must be numbered in the order they
/// are queued, and a poll suspends while it reads and queues.
actor FeedGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}

// The live cache (docs/offline.md, "Keeping caches current"): after a lane's
// full push, every change the store's feed names reaches it as numbered
// deltas, while its session lasts.
extension LaneDispatcher {
    /// Reads the store's cache feed after the position of the connected
    /// lanes this process pushed a cache to, and queues the deltas each
    /// lane needs. Lanes not connected are forgotten (their next session
    /// brings a full push). One poll at a time; a second call waits.
    /// - Parameter limit: feed rows read per store read.
    @discardableResult
    public func pollCacheFeed(limit: Int = 2_000) async throws -> CacheFeedPoll {
        await feedGate.enter()
        do {
            let poll = try await pollSerially(limit: limit)
            await feedGate.leave()
            return poll
        } catch {
            await feedGate.leave()
            throw error
        }
    }

    private func pollSerially(limit: Int) async throws -> CacheFeedPoll {
        var poll = CacheFeedPoll()
        let connected = Set(server.connectedLanes)
        let low = followers.withLock { f -> Int64? in
            f.keep(only: connected)
            return f.lanes.values.map(\.position).min()
        }
        guard var position = low else { return poll }
        var repush: Set<LaneID> = []
        while true {
            let batch = try await repository.cacheChanges(after: position, limit: limit)
            poll.rows += batch.rows
            guard batch.through > position else { break }
            for (lane, follower) in followers.withLock({ $0.lanes }).sorted(by: { $0.key < $1.key })
            // A lane pushed since this poll began, from a snapshot older
            // than this batch, is served from its own position next poll.
            where follower.position >= batch.after && follower.position < batch.through
                && !repush.contains(lane)
            {
                if batch.missed(from: follower.position) {
                    repush.insert(lane)
                    continue
                }
                do {
                    let sent = try await queueDeltas(batch, to: lane, follower: follower)
                    if !sent.isEmpty { poll.deltas[lane, default: []] += sent }
                } catch {
                    logger.error(
                        "lane link: cannot queue a cache delta; the lane gets a full push",
                        metadata: ["lane": "\(lane)", "error": "\(error)"])
                    repush.insert(lane)
                }
            }
            position = batch.through
            if batch.rows < limit { break }
        }
        for lane in repush.sorted() {
            await repushCache(to: lane, why: "the cache feed cannot bring it up to date by deltas")
            poll.repushed.append(lane)
        }
        return poll
    }

    private func queueDeltas(_ batch: CacheChangeBatch, to lane: LaneID, follower: CacheFollower) async throws
        -> [BundleCacheDelta]
    {
        let (changes, omitted) = CacheFeedPlan.changes(
            for: follower.direction, in: batch, maxPayload: maxPayload)
        if !omitted.isEmpty {
            logger.warning(
                "lane link: bundles too large for a lane's cache; offline, their vehicles go to inspection",
                metadata: ["lane": "\(lane)", "ubrs": "\(omitted.map(\.value))"])
        }
        var deltas: [BundleCacheDelta] = []
        if !changes.isEmpty {
            deltas = try CacheFeedPlan.deltas(
                changes, generation: follower.generation, after: follower.sequence, maxPayload: maxPayload)
            // A push between the snapshot and here starts the numbering
            // again; its own snapshot has these changes.
            guard followers.withLock({ $0.claim(deltas.count, lane: lane, after: follower) }) else {
                return []
            }
            for delta in deltas { try await server.send(.bundleCacheDelta(delta), to: lane) }
            logger.debug(
                "lane link: cache deltas queued",
                metadata: [
                    "lane": "\(lane)", "generation": "\(follower.generation)",
                    "sequences": "\(deltas.first!.sequence)...\(deltas.last!.sequence)",
                    "changes": "\(changes.count)",
                ])
        }
        followers.withLock { $0.advance(lane: lane, generation: follower.generation, to: batch.through) }
        return deltas
    }

    /// A full push for `id`, outside any officer's request: a lane that
    /// asked for one (it missed a delta) or one the feed cannot serve. The
    /// store records it with cause "session" (a new session is the other
    /// push that is nobody's request); the log says why.
    public func repushCache(to id: LaneID, why: String) async {
        do {
            guard let lane = try await repository.lane(id) else {
                logger.warning(
                    "lane link: no cache for a lane central does not know", metadata: ["lane": "\(id)"])
                return
            }
            let push = try await pushCache(to: lane, cause: .session, by: nil, fresh: true)
            logger.notice(
                "lane link: full cache push to resynchronise a lane",
                metadata: ["lane": "\(id)", "why": "\(why)", "generation": "\(push.record.generation)"])
        } catch {
            logger.error(
                "lane link: cannot push the bundle cache", metadata: ["lane": "\(id)", "error": "\(error)"])
        }
    }

    /// Answers lanes' resync requests (``LaneMessage/cacheResync(have:)``)
    /// that `hub` receives with a full push.
    public func answerCacheResyncs(from hub: LaneHub) {
        hub.onCacheResync { [weak self] lane, have in
            await self?.repushCache(
                to: lane, why: "the lane asked (it holds \(have.map(\.description) ?? "no cache"))")
        }
    }

    /// Polls the feed every `interval` until cancelled, and prunes it to the
    /// newest `keeping` changes about once a minute.
    public func runCacheFeed(every interval: Duration = .milliseconds(250), keeping: Int = 100_000) async {
        var lastPrune = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await pollCacheFeed()
                if ContinuousClock.now - lastPrune > .seconds(60) {
                    lastPrune = .now
                    let pruned = try await repository.pruneCacheChanges(keeping: keeping)
                    if pruned > 0 { logger.debug("cache feed pruned", metadata: ["rows": "\(pruned)"]) }
                }
            } catch {
                logger.error("lane link: cache feed poll failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
