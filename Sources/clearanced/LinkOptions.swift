import ArgumentParser
import Central
import Foundation
import LaneLink
import LinkCore
import Logging

/// Options of `serve` that start the lane link beside the HTTP API.
struct LinkOptions: ParsableArguments {
    @Option(
        name: .customLong("link-port"),
        help: """
            TCP port for lanes; 0 picks a free one and prints "link listening on HOST:PORT". \
            Without it and without --link-serial the link does not run.
            """)
    var linkPort: Int?

    @Option(name: .customLong("link-host"), help: "Address the lane link listens on.")
    var linkHost = "127.0.0.1"

    @Option(
        name: .customLong("link-serial"),
        help: "A serial port on which central serves one lane (repeatable), e.g. /dev/ttyS1.")
    var linkSerial: [String] = []

    @Option(
        name: .customLong("link-keys"),
        help: "Directory of lane key files, one LANE-ID.key per lane (clearanced lane add --keys-dir).")
    var linkKeys: String?

    @Option(
        name: .customLong("link-state"),
        help: """
            A SQLite file of this node's own for the link's applied log and reply outboxes;             needed with --store postgres://... (with --db they live in that file).
            """)
    var linkState: String?

    /// Whether any link transport was asked for.
    var enabled: Bool { linkPort != nil || !linkSerial.isEmpty }

    func validate() throws {
        if let linkPort, !(0...65_535).contains(linkPort) {
            throw ValidationError("--link-port \(linkPort): use 0 to 65535 (0 picks a free port)")
        }
        if enabled, linkKeys == nil {
            throw ValidationError(
                "--link-port and --link-serial need --link-keys DIR: every lane frame is checked against its lane's key"
            )
        }
        if let linkState {
            let dir = URL(fileURLWithPath: linkState).deletingLastPathComponent().path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError(
                    "--link-state \(linkState): the directory \(dir) does not exist; create it first")
            }
        }
        if !enabled, linkKeys != nil {
            throw ValidationError("--link-keys without --link-port or --link-serial starts no link; add one")
        }
    }
}

/// The lane link's part of central's options: the keys loaded, where it listens.
extension LinkOptions {
    /// The link's options for ``CentralAssembly``, or exit 78 when the key
    /// directory does not load. "link listening on HOST:PORT" is printed
    /// once the TCP listener is bound (scripts parse it: keep the wording).
    func centralOptions(logger: Logger) throws -> CentralOptions.Link {
        let directory = linkKeys ?? "."
        let keys: LinkKeyring
        do {
            keys = try LinkKeyring.load(directory: directory)
        } catch {
            printError("clearanced: cannot load the lane keys in \(directory): \(error)")
            throw exitConfig
        }
        if keys.count == 0 {
            logger.warning("no lane keys in \(directory): every lane will be refused until one is added")
        }
        var link = CentralOptions.Link(
            keys: keys, tcp: linkPort.map { .bind(host: linkHost, port: $0) })
        link.keysDirectory = linkKeys
        link.statePath = linkState
        link.serial = linkSerial
        link.onListening = { address in printNow("link listening on \(address)") }
        return link
    }
}
