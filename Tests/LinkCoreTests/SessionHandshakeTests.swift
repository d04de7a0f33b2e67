import RoadCargo
import Testing

@testable import LinkCore

/// A named script: a session, events with the actions each must return, and
/// the state it must end in.
struct SessionScript: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () -> LinkSession
    let steps: [(SessionEvent, [LinkSession.Action])]
    let finalState: LinkSession.State

    var testDescription: String { name }

    func run() {
        var session = make()
        session.expect(steps)
        #expect(session.state == finalState, "\(name)")
    }
}

@Suite("Session handshake")
struct SessionHandshakeTests {
    typealias F = SessionFixture
    static let unknownLane = SessionRefusal(.unknownLane, detail: "no key for LMC-IN-03")

    static let laneScripts: [SessionScript] = [
        SessionScript(
            name: "lane: hello, welcome, established",
            make: { F.laneSession() },
            steps: [
                (.connected(at: 0), [.send(.hello(seq: 1, F.hello))]),
                (.received(.welcome(seq: 1, F.welcome), at: 10), [.established(F.welcome, laneID: F.laneID)]),
            ],
            finalState: .established(
                .init(
                    welcome: F.welcome, laneID: F.laneID,
                    heartbeat: HeartbeatTimer(
                        interval: .seconds(1), deadPeerInterval: .seconds(3), now: F.at(10))))),
        SessionScript(
            name: "lane: refused as an unknown lane",
            make: { F.laneSession() },
            steps: [
                (.connected(at: 0), [.send(.hello(seq: 1, F.hello))]),
                (.received(.refuse(seq: 1, unknownLane), at: 10), [.close(.refused(unknownLane))]),
                (.tick(at: 6000), []),
            ],
            finalState: .closing(.refused(unknownLane))),
        SessionScript(
            name: "lane: hello again with backoff, then the handshake timeout",
            make: { F.laneSession() },
            steps: [
                (.connected(at: 0), [.send(.hello(seq: 1, F.hello))]),
                (.tick(at: 249), []),
                (.tick(at: 250), [.send(.hello(seq: 2, F.hello))]),
                (.tick(at: 749), []),
                (.tick(at: 750), [.send(.hello(seq: 3, F.hello))]),
                (.tick(at: 4999), [.send(.hello(seq: 4, F.hello))]),
                (.tick(at: 5000), [.close(.handshakeTimedOut)]),
                (.received(.welcome(seq: 1, F.welcome), at: 5001), []),
            ],
            finalState: .closing(.handshakeTimedOut)),
        SessionScript(
            name: "lane: central chose a version we did not offer",
            make: { F.laneSession() },
            steps: [
                (.connected(at: 0), [.send(.hello(seq: 1, F.hello))]),
                (
                    .received(.welcome(seq: 1, SessionWelcome(version: 3)), at: 10),
                    [.close(.protocolViolation("central chose version 3, which we did not offer"))]
                ),
            ],
            finalState: .closing(.protocolViolation("central chose version 3, which we did not offer"))),
        SessionScript(
            name: "lane: data and heartbeats that overtake the welcome are dropped unread",
            make: { F.laneSession() },
            steps: [
                (.connected(at: 0), [.send(.hello(seq: 1, F.hello))]),
                (.received(.data(seq: 2, id: 5), at: 10), []),
                (.received(.heartbeat(seq: 3), at: 11), []),
                // The welcome, numbered below them, still counts.
                (.received(.welcome(seq: 1, F.welcome), at: 12), [.established(F.welcome, laneID: F.laneID)]),
                (.received(.data(seq: 4, id: 5), at: 13), [.deliver(messageID: 5, payload: [0xAB])]),
                // A second welcome answers a hello sent twice.
                (.received(.welcome(seq: 5, F.welcome), at: 14), []),
            ],
            finalState: .established(
                .init(
                    welcome: F.welcome, laneID: F.laneID,
                    heartbeat: {
                        // Established at 12, heard from last at 14.
                        var timer = HeartbeatTimer(
                            interval: .seconds(1), deadPeerInterval: .seconds(3), now: F.at(12))
                        timer.heard(at: F.at(14))
                        return timer
                    }()))),
        SessionScript(
            name: "lane: an ack before the welcome is dropped too",
            make: { F.laneSession() },
            steps: [
                (.connected(at: 0), [.send(.hello(seq: 1, F.hello))]),
                (.received(.ack(seq: 2, [1]), at: 10), []),
                (.received(.goodbye(seq: 3), at: 11), [.close(.peerSaidGoodbye)]),
            ],
            finalState: .closing(.peerSaidGoodbye)),
        SessionScript(
            name: "lane: garbage welcome payload",
            make: { F.laneSession() },
            steps: [
                (.connected(at: 0), [.send(.hello(seq: 1, F.hello))]),
                (
                    .received(LinkPacket(kind: .welcome, sequence: 1, payload: [0, 2, 9]), at: 10),
                    [.close(.protocolViolation("welcome payload does not decode"))]
                ),
            ],
            finalState: .closing(.protocolViolation("welcome payload does not decode"))),
        SessionScript(
            name: "lane: messages queued before the welcome go out after it, in order",
            make: { F.laneSession() },
            steps: [
                (.enqueue(7, at: 0), []),
                (.connected(at: 0), [.send(.hello(seq: 1, F.hello))]),
                (.enqueue(8, at: 5), []),
                (
                    .received(.welcome(seq: 1, F.welcome), at: 10),
                    [
                        .established(F.welcome, laneID: F.laneID), .send(.data(seq: 2, id: 7)),
                        .send(.data(seq: 3, id: 8)),
                    ]
                ),
            ],
            finalState: .established(
                .init(
                    welcome: F.welcome, laneID: F.laneID,
                    heartbeat: HeartbeatTimer(
                        interval: .seconds(1), deadPeerInterval: .seconds(3), now: F.at(10))))),
    ]

    @Test(arguments: laneScripts)
    func lane(_ script: SessionScript) { script.run() }

    static let noCommon = SessionRefusal(.noCommonVersion, detail: "central speaks versions 3, 4")
    static let malformed = SessionRefusal(.malformedHello, detail: "hello payload does not decode")

    static let centralScripts: [SessionScript] = [
        SessionScript(
            name: "central: highest common version, shared capabilities, after admission",
            make: { F.centralSession() },
            steps: [
                (.connected(at: 0), []),
                (.received(.hello(seq: 1, F.hello), at: 5), [.admit(F.hello)]),
                (
                    .admit(at: 10),
                    [.send(.welcome(seq: 1, F.welcome)), .established(F.welcome, laneID: F.laneID)]
                ),
            ],
            finalState: .established(
                .init(
                    welcome: F.welcome, laneID: F.laneID,
                    heartbeat: HeartbeatTimer(
                        interval: .seconds(1), deadPeerInterval: .seconds(3), now: F.at(10))))),
        SessionScript(
            name: "central: unknown lane refused by the executor",
            make: { F.centralSession() },
            steps: [
                (.connected(at: 0), []),
                (.received(.hello(seq: 1, F.hello), at: 5), [.admit(F.hello)]),
                (
                    .refuse(unknownLane, at: 10),
                    [.send(.refuse(seq: 1, unknownLane)), .close(.refusedPeer(unknownLane))]
                ),
            ],
            finalState: .closing(.refusedPeer(unknownLane))),
        SessionScript(
            name: "central: no common version",
            make: { F.centralSession(versions: [4, 3]) },
            steps: [
                (.connected(at: 0), []),
                (
                    .received(.hello(seq: 1, F.hello), at: 5),
                    [.send(.refuse(seq: 1, noCommon)), .close(.refusedPeer(noCommon))]
                ),
            ],
            finalState: .closing(.refusedPeer(noCommon))),
        SessionScript(
            name: "central: malformed hello",
            make: { F.centralSession() },
            steps: [
                (.connected(at: 0), []),
                (
                    .received(LinkPacket(kind: .hello, sequence: 1, payload: [1]), at: 5),
                    [.send(.refuse(seq: 1, malformed)), .close(.refusedPeer(malformed))]
                ),
            ],
            finalState: .closing(.refusedPeer(malformed))),
        SessionScript(
            name: "central: a repeated hello is welcomed again, the same way",
            make: { F.centralSession() },
            steps: [
                (.connected(at: 0), []),
                (.received(.hello(seq: 1, F.hello), at: 5), [.admit(F.hello)]),
                (.received(.hello(seq: 2, F.hello), at: 6), []),  // still deciding
                (
                    .admit(at: 10),
                    [.send(.welcome(seq: 1, F.welcome)), .established(F.welcome, laneID: F.laneID)]
                ),
                (.received(.hello(seq: 3, F.hello), at: 260), [.send(.welcome(seq: 2, F.welcome))]),
                (
                    .received(
                        .hello(seq: 4, SessionHello(versions: [2], laneID: try! LaneID("OTHER"))), at: 270),
                    [.close(.protocolViolation("hello packet while established"))]
                ),
            ],
            finalState: .closing(.protocolViolation("hello packet while established"))),
        SessionScript(
            name: "central: no hello within the handshake timeout",
            make: { F.centralSession() },
            steps: [
                (.connected(at: 0), []), (.tick(at: 4999), []),
                (.tick(at: 5000), [.close(.handshakeTimedOut)]),
            ],
            finalState: .closing(.handshakeTimedOut)),
        SessionScript(
            name: "central: admission that outlives the handshake timeout",
            make: { F.centralSession() },
            steps: [
                (.connected(at: 0), []),
                (.received(.hello(seq: 1, F.hello), at: 5), [.admit(F.hello)]),
                (.tick(at: 5000), [.close(.handshakeTimedOut)]),
                (.admit(at: 5001), []),
            ],
            finalState: .closing(.handshakeTimedOut)),
        SessionScript(
            name: "central: data before the hello breaks the protocol",
            make: { F.centralSession() },
            steps: [
                (.connected(at: 0), []),
                (
                    .received(.data(seq: 1, id: 5), at: 5),
                    [.close(.protocolViolation("data packet while awaiting hello"))]
                ),
            ],
            finalState: .closing(.protocolViolation("data packet while awaiting hello"))),
        SessionScript(
            name: "central: goodbye instead of hello",
            make: { F.centralSession() },
            steps: [
                (.connected(at: 0), []), (.received(.goodbye(seq: 1), at: 5), [.close(.peerSaidGoodbye)]),
            ],
            finalState: .closing(.peerSaidGoodbye)),
    ]

    @Test(arguments: centralScripts)
    func central(_ script: SessionScript) { script.run() }

    @Test func interimCodingRoundTrips() {
        let coding = SessionHandshakeCoding.interim
        #expect(coding.decodeHello(coding.encodeHello(F.hello)) == F.hello)
        #expect(coding.decodeWelcome(coding.encodeWelcome(F.welcome)) == F.welcome)
        #expect(coding.decodeRefusal(coding.encodeRefusal(Self.unknownLane)) == Self.unknownLane)
        // Every truncation of a valid hello is refused, never trapped on.
        let bytes = coding.encodeHello(F.hello)
        for length in 0..<bytes.count { #expect(coding.decodeHello(Array(bytes.prefix(length))) == nil) }
        #expect(coding.decodeHello(bytes + [0]) == nil)
        // A detail longer than 255 bytes is cut at a character boundary and still decodes.
        let long = SessionRefusal(.unavailable, detail: String(repeating: "é", count: 200))
        #expect(
            coding.decodeRefusal(coding.encodeRefusal(long))?.detail == String(repeating: "é", count: 127))
    }

    @Test func shutDownSaysGoodbye() {
        var session = F.establishedLane()
        session.expect([
            (.shutDown(at: 20), [.send(.goodbye(seq: 2)), .close(.localShutdown)]),
            (.received(.data(seq: 2, id: 9), at: 21), []),
            (.tick(at: 9000), []),
        ])
        session.disconnected()
        #expect(session.state == .closed(.localShutdown))
        #expect(session.nextDeadline == nil)
    }

    @Test func disconnectedWhileEstablished() {
        var session = F.establishedLane()
        session.disconnected()
        #expect(session.state == .closed(.disconnected))
        // Kept for the next session, not sent on this one.
        #expect(session.enqueue(messageID: 4, payload: [], now: F.at(20)) == [])
        #expect(session.successor().unacknowledgedMessageIDs == [4])
    }
}
