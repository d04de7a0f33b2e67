import AnyJSON
import Foundation
import LaneControl
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A test double of laned's control socket: a real Unix stream socket that
/// speaks docs/control-socket.md with a small lane behind it (open or
/// closed, one vehicle, a journal). It stands beside the real laned, whose
/// own tests drive the real thing; here it lets lanectl's tests control
/// every answer, including the broken ones a real lane should never give.
final class LaneSocketDouble: Sendable {
    /// How the double answers.
    enum Behaviour: Sendable {
        /// As the protocol says.
        case answers
        /// Reads requests and never answers.
        case silent
        /// Answers a line that is not JSON.
        case garbage
        /// Answers with another request's id.
        case wrongID
        /// Closes the connection on the first request.
        case hangUp
    }

    /// One journal entry, with the documented members.
    struct Entry: Sendable {
        var seq: Int64
        var kind: String
        var vrn: String?
        var requestID: Int64?
        var decisionID: Int64?
        var instruction: String?
        var reason: String?
        var officer: String?
        var detail = ""

        var control: ControlJournalEntry {
            // 09:30:00 plus a second per entry, so times differ and sort.
            let second = Int(seq % 60)
            return ControlJournalEntry(
                seq: seq,
                at: String(format: "2026-11-26T09:%02d:%02d.120+08:00", 30 + Int(seq / 60) % 30, second),
                kind: kind, vrn: vrn, requestID: requestID.map(UInt64.init),
                decisionID: decisionID.map(UInt64.init), instruction: instruction, reason: reason,
                officer: officer, detail: detail)
        }
    }

    /// The lane behind the socket.
    struct State: Sendable {
        var open = true
        var allowVirtualInputs = true
        var vrn: String?
        var pendingRequest: Int64?
        var nextRequest: Int64 = 1_790_000_000_000_017
        var journal: [Entry] = []
        var faults: [String] = []
        /// `offline_unreconciled` in status; nil leaves it out, as an older laned does.
        var offlineUnreconciled: Int?
        /// `central` in status; nil leaves it out, as a lane whose link is
        /// down (or a laned before issue 16) does.
        var central: String?
        /// What an `arrive` with `wait_ms` says the boards show; nil is a
        /// wait that ran out.
        var decision: ControlArriveResult.Shown?
        var behaviour = Behaviour.answers
        /// Commands this lane answers unknown_command to, as an older laned would.
        var unknownCommands: Set<String> = []
        /// Commands this lane fails with an internal error, e.g. a broken disk.
        var failingCommands: Set<String> = []
        /// Every request line as it arrived.
        var requests: [String] = []
        /// The clock's offset, as `clock` steps it.
        var clockOffset: Int64 = 0

        mutating func append(
            _ kind: String, vrn: String? = nil, request: Int64? = nil, officer: String? = nil
        ) {
            journal.append(
                Entry(
                    seq: (journal.last?.seq ?? 0) + 1, kind: kind, vrn: vrn, requestID: request,
                    officer: officer))
        }
    }

    /// A real 1x1 PNG, as a screenshot answer.
    static let png = Data(
        base64Encoded:
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )!

    let path: String
    private let listener: Int32
    private let state: Mutex<State>
    private let clients = Mutex<Set<Int32>>([])

    /// Listens on `path` at once; accepts and answers on its own threads.
    init(path: String, state: State = State()) throws {
        self.path = path
        self.state = Mutex(state)
        unlink(path)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw CocoaError(
                .fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "bind \(path): \(reason)"])
        }
        listener = fd
        Thread { [self] in acceptLoop() }.start()
    }

    /// Stops listening, hangs up on every client and removes the socket file.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        clients.withLock { fds in
            for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        }
        unlink(path)
    }

    func update(_ change: (inout State) -> Void) {
        state.withLock { change(&$0) }
    }

    var current: State { state.withLock { $0 } }

    /// The requests received so far, parsed.
    var requests: [[String: Any]] {
        current.requests.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            clients.withLock { _ = $0.insert(client) }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            clients.withLock { _ = $0.remove(fd) }
            close(fd)
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                guard let answer = answer(line) else { return }
                let bytes = Array(answer.utf8)
                guard
                    bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) })
                        == bytes.count
                else { return }
            }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// The line to send back, "" for none (silent), nil to hang up.
    private func answer(_ line: String) -> String? {
        let behaviour = state.withLock {
            $0.requests.append(line)
            return $0.behaviour
        }
        guard case .object(let object)? = JSONValue.parse(Data(line.utf8)) else {
            return Self.line(ControlResponse.failure(id: nil, ControlFailure(.badRequest, "not JSON")))
        }
        let id = object["id"]
        switch behaviour {
        case .silent: return ""
        case .garbage: return "this is not JSON\n"
        case .hangUp: return nil
        case .wrongID:
            return Self.line(
                try! ControlResponse.success(id: .integer(999_999), result: ControlEmptyResult()))
        case .answers: break
        }
        return state.withLock { lane -> String in
            do {
                return Self.line(try Self.handle(object, &lane, id: id))
            } catch let failure as ControlFailure {
                return Self.line(ControlResponse.failure(id: id, failure))
            } catch {
                return Self.line(ControlResponse.failure(id: id, ControlFailure(.internal, "\(error)")))
            }
        }
    }

    private static func line(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self) + "\n"
    }

    /// The answer to one request: laned's types and shape checks, this small
    /// lane's state and (test-chosen) refusals.
    private static func handle(_ object: [String: JSONValue], _ lane: inout State, id: JSONValue?) throws
        -> [UInt8]
    {
        let virtualOff = ControlFailure(
            .notAllowed,
            "virtual inputs are off: set control.allow_virtual_inputs: true in /etc/lanekiosk/LMC-IN-01.yaml")
        if let command = object["command"]?.string {
            if lane.unknownCommands.contains(command) {
                throw ControlFailure(.unknownCommand, "no command '\(command)'")
            }
            if lane.failingCommands.contains(command) {
                throw ControlFailure(.internal, "the journal cannot be read: disk I/O error")
            }
        }
        let request = try ControlRequest(ControlCommand(request: object), object)
        if request.isVirtualInput, !lane.allowVirtualInputs { throw virtualOff }
        switch request {
        case .status:
            let board = !lane.open ? "CLOSED" : lane.vrn == nil ? "WELCOME" : "STOP"
            let status = ControlStatus(
                lane: "LMC-IN-01", direction: "import", controlPoint: "LMC", open: lane.open, offline: false,
                link: "up", xdb: board, aiop: board,
                phase: !lane.open ? "closed" : lane.vrn == nil ? "welcome" : "stop", vrn: lane.vrn,
                pendingRequestID: lane.pendingRequest.map(UInt64.init),
                lastDecision: .init(
                    instruction: "CLEARED", reason: "BUNDLE_OK", decisionID: "9",
                    at: "2026-11-26T09:30:00+08:00"),
                help: "idle", unladenAcknowledged: false, language: "zh-Hant", drawn: true,
                faults: lane.faults,
                outboxPending: 0, offlineUnreconciled: lane.offlineUnreconciled, passages: 0,
                latency: .init(arrivalToStop: nil, arrivalToDecision: nil, pressToDisplay: nil),
                now: "2026-11-26T09:30:02+08:00", central: lane.central)
            return try ControlResponse.success(id: id, result: status)
        case .press(let button, let action):
            lane.append("button_\(action.rawValue)", officer: nil)
            lane.journal[lane.journal.count - 1].detail = button.rawValue
        case .arrive(let raw, let wait):
            let vrn = raw.replacingOccurrences(of: " ", with: "").uppercased()
            guard (1...8).contains(vrn.count), vrn.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            else {
                throw ControlFailure(.invalidVRN, "VRN '\(raw)': 1 to 8 letters or digits once spaces go")
            }
            guard lane.open else { throw ControlFailure(.laneState, "the lane is closed") }
            let request = lane.nextRequest
            lane.nextRequest += 1
            lane.vrn = vrn
            lane.pendingRequest = request
            lane.append("vehicle_arrived", vrn: vrn, request: request)
            return try ControlResponse.success(
                id: id,
                result: ControlArriveResult(
                    vrn: vrn, requestID: UInt64(request), shown: wait == nil ? nil : lane.decision))
        case .leave:
            guard let vrn = lane.vrn else { throw ControlFailure(.laneState, "no vehicle is in the lane") }
            lane.append("vehicle_left", vrn: vrn)
            lane.vrn = nil
            lane.pendingRequest = nil
        case .open(let officer), .close(let officer):
            let opening = request.command == .open
            guard lane.open != opening else {
                throw ControlFailure(.laneState, "the lane is already \(opening ? "open" : "closed")")
            }
            lane.open = opening
            lane.append(
                opening ? "lane_opened" : "lane_closed", officer: officer ?? ControlRequest.defaultOfficer)
        case .journal(let limit, let after):
            let limit = limit ?? ControlRequest.defaultJournalLimit
            let entries =
                after.map { after in Array(lane.journal.filter { $0.seq > after }.prefix(limit)) }
                ?? Array(lane.journal.suffix(limit))
            return try ControlResponse.success(
                id: id, result: ControlJournalResult(entries: entries.map(\.control)))
        case .screenshot:
            return try ControlResponse.success(id: id, result: ControlScreenshotResult(png: Self.png))
        case .clock(let seconds):
            let previous = lane.clockOffset
            if let seconds {
                lane.clockOffset = seconds
                lane.append("clock_stepped")
                lane.journal[lane.journal.count - 1].detail =
                    "from_offset_s=\(previous) to_offset_s=\(seconds)"
            }
            let format = ISO8601DateFormatter()
            format.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
            let base = format.date(from: "2026-11-26T09:30:02+08:00") ?? Date()
            return try ControlResponse.success(
                id: id,
                result: ControlClockResult(
                    now: format.string(from: base.addingTimeInterval(TimeInterval(lane.clockOffset))),
                    offsetSeconds: lane.clockOffset, previousOffsetSeconds: seconds == nil ? nil : previous))
        }
        return try ControlResponse.success(id: id, result: ControlEmptyResult())
    }
}
