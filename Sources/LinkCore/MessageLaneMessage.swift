import Foundation
import RoadCargo

/// Everything said on the lane link, above framing.
///
/// Control messages travel in their own packet kinds with no type byte
/// (hello, welcome, refuse, heartbeat, goodbye, ack); application messages
/// travel in data packets whose payload starts with a one-byte message type.
/// docs/link-protocol.md gives every layout.
public enum LaneMessage: Sendable, Hashable {
    case hello(LinkHello)
    case welcome(LinkWelcome)
    case refuse(LinkRefuse)
    case heartbeat
    case goodbye
    /// Message ids the sender has applied.
    case ack([UInt64])
    case timeSync(TimeSync)
    case vehicleArrival(VehicleArrival)
    case decisionRequest(DecisionRequestMessage)
    case decision(DecisionMessage)
    case laneEvent(LaneEvent)
    case helpCall(HelpCallSignal)
    case officerCommand(OfficerCommand)
    case bundleCache(BundleCacheChunk)
    /// Lane to central: a decision made offline, to reconcile.
    case offlineCrossing(OfflineCrossing)
    /// Central to lane: a numbered change to the cache.
    case bundleCacheDelta(BundleCacheDelta)
    /// Lane to central: the lane missed a delta (or holds no cache) and
    /// asks for a full push; `have` is what it holds now.
    case cacheResync(have: CacheVersion?)

    /// The message layout versions this build speaks, lowest first.
    /// Version 2 added passage ids, offline crossings and cache deltas;
    /// version 1 is retired (a lane must speak 2 to decide with central).
    public static let supportedVersions: [UInt16] = [2]
    /// The version this build prefers: its highest.
    public static let currentVersion: UInt16 = 2

    /// The highest version in both lists, or nil: central's choice for a hello.
    public static func negotiate(offered: [UInt16], supported: [UInt16] = supportedVersions) -> UInt16? {
        Set(offered).intersection(supported).max()
    }

    /// The first payload byte of each application message.
    public enum MessageType: UInt8, Sendable, Hashable, CaseIterable {
        case timeSync = 0x10
        case vehicleArrival = 0x11
        case decisionRequest = 0x12
        case decision = 0x13
        case offlineCrossing = 0x14
        case laneEvent = 0x20
        case helpCall = 0x30
        case officerCommand = 0x40
        case bundleCache = 0x50
        case bundleCacheDelta = 0x51
        case cacheResync = 0x52
    }

    /// The packet kind this message travels in.
    public var packetKind: PacketKind {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .refuse: .refuse
        case .heartbeat: .heartbeat
        case .goodbye: .goodbye
        case .ack: .ack
        case .timeSync, .vehicleArrival, .decisionRequest, .decision, .laneEvent, .helpCall,
            .officerCommand, .bundleCache, .offlineCrossing, .bundleCacheDelta, .cacheResync:
            .data
        }
    }

    /// A short name for logs and errors.
    public var name: String {
        switch self {
        case .hello: "hello"
        case .welcome: "welcome"
        case .refuse: "refuse"
        case .heartbeat: "heartbeat"
        case .goodbye: "goodbye"
        case .ack: "ack"
        case .timeSync: "time sync"
        case .vehicleArrival: "vehicle arrival"
        case .decisionRequest: "decision request"
        case .decision: "decision"
        case .laneEvent: "lane event"
        case .helpCall: "help call"
        case .officerCommand: "officer command"
        case .bundleCache: "bundle cache chunk"
        case .offlineCrossing: "offline crossing"
        case .bundleCacheDelta: "bundle cache delta"
        case .cacheResync: "cache resync"
        }
    }

    /// The packet for this message; `messageID` is the sender's idempotency
    /// id for data (zero for control messages).
    public func packet(sequence: UInt32, messageID: UInt64 = 0, version: UInt16 = currentVersion)
        throws(WireError) -> LinkPacket
    {
        LinkPacket(
            kind: packetKind, sequence: sequence, messageID: messageID, payload: try encode(version: version))
    }

    /// Decodes a received packet's payload according to its kind.
    public init(packet: LinkPacket, version: UInt16 = currentVersion) throws(WireError) {
        try self.init(kind: packet.kind, payload: packet.payload, version: version)
    }

    static func checkVersion(_ version: UInt16) throws(WireError) {
        guard supportedVersions.contains(version) else {
            throw .unknownTag(field: "protocol version", value: UInt64(version))
        }
    }
}

extension LaneEvent.Kind {
    /// The event kind byte.
    var tag: UInt8 {
        switch self {
        case .buttonPressed: 1
        case .buttonReleased: 2
        case .instructionShown: 3
        case .vehicleLeft: 4
        case .laneOpened: 5
        case .laneClosed: 6
        case .fault: 7
        }
    }
}

extension HelpCallSignal {
    var tag: UInt8 {
        switch self {
        case .ring: 1
        case .answer: 2
        case .hold: 3
        case .end: 4
        case .officerMessage: 5
        }
    }

    /// Which call the signal belongs to.
    public var callID: UInt64 {
        switch self {
        case .ring(let id), .answer(let id, _), .hold(let id), .end(let id), .officerMessage(let id, _, _): id
        }
    }
}

extension OfficerCommand {
    var tag: UInt8 {
        switch self {
        case .override: 1
        case .openLane: 2
        case .closeLane: 3
        case .offlineMode: 4
        }
    }
}

extension WatchTarget {
    var tag: UInt8 {
        switch self {
        case .vrn: 1
        case .ccrn: 2
        case .consignee: 3
        }
    }
}
