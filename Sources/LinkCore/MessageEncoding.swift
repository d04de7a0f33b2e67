import Foundation
import RoadCargo

extension LaneMessage {
    /// The payload bytes in layout `version`. Throws only when a value cannot
    /// be written in its field (a string or list too long).
    public func encode(version: UInt16 = currentVersion) throws(WireError) -> [UInt8] {
        try Self.checkVersion(version)
        var w = WireWriter()
        switch self {
        case .hello(let h):
            try w.count(h.versions.count, field: "versions", wide: false)
            for v in h.versions { w.u16(v) }
            try w.laneID(h.laneID)
            w.u32(h.capabilities.rawValue)
        case .welcome(let m):
            w.u16(m.version)
            w.u32(m.capabilities.rawValue)
            try w.time(m.centralTime, field: "central time")
        case .refuse(let r):
            w.u8(r.code)
            try w.string(r.text, field: "refusal text")
        case .heartbeat, .goodbye:
            break
        case .ack(let ids):
            try w.list(ids, field: "acknowledged ids") { w, id in w.u64(id) }
        case .timeSync(let t):
            w.u8(MessageType.timeSync.rawValue)
            switch t {
            case .request(let sent):
                w.u8(1)
                try w.time(sent, field: "sent at")
            case .reply(let t1, let t2, let t3):
                w.u8(2)
                try w.time(t1, field: "request sent at")
                try w.time(t2, field: "received at")
                try w.time(t3, field: "replied at")
            }
        case .vehicleArrival(let a):
            w.u8(MessageType.vehicleArrival.rawValue)
            try w.vrn(a.vrn)
            try w.time(a.arrivedAt, field: "arrived at")
        case .decisionRequest(let r):
            w.u8(MessageType.decisionRequest.rawValue)
            w.u64(r.request.requestID)
            w.u64(r.request.passageID)
            try w.laneID(r.lane)
            try w.vrn(r.request.vrn)
            try w.time(r.request.arrivedAt, field: "arrived at")
            w.bool(r.request.unladenPressed)
        case .decision(let d):
            w.u8(MessageType.decision.rawValue)
            try Self.encodeDecision(d, into: &w)
        case .laneEvent(let e):
            w.u8(MessageType.laneEvent.rawValue)
            try Self.encodeLaneEvent(e, into: &w)
        case .helpCall(let h):
            w.u8(MessageType.helpCall.rawValue)
            w.u8(h.tag)
            w.u64(h.callID)
            switch h {
            case .ring, .hold, .end: break
            case .answer(_, let officer): try w.string(officer, field: "officer", short: true)
            case .officerMessage(_, let phrase, let text):
                w.u16(phrase)
                try w.string(text, field: "message text")
            }
        case .officerCommand(let c):
            w.u8(MessageType.officerCommand.rawValue)
            try Self.encodeOfficerCommand(c, into: &w)
        case .bundleCache(let chunk):
            w.u8(MessageType.bundleCache.rawValue)
            try Self.encodeBundleChunk(chunk, into: &w)
        case .offlineCrossing(let c):
            w.u8(MessageType.offlineCrossing.rawValue)
            w.u64(c.passageID)
            w.u64(c.requestID)
            try w.vrn(c.vrn)
            try w.time(c.arrivedAt, field: "arrived at")
            w.bool(c.unladenPressed)
            try w.time(c.decidedAt, field: "decided at")
            try Self.encodeDecisionBody(c.decision, into: &w)
            try w.optional(c.cacheVersion) { w, v in
                w.u64(v.generation)
                w.u64(v.sequence)
            }
        case .bundleCacheDelta(let d):
            w.u8(MessageType.bundleCacheDelta.rawValue)
            w.u64(d.generation)
            w.u64(d.sequence)
            try w.list(d.changes, field: "cache changes") { w, change throws(WireError) in
                switch change {
                case .put(let bundle):
                    w.u8(1)
                    try Self.encodeCachedBundle(bundle, into: &w)
                case .drop(let ubr):
                    w.u8(2)
                    w.reference(ubr)
                case .watchList(let targets):
                    w.u8(3)
                    try w.list(targets, field: "watch list") { w, t throws(WireError) in
                        try Self.encodeWatchTarget(t, into: &w)
                    }
                }
            }
        case .cacheResync(let have):
            w.u8(MessageType.cacheResync.rawValue)
            try w.optional(have) { w, v in
                w.u64(v.generation)
                w.u64(v.sequence)
            }
        }
        return w.bytes
    }

    static func encodeDecision(_ m: DecisionMessage, into w: inout WireWriter) throws(WireError) {
        w.u64(m.requestID)
        w.u64(m.decisionID)
        try encodeDecisionBody(m.decision, into: &w)
    }

    static func encodeDecisionBody(_ d: Decision, into w: inout WireWriter) throws(WireError) {
        w.instruction(d.instruction)
        w.reason(d.reason)
        try w.count(d.notes.count, field: "decision notes", wide: false)
        for n in d.notes { w.u8(n.wireCode) }
        try w.optional(d.ubr) { w, ubr in w.reference(ubr) }
        try w.optional(d.earliestCrossing) { w, t throws(WireError) in
            try w.time(t, field: "earliest crossing")
        }
        try w.list(d.ccrns, field: "ccrns") { w, c in w.reference(c) }
    }

    static func encodeLaneEvent(_ e: LaneEvent, into w: inout WireWriter) throws(WireError) {
        try w.time(e.occurredAt, field: "occurred at")
        w.u8(e.kind.tag)
        switch e.kind {
        case .buttonPressed(let b, let ns), .buttonReleased(let b, let ns):
            w.u8(b.rawValue)
            w.u64(ns)
        case .instructionShown(let i, let decisionID):
            w.instruction(i)
            w.u64(decisionID)
        case .vehicleLeft(let vrn, let ubr, let passageID):
            try w.vrn(vrn)
            try w.optional(ubr) { w, u in w.reference(u) }
            w.u64(passageID)
        case .laneOpened, .laneClosed:
            break
        case .fault(let code, let text):
            w.u16(code)
            try w.string(text, field: "fault text")
        }
    }

    static func encodeOfficerCommand(_ c: OfficerCommand, into w: inout WireWriter) throws(WireError) {
        w.u8(c.tag)
        switch c {
        case .override(let requestID, let instruction, let reason, let officer, let text):
            w.u64(requestID)
            w.instruction(instruction)
            w.reason(reason)
            try w.string(officer, field: "officer", short: true)
            try w.string(text, field: "override text")
        case .openLane(let officer), .closeLane(let officer):
            try w.string(officer, field: "officer", short: true)
        case .offlineMode(let on, let officer):
            w.bool(on)
            try w.string(officer, field: "officer", short: true)
        }
    }

    static func encodeBundleChunk(_ c: BundleCacheChunk, into w: inout WireWriter) throws(WireError) {
        w.u64(c.generation)
        w.u16(c.index)
        w.u16(c.count)
        try w.list(c.bundles, field: "bundles") { w, b throws(WireError) in
            try encodeCachedBundle(b, into: &w)
        }
        try w.list(c.watchList, field: "watch list") { w, t throws(WireError) in
            try encodeWatchTarget(t, into: &w)
        }
    }

    static func encodeCachedBundle(_ b: CachedBundle, into w: inout WireWriter) throws(WireError) {
        w.reference(b.ubr)
        try w.vrn(b.vrn)
        w.direction(b.direction)
        try w.list(b.ccrns, field: "bundle ccrns") { w, c throws(WireError) in
            w.reference(c.ccrn)
            try w.day(c.validUntil)
        }
        try w.time(b.earliestCrossing, field: "earliest crossing")
        w.bundleStatus(b.status)
    }

    static func encodeWatchTarget(_ t: WatchTarget, into w: inout WireWriter) throws(WireError) {
        w.u8(t.tag)
        switch t {
        case .vrn(let v): try w.vrn(v)
        case .ccrn(let c): w.reference(c)
        case .consignee: try w.string(t.value, field: "consignee")
        }
    }
}
