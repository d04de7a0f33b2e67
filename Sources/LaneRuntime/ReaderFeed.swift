import Foundation
import LaneCore
import LaneLink
import LinkCore
import Logging
import RoadCargo
import SerialPort

/// The lane's own VRN reader feed: one plate per line (`\n` or `\r\n`), on a
/// serial line or TCP. Each line is normalised by the VRN rules; garbage is
/// refused with a logged reason and never reaches the lane.
public struct ReaderFeed: Sendable {
    /// Where the lines come from; the transports are the link's, so a serial
    /// reader gets the same libserialport handling and reopening.
    public enum Source: Sendable {
        case serial(path: String, configuration: SerialPort.Configuration)
        /// The lane connects to a reader that serves lines.
        case tcpConnect(host: String, port: Int)
        /// Readers connect to the lane.
        case tcpListen(host: String, port: Int)
    }

    public var source: Source
    public var logger: Logger
    /// Longest line kept; a longer one is refused whole.
    public var maxLine = 256

    public init(source: Source, logger: Logger) {
        self.source = source
        self.logger = logger
    }

    /// Reads lines until cancelled, reopening the source after a failure,
    /// and hands each valid VRN to `arrived`.
    public func run(arrived: @escaping @Sendable (VRN) async -> Void) async throws {
        switch source {
        case .tcpListen(let host, let port):
            let listener = try await TCPLinkListener(host: host, port: port)
            logger.info(
                "reader feed listening", metadata: ["address": "\(listener.address):\(listener.port)"])
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await withTaskCancellationHandler {
                        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                    } onCancel: {
                        Task { await listener.close() }
                    }
                }
                for await connection in listener.connections {
                    group.addTask { await self.read(connection, arrived: arrived) }
                }
            }
        case .serial, .tcpConnect:
            while !Task.isCancelled {
                do {
                    let transport = try await open()
                    await read(transport, arrived: arrived)
                } catch {
                    logger.warning("reader feed unavailable", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    private func open() async throws -> any LinkTransport {
        switch source {
        case .serial(let path, let configuration):
            return try await SerialLinkTransport(path: path, configuration: configuration)
        case .tcpConnect(let host, let port):
            return try await TCPLinkConnector(host: host, port: port).connect()
        case .tcpListen:
            preconditionFailure("a listening feed has no single transport")
        }
    }

    private func read(_ transport: any LinkTransport, arrived: @Sendable (VRN) async -> Void) async {
        var splitter = LineSplitter(maxLine: maxLine)
        do {
            for try await chunk in transport.inbound {
                for line in splitter.feed(chunk) {
                    switch Self.parse(line) {
                    case .vrn(let vrn): await arrived(vrn)
                    case .skip: break
                    case .refused(let reason):
                        logger.warning(
                            "reader line refused", metadata: ["line": "\(line)", "reason": "\(reason)"])
                    }
                }
            }
        } catch {
            logger.warning("reader feed ended", metadata: ["peer": "\(transport.peer)", "error": "\(error)"])
        }
        await transport.close()
    }

    /// What one line from a reader means.
    public enum Line: Sendable, Hashable {
        case vrn(VRN)
        /// A blank line: readers send them as keep-alives.
        case skip
        case refused(String)
    }

    /// Normalises one line by the VRN rules (spaces removed, letters upper-cased).
    public static func parse(_ line: String) -> Line {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .skip }
        do {
            return .vrn(try VRN(trimmed))
        } catch {
            return .refused("\(error)")
        }
    }
}

/// Splits a byte stream into lines; a line over `maxLine` bytes is dropped
/// whole (as a refused line) rather than split into two plates.
struct LineSplitter: Sendable {
    let maxLine: Int
    private var buffer: [UInt8] = []
    private var overflowing = false

    init(maxLine: Int) { self.maxLine = maxLine }

    mutating func feed(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if overflowing {
                    lines.append(String(repeating: "?", count: maxLine + 1))
                } else {
                    if buffer.last == UInt8(ascii: "\r") { buffer.removeLast() }
                    lines.append(String(decoding: buffer, as: UTF8.self))
                }
                buffer.removeAll(keepingCapacity: true)
                overflowing = false
            } else if buffer.count >= maxLine {
                overflowing = true
            } else {
                buffer.append(byte)
            }
        }
        return lines
    }
}
