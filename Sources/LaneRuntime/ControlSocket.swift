import AnyJSON
import BoardLayout
import Foundation
import LaneControl
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
                    if pending.readableBytes > ControlProtocol.maximumRequestLine {
                        let reply = ControlResponse.failure(
                            id: nil,
                            ControlFailure(.badRequest, "a request line is longer than 64 KiB; closing"))
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

    func respond(to line: [UInt8]) async -> [UInt8] {
        let envelope: ControlRequestLine
        switch ControlRequestLine.parse(line) {
        case .success(let parsed): envelope = parsed
        case .failure(let refusal): return ControlResponse.failure(id: refusal.id, refusal.failure)
        }
        do {
            // Virtual inputs are refused before their fields are looked at.
            if envelope.needsVirtualInputs { try requireVirtual(envelope.command) }
            return try await run(envelope.request(), id: envelope.id)
        } catch let failure as ControlFailure {
            // Refusals by the types (a field) and by the lane (its state, a VRN, virtual inputs).
            return ControlResponse.failure(id: envelope.id, failure)
        } catch LaneControllerError.journalFailed {
            return ControlResponse.failure(
                id: envelope.id, ControlFailure(.laneState, "\(LaneControllerError.journalFailed)"))
        } catch {
            return ControlResponse.failure(id: envelope.id, ControlFailure(.internal, "\(error)"))
        }
    }

    private func run(_ request: ControlRequest, id: JSONValue?) async throws -> [UInt8] {
        switch request {
        case .status:
            return try ControlResponse.success(id: id, result: await controller.status().control)
        case .press(let control, let action):
            let button: LaneButton =
                switch control {
                case .unladen: .unladen
                case .help: .help
                }
            switch action {
            case .press: try await buttons(button, true)
            case .release: try await buttons(button, false)
            case .click:
                try await buttons(button, true)
                try await buttons(button, false)
            }
        case .arrive(let raw, let wait):
            let vrn: VRN
            do { vrn = try VRN(raw) } catch {
                throw ControlFailure(.invalidVRN, "'\(raw)' is not a VRN: \(error)")
            }
            // Watched from before the arrival, so no board of this vehicle's
            // is drawn unseen between the two.
            let drawn = wait == nil ? nil : await controller.drawnBoards()
            try await controller.submit(.vehicleArrived(vrn, source: .simulated))
            let status = await controller.status()
            var shown: ControlArriveResult.Shown?
            if let wait, let drawn {
                shown = await Self.firstDecision(for: vrn, in: drawn, within: .milliseconds(wait))
            }
            return try ControlResponse.success(
                id: id,
                result: ControlArriveResult(vrn: vrn.value, requestID: status.pendingRequestID, shown: shown))
        case .leave:
            try await controller.submit(.vehicleLeft)
        case .open(let officer), .close(let officer):
            let opening = request.command == .open
            let status = await controller.status()
            if status.open == opening {
                throw ControlFailure(.laneState, "the lane is already \(opening ? "open" : "closed")")
            }
            let officer = officer ?? ControlRequest.defaultOfficer
            try await controller.submit(opening ? .open(officer: officer) : .close(officer: officer))
        case .journal(let limit, let after):
            let rows = try await journal.tail(
                limit: limit ?? ControlRequest.defaultJournalLimit, after: after)
            return try ControlResponse.success(
                id: id, result: ControlJournalResult(entries: rows.map(\.control)))
        case .screenshot(let board):
            let png = try await controller.screenshot(board == .xdb ? .xdb : .aiop)
            return try ControlResponse.success(id: id, result: ControlScreenshotResult(png: Data(png)))
        case .clock(let seconds):
            guard let offset = controller.clockOffset else {
                throw ControlFailure(.notAllowed, "this lane's clock has no offset to step or report")
            }
            var previous: Int64?
            if let seconds {
                previous = offset.current
                do {
                    try await controller.submit(.clockStepped(fromSeconds: previous ?? 0, toSeconds: seconds))
                } catch LaneControllerError.journalFailed {
                    throw ControlFailure(
                        .laneState,
                        "the clock was not stepped: the lane's journal cannot be written to record it")
                }
            }
            return try ControlResponse.success(
                id: id,
                result: ControlClockResult(
                    now: HongKongTime.iso8601(controller.clockNow()), offsetSeconds: offset.current,
                    previousOffsetSeconds: previous))
        }
        return try ControlResponse.success(id: id, result: ControlEmptyResult())
    }

    /// The first decision or rule-4 STOP drawn on both boards for `vrn`, or
    /// nil when none is drawn within `limit` (a bound on the request, in real
    /// time like a socket timeout, not the lane's business clock). Boards of
    /// a vehicle before it, drawn after the watch began, are passed over.
    static func firstDecision(for vrn: VRN, in drawn: AsyncStream<BoardState>, within limit: Duration) async
        -> ControlArriveResult.Shown?
    {
        await withTaskGroup(of: ControlArriveResult.Shown?.self) { group in
            group.addTask {
                for await board in drawn where board.vrn == vrn {
                    if let shown = board.controlShown { return shown }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// SIGHUP: `control.allow_virtual_inputs` applies from the next request.
    public func setAllowVirtualInputs(_ allow: Bool) { allowVirtual.withLock { $0 = allow } }

    private func requireVirtual(_ command: ControlCommand) throws {
        guard allowVirtual.withLock({ $0 }) else {
            throw ControlFailure(
                .notAllowed,
                "virtual inputs are off ('\(command.rawValue)' refused): set control.allow_virtual_inputs: true in \(options.configPath)"
            )
        }
    }
}
