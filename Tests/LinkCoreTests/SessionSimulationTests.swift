import RoadCargo
import TestKit
import Testing

@testable import LinkCore

/// A lane and central, each a ``LinkSession`` with a tiny executor, joined by
/// a line that loses, duplicates, delays and reorders packets and sometimes
/// drops the connection, in virtual time with a seeded generator. The
/// executors keep what the real ones keep durably: the lane's outbox and each
/// side's applied ids.
struct SessionSimulation {
    struct Line {
        var loss = 0.2
        var duplication = 0.1
        var delay = 5...80  // milliseconds; a spread this wide reorders packets
        var disconnectPerStep = 0.0005
    }

    struct InFlight {
        let arrival: Int
        let toCentral: Bool
        let packet: LinkPacket
    }

    var random: SeededGenerator
    let line: Line
    var now = 0  // virtual milliseconds
    var lane: LinkSession
    var central: LinkSession
    var connected = false
    var reconnectAt: Int? = 0
    var backoff = ReconnectBackoff()
    var wire: [InFlight] = []

    // The lane executor's durable state: outbox rows and applied ids.
    var laneOutbox: [UInt64: [UInt8]] = [:]
    var laneNextID: UInt64 = 1000
    var laneApplied: Set<UInt64> = []
    var laneEffects: [UInt64: Int] = [:]
    // Central's: its own unacknowledged messages and the applied log.
    var centralOutbox: [UInt64: [UInt8]] = [:]
    var centralNextID: UInt64 = 1
    var centralApplied: Set<UInt64> = []
    var centralEffects: [UInt64: Int] = [:]
    var deliveredThisSession: [Bool: Set<UInt64>] = [:]

    var lastSequence: [Bool: UInt32] = [:]  // per direction, this connection
    var sessions = 0
    var closeReasons: [LinkSession.CloseReason] = []

    init(seed: UInt64, line: Line = Line()) {
        random = SeededGenerator(seed: seed)
        self.line = line
        lane = SessionFixture.laneSession()
        central = SessionFixture.centralSession()
    }

    var instant: SessionInstant { SessionFixture.at(now) }

    /// The lane enqueues a message: outbox row first, then the session.
    mutating func laneSends() {
        let id = laneNextID
        laneNextID += 1
        laneOutbox[id] = [UInt8(id & 0xFF)]
        perform(lane.enqueue(messageID: id, payload: [UInt8(id & 0xFF)], now: instant), onLane: true)
    }

    mutating func centralSends() {
        let id = centralNextID
        centralNextID += 1
        centralOutbox[id] = [UInt8(id & 0xFF)]
        perform(central.enqueue(messageID: id, payload: [UInt8(id & 0xFF)], now: instant), onLane: false)
    }

    mutating func step(milliseconds: Int = 10) {
        now += milliseconds
        if let at = reconnectAt, now >= at { reconnect() }
        // Deliver what has arrived, oldest first.
        wire.sort { $0.arrival < $1.arrival }
        while let first = wire.first, first.arrival <= now {
            wire.removeFirst()
            if first.toCentral {
                perform(central.packetReceived(first.packet, now: instant), onLane: false)
            } else {
                perform(lane.packetReceived(first.packet, now: instant), onLane: true)
            }
        }
        perform(lane.tick(now: instant), onLane: true)
        perform(central.tick(now: instant), onLane: false)
        if connected && Double.random(in: 0..<1, using: &random) < line.disconnectPerStep {
            drop(.disconnected)
        }
    }

    var settled: Bool { laneOutbox.isEmpty && centralOutbox.isEmpty }

    private mutating func reconnect() {
        reconnectAt = nil
        connected = true
        sessions += 1
        lastSequence = [:]
        deliveredThisSession = [:]
        wire = []
        // The lane starts from its outbox, as laned does; central from the
        // last session's unacknowledged messages.
        lane = SessionFixture.laneSession()
        for id in laneOutbox.keys.sorted() {
            _ = lane.enqueue(messageID: id, payload: laneOutbox[id]!, now: instant)
        }
        central = central.successor()
        perform(central.connected(now: instant), onLane: false)
        perform(lane.connected(now: instant), onLane: true)
    }

    /// The connection ends (a close action or a pulled cable): both sides see
    /// it, packets in flight are gone, the lane reconnects after its backoff.
    private mutating func drop(_ reason: LinkSession.CloseReason) {
        guard connected else { return }
        connected = false
        closeReasons.append(reason)
        wire = []
        lane.disconnected()
        central.disconnected()
        backoff.sessionEnded(at: instant)
        let delay = backoff.nextDelay(using: &random)
        reconnectAt =
            now + Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
    }

    private mutating func perform(_ actions: [LinkSession.Action], onLane: Bool) {
        for action in actions {
            switch action {
            case .send(let packet):
                guard connected else { continue }
                let toCentral = onLane
                // Each side's sequence numbers strictly increase on this connection.
                #expect(packet.sequence > lastSequence[toCentral, default: 0])
                lastSequence[toCentral] = packet.sequence
                let copies = Double.random(in: 0..<1, using: &random) < line.duplication ? 2 : 1
                for _ in 0..<copies where Double.random(in: 0..<1, using: &random) >= line.loss {
                    let arrival = now + Int.random(in: line.delay, using: &random)
                    wire.append(InFlight(arrival: arrival, toCentral: toCentral, packet: packet))
                }
            case .deliver(let id, _):
                // A session delivers an id at most once; across sessions it may
                // again, and the applied log (here a set) makes that a no-op.
                #expect(deliveredThisSession[onLane, default: []].insert(id).inserted)
                if onLane {
                    if laneApplied.insert(id).inserted { laneEffects[id, default: 0] += 1 }
                    perform(lane.applied(messageID: id, now: instant), onLane: true)
                } else {
                    if centralApplied.insert(id).inserted { centralEffects[id, default: 0] += 1 }
                    perform(central.applied(messageID: id, now: instant), onLane: false)
                }
            case .acknowledged(let ids):
                for id in ids {
                    if onLane { laneOutbox[id] = nil } else { centralOutbox[id] = nil }
                }
            case .admit:
                perform(central.admit(now: instant), onLane: false)
            case .established:
                if onLane { backoff.sessionEstablished(at: instant) }
            case .close(let reason):
                drop(reason)
            }
        }
    }
}

@Suite("Session simulation")
struct SessionSimulationTests {
    /// Every message from either side takes effect exactly once, however the
    /// line mangles the packets and however often the connection drops.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func lossyLineDeliversEverythingExactlyOnceInEffect(seed: UInt64) {
        var sim = SessionSimulation(seed: seed)
        let messages = 300
        var sentLane = 0
        var sentCentral = 0
        // Offer traffic for the first two virtual minutes, then let it drain.
        while sim.now < 600_000 && !(sentLane == messages && sentCentral == messages && sim.settled) {
            if sentLane < messages && sim.now % 400 == 0 {
                sim.laneSends()
                sentLane += 1
            }
            if sentCentral < messages && sim.now % 400 == 200 {
                sim.centralSends()
                sentCentral += 1
            }
            sim.step()
        }
        #expect(sim.settled, "outboxes still hold \(sim.laneOutbox.count) and \(sim.centralOutbox.count)")
        #expect(sim.centralEffects.count == messages)
        #expect(sim.centralEffects.values.allSatisfy { $0 == 1 })
        #expect(Set(sim.centralEffects.keys) == Set((1000..<1000 + UInt64(messages))))
        #expect(sim.laneEffects.count == messages)
        #expect(Set(sim.laneEffects.keys) == Set((1..<1 + UInt64(messages))))
        // The line was bad enough to matter.
        #expect(sim.sessions > 1)
    }

    /// With a perfect line nothing is resent and one session carries everything.
    @Test func cleanLineNeedsNoResends() {
        var sim = SessionSimulation(
            seed: 9, line: .init(loss: 0, duplication: 0, delay: 5...5, disconnectPerStep: 0))
        for _ in 0..<50 {
            sim.laneSends()
            sim.step()
        }
        for _ in 0..<100 { sim.step() }
        #expect(sim.settled)
        #expect(sim.sessions == 1)
        #expect(sim.lane.counters.resends == 0)
        #expect(sim.central.counters.staleDropped == 0)
    }
}
