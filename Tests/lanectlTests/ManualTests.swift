import Foundation
import Testing

/// man/lanectl.1 is generated (scripts/make-man.sh) and committed; these
/// fail when a command, option or abstract changed without regenerating it.
@Suite struct ManualTests {
    static let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("man/lanectl.1")

    /// lanectl's command tree as ArgumentParser describes it to tools.
    func commandTree() async throws -> [String: Any] {
        let run = try await Tool.lanectl(["--experimental-dump-help"])
        #expect(run.status == 0, "\(run)")
        let info = try #require(
            try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        return try #require(info["command"] as? [String: Any])
    }

    @Test func theManualPageNamesEveryCommandOptionAndAbstract() async throws {
        let page = try String(contentsOf: Self.page, encoding: .utf8)
        let root = try await commandTree()
        let commands = try #require(root["subcommands"] as? [[String: Any]])
            .filter { $0["commandName"] as? String != "help" }
        #expect(commands.count == 14)
        // Option entries: `.It Fl -follow` or `.It Fl o , -output Ar file`.
        let optionWords = Set(
            page.split(separator: "\n").filter { $0.hasPrefix(".It Fl ") }
                .flatMap { $0.split(separator: " ").map(String.init) })
        var missing: [String] = []
        for command in commands {
            let name = command["commandName"] as? String ?? "?"
            if !page.contains(".It Em \(name)\n") { missing.append("command \(name)") }
            if let abstract = command["abstract"] as? String, !page.contains(abstract) {
                missing.append("\(name)'s abstract")
            }
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                guard argument["shouldDisplay"] as? Bool != false else { continue }
                for case let flag as [String: Any] in argument["names"] as? [Any] ?? []
                where flag["kind"] as? String == "long" {
                    let long = flag["name"] as? String ?? "?"
                    if !optionWords.contains("-\(long)") { missing.append("\(name) --\(long)") }
                }
            }
        }
        #expect(missing.isEmpty, "man/lanectl.1 is stale; run scripts/make-man.sh. Missing: \(missing)")
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsOfferEverySubcommand(shell: String) async throws {
        let run = try await Tool.lanectl(["--generate-completion-script", shell])
        #expect(run.status == 0, "\(run)")
        for command in ["status", "journal", "screenshot", "submit", "enquire"] {
            #expect(run.stdout.contains(command), "\(shell) script lacks \(command)")
        }
        // --lane completes through lanectl itself, from the sockets present.
        #expect(run.stdout.contains("---completion status -- --lane"))
    }

    @Test func laneCompletionListsTheLanesThatRun() async throws {
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["LMC-IN-01.sock", "LMC-OUT-02.sock", "notes.txt"] {
            _ = FileManager.default.createFile(
                atPath: directory.appendingPathComponent(name).path, contents: nil)
        }
        // What the shell scripts run when the user presses Tab after --lane.
        let run = try await Tool.lanectl(
            ["---completion", "status", "--", "--lane", "2", "0", "lanectl", "status", "--lane"],
            environment: ["LANEKIOSK_RUN_DIR": directory.path])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == "LMC-IN-01\nLMC-OUT-02\n")
    }
}
