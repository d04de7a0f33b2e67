import ArgumentParser
import CargoStore
import Central
import Foundation
import Logging

/// Options of `serve` for help calls and the officers' console.
struct ConsoleOptions: ParsableArguments {
    @Option(
        name: .customLong("help-escalate-after"),
        help: "How long a help call may ring unanswered before it escalates, e.g. 30s or 2m.")
    var escalateAfter = "30s"

    @Option(
        name: .customLong("console-dir"),
        help:
            "Directory holding the officers' console page (index.html, app.js, i18n.js, app.css); by default the one built beside clearanced, else /usr/share/lanekiosk/console."
    )
    var consoleDir: String?

    @Option(
        name: .customLong("console-idle"),
        help: "A console session ends after this long without use, e.g. 30m.")
    var idle = "30m"

    @Option(
        name: .customLong("console-max-session"),
        help: "A console session ends after this long in any case, e.g. 12h.")
    var absolute = "12h"

    func validate() throws {
        for (name, value) in [
            ("--help-escalate-after", escalateAfter), ("--console-idle", idle),
            ("--console-max-session", absolute),
        ] {
            guard Self.duration(value) != nil else {
                throw ValidationError("\(name) \(value): give a duration such as 45s, 30m or 12h")
            }
        }
    }

    /// Whole seconds, minutes or hours ("30s", "2m", "12h"); nil otherwise.
    static func duration(_ text: String) -> Duration? {
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return .seconds(n)
        case "m": return .seconds(n * 60)
        case "h": return .seconds(n * 3600)
        default: return nil
        }
    }

    /// The console's page, or exit 78 naming where it was looked for.
    func files() throws -> ConsoleFiles {
        let directory: URL
        if let consoleDir {
            directory = URL(fileURLWithPath: consoleDir)
        } else if let found = ConsoleFiles.defaultDirectory() {
            directory = found
        } else {
            printError(
                "clearanced: the officers' console page was not found beside clearanced nor in /usr/share/lanekiosk/console; name it with --console-dir"
            )
            throw exitConfig
        }
        do {
            return try ConsoleFiles(directory: directory)
        } catch {
            printError("clearanced: \(error); --console-dir names the directory holding it")
            throw exitConfig
        }
    }

    var settings: ConsoleSessions.Settings {
        ConsoleSessions.Settings(idle: Self.duration(idle)!, absolute: Self.duration(absolute)!)
    }
}
