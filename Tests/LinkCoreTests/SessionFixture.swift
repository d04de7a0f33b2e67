import RoadCargo
import Testing

@testable import LinkCore

/// Values and helpers the session tests share. Time is virtual: milliseconds
/// after a fixed instant.
enum SessionFixture {
    static let t0 = ContinuousClock.now
    static func at(_ milliseconds: Int) -> SessionInstant { t0 + .milliseconds(milliseconds) }

    static let laneID = try! LaneID("LMC-IN-03")
    static let hello = SessionHello(
        versions: [1, 2], laneID: laneID, capabilities: ["offline-cache", "help-call"])
    static let coding = SessionHandshakeCoding.interim

    static func laneSession(_ configure: (inout LinkSession.Configuration) -> Void = { _ in }) -> LinkSession
    {
        var configuration = LinkSession.Configuration(role: .initiator(hello))
        configure(&configuration)
        return LinkSession(configuration: configuration)
    }

    static func centralSession(
        versions: [UInt16] = [2, 3], capabilities: Set<String> = ["help-call", "video"],
        _ configure: (inout LinkSession.Configuration) -> Void = { _ in }
    ) -> LinkSession {
        var configuration = LinkSession.Configuration(
            role: .responder(versions: versions, capabilities: capabilities))
        configure(&configuration)
        return LinkSession(configuration: configuration)
    }

    /// The welcome central sends the fixture hello: version 2, shared capability.
    static let welcome = SessionWelcome(version: 2, capabilities: ["help-call"])

    /// A lane session established at 10 ms: hello went out as sequence 1,
    /// central's welcome came in as sequence 1.
    static func establishedLane(_ configure: (inout LinkSession.Configuration) -> Void = { _ in })
        -> LinkSession
    {
        var session = laneSession(configure)
        _ = session.connected(now: at(0))
        _ = session.packetReceived(.welcome(seq: 1, welcome), now: at(10))
        return session
    }

    /// A central session established at 10 ms: the hello came in as sequence
    /// 1, the welcome went out as sequence 1.
    static func establishedCentral() -> LinkSession {
        var session = centralSession()
        _ = session.connected(now: at(0))
        _ = session.packetReceived(.hello(seq: 1, hello), now: at(5))
        _ = session.admit(now: at(10))
        return session
    }
}

extension LinkPacket {
    static func hello(seq: UInt32, _ hello: SessionHello) -> LinkPacket {
        LinkPacket(kind: .hello, sequence: seq, payload: SessionFixture.coding.encodeHello(hello))
    }
    static func welcome(seq: UInt32, _ welcome: SessionWelcome) -> LinkPacket {
        LinkPacket(kind: .welcome, sequence: seq, payload: SessionFixture.coding.encodeWelcome(welcome))
    }
    static func refuse(seq: UInt32, _ refusal: SessionRefusal) -> LinkPacket {
        LinkPacket(kind: .refuse, sequence: seq, payload: SessionFixture.coding.encodeRefusal(refusal))
    }
    static func data(seq: UInt32, id: UInt64, _ payload: [UInt8] = [0xAB]) -> LinkPacket {
        LinkPacket(kind: .data, sequence: seq, messageID: id, payload: payload)
    }
    static func ack(seq: UInt32, _ ids: [UInt64]) -> LinkPacket {
        LinkPacket(kind: .ack, sequence: seq, payload: SessionAck.encode(ids))
    }
    static func heartbeat(seq: UInt32) -> LinkPacket { LinkPacket(kind: .heartbeat, sequence: seq) }
    static func goodbye(seq: UInt32) -> LinkPacket { LinkPacket(kind: .goodbye, sequence: seq) }
}

/// One event of a scripted test, with its time in virtual milliseconds.
enum SessionEvent: Sendable, CustomStringConvertible {
    case connected(at: Int)
    case received(LinkPacket, at: Int)
    case enqueue(UInt64, [UInt8] = [0xAB], at: Int)
    case applied(UInt64, at: Int)
    case admit(at: Int)
    case refuse(SessionRefusal, at: Int)
    case tick(at: Int)
    case shutDown(at: Int)

    var description: String {
        switch self {
        case .connected(let t): "connected @\(t)"
        case .received(let p, let t): "received \(p.kind) #\(p.sequence) id \(p.messageID) @\(t)"
        case .enqueue(let id, _, let t): "enqueue \(id) @\(t)"
        case .applied(let id, let t): "applied \(id) @\(t)"
        case .admit(let t): "admit @\(t)"
        case .refuse(let r, let t): "refuse \(r.reason) @\(t)"
        case .tick(let t): "tick @\(t)"
        case .shutDown(let t): "shut down @\(t)"
        }
    }
}

extension LinkSession {
    mutating func handle(_ event: SessionEvent) -> [Action] {
        let at = SessionFixture.at
        switch event {
        case .connected(let t): return connected(now: at(t))
        case .received(let packet, let t): return packetReceived(packet, now: at(t))
        case .enqueue(let id, let payload, let t): return enqueue(messageID: id, payload: payload, now: at(t))
        case .applied(let id, let t): return applied(messageID: id, now: at(t))
        case .admit(let t): return admit(now: at(t))
        case .refuse(let refusal, let t): return refuse(refusal, now: at(t))
        case .tick(let t): return tick(now: at(t))
        case .shutDown(let t): return shutDown(now: at(t))
        }
    }

    /// Runs a script of events, each with the actions it must return.
    mutating func expect(
        _ script: [(SessionEvent, [Action])], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (step, (event, expected)) in script.enumerated() {
            let actions = handle(event)
            #expect(actions == expected, "step \(step): \(event)", sourceLocation: sourceLocation)
        }
    }
}
