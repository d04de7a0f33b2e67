import ArgumentParser
import Foundation
import GRDB
import LaneLink
import LinkCore
import Logging
import RoadCargo

/// linkprobe: a lane-side test client of the lane link, built on
/// `LaneLinkClient` exactly as laned's link side is.
///
/// It sends N decision requests and waits for their decisions. Everything it
/// must remember lives in its outbox file, so that kill -9 and a restart
/// continue where it stopped: the outbox holds the requests central has not
/// acknowledged; `probe_requests` the highest request number sent;
/// `probe_decisions` every decision received (written before the client
/// acknowledges it, so a decision is either stored or sent again).
@main
struct LinkProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linkprobe",
        abstract: "Send N decision requests over the lane link and wait for every decision.",
        discussion: """
            Prints one JSON line per decision and a final summary line; exits 0 when all N are \
            answered, 1 on timeout. Restarting with the same --outbox continues the same N requests.
            """)

    @Option(help: "The lane id, e.g. LMC-IN-01 (must match the key file).")
    var lane: String

    @Option(help: "The lane's link key file (clearanced lane add --keys-dir).")
    var key: String

    @Option(help: "Central's link address, HOST:PORT.")
    var tcp: String?

    @Option(help: "A serial port to central.")
    var serial: String?

    @Option(help: "The probe's SQLite file: outbox, request counter and decisions received.")
    var outbox: String

    @Option(help: "How many decision requests in total (across restarts).")
    var requests: Int

    @Option(name: .customLong("vrn-prefix"), help: "VRNs are PREFIX followed by the request number.")
    var vrnPrefix = "PR"

    @Option(help: "Requests per second (0: as fast as the outbox takes them).")
    var rate = 50.0

    @Option(help: "Seconds to wait for all decisions before giving up.")
    var timeout = 120.0

    func validate() throws {
        guard (tcp == nil) != (serial == nil) else {
            throw ValidationError("give exactly one of --tcp and --serial")
        }
        if let tcp, HostAndPort(tcp) == nil {
            throw ValidationError("--tcp \(tcp): use HOST:PORT, e.g. 127.0.0.1:4711")
        }
        guard requests > 0 else { throw ValidationError("--requests \(requests): send at least one") }
        guard (try? VRN(vrnPrefix + String(requests))) != nil else {
            throw ValidationError(
                "--vrn-prefix \(vrnPrefix): PREFIX plus the request number must be a VRN (at most 8 of A-Z, 0-9)"
            )
        }
        do { _ = try LaneID(lane) } catch { throw ValidationError("--lane: \(error.issues[0].detail)") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .notice
            return handler
        }
        let logger = Logger(label: "linkprobe")
        let laneID = try LaneID(lane)
        let linkKey = try LinkKey.load(from: key)
        guard linkKey.laneID == laneID else {
            throw ValidationError("--key \(key) belongs to lane \(linkKey.laneID), not \(laneID)")
        }
        let box = try SQLiteOutbox(path: outbox)
        let state = try ProbeState(writer: box.writer)
        let line: LaneLinkClient.Line =
            if let tcp, let target = HostAndPort(tcp) {
                .tcp(TCPLinkConnector(host: target.host, port: target.port))
            } else {
                .serial(path: serial ?? "")
            }
        let client = LaneLinkClient(
            configuration: .init(key: linkKey, line: line), outbox: box, logger: logger
        ) { message in
            guard case .decision(let decision) = message else { return }
            if try state.store(decision) { printNow(ProbeState.jsonLine(decision)) }
        }
        let started = ContinuousClock.now
        let runner = Task { try await client.run() }
        defer { runner.cancel() }

        let base = try state.arrivalBase()
        var next = try state.highestSent() + 1
        let resumedAt = next
        while next <= requests {
            let request = DecisionRequestMessage(
                // One request per vehicle: each is a passage of its own.
                requestID: UInt64(next), passageID: UInt64(next), lane: laneID,
                vrn: try VRN(vrnPrefix + String(next)),
                // Derived from the number, so a request sent again after a
                // kill is the same request to central, not a conflicting one.
                arrivedAt: base.addingTimeInterval(Double(next)), unladenPressed: next % 2 == 0)
            try await client.send(.decisionRequest(request), topic: "decision-request")
            try state.markSent(next)
            next += 1
            if rate > 0 { try await Task.sleep(for: .seconds(1 / rate)) }
        }
        let deadline = started + .seconds(timeout)
        var answered = try state.answeredCount()
        while answered < requests, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            answered = try state.answeredCount()
        }
        let unacknowledged = try await client.pendingCount()
        let summary =
            "linkprobe: \(answered) of \(requests) answered (this run sent from #\(resumedAt)), \(unacknowledged) unacknowledged, \(client.sessionsEstablished) session(s)"
        printNow(summary)
        runner.cancel()
        _ = await runner.result
        if answered < requests { throw ExitCode(1) }
    }
}

/// Writes a line to stdout at once: scripts read it through a pipe.
func printNow(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
