import ArgumentParser
import Foundation
import LaneLink
import LinkTestSupport
import UnixSignals

/// lineproxy: the noisy-line proxy as a process, for the fault campaign
/// (docs/lineproxy.md). It forwards TCP connections from `--listen` to
/// `--target` through a ``NoisyLineProxy`` and takes its orders (impair,
/// cut, blackhole, ...) on a Unix control socket.
@main
struct LineProxyMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineproxy",
        abstract: "Forward TCP connections through an impaired line, steered over a control socket.",
        discussion: """
            Prints 'lineproxy listening on HOST:PORT' once bound. Control: one JSON object per line \
            on --control, e.g. {"command":"impair","direction":"both","model":{"drop":0.01}}, \
            {"command":"blackhole"}, {"command":"status"}; see docs/lineproxy.md. SIGTERM or SIGINT \
            closes every connection and the socket and exits 0.
            """)

    @Option(help: "Where to listen, HOST:PORT (port 0: the kernel chooses; the line printed says which).")
    var listen: String

    @Option(help: "Where to forward each connection, HOST:PORT.")
    var target: String

    @Option(help: "Seeds every random choice; the same seed and order of connections replay the same damage.")
    var seed: UInt64 = 1

    @Option(help: "The control socket's path (a Unix stream socket, mode 0660).")
    var control: String

    @Option(name: .customLong("max-connections"), help: "Forwarded connections open at once, at most.")
    var maxConnections = 1024

    func validate() throws {
        guard HostAndPort(listen, allowingPortZero: true) != nil else {
            throw ValidationError("--listen \(listen): use HOST:PORT, e.g. 10.231.0.21:4711 or 127.0.0.1:0")
        }
        guard HostAndPort(target, allowingPortZero: false) != nil else {
            throw ValidationError("--target \(target): use HOST:PORT with a port from 1 to 65535")
        }
        // sun_path holds 108 bytes, the terminating zero included.
        guard !control.isEmpty, control.utf8.count < 108 else {
            throw ValidationError("--control \(control): a socket path of 1 to 107 bytes")
        }
        guard (1...65_536).contains(maxConnections) else {
            throw ValidationError("--max-connections \(maxConnections): from 1 to 65536")
        }
    }

    func run() async throws {
        guard let listen = HostAndPort(listen, allowingPortZero: true),
            let target = HostAndPort(target, allowingPortZero: false)
        else { throw ExitCode.validationFailure }
        // Trapped before anything starts, so an early SIGTERM is not the default death.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let proxy: NoisyLineProxy
        do {
            proxy = try await NoisyLineProxy(
                listenHost: listen.host, listenPort: listen.port, targetHost: target.host,
                targetPort: target.port, seed: seed, maximumConnections: maxConnections)
        } catch {
            printError("lineproxy: cannot listen on \(self.listen): \(error)")
            throw ExitCode.failure
        }
        let socket: LineProxyControlSocket
        do {
            socket = try await LineProxyControlSocket(path: control, proxy: proxy)
        } catch {
            printError("lineproxy: cannot serve the control socket \(control): \(error)")
            await proxy.close()
            throw ExitCode.failure
        }
        let serving = Task { try await socket.run() }
        printNow("lineproxy listening on \(proxy.address)")
        for await _ in signals { break }
        serving.cancel()
        _ = await serving.result
        await proxy.close()
    }
}

/// Writes a line to stdout at once: the campaign reads it through a pipe.
func printNow(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
