import Foundation
import RoadCargo
import Yams

/// Walks a config file's YAML tree, collecting every problem with the key
/// path and line it is at, instead of stopping at the first.
struct ConfigReader {
    let file: String
    /// Relative paths in the file are taken from here: the file's directory.
    let directory: String
    var problems: [ConfigError.Problem] = []

    init(file: String) {
        self.file = file
        directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
    }

    var sortedProblems: [ConfigError.Problem] {
        // Problems without a place (missing keys of a missing section) go last, in the order found.
        problems.enumerated().sorted { a, b in
            switch (a.element.line, b.element.line) {
            case (let x?, let y?): (x, a.element.column ?? 0, a.offset) < (y, b.element.column ?? 0, b.offset)
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): a.offset < b.offset
            }
        }.map(\.element)
    }

    mutating func problem(_ key: String, at node: Node?, _ message: String) {
        problems.append(
            .init(file: file, line: node?.mark?.line, column: node?.mark?.column, key: key, message: message))
    }

    // MARK: Mappings

    /// A mapping being read. What is left at ``finish(_:)`` is unknown,
    /// and the message lists the keys the descriptor table knows there.
    struct Table {
        let path: String
        let node: Node
        var entries: [(key: String, keyNode: Node, value: Node)]

        /// The keys read, to catch a key the table knows that no reader reads.
        var taken: Set<String> = []

        func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        mutating func take(_ key: String) -> Node? {
            taken.insert(key)
            return entries.first { $0.key == key }?.value
        }

        func has(_ key: String) -> Bool { entries.contains { $0.key == key } }
    }

    /// `node` as a mapping at `path`, or nil (and a problem) when it is something else.
    mutating func table(_ node: Node, path: String) -> Table? {
        guard case .mapping(let mapping) = node else {
            problem(path, at: node, "expected a mapping of keys to values; got \(Self.describe(node))")
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let s) = keyNode else {
                problem(path, at: keyNode, "expected plain keys; got \(Self.describe(keyNode)) as a key")
                continue
            }
            let key = s.string
            if let first = entries.first(where: { $0.key == key }) {
                let full = path.isEmpty ? key : "\(path).\(key)"
                let line = first.keyNode.mark.map { " (first on line \($0.line))" } ?? ""
                problem(full, at: keyNode, "given twice\(line); expected each key once")
                continue
            }
            entries.append((key, keyNode, value))
        }
        return Table(path: path, node: node, entries: entries)
    }

    /// Reports every key of `table` that the descriptor table does not
    /// know at its path (``ConfigKeys/children(of:)``).
    mutating func finish(_ table: Table) {
        let known = ConfigKeys.children(of: table.path)
        // A known key left unread would be accepted and ignored: a reader
        // missing a descriptor. (A file with problems may stop reading early.)
        assert(
            !problems.isEmpty
                || table.entries.allSatisfy { !known.contains($0.key) || table.taken.contains($0.key) },
            "\(table.path): a key of the table was never read")
        for entry in table.entries where !known.contains(entry.key) {
            var message = "unknown key; expected one of: \(known.joined(separator: ", "))"
            if let near = Self.nearest(entry.key, in: known) { message += " (did you mean \(near)?)" }
            problem(table.path(entry.key), at: entry.keyNode, message)
        }
    }

    /// The sub-mapping at `key`, or nil when it is absent (`required` reports that) or not a mapping.
    mutating func section(_ parent: inout Table, _ key: String, required: Bool = false) -> Table? {
        guard let node = parent.take(key) else {
            if required {
                problem(
                    parent.path(key), at: parent.node, "missing; expected a section `\(key):` with its keys")
            }
            return nil
        }
        return table(node, path: parent.path(key))
    }

    // MARK: Values

    /// What a value must be, in words for the message and for the
    /// reference, how to read it and how a config file writes it.
    struct Kind<T>: Sendable {
        /// For messages: "expected \(expected); got ...".
        var expected: String
        /// For the reference's type column, e.g. `duration, 100ms to 1m`.
        var type: String
        /// The value as `--check` prints it.
        var show: @Sendable (T) -> String
        /// The value as the reference writes a default; ``show`` unless given.
        var write: @Sendable (T) -> String
        /// Reads a scalar; the second argument is the config file's
        /// directory, for kinds that resolve relative paths.
        var read: @Sendable (Node.Scalar, String) -> T?

        init(
            expected: String, type: String, show: @escaping @Sendable (T) -> String = { "\($0)" },
            write: (@Sendable (T) -> String)? = nil,
            resolving read: @escaping @Sendable (Node.Scalar, String) -> T?
        ) {
            self.expected = expected
            self.type = type
            self.show = show
            self.write = write ?? show
            self.read = read
        }

        init(
            expected: String, type: String, show: @escaping @Sendable (T) -> String = { "\($0)" },
            write: (@Sendable (T) -> String)? = nil, read: @escaping @Sendable (Node.Scalar) -> T?
        ) {
            self.init(expected: expected, type: type, show: show, write: write) { s, _ in read(s) }
        }
    }

    /// The value at `key`: `fallback` when absent; when absent without a
    /// fallback, nil and a "missing" problem.
    mutating func value<T>(_ t: inout Table, _ key: String, _ kind: Kind<T>, default fallback: T?) -> T? {
        guard let node = t.take(key) else {
            if let fallback { return fallback }
            problem(t.path(key), at: t.node, "missing; expected \(kind.expected)")
            return nil
        }
        return read(node, at: t.path(key), kind)
    }

    /// The value at `key`, or nil when absent (no problem: the key is optional).
    mutating func optional<T>(_ t: inout Table, _ key: String, _ kind: Kind<T>) -> T? {
        guard let node = t.take(key) else { return nil }
        return read(node, at: t.path(key), kind)
    }

    /// Every value in a config file: a path's limit (PATH_MAX is 4096
    /// bytes) and a quarter of it in characters.
    static let valueLimit = TextLimit(characters: 1024, bytes: 4096)

    mutating func read<T>(_ node: Node, at path: String, _ kind: Kind<T>) -> T? {
        if case .scalar(let s) = node, !Self.valueLimit.allows(s.string) {
            problem(
                path, at: node,
                "expected \(kind.expected), \(Self.valueLimit); got a value that \(Self.valueLimit.measured(s.string))"
            )
            return nil
        }
        guard case .scalar(let s) = node, !Self.isNull(s), let v = kind.read(s, directory) else {
            problem(path, at: node, "expected \(kind.expected); got \(Self.describe(node))")
            return nil
        }
        return v
    }

    static func isNull(_ s: Node.Scalar) -> Bool {
        s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s):
            if isNull(s) { return "an empty value" }
            return "\"\(s.string)\""
        }
    }

    /// The known key within two edits of `key`, for "did you mean".
    static func nearest(_ key: String, in known: [String]) -> String? {
        known.map { ($0, distance(Array(key), Array($0))) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}

// MARK: - Kinds of values

extension ConfigReader.Kind where T == String {
    static var text: Self {
        .init(expected: "a text value", type: "text") { $0.string.isEmpty ? nil : $0.string }
    }

    /// A file path; a relative one is taken from the config file's directory.
    static var path: Self {
        .init(expected: "a file path", type: "file path") { s, directory in
            guard !s.string.isEmpty else { return nil }
            if s.string.hasPrefix("/") { return s.string }
            return URL(
                fileURLWithPath: s.string, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)
            )
            .standardizedFileURL.path
        }
    }
}

extension ConfigReader.Kind where T == Bool {
    static var bool: Self {
        .init(expected: "true or false", type: "`true` or `false`") { s in
            guard s.style == .plain else { return nil }
            switch s.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: return nil
            }
        }
    }
}

extension ConfigReader.Kind where T == Int {
    static func integer(_ range: ClosedRange<Int>, _ what: String = "an integer") -> Self {
        .init(
            expected: "\(what) from \(range.lowerBound) to \(range.upperBound)",
            type: "integer, \(range.lowerBound) to \(range.upperBound)"
        ) { s in
            guard s.style == .plain, let v = Int(s.string.replacingOccurrences(of: "_", with: "")),
                range.contains(v)
            else { return nil }
            return v
        }
    }
}

extension ConfigReader.Kind where T == Double {
    static func number(_ range: ClosedRange<Double>, unit: String) -> Self {
        .init(
            expected: "a number of \(unit) from \(format(range.lowerBound)) to \(format(range.upperBound))",
            type: "number, \(format(range.lowerBound)) to \(format(range.upperBound))", write: format
        ) { s in
            guard s.style == .plain, let v = Double(s.string), v.isFinite, range.contains(v) else {
                return nil
            }
            return v
        }
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(v)
    }
}

extension ConfigReader.Kind where T == Duration {
    static func duration(_ range: ClosedRange<Duration>) -> Self {
        let low = ConfigDuration.format(range.lowerBound)
        let high = ConfigDuration.format(range.upperBound)
        return .init(
            expected: "a duration such as 500ms, 2s or 1m, from \(low) to \(high)",
            type: "duration, \(low) to \(high)", show: ConfigDuration.format
        ) { s in
            guard let d = ConfigDuration.parse(s.string), range.contains(d) else { return nil }
            return d
        }
    }
}

extension ConfigReader.Kind where T: RawRepresentable & CaseIterable & Sendable, T.RawValue == String {
    static var choice: Self {
        .init(
            expected: "one of \(T.allCases.map(\.rawValue).joined(separator: ", "))",
            type: "one of " + T.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", "),
            show: \.rawValue
        ) {
            T(rawValue: $0.string)
        }
    }
}

/// Durations as config files write them: a number and a unit, `30ms`, `2s`,
/// `1.5s`, `5m`, `1h`.
enum ConfigDuration {
    static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, nanos: Double)] = [("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            // Digits with at most one point; no signs, spaces or exponents.
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                number.filter({ $0 == "." }).count <= 1, number.first != ".", number.last != ".",
                let v = Double(number)
            else { return nil }
            let nanos = (v * unit.nanos).rounded()
            guard nanos <= 1e15 else { return nil }
            return .nanoseconds(Int64(nanos))
        }
        return nil
    }

    /// `2s`, `500ms`, `1.5s`, `5m`: the shortest exact form.
    static func format(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        if ms % 3_600_000 == 0, ms != 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0, ms != 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        if ms < 1000 { return "\(ms)ms" }
        return "\(Double(ms) / 1000)s"
    }
}
