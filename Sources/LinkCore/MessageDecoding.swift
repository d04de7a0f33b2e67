import Foundation
import RoadCargo

extension LaneMessage {
    /// Decodes the payload of a `kind` packet in layout `version`. A payload
    /// that is short, has bytes left over, or carries an unknown type or
    /// code throws; nothing here traps on peer input.
    public init(kind: PacketKind, payload: [UInt8], version: UInt16 = currentVersion) throws(WireError) {
        try Self.checkVersion(version)
        var r = WireReader(payload)
        let message: LaneMessage
        switch kind {
        case .hello:
            let n = try r.count("versions", wide: false, minElementSize: 2)
            var versions: [UInt16] = []
            for _ in 0..<n { versions.append(try r.u16("version")) }
            let lane = try r.laneID()
            message = .hello(
                LinkHello(
                    versions: versions, laneID: lane,
                    capabilities: LinkCapabilities(rawValue: try r.u32("capabilities"))))
        case .welcome:
            message = .welcome(
                LinkWelcome(
                    version: try r.u16("version"),
                    capabilities: LinkCapabilities(rawValue: try r.u32("capabilities")),
                    centralTime: try r.time("central time")))
        case .refuse:
            message = .refuse(LinkRefuse(code: try r.u8("refusal code"), text: try r.string("refusal text")))
        case .heartbeat:
            message = .heartbeat
        case .goodbye:
            message = .goodbye
        case .ack:
            message = .ack(
                try r.list("acknowledged ids", minElementSize: 8) { r throws(WireError) in try r.u64("id") })
        case .data:
            message = try Self.decodeData(&r)
        }
        try r.finish(message.name)
        self = message
    }

    static func decodeData(_ r: inout WireReader) throws(WireError) -> LaneMessage {
        let raw = try r.u8("message type")
        guard let type = MessageType(rawValue: raw) else {
            throw .unknownTag(field: "message type", value: UInt64(raw))
        }
        switch type {
        case .timeSync:
            switch try r.u8("time sync kind") {
            case 1: return .timeSync(.request(sentAt: try r.time("sent at")))
            case 2:
                return .timeSync(
                    .reply(
                        requestSentAt: try r.time("request sent at"), receivedAt: try r.time("received at"),
                        repliedAt: try r.time("replied at")))
            case let t: throw .unknownTag(field: "time sync kind", value: UInt64(t))
            }
        case .vehicleArrival:
            return .vehicleArrival(VehicleArrival(vrn: try r.vrn(), arrivedAt: try r.time("arrived at")))
        case .decisionRequest:
            return .decisionRequest(
                DecisionRequestMessage(
                    requestID: try r.u64("request id"), passageID: try r.u64("passage id"),
                    lane: try r.laneID(), vrn: try r.vrn(),
                    arrivedAt: try r.time("arrived at"), unladenPressed: try r.bool("unladen pressed")))
        case .decision:
            return .decision(try decodeDecision(&r))
        case .laneEvent:
            return .laneEvent(try decodeLaneEvent(&r))
        case .helpCall:
            return .helpCall(try decodeHelpCall(&r))
        case .officerCommand:
            return .officerCommand(try decodeOfficerCommand(&r))
        case .bundleCache:
            return .bundleCache(try decodeBundleChunk(&r))
        case .offlineCrossing:
            return .offlineCrossing(
                OfflineCrossing(
                    passageID: try r.u64("passage id"), requestID: try r.u64("request id"), vrn: try r.vrn(),
                    arrivedAt: try r.time("arrived at"), unladenPressed: try r.bool("unladen pressed"),
                    decidedAt: try r.time("decided at"), decision: try decodeDecisionBody(&r),
                    cacheVersion: try decodeCacheVersion(&r)))
        case .bundleCacheDelta:
            let generation = try r.u64("generation")
            let sequence = try r.u64("delta sequence")
            guard sequence >= 1 else {
                throw .invalidValue(field: "delta sequence", detail: "deltas are numbered from 1")
            }
            let changes = try r.list("cache changes", minElementSize: 3) { r throws(WireError) in
                try decodeCacheChange(&r)
            }
            return .bundleCacheDelta(
                BundleCacheDelta(generation: generation, sequence: sequence, changes: changes))
        case .cacheResync:
            return .cacheResync(have: try decodeCacheVersion(&r))
        }
    }

    static func decodeDecision(_ r: inout WireReader) throws(WireError) -> DecisionMessage {
        let requestID = try r.u64("request id")
        let decisionID = try r.u64("decision id")
        return DecisionMessage(
            requestID: requestID, decisionID: decisionID, decision: try decodeDecisionBody(&r))
    }

    static func decodeDecisionBody(_ r: inout WireReader) throws(WireError) -> Decision {
        let instruction = try r.instruction()
        let reason = try r.reason()
        let noteCount = try r.count("decision notes", wide: false)
        var notes: [DecisionNote] = []
        for _ in 0..<noteCount { notes.append(try r.note()) }
        let ubr = try r.optional("ubr") { r throws(WireError) in try r.reference(UBR.self) }
        let earliest = try r.optional("earliest crossing") { r throws(WireError) in
            try r.time("earliest crossing")
        }
        let ccrns = try r.list("ccrns", minElementSize: 8) { r throws(WireError) in try r.reference(CCRN.self)
        }
        return Decision(
            instruction: instruction, reason: reason, notes: notes, ubr: ubr, earliestCrossing: earliest,
            ccrns: ccrns)
    }

    static func decodeCacheVersion(_ r: inout WireReader) throws(WireError) -> CacheVersion? {
        try r.optional("cache version") { r throws(WireError) in
            CacheVersion(generation: try r.u64("generation"), sequence: try r.u64("delta sequence"))
        }
    }

    static func decodeCacheChange(_ r: inout WireReader) throws(WireError) -> BundleCacheDelta.Change {
        let tag = try r.u8("cache change kind")
        switch tag {
        case 1: return .put(try decodeCachedBundle(&r))
        case 2: return .drop(try r.reference(UBR.self))
        case 3:
            return .watchList(
                try r.list("watch list", minElementSize: 2) { r throws(WireError) in try decodeWatchTarget(&r)
                })
        default: throw .unknownTag(field: "cache change kind", value: UInt64(tag))
        }
    }

    static func decodeLaneEvent(_ r: inout WireReader) throws(WireError) -> LaneEvent {
        let at = try r.time("occurred at")
        let tag = try r.u8("lane event kind")
        func button() throws(WireError) -> LaneButton {
            let raw = try r.u8("button")
            guard let b = LaneButton(rawValue: raw) else {
                throw .unknownTag(field: "button", value: UInt64(raw))
            }
            return b
        }
        let kind: LaneEvent.Kind
        switch tag {
        case 1: kind = .buttonPressed(try button(), kernelNanoseconds: try r.u64("kernel timestamp"))
        case 2: kind = .buttonReleased(try button(), kernelNanoseconds: try r.u64("kernel timestamp"))
        case 3: kind = .instructionShown(try r.instruction(), decisionID: try r.u64("decision id"))
        case 4:
            kind = .vehicleLeft(
                vrn: try r.vrn(),
                ubr: try r.optional("ubr") { r throws(WireError) in try r.reference(UBR.self) },
                passageID: try r.u64("passage id"))
        case 5: kind = .laneOpened
        case 6: kind = .laneClosed
        case 7: kind = .fault(code: try r.u16("fault code"), text: try r.string("fault text"))
        default: throw .unknownTag(field: "lane event kind", value: UInt64(tag))
        }
        return LaneEvent(occurredAt: at, kind)
    }

    static func decodeHelpCall(_ r: inout WireReader) throws(WireError) -> HelpCallSignal {
        let tag = try r.u8("help call signal")
        let id = try r.u64("call id")
        switch tag {
        case 1: return .ring(callID: id)
        case 2: return .answer(callID: id, officer: try r.string("officer", short: true))
        case 3: return .hold(callID: id)
        case 4: return .end(callID: id)
        case 5:
            return .officerMessage(
                callID: id, phraseID: try r.u16("phrase id"), text: try r.string("message text"))
        default: throw .unknownTag(field: "help call signal", value: UInt64(tag))
        }
    }

    static func decodeOfficerCommand(_ r: inout WireReader) throws(WireError) -> OfficerCommand {
        let tag = try r.u8("officer command")
        switch tag {
        case 1:
            return .override(
                requestID: try r.u64("request id"), instruction: try r.instruction(), reason: try r.reason(),
                officer: try r.string("officer", short: true), text: try r.string("override text"))
        case 2: return .openLane(officer: try r.string("officer", short: true))
        case 3: return .closeLane(officer: try r.string("officer", short: true))
        case 4:
            return .offlineMode(on: try r.bool("offline mode"), officer: try r.string("officer", short: true))
        default: throw .unknownTag(field: "officer command", value: UInt64(tag))
        }
    }

    static func decodeBundleChunk(_ r: inout WireReader) throws(WireError) -> BundleCacheChunk {
        let generation = try r.u64("generation")
        let index = try r.u16("chunk index")
        let count = try r.u16("chunk count")
        guard index < count else {
            throw .invalidValue(field: "chunk index", detail: "chunk \(index) of \(count)")
        }
        // A bundle is at least 8 (UBR) + 2 (VRN) + 1 + 2 + 8 + 1 bytes.
        let bundles = try r.list("bundles", minElementSize: 22) { r throws(WireError) in
            try decodeCachedBundle(&r)
        }
        let watch = try r.list("watch list", minElementSize: 2) { r throws(WireError) in
            try decodeWatchTarget(&r)
        }
        return BundleCacheChunk(
            generation: generation, index: index, count: count, bundles: bundles, watchList: watch)
    }

    static func decodeCachedBundle(_ r: inout WireReader) throws(WireError) -> CachedBundle {
        let ubr = try r.reference(UBR.self)
        let vrn = try r.vrn()
        let direction = try r.direction()
        let ccrns = try r.list("bundle ccrns", minElementSize: 12) { r throws(WireError) in
            CachedCCRN(ccrn: try r.reference(CCRN.self), validUntil: try r.day("valid until"))
        }
        return CachedBundle(
            ubr: ubr, vrn: vrn, direction: direction, ccrns: ccrns,
            earliestCrossing: try r.time("earliest crossing"),
            status: try r.bundleStatus())
    }

    static func decodeWatchTarget(_ r: inout WireReader) throws(WireError) -> WatchTarget {
        let tag = try r.u8("watch target kind")
        switch tag {
        case 1: return .vrn(try r.vrn())
        case 2: return .ccrn(try r.reference(CCRN.self))
        case 3:
            let raw = try r.string("consignee")
            let normal = WatchTarget.normaliseName(raw)
            guard !normal.isEmpty, normal == raw else {
                throw .invalidValue(field: "consignee", detail: "\"\(raw)\" is empty or not normalised")
            }
            return .consignee(raw)
        default: throw .unknownTag(field: "watch target kind", value: UInt64(tag))
        }
    }
}
