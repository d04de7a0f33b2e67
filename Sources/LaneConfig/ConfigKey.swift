import Foundation
import RoadCargo
import Yams

/// One config key as people, `laned --check` and SIGHUP see it. The table
/// of them, ``LaneConfiguration/keys``, is the one list of keys: the parser
/// takes each key's kind, default and the known keys of a section from it,
/// ``LaneConfiguration/flattened`` prints it, a reload copies the
/// reloadable ones, and docs/lane-config.md's key tables are generated
/// from it (``ConfigReference``).
public struct ConfigKeyDescriptor: Sendable {
    /// The dotted path, `section.key`, e.g. `decision.timeout`.
    public let name: String
    /// What the value must be, as the reference says it, e.g. `duration, 100ms to 1m`.
    public let type: String
    /// The default as the reference says it: a value in backticks, `required`,
    /// `required with tcp`, `none`, or what leaving the key out means.
    public let defaultText: String
    /// Whether SIGHUP applies a change to the running lane.
    public let reloadable: Bool
    /// One line of documentation for the reference.
    public let summary: String
    /// The key's value in a config as `--check` prints it; nil when the config
    /// has no such key (an optional key left out, the other transport).
    let value: @Sendable (LaneConfiguration) -> String?
    /// Copies the key's value from the second config into the first. Every
    /// reloadable key has one: a reload copies exactly these.
    let copy: (@Sendable (inout LaneConfiguration, LaneConfiguration) -> Void)?

    init(
        name: String, type: String, defaultText: String, summary: String,
        value: @escaping @Sendable (LaneConfiguration) -> String?,
        reloadable: Bool = false,
        copy: (@Sendable (inout LaneConfiguration, LaneConfiguration) -> Void)? = nil
    ) {
        precondition(reloadable == (copy != nil), "\(name): a reloadable key needs a copy, and only it")
        self.name = name
        self.type = type
        self.defaultText = defaultText
        self.reloadable = reloadable
        self.summary = summary
        self.value = value
        self.copy = copy
    }

    /// The key's section, its first component (`decision` for `decision.timeout`).
    public var section: String { String(name.prefix { $0 != "." }) }
}

/// A key the parser reads as one scalar: its descriptor, and the kind and
/// default the parser reads it with.
struct ConfigKey<Value: Sendable>: Sendable {
    /// What a key left out means.
    enum Fallback: Sendable {
        /// Missing is an error.
        case required
        /// Missing is an error when its section is given (or, for the GPIO
        /// lines, with the libgpiod backend); the text says when.
        case requiredWith(String)
        /// This value.
        case value(Value)
        /// A value from the lane id; the text says it for people.
        case derived(String, @Sendable (LaneID?) -> Value)
        /// No value; the text says what that means (`none`).
        case absent(String)
    }

    let descriptor: ConfigKeyDescriptor
    let kind: ConfigReader.Kind<Value>
    let fallback: Fallback

    var name: String { descriptor.name }

    /// A key whose value lives at `field`; only such keys may be reloadable.
    init(
        _ name: String, _ kind: ConfigReader.Kind<Value>, default fallback: Fallback,
        reloadable: Bool = false,
        field: WritableKeyPath<LaneConfiguration, Value>, type: String? = nil, _ summary: String
    ) {
        // A key path is immutable and safe to share; Swift 6.1 cannot yet
        // spell a Sendable writable key path in a parameter.
        nonisolated(unsafe) let field = field
        let get: @Sendable (LaneConfiguration) -> Value? = { config in config[keyPath: field] }
        var copy: (@Sendable (inout LaneConfiguration, LaneConfiguration) -> Void)?
        if reloadable { copy = { to, from in to[keyPath: field] = from[keyPath: field] } }
        self.init(name, kind, default: fallback, type: type, summary: summary, get: get, copy: copy)
    }

    /// A key read from the config by `get` (nil when the config has no such
    /// key); never reloadable.
    init(
        _ name: String, _ kind: ConfigReader.Kind<Value>, default fallback: Fallback, type: String? = nil,
        get: @escaping @Sendable (LaneConfiguration) -> Value?, _ summary: String
    ) {
        self.init(name, kind, default: fallback, type: type, summary: summary, get: get, copy: nil)
    }

    private init(
        _ name: String, _ kind: ConfigReader.Kind<Value>, default fallback: Fallback, type: String?,
        summary: String, get: @escaping @Sendable (LaneConfiguration) -> Value?,
        copy: (@Sendable (inout LaneConfiguration, LaneConfiguration) -> Void)?
    ) {
        let defaultText: String
        switch fallback {
        case .required: defaultText = "required"
        case .requiredWith(let when): defaultText = "required \(when)"
        case .value(let v): defaultText = "`\(kind.write(v))`"
        case .derived(let text, _), .absent(let text): defaultText = text
        }
        let show = kind.show
        descriptor = ConfigKeyDescriptor(
            name: name, type: type ?? kind.type, defaultText: defaultText, summary: summary,
            value: { get($0).map(show) }, reloadable: copy != nil, copy: copy)
        self.kind = kind
        self.fallback = fallback
    }
}

extension ConfigReader {
    /// The table key `key` names in `t`, checked against the table's path:
    /// a descriptor read in the wrong section is a bug, not a config error.
    private func field<T>(_ t: Table, _ key: ConfigKey<T>) -> String {
        let last = String(key.name.split(separator: ".").last ?? "")
        assert(t.path(last) == key.name, "\(key.name) read at \(t.path(last))")
        return last
    }

    /// The value of `key` in `t`: its default when absent, or a "missing"
    /// problem when it has none. `lane` gives a derived default.
    mutating func value<T>(_ t: inout Table, _ key: ConfigKey<T>, lane: LaneID? = nil) -> T? {
        let name = field(t, key)
        switch key.fallback {
        case .required, .requiredWith: return value(&t, name, key.kind, default: nil)
        case .value(let v): return value(&t, name, key.kind, default: v)
        case .derived(_, let derive): return value(&t, name, key.kind, default: derive(lane))
        case .absent: return optional(&t, name, key.kind)
        }
    }

    /// The value of `key` in `t`, or nil when absent with no problem: the
    /// section reader decides whether that is one.
    mutating func optional<T>(_ t: inout Table, _ key: ConfigKey<T>) -> T? {
        optional(&t, field(t, key), key.kind)
    }
}

/// The keys' names as the parser walks them.
enum ConfigKeys {
    /// The keys a mapping at `path` may hold, in file order (`""` for the
    /// top level: the sections).
    static func children(of path: String) -> [String] { childrenByPath[path] ?? [] }

    private static let childrenByPath: [String: [String]] = {
        var out: [String: [String]] = [:]
        for key in LaneConfiguration.keys {
            let parts = key.name.split(separator: ".").map(String.init)
            for depth in 0..<parts.count {
                let parent = parts[..<depth].joined(separator: ".")
                if !(out[parent] ?? []).contains(parts[depth]) {
                    out[parent, default: []].append(parts[depth])
                }
            }
        }
        return out
    }()

    /// The top-level sections in file order.
    static var sections: [String] { children(of: "") }
}
