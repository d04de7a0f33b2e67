import CargoStore
import CentralCluster
import Foundation
import LaneLink
import LinkCore
import Logging
import RoadCargo
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
    public init(
        server: LaneLinkServer, repository: any CargoRepository, clock: any WallClock, logger: Logger,
        maxPayload: Int = FrameFormat.maxPayload, maxBundles: Int = OfflineCache.maxBundles
    ) {
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

    /// Builds the lane's cache from one store snapshot and queues it as the
    /// chunks of a new generation; changes after the snapshot then follow
    /// as deltas numbered from 1 (``pollCacheFeed(limit:)``).
    public func pushCache(to lane: Lane, cause: CachePushCause, by officer: String?) async throws -> CachePush
    {
        let cache = OfflineCache(
            try await repository.offlineCacheSource(direction: lane.direction), maxPayload: maxPayload,
            maxBundles: maxBundles)
        // The generation only fills a fixed-size field, so the split does
        // not depend on it: split first, to record the chunk count with it.
        var chunks = try cache.chunks(generation: 0, maxPayload: maxPayload)
        let record = try await repository.recordCachePush(
            lane: lane.id, floor: Self.microseconds(clock.now()), cause: cause, requestedBy: officer,
            bundles: cache.bundles.count, watchTargets: cache.watchList.count, omitted: cache.omitted.count,
            chunks: chunks.count, at: clock.now())
        var ids: [UInt64] = []
        for i in chunks.indices {
            chunks[i].generation = record.generation
            ids.append(try await server.send(.bundleCache(chunks[i]), to: lane.id))
        }
        // Only now: a delta of this generation queued before its chunks
        // would reach the lane before the generation it applies to.
        followers.withLock {
            $0.pushed(
                lane: lane.id, direction: lane.direction, generation: record.generation,
                position: cache.feedPosition)
        }
        if cache.overLimit > 0 {
            logger.error(
                "lane link: more active bundles than a lane's cache holds; offline, the rest go to inspection",
                metadata: [
                    "lane": "\(lane.id)", "limit": "\(maxBundles)", "leftOut": "\(cache.overLimit)",
                ])
        }
        if cache.omitted.count > cache.overLimit {
            logger.warning(
                "lane link: bundles too large for a lane's cache; offline, their vehicles go to inspection",
                metadata: [
                    "lane": "\(lane.id)", "count": "\(cache.omitted.count - cache.overLimit)",
                    "ubrs": "\(cache.omitted.prefix(20).map(\.value))",
                ])
        }
        logger.info(
            "lane link: bundle cache queued",
            metadata: [
                "lane": "\(lane.id)", "generation": "\(record.generation)", "cause": "\(cause.rawValue)",
                "bundles": "\(record.bundles)", "watchTargets": "\(record.watchTargets)",
                "chunks": "\(ids.count)",
            ])
        return CachePush(record: record, messageIDs: ids, omitted: cache.omitted)
    }

    /// Microseconds since 1970: a floor for generations that keeps them in
    /// time order; the store keeps them increasing if the clock steps back.
    static func microseconds(_ date: Date) -> UInt64 {
        UInt64(max(0, (date.timeIntervalSince1970 * 1_000_000).rounded()))
    }
}
