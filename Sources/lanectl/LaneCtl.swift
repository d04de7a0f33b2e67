import ArgumentParser
import Foundation

/// lanectl: the technicians' and officers' command line. Lane commands speak
/// laned's control socket (docs/control-socket.md); central commands speak
/// clearanced's HTTP API (docs/api.md). The commands only parse, ask and
/// print; every failure becomes one sentence on stderr and an exit code from
/// sysexits(3), so scripts can tell "laned is down" from "laned said no".
@main
struct LaneCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lanectl",
        abstract: "Control a LaneKiosk lane through laned's socket, and clearanced through its HTTP API.",
        discussion: """
            Lane commands find the lane's socket with --socket PATH or --lane ID \
            (/run/laned/ID.sock); with neither, the one socket in /run/laned. \
            Central commands take --server URL (or LANEKIOSK_SERVER) and a token \
            from --token-file FILE (or LANEKIOSK_TOKEN).

            Exit codes: 0 done; 1 refused (laned or clearanced said no, with its \
            reason); 64 bad usage; 65 bad data (an input file, or an answer \
            that breaks the protocol); 66 an input file cannot be read; 69 \
            unavailable (no socket, nothing listening, clearanced unreachable \
            or failing); 70 laned reported an internal error; 73 the output file \
            cannot be written; 75 no answer in time; 76 laned did not understand \
            the request (lanectl and laned differ in version); 77 permission \
            denied (the socket's group, or the token).
            """,
        version: "1.0.0",
        groupedSubcommands: [
            CommandGroup(
                name: "Lane (laned's control socket)",
                subcommands: [
                    Status.self, Press.self, Arrive.self, Leave.self, Open.self, Close.self, Journal.self,
                    Screenshot.self, ClockCommand.self,
                ]),
            CommandGroup(
                name: "Central (clearanced's HTTP API)",
                subcommands: [
                    Submit.self, BundleCommand.self, Debundle.self, Enquire.self, Reconciliation.self,
                ]),
        ])

    /// ArgumentParser's own `main`, plus one catch: a `Failure` prints its
    /// sentence without the usage text (the usage was right; the world was
    /// not) and exits with its own code.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as Failure {
            Output.flush()
            Output.error(failure.report)
            Foundation.exit(failure.kind.rawValue)
        } catch {
            Output.flush()
            exit(withError: error)
        }
    }
}
