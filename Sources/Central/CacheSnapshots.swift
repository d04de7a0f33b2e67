import CargoStore
import Foundation
import LinkCore
import RoadCargo

/// One direction's offline cache as a store snapshot, already split into
/// the chunks of a push (generation 0: each push stamps its own).
///
/// Reading every active bundle of a direction is by far the dearest part of
/// a push at a territory's size (100,000 bundles and their CCRNs per
/// direction), and every lane facing that direction gets the same cache. So
/// the lanes whose sessions start together share one snapshot: each push
/// is then only its own outbox rows, and the deltas after the snapshot's
/// feed position bring each lane up to date (CacheFeed.swift), exactly as
/// they do after a snapshot read for that lane alone.
public struct CacheSnapshot: Sendable, Hashable {
    public var chunks: [BundleCacheChunk]
    public var bundles: Int
    public var watchTargets: Int
    /// Active bundles left out (``OfflineCache/omitted``).
    public var omitted: [UBR]
    /// How many of ``omitted`` are over the lane's limit.
    public var overLimit: Int
    /// The store's cache feed position the snapshot is current through.
    public var feedPosition: Int64
    /// When it was read, by the dispatcher's clock.
    public var readAt: Date

    init(_ cache: OfflineCache, maxPayload: Int, readAt: Date) throws {
        chunks = try cache.chunks(generation: 0, maxPayload: maxPayload)
        bundles = cache.bundles.count
        watchTargets = cache.watchList.count
        omitted = cache.omitted
        overLimit = cache.overLimit
        feedPosition = cache.feedPosition
        self.readAt = readAt
    }
}

/// Which snapshot a push uses: the rule, as a pure function.
public enum CacheSnapshotChoice: Sendable, Hashable {
    /// The newest snapshot of the direction, read `age` ago.
    case reuse
    /// Wait for the shared read already under way.
    case join
    /// Read the store again.
    case read

    /// - Parameters:
    ///   - fresh: the push must see the store as it is now: an officer's
    ///     push, the cache before "offline on", and a lane that the feed
    ///     could not bring up to date (its snapshot's changes were pruned, so
    ///     an old snapshot would fail it again).
    ///   - newest: when the newest finished snapshot was read, if any.
    ///   - reading: whether a shared read is under way.
    ///   - maxAge: how old a shared snapshot may be; 0 turns sharing off.
    public static func choose(fresh: Bool, newest: Date?, reading: Bool, now: Date, maxAge: Duration)
        -> CacheSnapshotChoice
    {
        guard !fresh, maxAge > .zero else { return .read }
        if let newest {
            let age = now.timeIntervalSince(newest)
            // A clock stepped back makes the age negative: read again rather
            // than trust a snapshot "from the future" for ever.
            let limit = Double(maxAge.components.seconds) + Double(maxAge.components.attoseconds) * 1e-18
            if age >= 0, age <= limit { return .reuse }
        }
        return reading ? .join : .read
    }
}

/// The shared snapshots, one read at a time per direction for the lanes
/// that may share it: 200 lanes linking at once after a central restart
/// cause one read per direction, not 200.
actor CacheSnapshots {
    private var newest: [Direction: CacheSnapshot] = [:]
    private var reading: [Direction: Task<CacheSnapshot, any Error>] = [:]
    /// Store reads made, for tests and the log.
    private(set) var reads = 0

    func snapshot(
        of direction: Direction, fresh: Bool, now: Date, maxAge: Duration,
        read: @escaping @Sendable () async throws -> CacheSnapshot
    ) async throws -> CacheSnapshot {
        switch CacheSnapshotChoice.choose(
            fresh: fresh, newest: newest[direction]?.readAt, reading: reading[direction] != nil, now: now,
            maxAge: maxAge)
        {
        case .reuse:
            return newest[direction]!
        case .join:
            return try await reading[direction]!.value
        case .read:
            reads += 1
            let task = Task { try await read() }
            // Only shared reads are joined: a fresh one is its caller's alone,
            // though its result serves later lanes like any other.
            if !fresh { reading[direction] = task }
            defer { if !fresh { reading[direction] = nil } }
            let snapshot = try await task.value
            if snapshot.feedPosition >= newest[direction]?.feedPosition ?? .min {
                newest[direction] = snapshot
            }
            return snapshot
        }
    }
}
