import Foundation
import LaneControl
import Testing

/// docs/control-socket.md against the protocol's types: every command,
/// field, result member and error code the types have is documented, and
/// nothing is documented that they do not have.
@Suite struct ControlDocsTests {
    static let text: String = {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/control-socket.md")
        return (try? String(contentsOf: docs, encoding: .utf8)) ?? ""
    }()

    /// The backticked words of a piece of Markdown, in order.
    static func ticked(_ text: some StringProtocol) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The commands table: command, its field names (a backticked word
    /// opening the cell or following "; "), its result cell.
    static var table: [String: (fields: Set<String>, result: String)] {
        var rows: [String: (Set<String>, String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count >= 4, let command = ticked(cells[1]).first else { continue }
            let fields = cells[2].components(separatedBy: "; ").compactMap { part in
                part.hasPrefix("`") ? ticked(part).first : nil
            }
            rows[command] = (Set(fields), cells[3])
        }
        return rows
    }

    /// The JSON block that follows `marker`, parsed.
    static func example(after marker: String) throws -> [String: Any] {
        let after = try #require(text.range(of: marker), "docs/control-socket.md has no '\(marker)'")
        let rest = text[after.upperBound...]
        let open = try #require(rest.range(of: "```json\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        let json = Data(rest[open.upperBound..<close.lowerBound].utf8)
        return try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    }

    @Test func everyCommandIsDocumentedAndNothingElse() {
        #expect(Set(Self.table.keys) == Set(ControlCommand.allCases.map(\.rawValue)))
    }

    @Test(arguments: ControlCommand.allCases)
    func theDocumentedFieldsAreTheRequestsFields(command: ControlCommand) {
        #expect(Self.table[command.rawValue]?.fields == Set(command.fields), "\(command)")
    }

    /// `fields` is what the requests really carry, every optional member set.
    @Test func theFieldListsMatchWhatRequestsSend() {
        let full: [ControlRequest] = [
            .status, .press(button: .help, action: .press), .arrive(vrn: "AB1234", waitMilliseconds: 2000),
            .leave,
            .open(officer: "Li"), .close(officer: "Li"), .journal(limit: 5, after: 2),
            .screenshot(board: .xdb), .clock(offsetSeconds: -3600),
        ]
        #expect(Set(full.map(\.command)) == Set(ControlCommand.allCases))
        for request in full {
            #expect(Set(request.members.keys) == Set(request.command.fields + ["command"]), "\(request)")
        }
    }

    @Test func theDocumentedResultsAreTheResultTypes() throws {
        func keys(_ cell: String) -> Set<String> {
            let pattern = try! NSRegularExpression(pattern: "\"([a-z0-9_]+)\":")
            let range = NSRange(cell.startIndex..., in: cell)
            return Set(
                pattern.matches(in: cell, range: range).map {
                    String(cell[Range($0.range(at: 1), in: cell)!])
                })
        }
        let table = Self.table
        for command in [ControlCommand.press, .leave, .open, .close] {
            #expect(table[command.rawValue]?.result.hasPrefix("`{}`") == true, "\(command)")
        }
        #expect(
            keys(table["arrive"]?.result ?? "")
                == Set(ControlArriveResult.CodingKeys.allCases.map(\.stringValue)))
        #expect(keys(table["journal"]?.result ?? "") == ["entries"])
        #expect(
            keys(table["clock"]?.result ?? "")
                == Set(ControlClockResult.CodingKeys.allCases.map(\.stringValue)))
        #expect(
            keys(table["screenshot"]?.result ?? "")
                == Set(ControlScreenshotResult.CodingKeys.allCases.map(\.stringValue)))
    }

    @Test func theStatusMembersAreDocumented() throws {
        let example = try Self.example(after: "`status` result:")
        let notes = try #require(Self.text.range(of: "- `phase`"))
        let bullets = Self.text[notes.lowerBound...].components(separatedBy: "\n\n").first ?? ""
        let named = Set(
            bullets.split(separator: "\n").filter { $0.hasPrefix("- ") }.flatMap { line in
                Self.ticked(line.prefix { $0 != ":" })
            })
        let types = Set(ControlStatus.CodingKeys.allCases.map(\.stringValue))
        // Every member in the example or named by a note; nothing in either that is not a member.
        #expect(
            types.subtracting(Set(example.keys)).subtracting(Self.ticked(bullets)).isEmpty,
            "status members not documented: \(types.subtracting(Set(example.keys)).subtracting(Self.ticked(bullets)))"
        )
        #expect(
            Set(example.keys).union(named).subtracting(types).isEmpty,
            "documented but not in ControlStatus: \(Set(example.keys).union(named).subtracting(types))")
        let last = try #require(example["last_decision"] as? [String: Any])
        #expect(Set(last.keys) == Set(ControlStatus.LastDecision.CodingKeys.allCases.map(\.stringValue)))
        let latency = try #require(example["latency"] as? [String: [String: Any]])
        #expect(Set(latency.keys) == Set(ControlStatus.Latency.CodingKeys.allCases.map(\.stringValue)))
        for figures in latency.values {
            #expect(Set(figures.keys) == Set(ControlStatus.Figures.CodingKeys.allCases.map(\.stringValue)))
        }
    }

    @Test func theJournalEntryIsDocumented() throws {
        let example = try Self.example(after: "Journal entry:")
        #expect(Set(example.keys) == Set(ControlJournalEntry.CodingKeys.allCases.map(\.stringValue)))
    }

    @Test func theErrorCodesAreDocumented() throws {
        let start = try #require(Self.text.range(of: "Error codes:"))
        let paragraph = Self.text[start.upperBound...].components(separatedBy: "\n\n").first ?? ""
        #expect(Set(Self.ticked(paragraph)) == Set(ControlErrorCode.allCases.map(\.rawValue)))
    }

    @Test func theDocsNameTheModuleAndTheVersion() {
        #expect(Self.text.contains("`LaneControl`"))
        #expect(Self.text.contains("protocol version \(ControlProtocol.version)"))
    }
}
