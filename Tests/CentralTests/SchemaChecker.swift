import AnyJSON
import Foundation
import Yams

@testable import Central

/// Just enough of OpenAPI 3.0 schema validation to hold every response the
/// tests see against `docs/openapi.yaml`: `$ref`, types, `required`,
/// `properties`, `additionalProperties: false`, `enum`, `pattern`, `items`,
/// `minimum`/`maximum`. Schemathesis checks the same document more
/// thoroughly against a live server; this keeps `swift test` honest alone.
struct OpenAPIDocument {
    let root: [String: Any]

    static func load() throws -> OpenAPIDocument {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return OpenAPIDocument(root: root)
    }

    static let methods = ["get", "put", "post", "delete", "patch", "head", "options"]

    var paths: [String: [String: Any]] { root["paths"] as? [String: [String: Any]] ?? [:] }

    /// Every documented operation as "METHOD /path/{param}".
    var operations: Set<String> {
        var out = Set<String>()
        for (path, item) in paths {
            for m in Self.methods where item[m] != nil { out.insert("\(m.uppercased()) \(path)") }
        }
        return out
    }

    func operation(_ method: String, _ path: String) -> [String: Any]? {
        paths[path]?[method.lowercased()] as? [String: Any]
    }

    func resolve(_ node: [String: Any]) -> [String: Any] {
        guard let ref = node["$ref"] as? String, ref.hasPrefix("#/") else { return node }
        var current: Any = root
        for part in ref.dropFirst(2).split(separator: "/") {
            current = (current as? [String: Any])?[String(part)] as Any
        }
        return resolve(current as? [String: Any] ?? [:])
    }

    /// The documented response for a status, resolved.
    func response(_ method: String, _ path: String, status: Int) -> [String: Any]? {
        guard let op = operation(method, path), let responses = op["responses"] as? [String: Any],
            let r = responses[String(status)] as? [String: Any]
        else { return nil }
        return resolve(r)
    }

    /// Problems with `value` against `schema`, as "path: what" lines.
    func violations(of value: JSONValue, against schema: [String: Any], at path: String = "$") -> [String] {
        let s = resolve(schema)
        var out: [String] = []
        if let allowed = s["enum"] as? [Any] {
            let ok = allowed.contains { "\($0)" == value.plain }
            if !ok { out.append("\(path): \(value.plain) not in enum") }
        }
        switch (s["type"] as? String, value) {
        case ("object", .object(let members)):
            let props = s["properties"] as? [String: Any] ?? [:]
            for name in s["required"] as? [String] ?? [] where members[name] == nil {
                out.append("\(path).\(name): required but missing")
            }
            for (name, v) in members {
                if let p = props[name] as? [String: Any] {
                    out += violations(of: v, against: p, at: "\(path).\(name)")
                } else if (s["additionalProperties"] as? Bool) == false {
                    out.append("\(path).\(name): not in the schema")
                }
            }
        case ("array", .array(let items)):
            if let item = s["items"] as? [String: Any] {
                for (i, v) in items.enumerated() {
                    out += violations(of: v, against: item, at: "\(path)[\(i)]")
                }
            }
        case ("string", .string(let text)):
            if let pattern = s["pattern"] as? String,
                text.range(of: pattern, options: .regularExpression) == nil
            {
                out.append("\(path): \"\(text)\" does not match \(pattern)")
            }
        case ("integer", .integer(let i)):
            if let min = s["minimum"] as? Int, i < min { out.append("\(path): \(i) < \(min)") }
        case ("number", .integer), ("number", .number), ("boolean", .bool):
            break
        case (nil, _):
            break
        case (let t?, _):
            out.append("\(path): expected \(t), found \(value.typeName)")
        }
        return out
    }
}

extension JSONValue {
    /// Scalars as text, for enum comparison.
    var plain: String {
        switch self {
        case .string(let s): s
        case .integer(let i): String(i)
        case .number(let d): String(d)
        case .bool(let b): String(b)
        case .null: "null"
        case .array, .object: "<composite>"
        }
    }
}
