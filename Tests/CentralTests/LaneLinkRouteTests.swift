import CargoStore
import ClearanceCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LinkCore
import RoadCargo
import TestKit
import Testing

@testable import Central

/// The HTTP routes that reach lanes over the link, end to end: HTTP request,
/// central's store and outbox, a real TCP session, the lane's handler. Every
/// response is also held against docs/openapi.yaml.
@Suite(.timeLimit(.minutes(3))) struct LaneLinkRouteTests {
    static let lmc = LaneLinkRig.lmc
    static let arrivals = "/v1/lanes/{laneId}/arrivals"
    static let commands = "/v1/lanes/{laneId}/commands"
    static let cache = "/v1/lanes/{laneId}/bundle-cache"
    static let events = "/v1/lanes/{laneId}/events"

    /// Immigration reports a truck while the lane is away: the arrival waits
    /// in the lane's outbox and arrives once, stamped with central's clock;
    /// the next arrival goes straight through; a restarted lane gets neither again.
    @Test func arrivalsReachTheLaneExactlyOnce() async throws {
        let rig = try await LaneLinkRig()
        let walk = Walk(doc: try OpenAPIDocument.load())
        try await rig.app().test(.router) { client in
            let away = try await client.execute(
                uri: "/v1/lanes/LMC-IN-01/arrivals", method: .post, headers: rig.h.auth("immigration"),
                body: buffer(["vrn": " ab 12 "]))
            #expect(away.status == .accepted)
            _ = walk.check("POST", Self.arrivals, away)
            let first = try object(away)
            #expect(first["vrn"] as? String == "AB12")
            #expect(first["arrivedAt"] as? String == "2026-11-26T09:00:00+08:00")
            #expect(first["laneConnected"] as? Bool == false)

            let lane = try rig.lane()
            try await eventually("lane linked") { rig.server.connectedLanes == [Self.lmc] }
            _ = rig.h.clock.advance(by: 5)
            let present = try await client.execute(
                uri: "/v1/lanes/LMC-IN-01/arrivals", method: .post, headers: rig.h.auth("officer"),
                body: buffer(["vrn": "CD34"]))
            #expect(present.status == .accepted)
            _ = walk.check("POST", Self.arrivals, present)
            #expect(try object(present)["laneConnected"] as? Bool == true)
            try await rig.drained()
            #expect(
                lane.arrivals == [
                    VehicleArrival(vrn: try VRN("AB12"), arrivedAt: Harness.start),
                    VehicleArrival(vrn: try VRN("CD34"), arrivedAt: Harness.start.addingTimeInterval(5)),
                ])
            await lane.stop()

            let restarted = try rig.lane()
            try await eventually("lane linked again") { restarted.client.sessionsEstablished == 1 }
            try await rig.drained()
            #expect(restarted.arrivals == [])
            await restarted.stop()
        }
        #expect(walk.violations.withLock { $0 } == [])
        await rig.stop()
    }

    /// Each command arrives once, in order, carrying the officer's name, and
    /// is recorded at central with that name; "offline on" is preceded by a
    /// complete fresh cache.
    @Test func commandsReachTheLaneOnceAndAreRecordedWithTheOfficer() async throws {
        let rig = try await LaneLinkRig()
        let walk = Walk(doc: try OpenAPIDocument.load())
        let lane = try rig.lane()
        try await eventually("lane linked") { rig.server.connectedLanes == [Self.lmc] }
        try await rig.drained()
        let generation = try await rig.app().test(.router) { client -> UInt64? in
            let bodies: [[String: Any]] = [
                ["command": "open"], ["command": "close"],
                [
                    "command": "override", "requestId": "18446744073709551615", "instruction": "INSPECT",
                    "reason": "OFFICER_DIVERT", "text": "seal number differs",
                ],
                [
                    "command": "override", "requestId": "7", "instruction": "CLEARED",
                    "reason": "OFFICER_RELEASE",
                ],
                ["command": "offline", "on": true], ["command": "offline", "on": false],
            ]
            var generation: UInt64?
            for body in bodies {
                let r = try await client.execute(
                    uri: "/v1/lanes/LMC-IN-01/commands", method: .post, headers: rig.h.auth("officer"),
                    body: buffer(body))
                #expect(r.status == .accepted, "\(body)")
                _ = walk.check("POST", Self.commands, r)
                let o = try object(r)
                #expect(o["officer"] as? String == "officer")
                #expect(o["command"] as? String == body["command"] as? String)
                if body["on"] as? Bool == true {
                    generation = (o["cacheGeneration"] as? NSNumber)?.uint64Value
                }
            }
            return generation
        }
        try await rig.drained()
        #expect(
            lane.commands == [
                .openLane(officer: "officer"), .closeLane(officer: "officer"),
                .override(
                    requestID: UInt64.max, instruction: .inspect, reason: .officerDivert, officer: "officer",
                    text: "seal number differs"),
                .override(
                    requestID: 7, instruction: .cleared, reason: .officerRelease, officer: "officer", text: ""
                ),
                .offlineMode(on: true, officer: "officer"), .offlineMode(on: false, officer: "officer"),
            ])
        // The whole generation is on the lane before it is told to go offline.
        let messages = lane.messages
        let offlineAt = messages.firstIndex(of: .officerCommand(.offlineMode(on: true, officer: "officer")))
        let lastChunk = messages.lastIndex {
            if case .bundleCache(let c) = $0 { return c.generation == generation }
            return false
        }
        #expect(generation != nil && lastChunk != nil && offlineAt != nil && lastChunk! < offlineAt!)

        let recorded = try await rig.h.store.officerActions(lane: Self.lmc, limit: 10).reversed()
        #expect(recorded.map(\.command) == [.open, .close, .override, .override, .offline, .offline])
        #expect(recorded.allSatisfy { $0.officer == "officer" && $0.messageID != nil })
        #expect(
            recorded.dropFirst(2).first?.details == [
                "requestId": "18446744073709551615", "instruction": "INSPECT", "reason": "OFFICER_DIVERT",
                "text": "seal number differs",
            ])
        #expect(walk.violations.withLock { $0 } == [])
        await lane.stop()
        await rig.stop()
    }

    /// A lane's cache: its direction's active bundles (not debundled ones,
    /// not the other direction's) with their CCRNs' Valid Until days, the
    /// watch list, and a watched consignee's CCRNs; split into frames of the
    /// link's real size; pushed when the lane links and when an officer asks,
    /// each generation above the last, even after central restarts with its
    /// clock behind.
    @Test func theBundleCacheIsPushedInChunksOnLinkAndOnRequest() async throws {
        let rig = try await LaneLinkRig()
        let h = rig.h
        let walk = Walk(doc: try OpenAPIDocument.load())
        let shipper = Account(name: "shipper", role: .shipper)
        let driver = Account(name: "driver", role: .driver)
        let plain = try SubmissionBodyFixture.submission(h)
        var many: [Consignment] = []
        for result in try await h.store.submitBatch(
            Array(repeating: plain, count: 940), by: shipper, at: h.clock.now())
        {
            guard case .accepted(let c) = result else {
                Issue.record("refused: \(result)")
                return
            }
            many.append(c)
        }
        func bundle(_ vrn: String, _ ccrns: [Consignment], _ direction: Direction = .inbound) async throws
            -> CargoBundle
        {
            try await h.store.createBundle(
                BundleRequest(
                    driverName: "Ho", vrn: try VRN(vrn), direction: direction, ccrns: ccrns.map(\.ccrn)),
                by: driver, at: h.clock.now())
        }
        let big1 = try await bundle("BIG1", Array(many[0..<300]))
        let big2 = try await bundle("BIG2", Array(many[300..<600]))
        let huge = try await bundle("HUGE1", Array(many[600..<940]))
        let wilson = try await h.store.submitConsignment(
            try submission(h, consignee: "Wilson  Development Ltd"), by: shipper, at: h.clock.now())
        let watched = try await bundle("WD1", [wilson])
        let export = try await h.store.submitConsignment(
            try submission(h, direction: "export"), by: shipper, at: h.clock.now())
        let outbound = try await bundle("EX1", [export], .outbound)
        let gone = try await h.store.submitConsignment(plain, by: shipper, at: h.clock.now())
        _ = try await h.store.debundle(try await bundle("DB1", [gone]).ubr, by: driver, at: h.clock.now())
        let officer = Account(name: "officer", role: .officer)
        _ = try await h.store.addWatch(
            .consignee("WILSON DEVELOPMENT LTD"), note: "", by: officer, at: h.clock.now())
        _ = try await h.store.addWatch(.vrn(try VRN("ZZ9")), note: "", by: officer, at: h.clock.now())

        let expectedBundles = [big1, big2, watched].sorted { $0.ubr.value < $1.ubr.value }.map { b in
            CachedBundle(
                ubr: b.ubr, vrn: b.vrn, direction: .inbound,
                ccrns: b.ccrns.map { CachedCCRN(ccrn: $0, validUntil: many[0].validUntil) },
                earliestCrossing: b.earliestCrossing, status: .active)
        }
        let expectedWatch: Set<WatchTarget> = [
            .consignee("WILSON DEVELOPMENT LTD"), .vrn(try VRN("ZZ9")), .ccrn(wilson.ccrn),
        ]
        @Sendable func check(_ chunks: [BundleCacheChunk], _ what: String) {
            #expect(chunks.count == 2, "\(what): \(chunks.count) chunks")
            #expect(chunks.map(\.index) == [0, 1] && chunks.allSatisfy { $0.count == 2 }, "\(what)")
            #expect(chunks.flatMap(\.bundles) == expectedBundles, "\(what)")
            #expect(Set(chunks.flatMap(\.watchList)) == expectedWatch, "\(what)")
            for chunk in chunks {
                let size = (try? LaneMessage.bundleCache(chunk).packet(sequence: 0).payload.count) ?? .max
                #expect(size <= FrameFormat.maxPayload, "\(what): chunk \(chunk.index) is \(size) bytes")
            }
        }

        let lane = try rig.lane()
        try await rig.drained()
        try await eventually("the first generation") { lane.chunks.count == 2 }
        let first = try #require(lane.chunks.first?.generation)
        check(lane.generation(first), "on link")

        try await rig.app().test(.router) { client in
            let r = try await client.execute(
                uri: "/v1/lanes/LMC-IN-01/bundle-cache", method: .post, headers: h.auth("officer"))
            #expect(r.status == .accepted)
            _ = walk.check("POST", Self.cache, r)
            let o = try object(r)
            let second = try #require((o["generation"] as? NSNumber)?.uint64Value)
            #expect(second > first)
            #expect(o["bundles"] as? Int == 3)
            #expect(o["watchTargets"] as? Int == 3)
            #expect(o["omitted"] as? [String] == [huge.ubr.value])
            #expect((o["messageIds"] as? [Any])?.count == 2)
            try await rig.drained()
            check(lane.generation(second), "on request")
            #expect(lane.chunks.count == 4)

            // The outbound lane's cache holds the export bundle only; the
            // lane is away, so it waits in that lane's outbox.
            let out = try await client.execute(
                uri: "/v1/lanes/MKT-OUT-01/bundle-cache", method: .post, headers: h.auth("officer-mkt"))
            #expect(out.status == .accepted)
            _ = walk.check("POST", Self.cache, out)
            #expect(try object(out)["bundles"] as? Int == 1)
            #expect(try object(out)["laneConnected"] as? Bool == false)
            let mkt = try #require(await h.store.lane(LaneLinkRig.mkt))
            let outCache = OfflineCache(try await h.store.offlineCacheSource(direction: mkt.direction))
            #expect(outCache.bundles.map(\.ubr) == [outbound.ubr])

            // Central restarted with its clock a day behind: still a newer generation.
            let restarted = LaneDispatcher(
                server: rig.server, repository: h.store,
                clock: SimulatedWallClock(Harness.start.addingTimeInterval(-86_400)),
                logger: rig.central.logger)
            let lmc = try #require(await h.store.lane(Self.lmc))
            let third = try await restarted.pushCache(to: lmc, cause: .officer, by: "officer")
            #expect(third.record.generation > second)
        }
        #expect(walk.violations.withLock { $0 } == [])
        await lane.stop()
        await rig.stop()
    }

    /// What lanes report is stored once and read newest first.
    @Test func laneEventsAreStoredOnceAndListedNewestFirst() async throws {
        let rig = try await LaneLinkRig()
        let walk = Walk(doc: try OpenAPIDocument.load())
        let lane = try rig.lane()
        let t = Harness.start
        let ubr = UBR(payload: 123_456_789)
        let sent: [LaneEvent] = [
            LaneEvent(occurredAt: t, .laneOpened),
            LaneEvent(occurredAt: t.addingTimeInterval(1), .buttonPressed(.unladen, kernelNanoseconds: 42)),
            LaneEvent(
                occurredAt: t.addingTimeInterval(2),
                .vehicleLeft(vrn: try VRN("AB12"), ubr: ubr, passageID: 5)),
            LaneEvent(
                occurredAt: t.addingTimeInterval(3), .fault(code: 10, text: "unladen button held 31 s")),
        ]
        for event in sent { try await lane.client.send(.laneEvent(event)) }
        try await eventually("lane's outbox acknowledged") { try await lane.client.pendingCount() == 0 }
        // Central crashed after storing the fault but before the link
        // recorded it applied: the lane sends it again.
        _ = try await rig.hub.handle(lane: Self.lmc, message: .laneEvent(sent[3]))

        try await rig.app().test(.router) { client in
            let r = try await client.execute(
                uri: "/v1/lanes/LMC-IN-01/events?limit=3", method: .get, headers: rig.h.auth("officer"))
            #expect(r.status == .ok)
            _ = walk.check("GET", Self.events, r)
            let items = try object(r)["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["kind"] as? String } == ["fault", "vehicle_left", "button_pressed"])
            #expect(items.first?["occurredAt"] as? String == "2026-11-26T09:00:03+08:00")
            #expect(
                items.first?["fields"] as? [String: String] == [
                    "code": "10", "text": "unladen button held 31 s",
                ])
            #expect(
                items.dropFirst().first?["fields"] as? [String: String] == [
                    "vrn": "AB12", "ubr": ubr.value, "passage": "5",
                ])
            #expect(
                items.last?["fields"] as? [String: String] == [
                    "button": "unladen", "kernelNanoseconds": "42",
                ])

            let all = try await client.execute(
                uri: "/v1/lanes/LMC-IN-01/events", method: .get, headers: rig.h.auth("officer"))
            _ = walk.check("GET", Self.events, all)
            #expect((try object(all)["items"] as? [Any])?.count == 4)
        }
        #expect(walk.violations.withLock { $0 } == [])
        await lane.stop()
        await rig.stop()
    }

    /// Refusals name what is wrong, and nothing reaches the lane or the record.
    @Test func refusalsNameTheFieldAndSendNothing() async throws {
        let rig = try await LaneLinkRig()
        let walk = Walk(doc: try OpenAPIDocument.load())
        let lane = try rig.lane()
        try await eventually("lane linked") { rig.server.connectedLanes == [Self.lmc] }
        try await rig.app().test(.router) { client in
            func refused(
                _ method: HTTPRequest.Method, _ template: String, _ uri: String, as who: String?,
                _ body: Any? = nil,
                status: HTTPResponse.Status, fields: [String] = [],
                sourceLocation: SourceLocation = #_sourceLocation
            ) async throws {
                var headers = who.map { rig.h.auth($0) } ?? [.contentType: "application/json"]
                var payload: ByteBuffer?
                if let text = body as? String {
                    payload = buffer(text)
                } else if let body {
                    payload = buffer(body)
                } else {
                    headers[.contentType] = nil
                }
                let r = try await client.execute(uri: uri, method: method, headers: headers, body: payload)
                #expect(
                    r.status == status, "\(uri) \(String(describing: body))", sourceLocation: sourceLocation)
                #expect(r.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
                #expect(try issues(r).map(\.field) == fields, "\(uri)", sourceLocation: sourceLocation)
                _ = walk.check(method.rawValue, template, r)
            }
            let arrive = "/v1/lanes/LMC-IN-01/arrivals"
            let command = "/v1/lanes/LMC-IN-01/commands"
            for vrn in ["AB-12", "ABCDEFGHI", "", "AB\t12"] {
                try await refused(
                    .post, Self.arrivals, arrive, as: "immigration", ["vrn": vrn],
                    status: .unprocessableContent,
                    fields: ["vrn"])
            }
            try await refused(
                .post, Self.arrivals, arrive, as: "immigration", ["vrn": "AB12", "lane": "x"],
                status: .unprocessableContent, fields: ["lane"])
            try await refused(.post, Self.arrivals, arrive, as: "immigration", "{", status: .badRequest)
            try await refused(
                .post, Self.arrivals, "/v1/lanes/LMC-IN-99/arrivals", as: "immigration", ["vrn": "AB12"],
                status: .notFound)
            try await refused(
                .post, Self.arrivals, "/v1/lanes/LMC!/arrivals", as: "immigration", ["vrn": "AB12"],
                status: .unprocessableContent, fields: ["laneId"])
            for who in ["immigration-mkt", "officer-mkt", "driver", "shipper"] {
                try await refused(.post, Self.arrivals, arrive, as: who, ["vrn": "AB12"], status: .forbidden)
            }
            try await refused(.post, Self.arrivals, arrive, as: nil, ["vrn": "AB12"], status: .unauthorized)

            let commandCases: [([String: Any], [String])] = [
                (["command": "fly"], ["command"]),
                (["command": "open", "on": true], ["on"]),
                (["command": "close", "text": "x"], ["text"]),
                (["command": "offline"], ["on"]),
                (["command": "offline", "on": "yes"], ["on"]),
                (["command": "override"], ["requestId", "instruction", "reason"]),
                (
                    ["command": "override", "requestId": "-1", "instruction": "WELCOME", "reason": "RANDOM"],
                    ["requestId", "instruction", "reason"]
                ),
                (
                    [
                        "command": "override", "requestId": "18446744073709551616", "instruction": "CLEARED",
                        "reason": "OFFICER_RELEASE",
                    ], ["requestId"]
                ),
                (
                    [
                        "command": "override", "requestId": "1", "instruction": "CLEARED",
                        "reason": "OFFICER_DIVERT",
                    ],
                    ["reason"]
                ),
                (
                    [
                        "command": "override", "requestId": "1", "instruction": "INSPECT",
                        "reason": "OFFICER_DIVERT",
                        "text": String(repeating: "x", count: 281),
                    ], ["text"]
                ),
                (["command": "open", "officer": "someone-else"], ["officer"]),
                (["on": true], ["command"]),
            ]
            for (body, fields) in commandCases {
                try await refused(
                    .post, Self.commands, command, as: "officer", body, status: .unprocessableContent,
                    fields: fields)
            }
            try await refused(
                .post, Self.commands, command, as: "officer", "[1]", status: .unprocessableContent,
                fields: [""])
            for who in ["immigration", "officer-mkt", "driver"] {
                try await refused(
                    .post, Self.commands, command, as: who, ["command": "open"], status: .forbidden)
            }
            try await refused(
                .post, Self.commands, "/v1/lanes/NOPE/commands", as: "officer", ["command": "open"],
                status: .notFound)
            try await refused(
                .post, Self.cache, "/v1/lanes/LMC-IN-01/bundle-cache", as: "immigration", status: .forbidden)
            try await refused(
                .post, Self.cache, "/v1/lanes/LMC-IN-01/bundle-cache", as: "officer-mkt", status: .forbidden)
            try await refused(
                .post, Self.cache, "/v1/lanes/NOPE/bundle-cache", as: "officer", status: .notFound)
            for limit in ["0", "1001", "abc", "-1", "1e2"] {
                try await refused(
                    .get, Self.events, "/v1/lanes/LMC-IN-01/events?limit=\(limit)", as: "officer",
                    status: .unprocessableContent, fields: ["limit"])
            }
            try await refused(
                .get, Self.events, "/v1/lanes/LMC-IN-01/events", as: "immigration", status: .forbidden)
            try await refused(.get, Self.events, "/v1/lanes/NOPE/events", as: "officer", status: .notFound)
        }
        // One more arrival marks the end: once it is on the lane, anything
        // the refusals had queued before it would be there too.
        let lmc = try #require(await rig.h.store.lane(Self.lmc))
        _ = try await rig.dispatcher.sendArrival(try VRN("END1"), to: lmc)
        try await rig.drained()
        #expect(lane.arrivals.map(\.vrn.value) == ["END1"])
        #expect(lane.commands == [])
        #expect(try await rig.h.store.officerActions(lane: nil, limit: 10) == [])
        #expect(walk.violations.withLock { $0 } == [])
        await lane.stop()
        await rig.stop()
    }

    /// Without the link (no --link-port, no --link-serial) there is no way
    /// to a lane: 409 naming what to start; reading events still works.
    @Test func withoutTheLinkSendingIsAConflict() async throws {
        let h = try await Harness()
        let walk = Walk(doc: try OpenAPIDocument.load())
        try await h.app().test(.router) { client in
            for (template, uri, body) in [
                (Self.arrivals, "/v1/lanes/LMC-IN-01/arrivals", ["vrn": "AB12"]),
                (Self.commands, "/v1/lanes/LMC-IN-01/commands", ["command": "close"]),
                (Self.cache, "/v1/lanes/LMC-IN-01/bundle-cache", [:]),
            ] {
                let r = try await client.execute(
                    uri: uri, method: .post, headers: h.auth("officer"),
                    body: body.isEmpty ? nil : buffer(body))
                #expect(r.status == .conflict, "\(uri)")
                #expect((try object(r)["detail"] as? String ?? "").contains("--link-port"))
                _ = walk.check("POST", template, r)
            }
            let r = try await client.execute(
                uri: "/v1/lanes/LMC-IN-01/events", method: .get, headers: h.auth("officer"))
            #expect(r.status == .ok)
            _ = walk.check("GET", Self.events, r)
        }
        #expect(try await h.store.officerActions(lane: nil, limit: 10) == [])
        #expect(walk.violations.withLock { $0 } == [])
    }

    func submission(_ h: Harness, direction: String = "import", consignee: String? = nil) throws
        -> ConsignmentSubmission
    {
        var extra: [String: Any] = [:]
        if let consignee {
            extra["consignee"] = ["name": consignee, "countryCode": "HK", "addressLines": ["1 Queen's Road"]]
        }
        let data = try JSONSerialization.data(
            withJSONObject: h.submission(direction: direction, extra: extra))
        return try JSONDecoder().decode(SubmissionBody.self, from: data).domain()
    }
}
