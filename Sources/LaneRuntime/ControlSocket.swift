import BoardLayout
import Foundation
import LaneCore
import LaneJournal
import Logging
import NIOCore
import NIOPosix
import RoadCargo
import Synchronization

/// laned's control socket: newline-delimited JSON over a Unix stream socket
/// (docs/control-socket.md), for lanectl, the simulator and tests.
public final class ControlSocket: Sendable {
    /// Whether `press`, `arrive` and `leave` are accepted (config
    /// `control.allow_virtual_inputs`).
    public struct Options: Sendable {
        public var path: String
        public var allowVirtualInputs: Bool
        /// Where to tell a refused caller to change the setting.
        public var configPath: String

        public init(path: String, allowVirtualInputs: Bool, configPath: String) {
            self.path = path
            self.allowVirtualInputs = allowVirtualInputs
            self.configPath = configPath
        }
    }

    /// Presses and releases that enter the lane as GPIO edges would.
    public typealias VirtualButtons = @Sendable (LaneButton, _ pressed: Bool) async throws -> Void

    static let maxLine = 64 * 1024

    private let options: Options
    private let allowVirtual: Mutex<Bool>
    private let controller: LaneController
    private let journal: LaneJournal
    private let buttons: VirtualButtons
    private let logger: Logger
    private let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    /// Binds the socket (replacing a stale file from a previous run) with
    /// mode 0660.
    public init(
        options: Options, controller: LaneController, journal: LaneJournal, buttons: @escaping VirtualButtons,
        logger: Logger
    ) async throws {
        self.options = options
        self.allowVirtual = Mutex(options.allowVirtualInputs)
        self.controller = controller
        self.journal = journal
        self.buttons = buttons
        self.logger = logger
        let directory = (options.path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        if FileManager.default.fileExists(atPath: options.path) {
            try FileManager.default.removeItem(atPath: options.path)
        }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // `socat -` and scripts shut their side down after the request:
            // the reply must still go out.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: options.path) { child in
                child.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        chmod(options.path, 0o660)
    }

    /// Serves connections until cancelled, then removes the socket file.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onCancel: {
            channel.channel.close(promise: nil)
        }
        try? FileManager.default.removeItem(atPath: options.path)
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var pending = ByteBuffer()
                for try await var chunk in inbound {
                    pending.writeBuffer(&chunk)
                    while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                        let length = newline - pending.readerIndex
                        let line = pending.readBytes(length: length) ?? []
                        pending.moveReaderIndex(forwardBy: 1)
                        let reply = await respond(to: line)
                        try await outbound.write(ByteBuffer(bytes: reply + [UInt8(ascii: "\n")]))
                    }
                    if pending.readableBytes > Self.maxLine {
                        let reply = Self.failure(
                            id: nil, code: "bad_request", "a request line is longer than 64 KiB; closing")
                        try await outbound.write(ByteBuffer(bytes: reply + [UInt8(ascii: "\n")]))
                        return
                    }
                    pending.discardReadBytes()
                }
            }
        } catch {
            logger.debug("control connection ended", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Requests

    struct Refusal: Error {
        var code: String
        var message: String
    }

    func respond(to line: [UInt8]) async -> [UInt8] {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                return Self.failure(id: nil, code: "bad_request", "a request must be a JSON object")
            }
            object = parsed
        } catch {
            return Self.failure(id: nil, code: "bad_request", "not JSON: \(error.localizedDescription)")
        }
        let id = object["id"]
        guard let command = object["command"] as? String else {
            return Self.failure(id: id, code: "bad_request", "field 'command' is missing or not a string")
        }
        do {
            let result = try await run(command, object)
            return Self.success(id: id, result: result)
        } catch let refusal as Refusal {
            return Self.failure(id: id, code: refusal.code, refusal.message)
        } catch {
            return Self.failure(id: id, code: "internal", "\(error)")
        }
    }

    private func run(_ command: String, _ request: [String: Any]) async throws -> Any {
        switch command {
        case "status":
            let status = await controller.status()
            return try JSONSerialization.jsonObject(with: JSONEncoder().encode(status))
        case "press":
            try requireVirtual(command)
            let button = try Self.button(request)
            let action = request["action"] as? String ?? "click"
            switch action {
            case "press": try await buttons(button, true)
            case "release": try await buttons(button, false)
            case "click":
                try await buttons(button, true)
                try await buttons(button, false)
            default:
                throw Refusal(
                    code: "bad_request",
                    message: "field 'action' must be press, release or click, not '\(action)'")
            }
            return [String: Any]()
        case "arrive":
            try requireVirtual(command)
            guard let raw = request["vrn"] as? String else {
                throw Refusal(code: "bad_request", message: "field 'vrn' is missing or not a string")
            }
            let vrn: VRN
            do { vrn = try VRN(raw) } catch {
                throw Refusal(code: "invalid_vrn", message: "'\(raw)' is not a VRN: \(error)")
            }
            try await controller.submit(.vehicleArrived(vrn, source: .simulated))
            let status = await controller.status()
            var result: [String: Any] = ["vrn": vrn.value]
            if let id = status.pendingRequestID { result["request_id"] = id }
            return result
        case "leave":
            try requireVirtual(command)
            try await controller.submit(.vehicleLeft)
            return [String: Any]()
        case "open", "close":
            let officer = request["officer"] as? String ?? "lanectl"
            let status = await controller.status()
            if status.open == (command == "open") {
                throw Refusal(
                    code: "lane_state",
                    message: "the lane is already \(command == "open" ? "open" : "closed")")
            }
            try await controller.submit(
                command == "open" ? .open(officer: officer) : .close(officer: officer))
            return [String: Any]()
        case "journal":
            let limit = request["limit"] as? Int ?? 20
            guard (1...1000).contains(limit) else {
                throw Refusal(code: "bad_request", message: "field 'limit' must be between 1 and 1000")
            }
            let after = (request["after"] as? NSNumber)?.int64Value
            let rows = try await journal.tail(limit: limit, after: after)
            return ["entries": try JSONSerialization.jsonObject(with: JSONEncoder().encode(rows))]
        case "screenshot":
            guard let raw = request["board"] as? String, let board = BoardKind(rawValue: raw) else {
                throw Refusal(code: "bad_request", message: "field 'board' must be xdb or aiop")
            }
            let png = try await controller.screenshot(board)
            return ["png_base64": Data(png).base64EncodedString()]
        default:
            throw Refusal(
                code: "unknown_command",
                message:
                    "unknown command '\(command)'; commands: status, press, arrive, leave, open, close, journal, screenshot"
            )
        }
    }

    /// SIGHUP: `control.allow_virtual_inputs` applies from the next request.
    public func setAllowVirtualInputs(_ allow: Bool) { allowVirtual.withLock { $0 = allow } }

    private func requireVirtual(_ command: String) throws {
        guard allowVirtual.withLock({ $0 }) else {
            throw Refusal(
                code: "not_allowed",
                message:
                    "virtual inputs are off ('\(command)' refused): set control.allow_virtual_inputs: true in \(options.configPath)"
            )
        }
    }

    private static func button(_ request: [String: Any]) throws -> LaneButton {
        guard let raw = request["button"] as? String, let button = LaneButton(rawValue: raw) else {
            throw Refusal(code: "bad_request", message: "field 'button' must be unladen or help")
        }
        return button
    }

    static func success(id: Any?, result: Any) -> [UInt8] {
        encode(["id": id ?? NSNull(), "ok": true, "result": result])
    }

    static func failure(id: Any?, code: String, _ message: String) -> [UInt8] {
        encode(["id": id ?? NSNull(), "ok": false, "error": ["code": code, "message": message]])
    }

    private static func encode(_ object: [String: Any]) -> [UInt8] {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return [UInt8](data)
    }
}
