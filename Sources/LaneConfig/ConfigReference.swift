/// docs/lane-config.md's key tables, generated from ``LaneConfiguration/keys``
/// so that the reference cannot drift from what laned reads.
///
/// The document keeps its prose by hand; each section's table sits
/// between a ``begin(_:)`` line and an ``end`` line, and ``updating(_:)``
/// rewrites what is between them. `ConfigReferenceTests` fails when the
/// file differs from that and says how to regenerate it.
public enum ConfigReference {
    /// The line opening the generated table of `section`.
    public static func begin(_ section: String) -> String {
        "<!-- config keys: \(section) (generated from LaneConfiguration.keys; do not edit) -->"
    }

    /// The line closing a generated table.
    public static let end = "<!-- end of config keys -->"

    /// The sections in file order.
    public static var sections: [String] { ConfigKeys.sections }

    /// The Markdown table of `section`'s keys, in file order.
    public static func table(section: String) -> String {
        var lines = [
            "| key | type | default | SIGHUP | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key in LaneConfiguration.keys where key.section == section {
            let cells = [
                "`\(key.name)`", key.type, key.defaultText, key.reloadable ? "yes" : "no", key.summary,
            ]
            lines.append(
                "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ")
                    + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// `document` with every generated table rewritten from the descriptors.
    public static func updating(_ document: String) -> String {
        var out: [Substring] = []
        var skipping = false
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if skipping {
                guard line == end else { continue }
                skipping = false
            }
            out.append(line)
            if let section = sections.first(where: { line == begin($0) }) {
                out.append(contentsOf: table(section: section).split(separator: "\n"))
                skipping = true
            }
        }
        return out.joined(separator: "\n")
    }

    /// The sections `document` has no generated table for.
    public static func sectionsWithoutTable(in document: String) -> [String] {
        let lines = Set(document.split(separator: "\n").map(String.init))
        return sections.filter { !lines.contains(begin($0)) }
    }
}
