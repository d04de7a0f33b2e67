import Foundation
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

        var json: [String: Any] {
            // 09:30:00 plus a second per entry, so times differ and sort.
            let second = Int(seq % 60)
            return [
                "seq": seq,
                "at": String(format: "2026-11-26T09:%02d:%02d.120+08:00", 30 + Int(seq / 60) % 30, second),
                "kind": kind, "vrn": vrn ?? NSNull(), "request_id": requestID ?? NSNull(),
                "decision_id": decisionID ?? NSNull(), "instruction": instruction ?? NSNull(),
                "reason": reason ?? NSNull(), "officer": officer ?? NSNull(), "detail": detail,
            ]
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
        var behaviour = Behaviour.answers
        /// Commands this lane answers unknown_command to, as an older laned would.
        var unknownCommands: Set<String> = []
        /// Commands this lane fails with an internal error, e.g. a broken disk.
        var failingCommands: Set<String> = []
        /// Every request line as it arrived.
        var requests: [String] = []

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
        guard let request = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return Self.encode([
                "id": NSNull(), "ok": false, "error": ["code": "bad_request", "message": "not JSON"],
            ])
        }
        let id = request["id"] ?? NSNull()
        switch behaviour {
        case .silent: return ""
        case .garbage: return "this is not JSON\n"
        case .hangUp: return nil
        case .wrongID: return Self.encode(["id": 999_999, "ok": true, "result": [:] as [String: Any]])
        case .answers: break
        }
        return state.withLock { lane -> String in
            switch Self.handle(request, &lane) {
            case .success(let result): return Self.encode(["id": id, "ok": true, "result": result])
            case .failure(let error):
                return Self.encode([
                    "id": id, "ok": false, "error": ["code": error.code, "message": error.message],
                ])
            }
        }
    }

    struct Refusal: Error {
        var code: String
        var message: String
        init(_ code: String, _ message: String) {
            self.code = code
            self.message = message
        }
    }

    private static func encode(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n"
    }

    private static func handle(_ request: [String: Any], _ lane: inout State) -> Result<
        [String: Any], Refusal
    > {
        let virtualOff = Refusal(
            "not_allowed",
            "virtual inputs are off: set control.allow_virtual_inputs: true in /etc/lanekiosk/LMC-IN-01.yaml")
        if let command = request["command"] as? String {
            if lane.unknownCommands.contains(command) {
                return .failure(Refusal("unknown_command", "no command '\(command)'"))
            }
            if lane.failingCommands.contains(command) {
                return .failure(Refusal("internal", "the journal cannot be read: disk I/O error"))
            }
        }
        switch request["command"] as? String {
        case "status":
            let board = !lane.open ? "CLOSED" : lane.vrn == nil ? "WELCOME" : "STOP"
            var status: [String: Any] = [
                "lane": "LMC-IN-01", "direction": "import", "control_point": "LMC", "open": lane.open,
                "offline": false, "link": "up", "xdb": board, "aiop": board,
                "phase": !lane.open ? "closed" : lane.vrn == nil ? "idle" : "stop",
                "vrn": lane.vrn ?? NSNull(),
                "pending_request_id": lane.pendingRequest ?? NSNull(),
                "last_decision": [
                    "instruction": "CLEARED", "reason": "BUNDLE_OK", "decision_id": 9,
                    "at": "2026-11-26T09:30:00+08:00",
                ],
                "help": "idle", "faults": lane.faults, "outbox_pending": 0,
                "now": "2026-11-26T09:30:02+08:00",
            ]
            status["offline_unreconciled"] = lane.offlineUnreconciled
            return .success(status)
        case "press":
            guard let button = request["button"] as? String, ["unladen", "help"].contains(button) else {
                return .failure(Refusal("bad_request", "button: expected unladen or help"))
            }
            guard let action = request["action"] as? String, ["press", "release", "click"].contains(action)
            else {
                return .failure(Refusal("bad_request", "action: expected press, release or click"))
            }
            guard lane.allowVirtualInputs else { return .failure(virtualOff) }
            lane.append("button_\(action)", officer: nil)
            lane.journal[lane.journal.count - 1].detail = button
            return .success([:])
        case "arrive":
            guard let raw = request["vrn"] as? String else {
                return .failure(Refusal("bad_request", "vrn: expected a string"))
            }
            guard lane.allowVirtualInputs else { return .failure(virtualOff) }
            let vrn = raw.replacingOccurrences(of: " ", with: "").uppercased()
            guard (1...8).contains(vrn.count), vrn.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            else {
                return .failure(
                    Refusal("invalid_vrn", "VRN '\(raw)': 1 to 8 letters or digits once spaces go"))
            }
            guard lane.open else { return .failure(Refusal("lane_state", "the lane is closed")) }
            let request = lane.nextRequest
            lane.nextRequest += 1
            lane.vrn = vrn
            lane.pendingRequest = request
            lane.append("vehicle_arrived", vrn: vrn, request: request)
            return .success(["vrn": vrn, "request_id": request])
        case "leave":
            guard lane.allowVirtualInputs else { return .failure(virtualOff) }
            guard let vrn = lane.vrn else {
                return .failure(Refusal("lane_state", "no vehicle is in the lane"))
            }
            lane.append("vehicle_left", vrn: vrn)
            lane.vrn = nil
            lane.pendingRequest = nil
            return .success([:])
        case "open", "close":
            let opening = request["command"] as? String == "open"
            guard lane.open != opening else {
                return .failure(Refusal("lane_state", "the lane is already \(opening ? "open" : "closed")"))
            }
            lane.open = opening
            lane.append(
                opening ? "lane_opened" : "lane_closed", officer: request["officer"] as? String ?? "lanectl")
            return .success([:])
        case "journal":
            let limit = request["limit"] as? Int ?? 20
            guard (1...1000).contains(limit) else {
                return .failure(Refusal("bad_request", "limit: expected 1 to 1000"))
            }
            let entries: [Entry]
            if let after = request["after"] as? Int {
                entries = Array(lane.journal.filter { $0.seq > after }.prefix(limit))
            } else {
                entries = Array(lane.journal.suffix(limit))
            }
            return .success(["entries": entries.map(\.json)])
        case "screenshot":
            guard let board = request["board"] as? String, ["xdb", "aiop"].contains(board) else {
                return .failure(Refusal("bad_request", "board: expected xdb or aiop"))
            }
            return .success(["png_base64": Self.png.base64EncodedString()])
        case let command?:
            return .failure(Refusal("unknown_command", "no command '\(command)'"))
        case nil:
            return .failure(Refusal("bad_request", "command: expected a string"))
        }
    }
}
