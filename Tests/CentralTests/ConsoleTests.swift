import CargoStore
import Central
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LinkCore
import Logging
import NIOCore
import RoadCargo
import Synchronization
import TestKit
import Testing
import WSClient

/// The officers' console and help desk over real HTTP, a real lane link
/// and the real store: what officers can do, and what they are refused.
@Suite struct ConsoleTests {
    static let password = "correct horse battery"

    /// Officers chan and lee at Lok Ma Chau, wong at Man Kam To, with passwords.
    static func rig(escalateAfter: Duration = .seconds(30)) async throws -> LaneLinkRig {
        let rig = try await LaneLinkRig(escalateAfter: escalateAfter)
        for (name, cp) in [("chan", ControlPoint.lokMaChau), ("lee", .lokMaChau), ("wong", .manKamTo)] {
            _ = try await rig.h.store.addAccount(Account(name: name, role: .officer, controlPoint: cp))
            try await rig.h.store.setPasswordHash(
                try OfficerPasswords.hash(password, cost: .cheap), for: name, at: Harness.start)
        }
        _ = try await rig.h.store.addAccount(Account(name: "driver-ho", role: .driver))
        try await rig.h.store.setPasswordHash(
            try OfficerPasswords.hash(password, cost: .cheap), for: "driver-ho", at: Harness.start)
        return rig
    }

    /// A logged-in console: its cookie and CSRF token.
    struct Login {
        var cookie: String
        var csrf: String

        func headers(csrf send: Bool = true) -> HTTPFields {
            var h: HTTPFields = [.cookie: cookie, .contentType: "application/json"]
            if send { h[HTTPField.Name("X-CSRF-Token")!] = csrf }
            return h
        }
    }

    static func logIn(_ client: some TestClientProtocol, _ name: String, _ password: String = password)
        async throws -> Login
    {
        try await client.execute(
            uri: "/console/api/login", method: .post, headers: [.contentType: "application/json"],
            body: buffer(["name": name, "password": password])
        ) { response in
            #expect(response.status == .ok, "login of \(name): \(String(buffer: response.body))")
            let setCookie = try #require(response.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
            return Login(cookie: String(setCookie.split(separator: ";")[0]), csrf: body["csrf"] as! String)
        }
    }

    static func post(
        _ client: some TestClientProtocol, _ path: String, _ login: Login, _ body: [String: Any] = [:],
        csrf: Bool = true
    ) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(
            uri: path, method: .post, headers: login.headers(csrf: csrf), body: buffer(body)
        ) {
            ($0.status, String(buffer: $0.body))
        }
    }

    static func ring(_ lane: RigLane, _ rig: LaneLinkRig, callID: UInt64) async throws -> HelpCallRecord {
        _ = try await lane.client.send(.helpCall(.ring(callID: callID)))
        var found: HelpCallRecord?
        _ = try await eventually {
            found = try await rig.h.store.openHelpCalls().first { $0.laneCallID == callID }
            return found != nil
        }
        if let found { return found }
        Issue.record("the ring of call \(callID) never reached central")
        throw CancellationError()
    }

    static func tokenHash(_ login: Login) -> String {
        Tokens.hash(String(login.cookie.split(separator: "=", maxSplits: 1)[1]))
    }

    static func helpSignals(_ lane: RigLane) -> [HelpCallSignal] {
        lane.messages.compactMap {
            if case .helpCall(let s) = $0 { return s }
            return nil
        }
    }

    @Test func aHelpCallRingsIsAnsweredByOneOfficerGetsAPhraseAndEndsAtTheLane() async throws {
        let rig = try await Self.rig()
        defer { Task { await rig.stop() } }
        let lane = try rig.lane()
        defer { Task { await lane.stop() } }
        try await rig.app().test(.live) { client in
            let call = try await Self.ring(lane, rig, callID: 77)
            #expect(call.state == .ringing && call.controlPoint == .lokMaChau)

            let chan = try await Self.logIn(client, "chan")
            let lee = try await Self.logIn(client, "lee")
            let wong = try await Self.logIn(client, "wong")

            // Another control point's officer cannot take it.
            let (wongStatus, wongBody) = try await Self.post(
                client, "/console/api/calls/\(call.id)/answer", wong)
            #expect(wongStatus == .forbidden)
            #expect(wongBody.contains("wong answers calls at MKT only"))

            #expect(try await Self.post(client, "/console/api/calls/\(call.id)/answer", chan).0 == .ok)
            // A second officer finds it taken, and it stays chan's.
            let (leeStatus, leeBody) = try await Self.post(
                client, "/console/api/calls/\(call.id)/answer", lee)
            #expect(leeStatus == .conflict)
            #expect(leeBody.contains("already answered by chan"))
            #expect(try await rig.h.store.helpCall(id: call.id)?.officer == "chan")
            // lee may not speak on chan's call either.
            #expect(
                try await Self.post(client, "/console/api/calls/\(call.id)/message", lee, ["phraseId": 1]).0
                    == .forbidden)

            let (sent, sentBody) = try await Self.post(
                client, "/console/api/calls/\(call.id)/message", chan,
                ["phraseId": 2, "text": "Bay 3 on the left"])
            #expect(sent == .ok, "\(sentBody)")
            #expect(
                try await Self.post(client, "/console/api/calls/\(call.id)/message", chan, ["phraseId": 999])
                    .0
                    == .unprocessableContent)
            #expect(try await Self.post(client, "/console/api/calls/\(call.id)/end", chan).0 == .ok)

            try await rig.drained()
            #expect(
                Self.helpSignals(lane) == [
                    .answer(callID: 77, officer: "chan"),
                    .officerMessage(callID: 77, phraseID: 2, text: "Bay 3 on the left"), .end(callID: 77),
                ])
            let steps = try await rig.h.store.helpCallSteps(callID: call.id)
            #expect(steps.map(\.step) == ["ring", "answer", "message", "end"])
            #expect(steps.map(\.actor) == ["lane", "chan", "chan", "chan"])
            let refused = try await rig.h.store.consoleJournal(
                officer: nil, action: nil, since: nil, limit: 100
            )
            .filter { $0.outcome == .refused }.map { "\($0.officer) \($0.action)" }.sorted()
            #expect(
                refused == ["chan help_message", "lee help_answer", "lee help_message", "wong help_answer"])
        }
    }

    @Test func aRingResentAfterALinkFlapIsTheSameCallAndAnAnswerWaitsForTheLane() async throws {
        let rig = try await Self.rig()
        defer { Task { await rig.stop() } }
        let first = try rig.lane()
        let call = try await Self.ring(first, rig, callID: 5)
        await first.stop()
        // The lane's outbox offers the ring again after it reconnects.
        try await rig.desk.laneRang(lane: LaneLinkRig.lmc, laneCallID: 5)
        #expect(try await rig.h.store.openHelpCalls().count == 1)
        #expect(try await rig.h.store.helpCallSteps(callID: call.id).map(\.step) == ["ring"])

        // Answered while the lane is away: the answer reaches it on its next session.
        let chan = try #require(try await rig.h.store.passwordHash(for: "chan")?.account)
        _ = try await rig.desk.act(.answer(by: chan), onCall: call.id)
        let again = try rig.lane()
        defer { Task { await again.stop() } }
        try await rig.drained()
        #expect(Self.helpSignals(again) == [.answer(callID: 5, officer: "chan")])
    }

    @Test func aCallUnansweredPastTheEscalationTimeEscalatesOnce() async throws {
        let rig = try await Self.rig(escalateAfter: .seconds(30))
        defer { Task { await rig.stop() } }
        let call = try await rig.desk.laneRang(lane: LaneLinkRig.lmc, laneCallID: 9)
        rig.h.clock.advance(by: 29)
        #expect(try await rig.desk.escalateDue().isEmpty)
        rig.h.clock.advance(by: 2)
        let escalated = try await rig.desk.escalateDue()
        #expect(escalated.map(\.id) == [call.id])
        #expect(try await rig.desk.escalateDue().isEmpty)
        let steps = try await rig.h.store.helpCallSteps(callID: call.id)
        #expect(steps.map(\.step) == ["ring", "escalate"])
        #expect(steps.last?.details["waited_s"] == "31")
        // An answered call never escalates.
        let other = try await rig.desk.laneRang(lane: LaneLinkRig.mkt, laneCallID: 1)
        let wong = try #require(try await rig.h.store.passwordHash(for: "wong")?.account)
        _ = try await rig.desk.act(.answer(by: wong), onCall: other.id)
        rig.h.clock.advance(by: 60)
        #expect(try await rig.desk.escalateDue().isEmpty)
    }

    @Test func loginsAndSessionsRefuseClearlyAndChangeNothing() async throws {
        let rig = try await Self.rig()
        defer { Task { await rig.stop() } }
        try await rig.app().test(.live) { client in
            func login(_ name: String, _ password: String) async throws -> (HTTPResponse.Status, String, Bool)
            {
                try await client.execute(
                    uri: "/console/api/login", method: .post, headers: [.contentType: "application/json"],
                    body: buffer(["name": name, "password": password])
                ) { ($0.status, String(buffer: $0.body), $0.headers[.setCookie] != nil) }
            }
            // A wrong password and an unknown name read the same, and both
            // are checked (the unknown one against a stand-in hash).
            let gate = try #require(rig.central.console?.sessions.gate)
            let wrong = try await login("chan", "not the password")
            let checks = gate.counts.checks
            let unknown = try await login("nobody", "not the password")
            #expect(gate.counts.checks == checks + 1)
            #expect(wrong.0 == .unauthorized && unknown.0 == .unauthorized)
            #expect(
                wrong.1.contains("wrong name or password") && unknown.1.contains("wrong name or password"))
            #expect(!wrong.2 && !unknown.2)
            // A driver with a password is still not an officer.
            #expect(try await login("driver-ho", Self.password).0 == .forbidden)
            // 12 guesses at once at one name: the throttle counts each before
            // checking it, so at most 5 are checked; the rest wait a back-off.
            let port = try #require(client.port)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for n in 0..<12 {
                    group.addTask {
                        let other = TestClient(host: "localhost", port: port)
                        other.connect()
                        defer { Task { try? await other.shutdown() } }
                        let response = try await other.execute(
                            .init(
                                "/console/api/login", method: .post, authority: "localhost",
                                headers: [.contentType: "application/json"],
                                body: buffer(["name": "lee", "password": "guess \(n)"])))
                        if response.head.status == .tooManyRequests {
                            #expect(response.headers[.retryAfter] != nil)
                        }
                        return response.head.status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let checked = try await rig.h.store.consoleJournal(
                officer: "lee", action: "login_failed", since: nil, limit: 100)
            #expect(checked.count <= 5, "\(checked.count) of 12 parallel guesses were checked")
            #expect(statuses.filter { $0 == .unauthorized }.count == checked.count)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 12 - checked.count)
            // Even the right password waits out the back-off, which is short.
            let waiting = try await login("lee", Self.password)
            #expect(waiting.0 == .tooManyRequests && waiting.1.contains("before the next log-in for lee"))
            rig.sessionClock.advance(by: 9)
            #expect(try await login("lee", Self.password).0 == .ok)

            let chan = try await Self.logIn(client, "chan")
            let me = try await client.execute(uri: "/console/api/me", method: .get, headers: chan.headers()) {
                $0.status
            }
            #expect(me == .ok)
            // A change without the CSRF token, or from another site, is refused.
            let lane = "/console/api/lanes/LMC-IN-01/close"
            let noToken = try await Self.post(client, lane, chan, csrf: false)
            #expect(noToken.0 == .forbidden && noToken.1.contains("X-CSRF-Token"))
            var foreign = chan.headers()
            foreign[.origin] = "https://evil.example"
            let fromElsewhere = try await client.execute(
                uri: lane, method: .post, headers: foreign, body: buffer([:])
            ) {
                $0.status
            }
            #expect(fromElsewhere == .forbidden)
            #expect(try await rig.h.store.officerActions(lane: LaneLinkRig.lmc, limit: 10).isEmpty)

            // 30 idle minutes end the session.
            rig.sessionClock.advance(by: 31 * 60)
            let expired = try await client.execute(
                uri: "/console/api/me", method: .get, headers: chan.headers()
            ) {
                ($0.status, String(buffer: $0.body))
            }
            #expect(expired.0 == .unauthorized && expired.1.contains("expired"))

            // Logging out ends it at once.
            let again = try await Self.logIn(client, "chan")
            #expect(try await Self.post(client, "/console/api/logout", again).0 == .noContent)
            #expect(
                try await client.execute(uri: "/console/api/me", method: .get, headers: again.headers()) {
                    $0.status
                }
                    == .unauthorized)
        }
    }

    @Test func anOfficerLockedOutByGuessesStillLogsInFromTheirOwnConsole() async throws {
        let rig = try await Self.rig()
        defer { Task { await rig.stop() } }
        try await rig.app().test(.live) { client in
            func login(_ password: String, device: String? = nil) async throws -> (
                HTTPResponse.Status, String?
            ) {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let device { headers[.cookie] = device }
                return try await client.execute(
                    uri: "/console/api/login", method: .post, headers: headers,
                    body: buffer(["name": "chan", "password": password])
                ) { response in
                    let device = response.headers[values: .setCookie].first { $0.hasPrefix("lk_device=") }
                    return (response.status, device.map { String($0.split(separator: ";")[0]) })
                }
            }
            // chan's console logged in once: it is known from now on.
            let (first, device) = try await login(Self.password)
            #expect(first == .ok)
            let known = try #require(device)
            // Someone guesses at chan until the name (and their address) locks.
            for n in 0..<20 {
                #expect(try await login("guess \(n)").0 == .unauthorized, "guess \(n) was not checked")
                rig.sessionClock.advance(by: 9)
            }
            #expect(try await login(Self.password).0 == .tooManyRequests)
            rig.sessionClock.advance(by: 10 * 60)
            #expect(try await login(Self.password).0 == .tooManyRequests)
            // chan's own console is not locked out: it waits the back-off at most.
            #expect(try await login(Self.password, device: known).0 == .ok)
            // A forged device cookie does not help: the guesser's address stays locked.
            let forged = known.replacingOccurrences(of: "lk_device=", with: "lk_device=x")
            #expect(try await login(Self.password, device: forged).0 == .tooManyRequests)
        }
    }

    @Test func officersActOnlyOnTheirControlPointsLanes() async throws {
        let rig = try await Self.rig()
        defer { Task { await rig.stop() } }
        try await rig.app().test(.live) { client in
            let wong = try await Self.logIn(client, "wong")
            let (status, body) = try await Self.post(
                client, "/console/api/lanes/LMC-IN-01/offline", wong, ["on": true])
            #expect(status == .forbidden)
            #expect(body.contains("lane LMC-IN-01 is at LMC"))
            #expect(
                try await Self.post(client, "/console/api/control-points/LMC/offline", wong, ["on": true]).0
                    == .forbidden)
            #expect(try await rig.h.store.officerActions(lane: nil, limit: 10).isEmpty)
            // No vehicle: nothing to override.
            let chan = try await Self.logIn(client, "chan")
            let override = try await Self.post(
                client, "/console/api/lanes/LMC-IN-01/override", chan,
                ["decision": "release", "reason": "seen"])
            #expect(override.0 == .conflict)
            // Its own lanes it may close, and the lane is told with the officer's name.
            let lane = try rig.lane()
            defer { Task { await lane.stop() } }
            #expect(try await Self.post(client, "/console/api/lanes/LMC-IN-01/close", chan).0 == .accepted)
            try await rig.drained()
            #expect(lane.commands == [.closeLane(officer: "chan")])
        }
    }

    @Test func theLiveSocketSendsASnapshotAndAnotherWhenALaneRings() async throws {
        let rig = try await Self.rig()
        defer { Task { await rig.stop() } }
        let lane = try rig.lane()
        defer { Task { await lane.stop() } }
        try await rig.app().test(.live) { client in
            let chan = try await Self.logIn(client, "chan")
            let port = try #require(client.port)
            let seen = Mutex(0)
            var logger = Logger(label: "ws")
            logger.logLevel = .critical
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/console/live",
                configuration: .init(additionalHeaders: [
                    .cookie: chan.cookie, .origin: "http://127.0.0.1:\(port)",
                ]),
                logger: logger
            ) { inbound, _, _ in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                func next() async throws -> [String: Any] {
                    guard case .text(let text) = try await messages.next() else { return [:] }
                    let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
                    seen.withLock { $0 += 1 }
                    return object
                }
                let first = try await next()
                let snapshot = first["snapshot"] as! [String: Any]
                #expect((snapshot["lanes"] as! [[String: Any]]).map { $0["id"] as! String } == ["LMC-IN-01"])
                #expect((snapshot["calls"] as! [Any]).isEmpty)
                _ = try await lane.client.send(.helpCall(.ring(callID: 3)))
                while true {
                    let calls =
                        (try await next()["snapshot"] as? [String: Any])?["calls"] as? [[String: Any]] ?? []
                    if let call = calls.first {
                        #expect(
                            call["lane"] as? String == "LMC-IN-01" && call["state"] as? String == "ringing")
                        break
                    }
                }
            }
            #expect(seen.withLock { $0 } >= 2)
            // Without a session the socket is refused.
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/console/live", logger: logger)
                { _, _, _ in
                }
            }
        }
    }

    @Test func anOpenLiveSocketKeepsTheSessionFromIdlingButNotPastTheShift() async throws {
        let rig = try await Self.rig()
        defer { Task { await rig.stop() } }
        try await rig.app().test(.live) { client in
            let chan = try await Self.logIn(client, "chan")
            let port = try #require(client.port)
            var logger = Logger(label: "ws")
            logger.logLevel = .critical
            let clock = rig.sessionClock
            let store = rig.h.store
            let ended = Mutex(false)
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/console/live",
                configuration: .init(
                    additionalHeaders: [.cookie: chan.cookie, .origin: "http://127.0.0.1:\(port)"]),
                logger: logger
            ) { inbound, _, _ in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                _ = try await messages.next()
                // Two 29-minute stretches with nobody clicking: the watched
                // console stays logged in (the socket wakes every 200 ms here).
                for _ in 0..<2 {
                    clock.advance(by: 29 * 60)
                    let kept = try await eventually(within: .seconds(10)) {
                        let session = try await store.session(tokenHash: Self.tokenHash(chan))?.session
                        return session.map { $0.idleUntil > clock.now().addingTimeInterval(25 * 60) } ?? false
                    }
                    #expect(kept, "the open socket kept the session from idling")
                }
                // The shift's end closes it, open socket or not.
                clock.advance(by: 12 * 3600)
                while let message = try await messages.next() {
                    if case .text(let text) = message, text.contains("expired") {
                        ended.withLock { $0 = true }
                        break
                    }
                }
            }
            #expect(ended.withLock { $0 }, "the socket said the session expired at the shift's end")
            let me = try await client.execute(uri: "/console/api/me", method: .get, headers: chan.headers()) {
                $0.status
            }
            #expect(me == .unauthorized)
        }
    }

    @Test func thePageIsServedWithAStrictContentSecurityPolicy() async throws {
        let rig = try await Self.rig()
        defer { Task { await rig.stop() } }
        try await rig.app().test(.router) { client in
            try await client.execute(uri: "/console", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(String(buffer: response.body).contains("app.js"))
            }
            try await client.execute(uri: "/console/app.js", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/console/../Package.swift", method: .get) {
                #expect($0.status == .notFound)
            }
        }
    }
}
