import Foundation
import LaneLink
import LinkCore
import LinkTestSupport
import NIOCore
import NIOPosix
import TestKit
import Testing

/// The `lineproxy` executable as the fault campaign runs it: in front of a
/// TCP listener, steered over its control socket, stopped with SIGTERM.
@Suite(.timeLimit(.minutes(1))) struct LineProxyProcessTests {
    /// One running lineproxy and its control socket.
    struct Running {
        let process: Process
        let port: Int
        let control: String

        init(target: Int, directory: String) async throws {
            control = directory + "/control.sock"
            process = Process()
            process.executableURL = BuiltProducts.url("lineproxy")
            process.arguments = [
                "--listen", "127.0.0.1:0", "--target", "127.0.0.1:\(target)", "--seed", "3", "--control",
                control,
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let line = await Self.firstLine(of: output)
            let prefix = "lineproxy listening on 127.0.0.1:"
            guard line.hasPrefix(prefix), let port = Int(line.dropFirst(prefix.count)) else {
                process.terminate()
                throw Unexpected("lineproxy printed '\(line)'")
            }
            self.port = port
        }

        /// The first line the child prints, read on a Dispatch thread.
        static func firstLine(of pipe: Pipe) async -> String {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    var data = Data()
                    while !data.contains(UInt8(ascii: "\n")) {
                        let more = pipe.fileHandleForReading.availableData
                        if more.isEmpty { break }
                        data += more
                    }
                    let text = String(decoding: data, as: UTF8.self)
                    continuation.resume(returning: String(text.prefix { $0 != "\n" }))
                }
            }
        }
    }

    /// A connection to the control socket that sends lines and reads answers.
    struct Control {
        let transport: ChannelLinkTransport
        private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        private var buffer: [UInt8] = []

        init(_ path: String) async throws {
            transport = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try ChannelLinkTransport.install(on: channel, peer: path)
                    }
                }
            iterator = transport.inbound.makeAsyncIterator()
        }

        /// The next answer line; nil when the proxy closed the connection.
        mutating func answer() async throws -> LineProxyResponse? {
            while !buffer.contains(UInt8(ascii: "\n")) {
                // The end of the stream, whether as nil or as the peer's close.
                guard let more = try? await iterator.next() else { return nil }
                buffer += more
            }
            let end = buffer.firstIndex(of: UInt8(ascii: "\n"))!
            defer { buffer.removeFirst(end + 1) }
            guard let answer = LineProxyResponse.parse(Array(buffer[..<end])) else {
                throw Unexpected("not an answer line: \(String(decoding: buffer[..<end], as: UTF8.self))")
            }
            return answer
        }

        mutating func send(_ line: String) async throws -> LineProxyResponse? {
            try await transport.write(Array(line.utf8))
            return try await answer()
        }

        /// Sends a command the proxy must accept and returns the status it answers.
        mutating func status(_ command: LineProxyCommand = .status) async throws -> LineProxyStatus {
            guard case .status(_, let status)? = try await send(command.line()) else {
                throw Unexpected("\(command) was not answered with a status")
            }
            return status
        }
    }

    struct Unexpected: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test func theCampaignsCommandsDoWhatTheySay() async throws {
        let directory = "/tmp/lpx-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let central = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let proxy = try await Running(target: central.port, directory: directory)
        var control = try await Control(proxy.control)
        var accepted = central.connections.makeAsyncIterator()

        let lane = try await TCPLinkConnector(host: "127.0.0.1", port: proxy.port).connect()
        let atCentral = try #require(await accepted.next())
        var laneReader = InboundReader(lane)
        var centralReader = InboundReader(atCentral)
        try await lane.write([1, 2, 3])
        #expect(try await centralReader.read(3) == [1, 2, 3])

        // Everything lost one way; the other way untouched.
        let dropping = try await control.status(
            .impair(directions: [.laneToCentral], model: LineImpairment(dropChunk: 1)))
        #expect(dropping.laneToCentral.model.drop == 1 && dropping.centralToLane.model.drop == 0)
        try await lane.write(Array(repeating: 0x55, count: 500))
        try await eventually("the proxy dropped 500 bytes") {
            try await control.status().laneToCentral.counters.bytesDropped == 500
        }
        try await atCentral.write([7])
        #expect(try await laneReader.read(1) == [7])

        // A perfect line again: the next bytes central reads are the new ones.
        _ = try await control.status(.clear)
        try await lane.write([4, 5])
        #expect(try await centralReader.read(2) == [4, 5])

        // A partition: bytes vanish, the connection stays.
        #expect(try await control.status(.blackhole).state == "blackhole")
        try await lane.write([6])
        try await eventually("the proxy discarded a byte") {
            try await control.status().laneToCentral.counters.bytesLostToBlackhole == 1
        }
        let healed = try await control.status(.heal)
        #expect(healed.state == "ok" && healed.connections.open == 1)
        try await lane.write([8])
        #expect(try await centralReader.read(1) == [8])

        // A cut closes the connection; after restore a new one passes.
        let cut = try await control.status(.cut)
        #expect(cut.state == "cut" && cut.connections.open == 0)
        #expect(await laneReader.readToEnd().error is LinkTransportError)
        #expect(try await control.status(.restore).state == "ok")
        let again = try await TCPLinkConnector(host: "127.0.0.1", port: proxy.port).connect()
        var againAtCentral = InboundReader(try #require(await accepted.next()))
        try await again.write([9])
        #expect(try await againAtCentral.read(1) == [9])

        // Bad input is answered, and the connection goes on.
        guard case .failure(_, let failure)? = try await control.send("this is not json\n") else {
            throw Unexpected("bad JSON was not refused")
        }
        #expect(failure.code == "bad_request")
        let counted = try await control.status()
        #expect(counted.connections.forwarded == 2 && counted.laneToCentral.counters.bytesIn == 508)
        #expect(counted.laneToCentral.counters.bytesOut == 7)

        // A line past 64 KiB is refused and that connection closed.
        var flood = try await Control(proxy.control)
        // The proxy may close before it has read the whole write.
        try? await flood.transport.write(Array(String(repeating: "x", count: 70_000).utf8))
        guard case .failure(_, let tooLong)? = try await flood.answer() else {
            throw Unexpected("a 70 000-byte line was not refused")
        }
        #expect(tooLong.message.contains("longer than 64 KiB"))
        #expect(try await flood.answer() == nil)
        #expect(try await control.status().state == "ok")

        // SIGTERM: a clean exit that closes the connections and removes the socket.
        kill(proxy.process.processIdentifier, SIGTERM)
        await proxy.process.finish()
        #expect(proxy.process.terminationReason == .exit && proxy.process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: proxy.control))
        var againReader = InboundReader(again)
        #expect(await againReader.readToEnd().error is LinkTransportError)
        await again.close()
        await lane.close()
        await control.transport.close()
        await flood.transport.close()
        await central.close()
    }

    @Test func aBadCommandLineIsRefusedNamingTheOption() async throws {
        for (arguments, fragment) in [
            (
                ["--listen", "nowhere", "--target", "127.0.0.1:1", "--control", "/tmp/x.sock"],
                "--listen nowhere"
            ),
            (["--listen", "127.0.0.1:0", "--target", "127.0.0.1:0", "--control", "/tmp/x.sock"], "--target"),
            (
                [
                    "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--control",
                    String(repeating: "d", count: 120),
                ],
                "--control"
            ),
        ] {
            let process = Process()
            process.executableURL = BuiltProducts.url("lineproxy")
            process.arguments = arguments
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let said = await process.finish(reading: errors)
            #expect(process.terminationStatus != 0)
            #expect(said.contains(fragment), "\(said)")
        }
    }
}
