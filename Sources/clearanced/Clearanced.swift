import ArgumentParser
import CargoStore
import Foundation
import RoadCargo

/// clearanced: LaneKiosk's central server. The executable only parses
/// arguments, opens the store, assembles the services and maps failures to
/// exit codes; everything else lives in the Central and CargoStore modules.
@main
struct Clearanced: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clearanced",
        abstract: "LaneKiosk's central server: cargo store, clearance decisions and the HTTP API.",
        subcommands: [Serve.self, AccountCommand.self, LaneCommand.self, StoreCommand.self, Demo.self],
        defaultSubcommand: Serve.self)
}

/// sysexits(3): the configuration (a file, the store) is unusable.
let exitConfig = ExitCode(78)

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Writes a line to stdout at once: scripts read it from a pipe, where
/// stdout would otherwise be buffered until exit.
func printNow(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension AccountRole: ExpressibleByArgument {}
extension ControlPoint: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(argument) }
}
extension Direction: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(argument) }
}
