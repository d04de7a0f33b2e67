import ArgumentParser
import Foundation

/// How a lane command finds its lane: --socket, --lane, or the only socket
/// there is.
struct LaneOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("The lane's control socket.", valueName: "path"),
        completion: .file())
    var socket: String?

    @Option(
        help: ArgumentHelp(
            "The lane id; its socket is /run/laned/<id>.sock (LANEKIOSK_RUN_DIR replaces /run/laned).",
            valueName: "id"),
        completion: .custom { _, _, _ in LaneOptions.knownLanes() })
    var lane: String?

    @Option(help: ArgumentHelp("Seconds to wait for laned's answer.", valueName: "seconds"))
    var timeout: Double = 5

    /// Where laned puts its sockets (`RuntimeDirectory=laned` in laned@.service).
    static var runDirectory: String {
        ProcessInfo.processInfo.environment["LANEKIOSK_RUN_DIR"] ?? "/run/laned"
    }

    func validate() throws {
        if socket != nil && lane != nil {
            throw ValidationError("give --socket or --lane, not both")
        }
        if let lane, !Self.isLaneID(lane) {
            throw ValidationError(
                "--lane \(lane): a lane id is 1 to 32 letters, digits, '-' or '_' (e.g. LMC-IN-01)")
        }
        guard timeout > 0, timeout <= 3600 else {
            throw ValidationError("--timeout \(timeout): give seconds between 0 and 3600")
        }
    }

    static func isLaneID(_ text: String) -> Bool {
        (1...32).contains(text.count)
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")
            }
    }

    /// The lanes with a socket in the run directory, for completion and for
    /// picking the only one.
    static func knownLanes() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? []
        return names.filter { $0.hasSuffix(".sock") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The socket path and, when known, the lane id.
    func target() throws(Failure) -> (path: String, lane: String?) {
        let directory = Self.runDirectory
        if let socket {
            // A socket in the run directory names its lane, which the hints use.
            let url = URL(fileURLWithPath: socket)
            let name = url.deletingPathExtension().lastPathComponent
            let inRunDirectory =
                url.deletingLastPathComponent().standardized.path
                == URL(fileURLWithPath: directory).standardized.path
            return (socket, inRunDirectory && url.pathExtension == "sock" && Self.isLaneID(name) ? name : nil)
        }
        if let lane { return ("\(directory)/\(lane).sock", lane) }
        let lanes = Self.knownLanes()
        switch lanes.count {
        case 1:
            return ("\(directory)/\(lanes[0]).sock", lanes[0])
        case 0:
            throw Failure(
                .unavailable,
                "is laned running? no lane sockets in \(directory); name one with --lane ID or --socket PATH")
        default:
            throw Failure(
                .usage,
                "\(lanes.count) lanes run here (\(lanes.joined(separator: ", "))); name one with --lane ID")
        }
    }

    /// Connects to the lane.
    func connect() throws(Failure) -> ControlConnection {
        let (path, lane) = try target()
        return try ControlConnection(path: path, lane: lane, timeout: timeout)
    }
}
