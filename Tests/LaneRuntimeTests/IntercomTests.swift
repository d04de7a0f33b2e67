import CargoStore
import Central
import Foundation
import LaneControl
import LaneJournal
import LaneLink
import LaneRuntime
import LinkCore
import RoadCargo
import Synchronization
import TestKit
import Testing

/// Help calls with an intercom, without one: a whole lane against a real
/// central, whose `intercom.command` is a small script that writes down what
/// it was asked, or whose `intercom.sip_uri` goes through the shipped
/// `scripts/intercom-baresip` to a stand-in for baresip's ctrl_tcp. An
/// officer answers and ends calls at central's help desk, as the console
/// does, and the signals reach the lane over the link. One lane at a time:
/// each is a whole lane and a central, and the link's one-second dead-peer
/// timer must not starve beside the other suites' lanes on a small machine.
@Suite(.serialized) struct IntercomTests {
    static let officer = Account(name: "chan", role: .officer, controlPoint: .lokMaChau)

    /// Writes an executable shell script `name` into `directory`; returns its path.
    static func script(_ name: String, in directory: String, _ body: String) throws -> String {
        let path = "\(directory)/\(name)"
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// A command that appends `VOICE CALL LANE ARGUMENTS` to `voice.log` beside it.
    static func recorder(in directory: String) throws -> (command: String, log: String) {
        let log = "\(directory)/voice.log"
        let command = try script(
            "intercom", in: directory,
            #"echo "$LANEKIOSK_VOICE $LANEKIOSK_CALL_ID $LANEKIOSK_LANE $*" >> "\#(log)""#)
        return (command, log)
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Waits until `read()` gives `expected`; records an issue with what it gave last if it never does.
    static func waitFor<T: Equatable>(
        _ expected: T, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
        _ read: () async throws -> T
    ) async throws {
        var last = try await read()
        _ = try await eventually(within: timeout) {
            last = try await read()
            return last == expected
        }
        #expect(last == expected, sourceLocation: sourceLocation)
    }

    /// Rings the lane's Help button and returns the call's id from the journal.
    static func ring(_ lane: RunningLane) async throws -> UInt64 {
        try await lane.call(.press(button: .help))
        try await lane.waitFor("the help call ringing") { $0.help == "ringing" }
        let ring = try #require(try await lane.journal().last { $0.kind == "help_ring" })
        return try #require(ring.callID, "no call id in \(ring)")
    }

    /// The help desk's call for the lane's call `laneCallID`, once the ring has reached central.
    static func deskCall(_ rig: LaneRig, _ laneCallID: UInt64) async throws -> Int64 {
        var found: Int64?
        _ = try await eventually {
            let open = try await rig.store.openHelpCalls()
            found = open.first { $0.lane == LaneRig.laneID && $0.laneCallID == laneCallID }?.id
            return found != nil
        }
        if let found { return found }
        Issue.record("central's help desk never heard call \(laneCallID) ring")
        throw CancellationError()
    }

    /// An officer answers the lane's call at central's help desk; returns the desk's call id.
    @discardableResult
    static func answer(_ rig: LaneRig, _ laneCallID: UInt64) async throws -> Int64 {
        let id = try await deskCall(rig, laneCallID)
        _ = try await rig.helpDesk.act(.answer(by: officer), onCall: id)
        return id
    }

    static func end(_ rig: LaneRig, _ deskCallID: Int64) async throws {
        _ = try await rig.helpDesk.act(.end(by: officer), onCall: deskCallID)
    }

    /// The newest `fault` entry's detail, as pairs.
    static func lastFault(_ lane: RunningLane) async throws -> [String: String] {
        let fault = try #require(try await lane.journal().last { $0.kind == "fault" })
        let pairs = DetailText.pairs(fault.detail)
        return Dictionary(pairs.map { ($0.key, $0.value) }) { first, _ in first }
    }

    static func faults(_ lane: RunningLane) async throws -> [String] {
        try await lane.status().faults
    }

    @Test func anOfficersAnswerStartsTheVoiceCommandAndHoldAndEndStopIt() async throws {
        let rig = try await LaneRig()
        let (command, log) = try Self.recorder(in: rig.directory)
        let lane = try await rig.startLane(extra: "intercom: {command: [\(command), --device, 'hw:1']}")
        try await lane.waitFor("the link up") { $0.link == "up" }
        let call = try await Self.ring(lane)
        #expect(Self.lines(log).isEmpty, "no voice while the call only rings")

        let deskCall = try await Self.answer(rig, call)
        try await lane.waitFor("the call connected") { $0.help == "connected" }
        try await Self.waitFor(["start \(call) LMC-IN-01 --device hw:1"]) { Self.lines(log) }

        // The link's hold signal (the console has no hold button yet) stops the voice; answering resumes it.
        try await rig.sendFromCentral(.helpCall(.hold(callID: call)))
        try await Self.waitFor(["start", "stop"]) { Self.lines(log).map { String($0.prefix { $0 != " " }) } }
        try await rig.sendFromCentral(.helpCall(.answer(callID: call, officer: Self.officer.name)))
        try await Self.end(rig, deskCall)
        try await lane.waitFor("the call ended") { $0.help == "idle" }
        try await Self.waitFor(
            ["start", "stop", "start", "stop"].map { "\($0) \(call) LMC-IN-01 --device hw:1" }
        ) { Self.lines(log) }
        #expect(try await Self.faults(lane).isEmpty)
        await lane.stop()
        await rig.stopCentral()
    }

    @Test func aFailingVoiceCommandIsAFaultTheLaneShowsUntilTheCommandWorksAgain() async throws {
        let rig = try await LaneRig()
        let command = try Self.script("intercom", in: rig.directory, "exit 3")
        let lane = try await rig.startLane(extra: "intercom: {command: [\(command)]}")
        try await lane.waitFor("the link up") { $0.link == "up" }
        let deskCall = try await Self.answer(rig, try await Self.ring(lane))
        try await lane.waitFor("voice_failed") {
            $0.faults.contains("voice_failed")
        }
        let fault = try await Self.lastFault(lane)
        #expect(fault["code"] == "voice_failed")
        #expect(fault["text"] == "the voice command \(command) (LANEKIOSK_VOICE=start) exited with status 3")
        // The call itself goes on: the officer can still send messages and end it.
        #expect(try await lane.status().help == "connected")

        // Mended (the intercom's amplifier back on, say): the next stop works and clears the fault.
        _ = try Self.script("intercom", in: rig.directory, "exit 0")
        try await Self.end(rig, deskCall)
        try await Self.waitFor([]) { try await Self.faults(lane) }
        #expect(try await lane.journalKinds().contains("fault_cleared"))
        await lane.stop()
        await rig.stopCentral()
    }

    @Test func aHangingVoiceCommandIsKilledAtTheTimeoutAndTheLaneKeepsClearingVehicles() async throws {
        let rig = try await LaneRig()
        let pids = "\(rig.directory)/pids"
        // The script waits on a child of its own: both must go at the timeout.
        let command = try Self.script(
            "intercom", in: rig.directory, "sleep 300 &\necho \"$$ $!\" > \(pids)\nwait")
        let lane = try await rig.startLane(extra: "intercom: {command: [\(command)], timeout: 2s}")
        try await lane.waitFor("the link up") { $0.link == "up" }
        try await lane.call(.open(officer: "chan"))
        let call = try await Self.ring(lane)
        let answered = ContinuousClock.now
        try await Self.answer(rig, call)
        try await Self.waitFor(2) { Self.lines(pids).first?.split(separator: " ").count ?? 0 }

        // While the intercom hangs, a vehicle still gets its STOP at once.
        try await lane.call(.arrive(vrn: "KT9876"))
        let waiting = try await lane.status()
        #expect(waiting.phase == "stop")
        #expect(waiting.faults == [], "the timeout has not passed yet")

        try await lane.waitFor("voice_failed") {
            $0.faults.contains("voice_failed")
        }
        #expect(ContinuousClock.now - answered >= .seconds(2))
        #expect(
            try await Self.lastFault(lane)["text"]
                == "the voice command \(command) (LANEKIOSK_VOICE=start) took longer than its timeout (2000 ms) and "
                + "was killed")
        for pid in Self.lines(pids).first?.split(separator: " ").compactMap({ Int32($0) }) ?? [] {
            try await Self.waitFor(false, timeout: .seconds(5)) { Self.isRunning(pid) }
        }
        await lane.stop()
        await rig.stopCentral()
    }

    /// True while `pid` runs: not gone, and not a zombie nobody reaped.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    @Test func aSIPURIIsDialledThroughBaresipsControlPortByTheShippedClient() async throws {
        let baresip = try await FakeBaresip()
        let rig = try await LaneRig()
        let client = repositoryRoot.appendingPathComponent("scripts/intercom-baresip").path
        let lane = try await rig.startLane(
            extra: """
                intercom:
                  sip_uri: sip:lmc-officers@pbx.lmc.example
                  sip_client: [\(client), --ctrl, '127.0.0.1:\(baresip.port)']
                  timeout: 10s
                """)
        try await lane.waitFor("the link up") { $0.link == "up" }
        let call = try await Self.ring(lane)
        let deskCall = try await Self.answer(rig, call)
        // A call left over from a laned that died mid-call is hung up before dialling.
        try await Self.waitFor(["hangup ", "dial sip:lmc-officers@pbx.lmc.example"]) { baresip.commands }
        #expect(
            baresip.tokens.allSatisfy { $0.hasPrefix("lanekiosk-LMC-IN-01-\(call)-") }, "\(baresip.tokens)")
        try await Self.end(rig, deskCall)
        try await Self.waitFor(["hangup ", "dial sip:lmc-officers@pbx.lmc.example", "hangup "]) {
            baresip.commands
        }
        #expect(try await Self.faults(lane).isEmpty)

        // baresip refusing to dial (no registration, say) is a fault with its reason.
        baresip.refuseDial()
        try await Self.answer(rig, try await Self.ring(lane))
        try await lane.waitFor("voice_failed") {
            $0.faults.contains("voice_failed")
        }
        #expect(
            try await Self.lastFault(lane)["text"]
                == "the voice command \(client) (LANEKIOSK_VOICE=start) exited with status 1")
        await lane.stop()
        await rig.stopCentral()
        await baresip.close()
    }

    @Test func withoutBaresipTheShippedClientFailsAtOnceAndSaysWhere() async throws {
        let port = try await LaneRig.freePort()
        let client = repositoryRoot.appendingPathComponent("scripts/intercom-baresip").path
        let path = SIPVoicePath(
            uri: "sip:lmc-officers@pbx.lmc.example", client: [client, "--ctrl", "127.0.0.1:\(port)"],
            timeout: .seconds(10))
        let started = ContinuousClock.now
        await #expect {
            try await path.start(callID: 7)
        } throws: { error in
            "\(error)".hasSuffix("(LANEKIOSK_VOICE=start) exited with status 69")
        }
        #expect(ContinuousClock.now - started < .seconds(5), "refused at once, not at the timeout")
    }
}

/// The repository, found from this file.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Stands in for baresip's ctrl_tcp module: JSON commands in netstrings,
/// each answered with a response carrying its token, after an event
/// (baresip interleaves events, and a client must skip them).
final class FakeBaresip: Sendable {
    private final class State: Sendable {
        let received = Mutex<[(command: String, params: String, token: String)]>([])
        let refuseDial = Mutex(false)
    }

    private let listener: TCPLinkListener
    private let state = State()
    private let serving: Task<Void, Never>

    var port: Int { listener.port }
    /// `COMMAND PARAMS`, in order.
    var commands: [String] { state.received.withLock { $0.map { "\($0.command) \($0.params)" } } }
    var tokens: [String] { state.received.withLock { $0.map(\.token) } }

    /// Answer `dial` with `"ok": false` from now on.
    func refuseDial() { state.refuseDial.withLock { $0 = true } }

    init() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        self.listener = listener
        let state = state
        serving = Task {
            await withTaskGroup(of: Void.self) { group in
                for await connection in listener.connections {
                    group.addTask { await Self.serve(connection, state) }
                }
            }
        }
    }

    func close() async {
        await listener.close()
        serving.cancel()
    }

    private static func serve(_ connection: any LinkTransport, _ state: State) async {
        var buffer: [UInt8] = []
        do {
            for try await chunk in connection.inbound {
                buffer += chunk
                while let colon = buffer.firstIndex(of: UInt8(ascii: ":")),
                    let length = Int(String(decoding: buffer[..<colon], as: UTF8.self)),
                    buffer.count > colon + length + 1
                {
                    let body = Data(buffer[(colon + 1)..<(colon + 1 + length)])
                    buffer.removeFirst(colon + length + 2)
                    let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
                    let command = object["command"] as? String ?? ""
                    let token = object["token"] as? String ?? ""
                    state.received.withLock { $0.append((command, object["params"] as? String ?? "", token)) }
                    let ok = !(command == "dial" && state.refuseDial.withLock { $0 })
                    try await connection.write(
                        netstring([
                            "event": true, "class": "register", "type": "REGISTER_OK", "param": "200 OK",
                        ]))
                    try await connection.write(
                        netstring([
                            "response": true, "ok": ok, "data": ok ? "" : "not registered", "token": token,
                        ]))
                }
            }
        } catch {}
        await connection.close()
    }

    private static func netstring(_ object: [String: Any]) throws -> [UInt8] {
        let body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Array("\(body.count):".utf8) + Array(body) + Array(",".utf8)
    }
}
