import CargoStore
import CentralCluster
import Foundation
import LaneLink
import LinkCore
import Logging
import RoadCargo
import ServiceSupport
import Synchronization

/// An officer's command to a lane, before the officer's name is attached.
public enum LaneCommand: Sendable, Hashable {
    case open
    case close
    case offline(Bool)
    /// Replace the lane's decision for its request `requestID`.
    case override(requestID: UInt64, instruction: Instruction, reason: Reason, text: String)

    var kind: OfficerActionKind {
        switch self {
        case .open: .open
        case .close: .close
        case .offline: .offline
        case .override: .override
        }
    }

    /// The arguments, as the officer-action record keeps them.
    var details: [String: String] {
        switch self {
        case .open, .close: [:]
        case .offline(let on): ["on": "\(on)"]
        case .override(let requestID, let instruction, let reason, let text):
            [
                "requestId": "\(requestID)", "instruction": instruction.rawValue, "reason": reason.rawValue,
                "text": text,
            ]
        }
    }

    func message(officer: String) -> OfficerCommand {
        switch self {
        case .open: .openLane(officer: officer)
        case .close: .closeLane(officer: officer)
        case .offline(let on): .offlineMode(on: on, officer: officer)
        case .override(let requestID, let instruction, let reason, let text):
            .override(
                requestID: requestID, instruction: instruction, reason: reason, officer: officer, text: text)
        }
    }
}

/// Central's messages to lanes: vehicle arrivals from immigration clearance,
/// officers' commands and offline bundle caches, each queued in the lane's
/// durable outbox through ``LaneLinkServer/send(_:to:)``, so it reaches the
/// lane exactly once in effect, now or on its next session.
///
/// Officers' commands are recorded in the store, with the officer's name,
/// before they are queued (clearance rule 5: an override is journaled with
/// the officer's identity); the record then notes the message that carries it.
public final class LaneDispatcher: Sendable {
    public let server: LaneLinkServer
    public let repository: any CargoRepository
    public let clock: any WallClock
    let logger: Logger
    let maxPayload: Int
    let maxBundles: Int
    /// The lanes whose caches this process keeps current (CacheFeed.swift).
    let followers = Mutex(CacheFollowers())
    let feedGate = FeedGate()
    let snapshots = CacheSnapshots()
    /// How old a shared snapshot may be for a session's push.
    public let snapshotMaxAge: Duration
    let clusterSlot = Mutex<ClusterNode?>(nil)

    /// What a cache push queued.
    public struct CachePush: Sendable, Hashable {
        public var record: CachePushRecord
        /// The link message ids of the chunks, in order.
        public var messageIDs: [UInt64]
        /// Active bundles left out of the cache (see ``OfflineCache/omitted``).
        public var omitted: [UBR]
    }

    /// What a command queued.
    public struct CommandSent: Sendable, Hashable {
        public var action: OfficerActionRecord
        /// 0 while it waits in the cluster's command table.
        public var messageID: UInt64
        /// The cache pushed ahead of an "offline on" command.
        public var cache: CachePush?
        public var delivery: Delivery = .sent(node: nil)
    }

    /// Where a command went.
    public enum Delivery: Sendable, Hashable {
        /// Into the lane's outbox on this node (`node`: its id in a cluster).
        case sent(node: String?)
        /// Into the cluster's command table, for the node `holder` that has
        /// the lane, or (nil) for whichever node links it next.
        case queued(command: Int64, holder: String?)
    }

    /// - Parameters:
    ///   - maxPayload: the link's largest payload; smaller only in tests
    ///     that want many chunks from few bundles.
    ///   - maxBundles: the most bundles a lane's cache holds; smaller only in tests.
    ///   - snapshotMaxAge: how long lanes whose sessions start may share one
    ///     store snapshot of their direction's cache; zero reads for each.
    public init(
        server: LaneLinkServer, repository: any CargoRepository, clock: any WallClock, logger: Logger,
        maxPayload: Int = FrameFormat.maxPayload, maxBundles: Int = OfflineCache.maxBundles,
        snapshotMaxAge: Duration = .seconds(30)
    ) {
        self.snapshotMaxAge = snapshotMaxAge
        self.server = server
        self.repository = repository
        self.clock = clock
        self.logger = logger
        self.maxPayload = maxPayload
        self.maxBundles = maxBundles
    }

    /// From now on, every lane whose link session is established gets a
    /// fresh cache: whatever changed while it was away (bundles, debundles,
    /// watch-list entries) reaches it before it could need to go offline.
    public func pushCacheOnEverySession() {
        server.onSessionEstablished { [weak self] lane, _ in
            guard let self else { return }
            Task { await self.pushAfterSession(of: lane) }
        }
    }

    private func pushAfterSession(of id: LaneID) async {
        do {
            guard let lane = try await repository.lane(id) else {
                // LaneHub refuses such a lane's requests too, with the fix in its log.
                logger.warning(
                    "lane link: no cache for a lane central does not know", metadata: ["lane": "\(id)"])
                return
            }
            _ = try await pushCache(to: lane, cause: .session, by: nil)
        } catch {
            logger.error(
                "lane link: cannot push the bundle cache", metadata: ["lane": "\(id)", "error": "\(error)"])
        }
    }

    /// Whether the lane has a link session now (else messages wait in its outbox).
    public func isConnected(_ lane: LaneID) -> Bool { server.connectedLanes.contains(lane) }

    /// Tells the lane that immigration cleared vehicle `vrn` into it, now.
    public func sendArrival(_ vrn: VRN, to lane: Lane) async throws -> (messageID: UInt64, arrivedAt: Date) {
        let arrival = VehicleArrival(vrn: vrn, arrivedAt: clock.now())
        let id = try await server.send(.vehicleArrival(arrival), to: lane.id)
        logger.info(
            "lane link: vehicle arrival sent",
            metadata: ["lane": "\(lane.id)", "vrn": "\(vrn)", "message": "\(id)"])
        return (id, arrival.arrivedAt)
    }

    /// Records `command` with the officer's name, then queues it; an
    /// "offline on" command is preceded by a fresh cache, so the lane never
    /// starts deciding offline from an older one. In a cluster, a lane
    /// without a session here gets it through the command table instead
    /// (ClusterLink.swift).
    public func send(_ command: LaneCommand, to lane: Lane, by officer: Account) async throws -> CommandSent {
        let action = try await repository.recordOfficerAction(
            OfficerActionRecord(
                lane: lane.id, officer: officer.name, command: command.kind, details: command.details,
                requestedAt: clock.now()))
        if let cluster,
            case .queue(let holder) = try await cluster.route(lane.id, localSession: isConnected(lane.id))
        {
            let queued = try await cluster.queue(
                .officerCommand(command.message(officer: officer.name)), kind: command.kind.rawValue,
                to: lane.id,
                for: holder, actionID: action.id, officer: officer.name,
                pushCacheFirst: command == .offline(true))
            return CommandSent(
                action: action, messageID: 0, cache: nil,
                delivery: .queued(command: queued.id, holder: holder?.value))
        }
        var cache: CachePush?
        if case .offline(true) = command {
            cache = try await pushCache(to: lane, cause: .offline, by: officer.name)
        }
        let id = try await server.send(.officerCommand(command.message(officer: officer.name)), to: lane.id)
        try await repository.setOfficerActionMessage(id: action.id, messageID: id)
        var sent = action
        sent.messageID = id
        logger.notice(
            "lane link: officer command sent",
            metadata: [
                "lane": "\(lane.id)", "officer": "\(officer.name)", "command": "\(command.kind.rawValue)",
                "details": "\(command.details)", "action": "\(action.id)", "message": "\(id)",
            ])
        return CommandSent(
            action: sent, messageID: id, cache: cache, delivery: .sent(node: cluster?.me.value))
    }

    /// Queues the lane's cache as the chunks of a new generation; changes
    /// after its snapshot then follow as deltas numbered from 1
    /// (``pollCacheFeed(limit:)``). A session's push shares a snapshot of
    /// its direction read within ``snapshotMaxAge`` (CacheSnapshots.swift);
    /// every other cause reads the store afresh.
    /// - Parameter fresh: whether to read the store afresh; by default only
    ///   a session's push may share (a lane the feed could not serve passes
    ///   true: the shared snapshot may be the one that failed it).
    public func pushCache(to lane: Lane, cause: CachePushCause, by officer: String?, fresh: Bool? = nil)
        async throws -> CachePush
    {
        let repository = repository
        let clock = clock
        let (maxPayload, maxBundles) = (maxPayload, maxBundles)
        let snapshot = try await snapshots.snapshot(
            of: lane.direction, fresh: fresh ?? (cause != .session), now: clock.now(), maxAge: snapshotMaxAge
        ) {
            let readAt = clock.now()
            let cache = OfflineCache(
                try await repository.offlineCacheSource(direction: lane.direction), maxPayload: maxPayload,
                maxBundles: maxBundles)
            // The generation only fills a fixed-size field, so the split does
            // not depend on it: split once, for every lane that shares it.
            return try CacheSnapshot(cache, maxPayload: maxPayload, readAt: readAt)
        }
        var chunks = snapshot.chunks
        let record = try await repository.recordCachePush(
            lane: lane.id, floor: Self.microseconds(clock.now()), cause: cause, requestedBy: officer,
            bundles: snapshot.bundles, watchTargets: snapshot.watchTargets, omitted: snapshot.omitted.count,
            chunks: chunks.count, at: clock.now())
        for i in chunks.indices { chunks[i].generation = record.generation }
        // One outbox transaction for the whole push, not one per chunk.
        let ids = try await server.send(chunks.map { .bundleCache($0) }, to: lane.id)
        // Only now: a delta of this generation queued before its chunks
        // would reach the lane before the generation it applies to.
        followers.withLock {
            $0.pushed(
                lane: lane.id, direction: lane.direction, generation: record.generation,
                position: snapshot.feedPosition)
        }
        if snapshot.overLimit > 0 {
            logger.error(
                "lane link: more active bundles than a lane's cache holds; offline, the rest go to inspection",
                metadata: [
                    "lane": "\(lane.id)", "limit": "\(maxBundles)", "leftOut": "\(snapshot.overLimit)",
                ])
        }
        if snapshot.omitted.count > snapshot.overLimit {
            logger.warning(
                "lane link: bundles too large for a lane's cache; offline, their vehicles go to inspection",
                metadata: [
                    "lane": "\(lane.id)", "count": "\(snapshot.omitted.count - snapshot.overLimit)",
                    "ubrs": "\(snapshot.omitted.prefix(20).map(\.value))",
                ])
        }
        logger.info(
            "lane link: bundle cache queued",
            metadata: [
                "lane": "\(lane.id)", "generation": "\(record.generation)", "cause": "\(cause.rawValue)",
                "bundles": "\(record.bundles)", "watchTargets": "\(record.watchTargets)",
                "chunks": "\(ids.count)", "snapshotPosition": "\(snapshot.feedPosition)",
            ])
        // The chunks' buffers are in the outbox now, and free here.
        HeapTrim.soon()
        return CachePush(record: record, messageIDs: ids, omitted: snapshot.omitted)
    }

    /// Store reads for cache pushes so far (shared ones count once).
    public var cacheSnapshotReads: Int { get async { await snapshots.reads } }

    /// Microseconds since 1970: a floor for generations that keeps them in
    /// time order; the store keeps them increasing if the clock steps back.
    static func microseconds(_ date: Date) -> UInt64 {
        UInt64(max(0, (date.timeIntervalSince1970 * 1_000_000).rounded()))
    }
}
