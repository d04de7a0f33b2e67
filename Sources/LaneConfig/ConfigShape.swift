import CYaml

/// The limits a config file must keep before any node of it is built.
///
/// Yams composes nodes recursively, so a deeply nested document overflows
/// the stack (a 20 KB file of `[[[[…` crashed laned with SIGSEGV), and it
/// expands aliases into shared subtrees that a reader walking them would
/// visit once per alias (a "billion laughs" file). ``ConfigShape/check(_:)``
/// walks libyaml's event stream, which keeps its own heap stacks and never
/// recurses, and refuses a document over these limits before Yams sees it.
public struct ConfigLimits: Sendable, Hashable {
    /// Largest file read, in bytes. The shipped configs are under 6 KB.
    public var maxBytes: Int
    /// Deepest nesting of mappings and lists; the deepest key is
    /// `reader.tcp.listen.host`, four levels under the document.
    public var maxDepth: Int
    /// Most nodes the document would have with every alias expanded.
    public var maxExpandedNodes: Int

    public init(maxBytes: Int, maxDepth: Int, maxExpandedNodes: Int) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxExpandedNodes = maxExpandedNodes
    }

    /// 64 KiB, 32 levels, 10,000 nodes.
    public static let standard = ConfigLimits(maxBytes: 64 * 1024, maxDepth: 32, maxExpandedNodes: 10_000)
}

/// What is wrong with a document's shape, or nil when it keeps the limits.
enum ConfigShape {
    enum Violation: Equatable, CustomStringConvertible {
        case tooLarge(bytes: Int, limit: Int)
        case tooDeep(line: Int, column: Int, limit: Int)
        case tooManyNodes(line: Int, column: Int, limit: Int)

        var place: (line: Int, column: Int)? {
            switch self {
            case .tooLarge: nil
            case .tooDeep(let l, let c, _), .tooManyNodes(let l, let c, _): (l, c)
            }
        }

        var description: String {
            switch self {
            case .tooLarge(let bytes, let limit):
                "the file is \(bytes) bytes; expected at most \(limit) bytes (the config size limit)"
            case .tooDeep(_, _, let limit):
                "nested deeper than \(limit) levels of mappings and lists; expected at most \(limit) (the config nesting limit)"
            case .tooManyNodes(_, _, let limit):
                "more than \(limit) values once its aliases are expanded; expected at most \(limit) (the config alias limit)"
            }
        }
    }

    /// Checks `text` against `limits` without building nodes. Syntax errors
    /// are left for Yams, which reports them with their place.
    static func check(_ text: String, limits: ConfigLimits) -> Violation? {
        let bytes = Array(text.utf8)
        guard bytes.count <= limits.maxBytes else {
            return .tooLarge(bytes: bytes.count, limit: limits.maxBytes)
        }
        return bytes.withUnsafeBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var walk = Walk(limits: limits)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return nil }
                if let violation = walk.feed(event) { return violation }
            }
        }
    }

    /// Depth and expanded size, event by event.
    struct Walk {
        let limits: ConfigLimits
        /// Expanded size of every anchored node seen, by anchor name.
        var anchored: [String: Int] = [:]
        /// Per open collection: its anchor and the expanded count where it began.
        var open: [(anchor: String?, start: Int)] = []
        var expanded = 0

        mutating func feed(_ event: yaml_event_t) -> Violation? {
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1
            switch event.type {
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let anchor =
                    event.type == YAML_SEQUENCE_START_EVENT
                    ? string(event.data.sequence_start.anchor) : string(event.data.mapping_start.anchor)
                open.append((anchor, expanded))
                expanded += 1
                if open.count > limits.maxDepth {
                    return .tooDeep(line: line, column: column, limit: limits.maxDepth)
                }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                if let frame = open.popLast(), let anchor = frame.anchor {
                    anchored[anchor] = expanded - frame.start
                }
            case YAML_SCALAR_EVENT:
                expanded += 1
                if let anchor = string(event.data.scalar.anchor) { anchored[anchor] = 1 }
            case YAML_ALIAS_EVENT:
                // An unknown alias counts one; Yams then reports it as an error.
                expanded += string(event.data.alias.anchor).flatMap { anchored[$0] } ?? 1
            default:
                break
            }
            if expanded > limits.maxExpandedNodes {
                return .tooManyNodes(line: line, column: column, limit: limits.maxExpandedNodes)
            }
            return nil
        }

        func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
    }
}
